"""The office's deduction rules: ``[scoring]`` in duban.toml, validated once at load.

Rules: ``[scoring]`` in duban.toml (validated by :func:`parse_rules`)
=====================  =======  ==============================================================
key                    default  meaning
=====================  =======  ==============================================================
``base``               100      base score of every unit. To score the 政务公开 share of a
                                unit's whole evaluation ("权重不低于4%"), set ``base = 4`` and
                                scale the points below accordingly (e.g. ``late_task = 0.2``).
``late_task``          1        points for each task finished late (rule ``late``, 逾期完成)
``late_day``           0.1      points per working day late (rule ``late_days``, 逾期工作日)
``late_day_cap``       1        at most this many ``late_days`` points per task (0 = no cap);
                                with the defaults a task late by two weeks or more costs 2
``never_reported``     3        a task still not reported when the year is over (rule
                                ``never_reported``, 年底未报送); replaces ``late``/``late_days``,
                                so it should be more than ``late_task + late_day_cap``
``returned_after``     2        a report returned (退回) this many times deducts ``returned``
``returned``           0.5      points for that (rule ``returned``, 报送被退回)
``returned_each``      false    true: deduct ``returned`` again for every further return
                                (returned 4 times with N = 2 → 3 × ``returned``)
``unit_cap``           0        most points one unit can lose; 0 = "扣完为止" (down to 0)
``roles``              all      which assignments count: any of "lead", "responsible",
                                "cooperating" (牵头 / 责任 / 配合)
``target_short``       0.5      a period whose reports fall short of its quantitative target
                                ("每月至少更新2条": 2 counted per month; rule ``target``,
                                未达量化指标), charged once the period is over and reported
``target_item``        0        plus this much per missing item (target 2, counted 1 → 1 item)
``event_late``         =        for event-triggered time limits (政策解读 …) instead of
``event_late_day``              ``late_task``, ``late_day``, ``late_day_cap``, ``never_reported``,
``event_late_day_cap``          ``returned``; unset: the same as for other work
``event_never_reported``
``event_returned``
``yellow_card_after``  0        a unit with this many late items (逾期 or 年底未报送, not waived)
``yellow_card``        0        gets a yellow card (黄牌) costing these points; 0 = no cards
``red_card_after``     0        this many late items: a red card (红牌) instead of the yellow
``red_card``           0        one, costing these points
``bonus_cap``          0        most bonus points (加分, ``duban score bonus``) a unit gets in a
                                year; 0 = no cap
``appeal_until``       unset    last day (YYYY-MM-DD) a unit may appeal (申诉); unset = until the
                                year's evaluation is frozen (``duban score freeze``)
``[scoring.indicators]`` none   indicator → weight: a section of the plan (一级/二级标题 of the
                                ledger, e.g. ``"一、推进重点领域公开" = 10``) whose tasks can
                                cost one unit at most its weight (rule ``indicator_cap``)
=====================  =======  ==============================================================

Points are :class:`~decimal.Decimal` (0.1 × 3 is 0.3, not 0.30000000000000004). Every problem in
the table is a one-line Chinese :class:`ConfigError` naming the file, the key and the value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from workflow.errors import ConfigError
from workflow.vocabulary import UNIT_ROLE_LABELS, UNIT_ROLES

RULE_LABELS = {
    "late": "逾期完成",
    "late_days": "逾期工作日",
    "never_reported": "年底未报送",
    "returned": "报送被退回",
    "target": "未达量化指标",
}
RULE_ORDER = tuple(RULE_LABELS)
UNIT_RULE_LABELS = {  # unit-level adjustments, not tied to one assignment
    "indicator_cap": "指标扣分封顶",
    "yellow_card": "黄牌",
    "red_card": "红牌",
    "bonus": "加分",
}
ROLES = UNIT_ROLES
_POINT_KEYS = (
    "base",
    "late_task",
    "late_day",
    "late_day_cap",
    "never_reported",
    "returned",
    "unit_cap",
    "target_short",
    "target_item",
    "yellow_card",
    "red_card",
    "bonus_cap",
)
_COUNT_KEYS = ("returned_after", "yellow_card_after", "red_card_after")
EVENT_KEYS = {  # [scoring] key → the field it replaces for event-triggered time limits
    "event_late": "late_task",
    "event_late_day": "late_day",
    "event_late_day_cap": "late_day_cap",
    "event_never_reported": "never_reported",
    "event_returned": "returned",
}
_MAX_POINTS = Decimal(1_000_000)


@dataclass(frozen=True)
class ScoringRules:
    """The office's deduction rules (see the module docstring for each field)."""

    base: Decimal = Decimal(100)
    late_task: Decimal = Decimal(1)
    late_day: Decimal = Decimal("0.1")
    late_day_cap: Decimal = Decimal(1)
    never_reported: Decimal = Decimal(3)
    returned_after: int = 2
    returned: Decimal = Decimal("0.5")
    returned_each: bool = False
    unit_cap: Decimal = Decimal(0)
    roles: tuple[str, ...] = ROLES
    target_short: Decimal = Decimal("0.5")
    target_item: Decimal = Decimal(0)
    event: tuple[tuple[str, Decimal], ...] = ()  # (field, points) for event time limits
    yellow_card_after: int = 0
    yellow_card: Decimal = Decimal(0)
    red_card_after: int = 0
    red_card: Decimal = Decimal(0)
    bonus_cap: Decimal = Decimal(0)
    appeal_until: date | None = None
    indicators: tuple[tuple[str, Decimal], ...] = ()  # (section name, weight)

    @property
    def for_events(self) -> ScoringRules:
        """The rules event-triggered time limits are judged by (``event_*`` keys applied)."""
        return replace(self, event=(), **dict(self.event)) if self.event else self

    @property
    def unit_limit(self) -> Decimal:
        """The most one unit can lose: ``unit_cap``, or the base score ("扣完为止")."""
        return self.unit_cap if self.unit_cap > 0 else self.base

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key in (*_POINT_KEYS, "returned_after", "returned_each"):
            value = getattr(self, key)
            out[key] = float(value) if isinstance(value, Decimal) else value
        out["roles"] = list(self.roles)
        for key in ("yellow_card_after", "red_card_after"):
            out[key] = getattr(self, key)
        out["appeal_until"] = self.appeal_until.isoformat() if self.appeal_until else None
        out["indicators"] = {name: float(w) for name, w in self.indicators}
        by_field = dict(self.event)
        for key, name in EVENT_KEYS.items():
            out[key] = float(by_field.get(name, getattr(self, name)))
        return out

    def describe(self) -> list[tuple[str, str]]:
        """(key, Chinese explanation) lines, for the CLI and the exported workbook."""
        cap = (
            f"单项最多扣 {fmt_points(self.late_day_cap)} 分"
            if self.late_day_cap > 0
            else "不设上限"
        )
        each = "此后每多退回一次再扣一次" if self.returned_each else "只扣一次"
        unit_cap = f"{fmt_points(self.unit_cap)} 分" if self.unit_cap > 0 else "扣完为止"
        role_names = UNIT_ROLE_LABELS
        return [
            ("base", f"基础分 {fmt_points(self.base)} 分"),
            ("late_task", f"逾期完成：每项任务扣 {fmt_points(self.late_task)} 分"),
            ("late_day", f"逾期工作日：每逾期 1 个工作日扣 {fmt_points(self.late_day)} 分，{cap}"),
            (
                "never_reported",
                f"年底未报送：每项扣 {fmt_points(self.never_reported)} 分（不再另计逾期）",
            ),
            (
                "returned",
                f"报送被退回：退回达 {self.returned_after} 次扣 {fmt_points(self.returned)} 分，{each}",
            ),
            (
                "target",
                f"未达量化指标：每期扣 {fmt_points(self.target_short)} 分"
                + (
                    f"，每差 1 条（次）另扣 {fmt_points(self.target_item)} 分"
                    if self.target_item
                    else ""
                ),
            ),
            *self._describe_events(),
            *self.describe_unit_rules(),
            ("unit_cap", f"单位扣分上限：{unit_cap}，得分不低于 0"),
            ("roles", "计分的单位角色：" + "、".join(role_names[r] for r in self.roles)),
        ]

    def describe_unit_rules(self) -> list[tuple[str, str]]:
        """Lines for the rules beyond today's defaults (cards, indicators, bonus, appeals)."""
        out: list[tuple[str, str]] = []
        if self.yellow_card > 0 and self.yellow_card_after:
            out.append(
                (
                    "yellow_card",
                    f"黄牌：逾期（含年底未报送）达 {self.yellow_card_after} 项，扣 {fmt_points(self.yellow_card)} 分",
                )
            )
        if self.red_card > 0 and self.red_card_after:
            out.append(
                (
                    "red_card",
                    f"红牌：逾期（含年底未报送）达 {self.red_card_after} 项，扣 {fmt_points(self.red_card)} 分（不再另计黄牌）",
                )
            )
        for name, weight in self.indicators:
            out.append(
                ("indicator_cap", f"指标“{name}”：每个单位最多扣 {fmt_points(weight)} 分（权重）")
            )
        if self.bonus_cap > 0:
            out.append(
                (
                    "bonus",
                    f"加分：由办公室凭依据登记，每个单位每年最多加 {fmt_points(self.bonus_cap)} 分",
                )
            )
        if self.appeal_until:
            out.append(("appeal_until", f"申诉截止：{self.appeal_until}"))
        return out

    def _describe_events(self) -> list[tuple[str, str]]:
        if not self.event:
            return [("event", "事件时限任务（政策解读等）：与其他任务同样扣分")]
        names = {
            "late_task": "逾期完成每项",
            "late_day": "每逾期 1 个工作日",
            "late_day_cap": "逾期工作日单项上限",
            "never_reported": "年底未报送每项",
            "returned": "报送被退回",
        }
        parts = [f"{names[f]} {fmt_points(p)} 分" for f, p in self.event]
        return [("event", "事件时限任务（政策解读等）另行计分：" + "，".join(parts))]


