"""The office's chasing policy: the ``[check]`` section of duban.toml, validated once at start-up.

Example (every key optional; these are the defaults)::

    [office]
    name = "办公室"                 # how mails sign ("本邮件由办公室督办系统…")

    [check]
    reminder_offsets = [3, 1, 0]    # working days before the due date (0 = the due day)
    progress_request_days = 5       # working days before each plan report date
    digest = "monday"               # "daily", or a weekday: monday … sunday / 周一 … 周日
    time = "09:00"                  # the daily check, Asia/Shanghai
    delivery_interval_minutes = 5   # how often the daemon delivers the outbox
    items_per_unit = 20             # a leader's mail lists at most this many items per unit
    items_per_mail = 200            # … and at most this many in all (see below)
    units_per_mail = 100            # … and names at most this many units
    report_within_days = 3          # an escalation asks for the report within N working days
    ack_within_days = 0             # a task unsigned (签收) N working days after it was
                                    # assigned goes to the unit's leader; 0 = off (2 is usual)
    notify_on_days_off = false      # true: queue mails on rest days and holidays too

    [check.escalation]              # working days overdue → who is told; false disables a level
    unit = 1                        # the unit's contact (overdue notice)
    leader = 3                      # the leader in charge (分管领导)
    principal = 10                  # the principal leader (主要领导)

A leader's escalation or digest (and a unit's overdue notice) is bounded: it lists at most
``items_per_unit`` items of each unit and ``items_per_mail`` items in all. When a mail would list
more, its units are taken most overdue first (the longest overdue item, then the most items):
items are listed unit by unit until ``items_per_mail`` is reached, the following units get one
row each with their count and the command or page that lists them, and past ``units_per_mail``
units one line says how many units and items are left (see :mod:`workflow.chasing.mails`). The
counts at the top stay exact. A mail within both bounds is written as before, units in their
usual order.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any

from workflow.config import Config
from workflow.errors import ConfigError

LEVELS = ("unit", "leader", "principal")
LEVEL_LABELS = {"unit": "责任单位", "leader": "分管领导", "principal": "主要领导"}
DEFAULT_ESCALATION = {"unit": 1, "leader": 3, "principal": 10}
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
    **{f"周{c}": i for i, c in enumerate("一二三四五六日")},
    "周天": 6,
}
_KEYS = {
    "reminder_offsets",
    "progress_request_days",
    "digest",
    "time",
    "delivery_interval_minutes",
    "escalation",
    "items_per_unit",
    "items_per_mail",
    "units_per_mail",
    "report_within_days",
    "ack_within_days",
    "notify_on_days_off",
}


@dataclass(frozen=True)
class Policy:
    """When to remind, escalate and digest. ``escalation`` maps level → working days overdue."""

    reminder_offsets: tuple[int, ...] = (3, 1, 0)
    escalation: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_ESCALATION))
    progress_request_days: int = 5
    digest_weekday: int | None = 0  # None = daily
    check_time: time = time(9, 0)
    delivery_interval_minutes: int = 5
    office_name: str = "办公室"
    items_per_unit: int = 20
    items_per_mail: int = 200
    units_per_mail: int = 100
    report_within_days: int = 3
    ack_within_days: int = 0  # 签收 limit in working days (0: never escalate unsigned tasks)
    server_url: str | None = None  # [server] url: mails link to its pages instead of commands
    # Mails only on working days (a day off marks overdue work and queues nothing; the next
    # working day catches up). An office that wants them anyway sets this.
    notify_on_days_off: bool = False

    @property
    def max_offset(self) -> int:
        return max(self.reminder_offsets, default=0)

    def levels(self) -> list[tuple[str, int]]:
        """Enabled levels, lowest threshold first."""
        return sorted(self.escalation.items(), key=lambda kv: kv[1])

    def level_reached(self, overdue_working_days: int) -> str | None:
        """The highest level whose threshold ``overdue_working_days`` has reached."""
        reached = None
        for name, after in self.levels():
            if overdue_working_days >= after:
                reached = name
        return reached

    @property
    def digest_label(self) -> str:
        if self.digest_weekday is None:
            return "每日"
        return "每周" + "一二三四五六日"[self.digest_weekday]

    def to_dict(self) -> dict[str, Any]:
        return {
            "reminder_offsets": list(self.reminder_offsets),
            "escalation": dict(self.escalation),
            "progress_request_days": self.progress_request_days,
            "digest": "daily" if self.digest_weekday is None else self.digest_weekday,
            "time": self.check_time.strftime("%H:%M"),
            "delivery_interval_minutes": self.delivery_interval_minutes,
            "office": self.office_name,
            "items_per_unit": self.items_per_unit,
            "items_per_mail": self.items_per_mail,
            "units_per_mail": self.units_per_mail,
            "report_within_days": self.report_within_days,
            "ack_within_days": self.ack_within_days,
        }


def _where(config: Config | None, key: str) -> str:
    path = config.config_file if config is not None else "duban.toml"
    return f"配置文件 {path} 的 [check] {key}"


def _int(value: Any, where: str, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ConfigError(f"{where} 应为 {minimum} 到 {maximum} 之间的整数，实际为 {value!r}")
    return value


def _offsets(value: Any, where: str) -> tuple[int, ...]:
    if not isinstance(value, list):
        raise ConfigError(f"{where} 应为工作日数的列表，例如 [3, 1, 0]，实际为 {value!r}")
    offsets = [_int(v, where, 0, 60) for v in value]
    if len(set(offsets)) != len(offsets):
        raise ConfigError(f"{where} 中有重复的天数：{value!r}")
    return tuple(sorted(offsets, reverse=True))


def _escalation(value: Any, where: str) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ConfigError(f"{where} 应为一个表，例如 {{ unit = 1, leader = 3, principal = 10 }}")
    unknown = set(value) - set(LEVELS)
    if unknown:
        raise ConfigError(
            f"{where} 中有未知的级别：{'、'.join(sorted(unknown))}（可选 unit / leader / principal）"
        )
    merged: dict[str, Any] = {**DEFAULT_ESCALATION, **value}
    levels: dict[str, int] = {}
    for name in LEVELS:
        raw = merged[name]
        if raw is False:
            continue
        levels[name] = _int(raw, f"{where}.{name}", 1, 250)
    thresholds = [levels[n] for n in LEVELS if n in levels]
    if thresholds != sorted(set(thresholds)):
        raise ConfigError(
            f"{where} 的逾期工作日数应逐级递增（unit < leader < principal），实际为 {levels}"
        )
    return levels


def _digest(value: Any, where: str) -> int | None:
    if not isinstance(value, str):
        raise ConfigError(f'{where} 应为 "daily" 或星期几（如 "monday"、"周一"）')
    text = value.strip().lower()
    if text in ("daily", "每天", "每日"):
        return None
    if text not in WEEKDAYS:
        raise ConfigError(
            f'{where} 无效：{value!r}（应为 "daily" 或 monday … sunday / 周一 … 周日）'
        )
    return WEEKDAYS[text]


def _time(value: Any, where: str) -> time:
    if isinstance(value, time):
        return value.replace(tzinfo=None)
    if isinstance(value, str):
        parts = value.strip().split(":")
        if len(parts) == 2 and all(p.isdigit() for p in parts):
            h, m = int(parts[0]), int(parts[1])
            if 0 <= h < 24 and 0 <= m < 60:
                return time(h, m)
    raise ConfigError(f'{where} 无效：{value!r}（应为上海时间 HH:MM，例如 "09:00"）')


def parse_policy(
    section: dict[str, Any],
    office: dict[str, Any] | None = None,
    config: Config | None = None,
    server: dict[str, Any] | None = None,
) -> Policy:
    """Validate a ``[check]`` table (and ``[office]``); every problem is a Chinese ConfigError."""
    unknown = set(section) - _KEYS
    if unknown:
        raise ConfigError(
            f"{_where(config, '')}中有未知的设置：{'、'.join(sorted(unknown))}（可选 {'、'.join(sorted(_KEYS))}）"
        )
    kwargs: dict[str, Any] = {}
    if "reminder_offsets" in section:
        kwargs["reminder_offsets"] = _offsets(
            section["reminder_offsets"], _where(config, "reminder_offsets")
        )
    if "escalation" in section:
        kwargs["escalation"] = _escalation(section["escalation"], _where(config, "escalation"))
    if "progress_request_days" in section:
        kwargs["progress_request_days"] = _int(
            section["progress_request_days"], _where(config, "progress_request_days"), 0, 60
        )
    if "digest" in section:
        kwargs["digest_weekday"] = _digest(section["digest"], _where(config, "digest"))
    if "time" in section:
        kwargs["check_time"] = _time(section["time"], _where(config, "time"))
    if "delivery_interval_minutes" in section:
        kwargs["delivery_interval_minutes"] = _int(
            section["delivery_interval_minutes"],
            _where(config, "delivery_interval_minutes"),
            1,
            1440,
        )
    for key, low, high in (
        ("items_per_unit", 1, 1000),
        ("items_per_mail", 1, 10000),
        ("units_per_mail", 1, 10000),
        ("report_within_days", 1, 60),
        ("ack_within_days", 0, 60),
    ):
        if key in section:
            kwargs[key] = _int(section[key], _where(config, key), low, high)
    if "notify_on_days_off" in section:
        value = section["notify_on_days_off"]
        if not isinstance(value, bool):
            raise ConfigError(
                f"{_where(config, 'notify_on_days_off')} 应为 true 或 false，得到 {value!r}"
            )
        kwargs["notify_on_days_off"] = value
    name = (office or {}).get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise ConfigError('配置文件的 [office] name 应为非空的单位名称，例如 "市政府办公室"')
        kwargs["office_name"] = name.strip()
    url = (server or {}).get("url")
    if isinstance(url, str) and url.strip():
        kwargs["server_url"] = url.strip().rstrip("/")
    return Policy(**kwargs)


def load_policy(config: Config) -> Policy:
    """The office's policy from ``config`` (defaults for everything not set)."""
    return parse_policy(
        config.section("check"), config.section("office"), config, config.section("server")
    )
