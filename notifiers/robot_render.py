"""Short markdown texts for group robots, from the same contexts as the mail templates.

Templates are ``notifiers/templates/<kind>.md`` (shared macros in ``_items.md``); an office
may override any of them, as for mails, with a file of the same name in its override
directory. The context is checked and normalised by :func:`notifiers.render.prepare_context`
(the same keys as the mails, see ``notifiers/render.py``), plus two optional keys:
``link`` or ``url`` (an http(s) address shown as "在督办系统中查看"). Without either, a post
links to the page of ``server_url`` (``[server] url``) it is about (:func:`page_link`), so
every post carries a link once the office's server has an address.

The renderer adds to the context: ``urgent`` (the most urgent items, at most ``max_items``,
most urgent first; for a digest across units, each with ``unit_name``), ``more`` (how many
items were left out, counting those the mail itself does not list: ``counts.total``),
``max_items`` and ``link``. Unit-written text passes through the ``md`` filter: markdown and
mention syntax (``* _ [ ] < > ` #``) becomes full-width look-alikes and line breaks become
spaces, so a task title cannot @everyone, inject a link or break the layout.

The title is the template's first non-empty line without its leading ``#``.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jinja2

from notifiers.render import RenderError, _environment, prepare_context
from notifiers.robots import RobotMessage, RobotTarget

MAX_ITEMS = 10

_MD_TABLE = str.maketrans(
    {
        "*": "＊",
        "_": "＿",
        "[": "［",
        "]": "］",
        "<": "＜",
        ">": "＞",
        "`": "｀",
        "#": "＃",
        "|": "｜",
        "\r": " ",
        "\n": " ",
        "\t": " ",
    }
)


def md(value: Any) -> str:
    """Unit-written text made inert for robot markdown (see the module docstring)."""
    return " ".join(str(value).translate(_MD_TABLE).split())


def safe_link(value: Any) -> str | None:
    """An http(s) URL fit for ``[text](url)``, or None when absent or not http(s)."""
    if not value:
        return None
    text = str(value).strip()
    parts = urllib.parse.urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return None
    return urllib.parse.quote(text, safe=":/?#[]@!$&'*+,;=%~-._")


def page_link(ctx: Mapping[str, Any], items: list) -> str | None:
    """The page a post links to when ``server_url`` (``[server] url``) is known: the task's
    page for one task (a decision, a unit's single item), a unit's task list, a leader's
    board, else the server's first page. None without a server."""
    base = str(ctx.get("server_url") or "").rstrip("/")
    if not base:
        return None
    if ctx.get("assignment_id") is not None:
        return f"{base}/assignments/{ctx['assignment_id']}"
    audience = ctx.get("audience")
    if audience == "leader":
        return f"{base}/board"
    if audience == "unit" and len(items) == 1 and not ctx.get("omitted"):
        return f"{base}/assignments/{items[0]['assignment_id']}"
    if audience == "unit":
        return f"{base}/tasks"
    return f"{base}/"


@dataclass(frozen=True)
class RenderedRobot:
    """``title`` is one line; ``text`` markdown; ``total`` the items it stands for (None for
    ``test``); ``grade`` the worst grade among them (None for ``test``)."""

    title: str
    text: str
    total: int | None
    grade: str | None


class RobotRenderer:
    """Renders ``<kind>.md``; ``override_dir`` files win over the built-in ones."""

    def __init__(self, override_dir: Path | None = None, *, max_items: int = MAX_ITEMS) -> None:
        if override_dir is not None and not Path(override_dir).is_dir():
            raise RenderError(f"模板覆盖目录不存在：{override_dir}")
        self.env = _environment(Path(override_dir) if override_dir is not None else None)
        self.env.filters["md"] = md
        self.max_items = max_items

    def render(self, kind: str, context: Mapping[str, Any]) -> RenderedRobot:
        ctx = prepare_context(kind, context)
        if kind == "digest":
            items = [{**it, "unit_name": u["unit"]} for u in ctx["units"] for it in u["items"]]
            items.sort(key=lambda it: (it["working_days"], it["due"]))
        else:
            items = list(ctx.get("items") or [])
        ctx["urgent"] = items[: self.max_items]
        shown = len(ctx["urgent"])  # the rest: every item the mail stands for, listed or not
        ctx["more"] = max(0, (ctx["counts"]["total"] if "counts" in ctx else len(items)) - shown)
        ctx["max_items"] = self.max_items
        ctx["link"] = safe_link(ctx.get("link") or ctx.get("url") or page_link(ctx, items))
        name = f"{kind}.md"
        try:
            text = self.env.get_template(name).render(ctx)
        except jinja2.UndefinedError as exc:
            raise RenderError(f"模板 {name} 使用了未提供的变量：{exc.message}") from exc
        except jinja2.TemplateNotFound as exc:
            raise RenderError(f"找不到模板文件：{exc.name}") from exc
        except jinja2.TemplateSyntaxError as exc:
            raise RenderError(f"模板 {name} 第 {exc.lineno} 行语法错误：{exc.message}") from exc
        except (jinja2.TemplateError, TypeError, ValueError, KeyError, AttributeError) as exc:
            raise RenderError(f"模板 {name} 渲染失败：{exc}") from exc
        text = _tidy(text)
        first = next((line for line in text.splitlines() if line.strip()), "")
        title = " ".join(first.lstrip("#").split())
        if not title:
            raise RenderError(f"模板 {name} 渲染出的标题为空")
        counts = ctx.get("counts")
        grade = None
        if counts:
            grade = next((g for g in ("red", "yellow", "blue") if counts.get(g)), None)
        return RenderedRobot(title, text, counts["total"] if counts else None, grade)

    def message(
        self, key: str, target: RobotTarget, kind: str, context: Mapping[str, Any]
    ) -> RobotMessage:
        """Render and wrap for :class:`notifiers.robots.RobotSink`."""
        r = self.render(kind, context)
        return RobotMessage(key, target, r.title, r.text, total=r.total, grade=r.grade)


def _tidy(text: str) -> str:
    """Strip trailing spaces and collapse runs of blank lines to one."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    out: list[str] = []
    for line in lines:
        if not line and out and not out[-1]:
            continue
        out.append(line)
    return "\n".join(out) + "\n"