def parse_rules(raw: dict[str, Any], where: str = "duban.toml") -> ScoringRules:
    """Validate a ``[scoring]`` table; every problem is a one-line Chinese :class:`ConfigError`."""
    known = {*_POINT_KEYS, *EVENT_KEYS, *_COUNT_KEYS, "returned_each", "roles"}
    known |= {"indicators", "appeal_until"}
    for key in raw:
        if key not in known:
            raise ConfigError(
                f"配置文件 {where} 的 [scoring] 中有未知设置 {key}（可用：{'、'.join(sorted(known))}）"
            )
    values: dict[str, Any] = {k: _points(raw[k], k, where) for k in _POINT_KEYS if k in raw}
    if "base" in values and values["base"] <= 0:
        raise ConfigError(f"配置文件 {where} 的 [scoring] base 应大于 0，而不是 {raw['base']!r}")
    for key in _COUNT_KEYS:
        if key in raw:
            n = raw[key]
            low = 1 if key == "returned_after" else 0
            if isinstance(n, bool) or not isinstance(n, int) or not low <= n <= 1000:
                raise ConfigError(
                    f"配置文件 {where} 的 [scoring] {key} 应为 {low} 到 1000 之间的整数，而不是 {n!r}"
                )
            values[key] = n
    if "appeal_until" in raw:
        values["appeal_until"] = _day(raw["appeal_until"], where)
    if "indicators" in raw:
        values["indicators"] = _indicators(raw["indicators"], where)
    if "returned_each" in raw:
        if not isinstance(raw["returned_each"], bool):
            raise ConfigError(
                f"配置文件 {where} 的 [scoring] returned_each 应为 true 或 false，而不是 {raw['returned_each']!r}"
            )
        values["returned_each"] = raw["returned_each"]
    if "roles" in raw:
        values["roles"] = _roles(raw["roles"], where)
    values["event"] = tuple(
        (name, _points(raw[key], key, where)) for key, name in EVENT_KEYS.items() if key in raw
    )
    return ScoringRules(**values)


