"""Render notification mails from jinja2 templates: a subject, a text part and an HTML part.

Templates live in ``notifiers/templates/``, one file per kind and part::

    <kind>.subject.txt   one line (whitespace is collapsed)
    <kind>.txt           the plain-text part
    <kind>.html          the HTML part, extending ``_base.html`` and using ``_macros.html``

An office overrides any of these files (including ``_base.html``) by putting a file of the
same name in its override directory. HTML is autoescaped; every template runs with
``StrictUndefined``, so a missing value fails loudly instead of rendering as blank, and in
jinja2's ``SandboxedEnvironment``: a template cannot reach Python internals
(``{{ ''.__class__.__mro__ }}`` is refused). Overrides are checked when the renderer is built:
each file is compiled and every kind is rendered once with a sample context, so a syntax error,
an unknown variable or ``{{ 1/0 }}`` is a :class:`TemplateOverrideError` naming the file and
line before any mail is sent.

Every mail also says how to act (``_howto.txt`` / ``_howto.html``, included by every
template): the requirement of each item, how to report it (the page
``{server_url}/assignments/{id}``, else the ``duban task report`` command), the board for
leaders, and the office's contact. The context keys ``contact`` ({"name", "person", "phone",
"email"}) and ``server_url`` and the item key ``requirement`` are optional (defaults: the
office's name only, no server, no requirement).

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
    A leader's mail over its bounds (see workflow/chasing/mails.py) may add
    "compact_units" ([{"unit", "total", "most_late", "more_at"}]: units shown by their count
    only, no items) and "unlisted" ({"units", "total", "more_at"}: units not shown at all);
    the renderer fills in "compact_units" ([]), "unlisted" (None) and "unit_count" (every unit
    the mail is about), and counts these units' items, and those a unit group omitted, in
    ``counts`` (as red: a leader's mail is about overdue items).
    Any context may give "warning_days": items with more working days left than that get no
    预警 grade (grade "", e.g. a progress request for a task due in 87 working days).
    test (``duban mail test``):
        {"office", "as_of", "host": str}
    decision (the office decided on one assignment: workflow/tasks/decisions.py):
        {"office", "unit", "recipient", "as_of", "decision": "returned" | "extension_approved"
         | "extension_refused" | "verified", "assignment_id", "task_title", "due": date},
        optionally "reason", "requested_due" (date), "decided_by"

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
import jinja2.bccache
import jinja2.sandbox
from markupsafe import Markup, escape

from notifiers.template_check import sample_contexts, template_location

KINDS = (
    "reminder",
    "due_today",
    "overdue",
    "escalation",
    "digest",
    "progress_request",
    "test",
    "unsigned",
    "decision",
    "signin_link",
)

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
    "unsigned": (*_PERSONAL, "leader", "ack_within_days"),
    # the office decided on one assignment (退回, 延期审批, 核验): see workflow/tasks/decisions.py
    "decision": (
        "office",
        "unit",
        "recipient",
        "as_of",
        "decision",
        "assignment_id",
        "task_title",
        "due",
    ),
    # a one-time sign-in link for one account: see workflow/accounts/signin.py
    "signin_link": ("office", "recipient", "as_of", "code", "minutes"),
}

# Who reads each kind: units act on items, leaders look at the board.
AUDIENCE = {
    "escalation": "leader",
    "digest": "leader",
    "test": "office",
    "unsigned": "leader",
    "signin_link": "person",
}

_WEEKDAYS = "一二三四五六日"


class RenderError(ValueError):
    """A mail that cannot be rendered: unknown kind, missing value, empty digest, bad template."""


class TemplateOverrideError(RenderError):
    """An office's template override that does not work (names the file and line)."""


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


# Attribute names a plain dict has (``keys``, ``items``, ``__class__`` …): for any other name,
# ``dict.name`` in a template can only mean the item.
_DICT_ATTRIBUTES = frozenset(dir(dict))


