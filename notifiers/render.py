"""Render notification mails from jinja2 templates: a subject, a text part and an HTML part.

Templates live in ``notifiers/templates/``, one file per kind and part::

    <kind>.subject.txt   one line (whitespace is collapsed)
    <kind>.txt           the plain-text part
    <kind>.html          the HTML part, extending ``_base.html`` and using ``_macros.html``

An office overrides any of these files (including ``_base.html``) by putting a file of the
same name in its override directory. HTML is autoescaped; every template runs with
``StrictUndefined``, so a missing value fails loudly instead of rendering as blank.

Colour grades (:func:`grade_for`), from working days remaining (negative = overdue):

* ``red`` (红色预警) when overdue: ``working_days < 0``
* ``yellow`` (黄色预警) when due today or on the next working day: ``0 <= working_days <= 1``
* ``blue`` (蓝色预警) when approaching: ``working_days >= 2``

A caller may pass its own ``grade`` per item (e.g. ``yellow`` for work that is behind
although not yet due); when absent it is computed with :func:`grade_for`.

Context per kind (dates are ``datetime.date``)::

    item = {"assignment_id": str|int, "task_title": str, "section": str, "due": date,
            "working_days": int,          # remaining; negative = working days overdue
            "state_label": str,           # e.g. "办理中"
            "last_report": str | None,    # what the unit last reported (unit-written text)
            "last_report_at": date | None,
            "grade": "blue"|"yellow"|"red"}   # optional, see above

    reminder, due_today, overdue:
        {"office", "unit", "recipient", "as_of", "items": [item, ...]}
    escalation:
        the same plus {"level": int (1 = 分管领导, 2 = 主要领导), "leader": str}, and
        optionally "units" (grouped as for a digest; made from "unit" / "items" when absent),
        "total" (items in all, listed or not), "report_by" (date: report before then)
    progress_request (the plan's report dates):
        {"office", "unit", "recipient", "as_of", "report_due": date, "items": [item, ...]}
    digest (one mail per leader, grouped by unit):
        {"office", "leader", "as_of", "period_label": str,
         "units": [{"unit": str, "items": [item, ...]}, ...]}, optionally "level" (1 / 2)
    a unit group (digest, escalation) may add "total" (its items, listed or not; default the
    listed ones), "omitted" (int: items not listed) and "more_at" (where to see them: a link or
    a command); a unit's own mail may add "omitted" / "more_at" / "total" the same way.
    Any context may give "warning_days": items with more working days left than that get no
    预警 grade (grade "", e.g. a progress request for a task due in 87 working days).
    test (``duban mail test``):
        {"office", "as_of", "host": str}

Items are shown most urgent first (fewest working days remaining). The renderer adds
``kind`` and ``counts`` ({"total", "red", "yellow", "blue"}) to the context. A mail with
no items (a digest whose units are all empty included) is never rendered: ``RenderError``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import jinja2
from markupsafe import Markup, escape

KINDS = ("reminder", "due_today", "overdue", "escalation", "digest", "progress_request", "test")

Grade = Literal["blue", "yellow", "red"]
GRADES: tuple[Grade, ...] = ("red", "yellow", "blue")

TEMPLATE_DIR = Path(__file__).parent / "templates"

# Colours chosen to stay readable on white and in dark-mode inversions; every badge also
# carries its Chinese name, so the grade never depends on colour alone.
GRADE_STYLE: dict[str, dict[str, str]] = {
    "red": {"name": "红色预警", "short": "红", "bar": "#c53030", "bg": "#fff5f5", "fg": "#9b2c2c"},
    "yellow": {
        "name": "黄色预警",
        "short": "黄",
        "bar": "#b7791f",
        "bg": "#fffbea",
        "fg": "#8a5a00",
    },
    "blue": {"name": "蓝色预警", "short": "蓝", "bar": "#2b6cb0", "bg": "#ebf4ff", "fg": "#1e4e8c"},
}

# Outside the warning window an item carries no grade and is drawn in neutral grey.
NO_GRADE = {"name": "", "short": "", "bar": "#a0aec0", "bg": "#f7f8fa", "fg": "#4a5568"}

ITEM_KEYS = (
    "assignment_id",
    "task_title",
    "section",
    "due",
    "working_days",
    "state_label",
    "last_report",
    "last_report_at",
)
_PERSONAL = ("office", "unit", "recipient", "as_of", "items")
CONTEXT_KEYS: dict[str, tuple[str, ...]] = {
    "reminder": _PERSONAL,
    "due_today": _PERSONAL,
    "overdue": _PERSONAL,
    "escalation": (*_PERSONAL, "level", "leader"),
    "progress_request": (*_PERSONAL, "report_due"),
    "digest": ("office", "leader", "as_of", "period_label", "units"),
    "test": ("office", "as_of", "host"),
}

_WEEKDAYS = "一二三四五六日"


class RenderError(ValueError):
    """A mail that cannot be rendered: unknown kind, missing value, empty digest, bad template."""


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


def grade_for(working_days_remaining: int) -> Grade:
    """The colour grade for a number of working days remaining (negative = overdue)."""
    if working_days_remaining < 0:
        return "red"
    if working_days_remaining <= 1:
        return "yellow"
    return "blue"


# ---------------------------------------------------------------- filters


def cn_date(value: date | datetime | None, weekday: bool = False) -> str:
    """2026-03-05 -> "2026年3月5日" (with "（周四）" when ``weekday``)."""
    if value is None:
        return ""
    text = f"{value.year}年{value.month}月{value.day}日"
    if weekday:
        text += f"（周{_WEEKDAYS[value.weekday()]}）"
    return text


def cn_month_day(value: date | datetime) -> str:
    return f"{value.month}月{value.day}日"


def days_text(working_days: int) -> str:
    """ "剩余3个工作日" / "今天到期" / "已逾期2个工作日"."""
    if working_days > 0:
        return f"剩余{working_days}个工作日"
    if working_days == 0:
        return "今天到期"
    return f"已逾期{-working_days}个工作日"


def level_label(level: int) -> str:
    return {1: "分管领导", 2: "主要领导"}.get(int(level), f"第{level}级")


def clip(value: str, length: int = 200) -> str:
    """Shorten long unit-written text for a mail; the full text stays in duban."""
    value = value.strip()
    return value if len(value) <= length else value[: length - 1] + "…"


def nl2br(value: str) -> Markup:
    """Escape, then keep the unit's line breaks."""
    return escape(value).replace("\n", Markup("<br>"))


