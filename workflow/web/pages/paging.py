"""Search, unit filter and paging for the office's long lists (offset/limit on the page: a
phone never gets a 28,000-pixel page). The rows come whole from a workflow function; the page
shows one slice of those that match."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

PAGE_SIZE = 30


@dataclass(frozen=True)
class Page:
    rows: list[Any]
    number: int  # 1-based
    pages: int
    total: int
    path: str
    query: dict[str, str] = field(default_factory=dict)  # the filters, kept by every link

    def url(self, number: int) -> str:
        kept = {k: v for k, v in self.query.items() if v}
        return f"{self.path}?{urlencode({**kept, 'page': number})}"

    @property
    def first(self) -> int:
        return 0 if not self.total else (self.number - 1) * PAGE_SIZE + 1

    @property
    def last(self) -> int:
        return min(self.total, self.number * PAGE_SIZE)


def matches(q: str, *texts: Any) -> bool:
    """Whether every word of ``q`` is in one of ``texts`` (lists are searched item by item)."""
    words = q.split()
    flat: list[str] = []
    for t in texts:
        if isinstance(t, list | tuple):
            flat += [str(x) for x in t]
        elif t is not None:
            flat.append(str(t))
    hay = "\n".join(flat).lower()
    return all(w.lower() in hay for w in words)


def page_number(value: str | int | None) -> int:
    text = str(value or "").strip()
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else 1


def paged(
    rows: Iterable[Any],
    *,
    path: str,
    page: str | int | None = None,
    q: str = "",
    unit: str = "",
    text: Callable[[Any], Sequence[Any]] = lambda r: (),
    unit_of: Callable[[Any], Any] = lambda r: None,
    extra: dict[str, str] | None = None,
) -> Page:
    """One page of the ``rows`` that match the search ``q`` (over ``text(row)``) and the unit
    filter ``unit`` (equal to ``unit_of(row)``, or in it when that is a list)."""

    def keep(r: Any) -> bool:
        if unit:
            owner = unit_of(r)
            if unit not in (owner if isinstance(owner, list | tuple) else [owner]):
                return False
        return not q.strip() or matches(q, *text(r))

    chosen = [r for r in rows if keep(r)]
    pages = max(1, -(-len(chosen) // PAGE_SIZE))
    number = min(page_number(page), pages)
    start = (number - 1) * PAGE_SIZE
    return Page(
        rows=chosen[start : start + PAGE_SIZE],
        number=number,
        pages=pages,
        total=len(chosen),
        path=path,
        query={"q": q.strip(), "unit": unit, **(extra or {})},
    )