class _Sandbox(jinja2.sandbox.SandboxedEnvironment):
    """The sandbox, with a shorter way to ``item.task_title`` on the plain dicts of a context.

    jinja2 tries ``getattr(obj, name)`` first and falls back to ``obj[name]`` when that raises
    AttributeError: for a dict and a name that is not one of its attributes that is an
    exception raised and caught on every ``{{ item.x }}`` (a mail has ~100 of them, a fifth
    of its rendering). The result is the same: the item, or undefined when there is none;
    every other lookup (``u.items``, objects, anything unsafe) takes the sandbox's own way.

    And HTML templates escape with :func:`_escape`, not ``markupsafe.escape`` (see there).
    """

    def getattr(self, obj: Any, attribute: str) -> Any:
        if type(obj) is dict and attribute not in _DICT_ATTRIBUTES:
            try:
                return obj[attribute]
            except KeyError:
                return self.undefined(obj=obj, name=attribute)
        return super().getattr(obj, attribute)

    def make_globals(self, d: Any) -> Any:
        """A template's globals as one plain dict, not jinja2's ChainMap over the environment's:
        every render and include builds its context from them (``dict(globals, **vars)``, the
        set of their names), several times a mail, and a ChainMap does that in Python, a
        sixth of rendering a mail. The same names and values; the environment's globals are
        all set before the first template loads (:func:`_environment`)."""
        return {**self.globals, **(d or {})}

    def get_template(self, name: Any, parent: str | None = None, globals: Any = None) -> Any:
        template = super().get_template(name, parent, globals)
        namespace = template.root_render_func.__globals__  # the compiled template's module
        if namespace.get("escape") is escape:  # the name jinja2's generated code calls
            namespace["escape"] = _escape
        return template


_markup = str.__new__  # Markup(text) without Markup.__new__'s own checks: text is safe


def _escape(value: Any) -> Markup:
    """``markupsafe.escape``, the same characters to the same entities, cheaper for what mails
    print: every ``{{ … }}`` of an HTML template is escaped (70–130 a mail, a third of
    rendering its HTML), and markupsafe 3 wraps its C core in Python and builds each result
    through ``Markup.__new__``.
    Anything but a plain ``str``, ``int`` or ``Markup`` goes to ``markupsafe.escape``."""
    kind = type(value)
    if kind is str:
        return _markup(
            Markup,
            value.replace("&", "&amp;")
            .replace(">", "&gt;")
            .replace("<", "&lt;")
            .replace("'", "&#39;")
            .replace('"', "&#34;"),
        )
    if kind is Markup:
        return value  # escape() would copy it: the same text
    if kind is int:
        return _markup(Markup, str(value))  # digits and "-": nothing to escape
    return escape(value)