def _environment(override_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(
        cn_date=cn_date,
        cn_md=cn_month_day,
        days_text=days_text,
        level_label=level_label,
        clip=clip,
        nl2br=nl2br,
    )
    env.globals.update(GRADE_STYLE=GRADE_STYLE, GRADES=GRADES, NO_GRADE=NO_GRADE)
    return env


# ---------------------------------------------------------------- context checks


def _require(kind: str, where: str, mapping: Any, keys: tuple[str, ...]) -> None:
    if not isinstance(mapping, Mapping):
        raise RenderError(f"渲染 {kind} 邮件：{where} 应为字典")
    missing = [k for k in keys if k not in mapping]
    if missing:
        names = "、".join(f"{where}.{k}" if where else k for k in missing)
        raise RenderError(f"渲染 {kind} 邮件缺少字段：{names}")


def _item(kind: str, where: str, raw: Any, window: int | None = None) -> dict[str, Any]:
    _require(kind, where, raw, ITEM_KEYS)
    item = dict(raw)
    if not isinstance(item["due"], date):
        raise RenderError(f"渲染 {kind} 邮件：{where}.due 应为日期，实际为 {item['due']!r}")
    if isinstance(item["working_days"], bool) or not isinstance(item["working_days"], int):
        raise RenderError(f"渲染 {kind} 邮件：{where}.working_days 应为整数")
    if window is not None and item["working_days"] > window and not item.get("grade"):
        item["grade"] = ""  # outside the warning window: no 预警 grade at all
        return item
    grade = item.get("grade") or grade_for(item["working_days"])
    if grade not in GRADE_STYLE:
        raise RenderError(f"渲染 {kind} 邮件：{where}.grade 只能是 blue、yellow、red")
    item["grade"] = grade
    return item


def _items(kind: str, where: str, raw: Any, window: int | None = None) -> list[dict[str, Any]]:
    if not isinstance(raw, list | tuple):
        raise RenderError(f"渲染 {kind} 邮件：{where} 应为列表")
    items = [_item(kind, f"{where}[{i}]", it, window) for i, it in enumerate(raw)]
    return sorted(items, key=lambda it: (it["working_days"], it["due"]))


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {g: 0 for g in GRADES}
    for it in items:
        if it["grade"]:
            counts[it["grade"]] += 1
    counts["total"] = len(items)
    return counts


def _int(kind: str, where: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise RenderError(f"渲染 {kind} 邮件：{where} 应为非负整数")
    return value


def _units(kind: str, raw_units: Any, window: int | None) -> list[dict[str, Any]]:
    """Unit groups with their items normalised and "total" / "omitted" / "more_at" filled in."""
    if not isinstance(raw_units, list | tuple):
        raise RenderError(f"渲染 {kind} 邮件：units 应为列表")
    units = []
    for i, raw in enumerate(raw_units):
        _require(kind, f"units[{i}]", raw, ("unit", "items"))
        items = _items(kind, f"units[{i}].items", raw["items"], window)
        if not items:
            continue
        omitted = _int(kind, f"units[{i}].omitted", raw.get("omitted", 0))
        total = _int(kind, f"units[{i}].total", raw.get("total", len(items) + omitted))
        units.append(
            {
                **raw,
                "items": items,
                "counts": _counts(items),
                "total": total,
                "omitted": omitted,
                "more_at": raw.get("more_at") or "",
                "most_late": max((-it["working_days"] for it in items), default=0),
            }
        )
    return units


def prepare_context(kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``context`` for ``kind`` and return a copy with items normalised.

    Raises :class:`RenderError` naming the first missing or malformed field.
    """
    if kind not in CONTEXT_KEYS:
        raise RenderError(f"未知的通知类型：{kind}（可用：{'、'.join(KINDS)}）")
    _require(kind, "", context, CONTEXT_KEYS[kind])
    ctx = dict(context)
    ctx["kind"] = kind
    window = ctx.get("warning_days")
    if window is not None:
        window = _int(kind, "warning_days", window)
    if kind == "escalation" and "units" not in ctx:
        ctx["units"] = [{"unit": ctx["unit"], "items": ctx["items"]}]
    if kind in ("digest", "escalation"):
        ctx.setdefault("level", 1)
        ctx.setdefault("report_by", None)
        units = _units(kind, ctx["units"], window)
        if not units:
            if kind == "digest":
                raise RenderError("汇总邮件没有任何事项，不发送")
            raise RenderError(f"{kind} 邮件没有任何事项，不发送")
        ctx["units"] = units
        listed = [it for u in units for it in u["items"]]
        ctx["counts"] = _counts(listed)
        ctx["counts"]["total"] = sum(u["total"] for u in units)
        ctx["omitted"] = sum(u["omitted"] for u in units)
        if kind == "escalation":
            ctx["items"] = _items(kind, "items", ctx["items"], window) or listed
    elif "items" in ctx:
        ctx["items"] = _items(kind, "items", ctx["items"], window)
        if not ctx["items"]:
            raise RenderError(f"{kind} 邮件没有任何事项，不发送")
        ctx["omitted"] = _int(kind, "omitted", ctx.get("omitted", 0))
        ctx["more_at"] = ctx.get("more_at") or ""
        ctx["counts"] = _counts(ctx["items"])
        ctx["counts"]["total"] = len(ctx["items"]) + ctx["omitted"]
    return ctx


# ---------------------------------------------------------------- renderer


class Renderer:
    """Renders the three parts of a mail; ``override_dir`` files win over the built-in ones."""

    def __init__(self, override_dir: Path | None = None) -> None:
        if override_dir is not None and not Path(override_dir).is_dir():
            raise RenderError(f"模板覆盖目录不存在：{override_dir}")
        self.override_dir = Path(override_dir) if override_dir is not None else None
        self.env = _environment(self.override_dir)

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedMail:
        ctx = prepare_context(kind, context)
        subject = " ".join(self._render(f"{kind}.subject.txt", ctx).split())
        if not subject:
            raise RenderError(f"模板 {kind}.subject.txt 渲染出的主题为空")
        return RenderedMail(
            subject=subject,
            text=self._render(f"{kind}.txt", ctx),
            html=self._render(f"{kind}.html", ctx),
        )

    def _render(self, name: str, ctx: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(ctx)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"模板 {name} 使用了未提供的变量：{exc.message}") from exc
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"找不到模板文件：{exc.name}") from exc
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or exc.name or name
            raise RenderError(f"模板 {where} 第 {exc.lineno} 行语法错误：{exc.message}") from exc
        except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RenderError(f"模板 {name} 渲染失败：{exc}") from exc