def _points(value: Any, key: str, where: str) -> Decimal:
    bad = ConfigError(
        f"配置文件 {where} 的 [scoring] {key} 应为不小于 0 的数字（分），而不是 {value!r}"
    )
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise bad
    try:
        points = Decimal(str(value))
    except InvalidOperation:
        raise bad from None
    if not points.is_finite() or points < 0 or points > _MAX_POINTS:
        raise bad
    return points


def _day(value: Any, where: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"配置文件 {where} 的 [scoring] appeal_until 应为日期 YYYY-MM-DD，而不是 {value!r}"
        ) from None


def _indicators(value: Any, where: str) -> tuple[tuple[str, Decimal], ...]:
    if not isinstance(value, dict):
        raise ConfigError(
            f"配置文件 {where} 的 [scoring.indicators] 应为“指标名称 = 权重”的表，而不是 {value!r}"
        )
    out = []
    for name, weight in value.items():
        if not str(name).strip():
            raise ConfigError(f"配置文件 {where} 的 [scoring.indicators] 中有空的指标名称")
        out.append((str(name).strip(), _points(weight, f"indicators.{name}", where)))
    return tuple(out)


def _roles(value: Any, where: str) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or any(r not in ROLES for r in value):
        raise ConfigError(
            f"配置文件 {where} 的 [scoring] roles 应为非空列表，取值 lead / responsible / cooperating，而不是 {value!r}"
        )
    return tuple(r for r in ROLES if r in value)


def load_rules(config: Any) -> ScoringRules:
    """The rules of ``config`` (a :class:`workflow.config.Config`)."""
    return parse_rules(config.section("scoring"), str(config.config_file))


def fmt_points(points: Decimal) -> str:
    """Points for people: 1 → "1", 0.50 → "0.5", 1E+1 → "10"."""
    return format(points.normalize(), "f")