class _CompiledTemplates(jinja2.BytecodeCache):
    """Compiled templates kept for the life of the process, keyed by template and file and
    checked against the source (jinja2 compares a checksum of it): every delivery run builds
    its renderer afresh (an office's overrides may have changed), and compiling the templates
    a mail needs costs ~40 ms, more than rendering a hundred mails. Only the environments
    :func:`_environment` makes use it: they all compile alike."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self.compiled.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)  # reset by jinja2 when the source changed

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_COMPILED = _CompiledTemplates()


def _environment(override_dir: Path | None) -> jinja2.Environment:
    loaders: list[jinja2.BaseLoader] = []
    if override_dir is not None:
        loaders.append(jinja2.FileSystemLoader(str(override_dir)))
    loaders.append(jinja2.FileSystemLoader(str(TEMPLATE_DIR)))
    env = _Sandbox(
        loader=jinja2.ChoiceLoader(loaders),
        autoescape=jinja2.select_autoescape(enabled_extensions=("html",), default=False),
        undefined=jinja2.StrictUndefined,
        auto_reload=False,  # a renderer lives for one run: no stat() of every file per mail
        bytecode_cache=_COMPILED,
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
    item.setdefault("requirement", None)
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


def _compact_units(kind: str, raw: Any) -> list[dict[str, Any]]:
    """Units shown by their count only (a leader's mail over its bounds)."""
    if not isinstance(raw, list | tuple):
        raise RenderError(f"渲染 {kind} 邮件：compact_units 应为列表")
    units = []
    for i, u in enumerate(raw):
        _require(kind, f"compact_units[{i}]", u, ("unit", "total"))
        units.append(
            {
                **u,
                "total": _int(kind, f"compact_units[{i}].total", u["total"]),
                "most_late": _int(kind, f"compact_units[{i}].most_late", u.get("most_late", 0)),
                "more_at": u.get("more_at") or "",
            }
        )
    return units


def _unlisted(kind: str, raw: Any) -> dict[str, Any] | None:
    """The units a leader's mail does not show at all: how many, their items, where to look."""
    if not raw:
        return None
    _require(kind, "unlisted", raw, ("units", "total"))
    return {
        "units": _int(kind, "unlisted.units", raw["units"]),
        "total": _int(kind, "unlisted.total", raw["total"]),
        "more_at": raw.get("more_at") or "",
    }


def prepare_context(kind: str, context: Mapping[str, Any]) -> dict[str, Any]:
    """Check ``context`` for ``kind`` and return a copy with items normalised.

    Raises :class:`RenderError` naming the first missing or malformed field.
    """
    if kind not in CONTEXT_KEYS:
        raise RenderError(f"未知的通知类型：{kind}（可用：{'、'.join(KINDS)}）")
    _require(kind, "", context, CONTEXT_KEYS[kind])
    ctx = dict(context)
    ctx["kind"] = kind
    ctx["audience"] = AUDIENCE.get(kind, "unit")
    ctx["server_url"] = context.get("server_url") or None
    contact = context.get("contact") if isinstance(context.get("contact"), Mapping) else {}
    ctx["contact"] = {k: contact.get(k) or None for k in ("name", "person", "phone", "email")}
    ctx["contact"]["name"] = ctx["contact"]["name"] or ctx["office"]
    window = ctx.get("warning_days")
    if window is not None:
        window = _int(kind, "warning_days", window)
    if kind == "decision":  # optional: the office's reason, the date asked for, who decided
        for key in ("reason", "requested_due", "decided_by"):
            ctx.setdefault(key, None)
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
        compact = ctx["compact_units"] = _compact_units(kind, ctx.get("compact_units") or [])
        unlisted = ctx["unlisted"] = _unlisted(kind, ctx.get("unlisted"))
        ctx["unit_count"] = len(units) + len(compact) + (unlisted["units"] if unlisted else 0)
        listed = [it for u in units for it in u["items"]]
        ctx["counts"] = _counts(listed)
        ctx["counts"]["total"] = sum(u["total"] for u in units)
        ctx["omitted"] = sum(u["omitted"] for u in units)
        rest = sum(u["total"] for u in compact) + (unlisted["total"] if unlisted else 0)
        ctx["counts"]["total"] += rest
        ctx["counts"]["red"] += ctx["omitted"] + rest  # a leader's mail is about overdue items
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
    """Renders the three parts of a mail; ``override_dir`` files win over the built-in ones.

    Overrides are checked here (see the module doc): TemplateOverrideError names the file and
    line of the first one that does not compile or render.
    """

    def __init__(self, override_dir: Path | None = None) -> None:
        if override_dir is not None and not Path(override_dir).is_dir():
            raise RenderError(f"模板覆盖目录不存在：{override_dir}")
        self.override_dir = Path(override_dir).resolve() if override_dir is not None else None
        self.env = _environment(self.override_dir)
        if self.override_dir is not None:
            self._check_overrides()

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

    def _check_overrides(self) -> None:
        assert self.override_dir is not None
        names = sorted(
            p.name
            for p in self.override_dir.iterdir()
            if p.is_file() and p.suffix in (".txt", ".html") and not p.name.startswith(".")
        )
        if not names:
            return
        for name in names:
            try:
                self.env.get_template(name)
            except jinja2.TemplateSyntaxError as exc:
                raise self._override_error(name, exc) from None
            except UnicodeDecodeError:
                raise TemplateOverrideError(
                    f"模板覆盖文件 {self.override_dir / name} 不是 UTF-8 文本"
                ) from None
        for kind, context in sample_contexts().items():
            try:
                self.render(kind, context)
            except TemplateOverrideError:
                raise
            except RenderError:
                continue  # a problem of the built-in templates with this sample, not the office's

    def _override_error(self, name: str, exc: BaseException) -> RenderError:
        """The error as one line naming the template file and line; TemplateOverrideError when
        the failing line is in one of the office's files."""
        filename, line = template_location(exc)
        where_name = Path(filename).name if filename else name
        in_override = (
            self.override_dir is not None
            and filename is not None
            and Path(filename).resolve().parent == self.override_dir
        )
        place = str(self.override_dir / where_name) if in_override else f"模板 {where_name}"
        if in_override:
            place = f"模板覆盖文件 {place}"
        at = f"第 {line} 行" if line else ""
        if isinstance(exc, jinja2.TemplateSyntaxError):
            what = f"语法错误：{exc.message}"
        elif isinstance(exc, jinja2.UndefinedError):
            what = f"使用了未提供的变量：{exc.message}"
        elif isinstance(exc, jinja2.sandbox.SecurityError):
            what = f"不允许的操作：{exc}"
        elif isinstance(exc, jinja2.TemplateNotFound):
            what = f"找不到模板文件：{exc.name}"
        else:
            what = f"渲染失败（{type(exc).__name__}）：{exc}"
        message = " ".join(f"{place} {at} {what}".split())
        return TemplateOverrideError(message) if in_override else RenderError(message)

    def _render(self, name: str, ctx: dict[str, Any]) -> str:
        try:
            return self.env.get_template(name).render(ctx)
        except Exception as exc:  # noqa: BLE001 - any template failure is one line, never a traceback
            raise self._override_error(name, exc) from exc
