"""The numbered 督办单 / 催办通知书 attached to the mails that tell of them.

The daily check issues one notice per overdue assignment and level told
(:mod:`workflow.chasing.notices`), and the mail telling that level lists the item with the
cover key ``o:<assignment>:<due>:<level>`` (:mod:`workflow.chasing.mails`): the unit's
``overdue`` notice (level ``unit``: its 催办通知书), the leader's ``escalation`` (``leader`` /
``principal``: the 督办单 of the units it lists) and a ``digest`` the escalations rode in.
A notice is attached when its cover is in the row's ``covers`` and its item is still in the
refreshed mail (:mod:`workflow.outbox.fresh`: an item reported since is left out, so is its
notice). At most :data:`MAX_ATTACHMENTS` per mail, by number.

The .docx is rendered from the stored notice alone, byte for byte the same every time
(:func:`workflow.chasing.notice_docx.notice_bytes`), so a row's mail is the same mail whenever
it is built. Group robots carry no files: only mails get attachments.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from typing import Any

import sqlalchemy as sa

from notifiers.message import Attachment
from workflow.storage.models import Notice, Notification

MAX_ATTACHMENTS = 20
KINDS = ("overdue", "escalation", "digest")
_COVER = re.compile(r"^o:(\d+):(\d{4}-\d{2}-\d{2}):(unit|leader|principal)$")
_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f]+')
N = Notice.__table__

NoticeKey = tuple[int, date, str]  # (assignment id, due, level)


def _listed(context: dict[str, Any]) -> set[int]:
    """The assignment ids the (refreshed) mail still lists."""
    items = list(context.get("items") or [])
    for unit in context.get("units") or []:
        if isinstance(unit, dict):
            items += unit.get("items") or []
    return {i["assignment_id"] for i in items if isinstance(i, dict) and "assignment_id" in i}


def wanted(row: Notification, context: dict[str, Any]) -> list[NoticeKey]:
    """The notices ``row``'s mail tells of (see the module doc), as (assignment, due, level)."""
    if row.kind not in KINDS or row.channel != "email":
        return []
    listed = _listed(context)
    out: list[NoticeKey] = []
    for cover in (row.context or {}).get("covers") or []:
        match = _COVER.match(cover) if isinstance(cover, str) else None
        if match and int(match[1]) in listed:
            out.append((int(match[1]), date.fromisoformat(match[2]), match[3]))
    return out


def load_notices(conn: sa.Connection, keys: Iterable[NoticeKey]) -> dict[NoticeKey, Any]:
    """The stored notices of ``keys`` (one select), by (assignment, due, level)."""
    keys = set(keys)
    if not keys:
        return {}
    ids = sorted({k[0] for k in keys})
    out: dict[NoticeKey, Any] = {}
    for start in range(0, len(ids), 1000):
        for n in conn.execute(sa.select(N).where(N.c.assignment_id.in_(ids[start : start + 1000]))):
            key = (n.assignment_id, n.due, n.level)
            if key in keys:
                out[key] = n
    return out


class NoticeFiles:
    """The attachments of each chunk's mails: notices looked up once per chunk, each rendered
    once (a principal's escalation and every other principal's carry the same 督办单)."""

    def __init__(self) -> None:
        self.notices: dict[NoticeKey, Any] = {}
        self.wanted: dict[str, list[NoticeKey]] = {}  # row key -> its notices
        self._files: dict[int, Attachment] = {}

    def find(self, rows: dict[str, tuple[Notification, dict]]) -> bool:
        """Which notices the chunk's mails tell of (``rows``: key -> (row, refreshed context));
        True when there are any to :meth:`fetch`."""
        self.wanted, self.notices, self._files = {}, {}, {}
        for key, (row, context) in rows.items():
            found = wanted(row, context)
            if found:
                self.wanted[key] = found
        return bool(self.wanted)

    def fetch(self, conn: sa.Connection) -> None:
        self.notices = load_notices(conn, {k for keys in self.wanted.values() for k in keys})

    def for_row(self, key: str) -> tuple[Attachment, ...]:
        """The row's attachments, by kind and number, at most :data:`MAX_ATTACHMENTS`."""
        found = [self.notices[k] for k in self.wanted.get(key, ()) if k in self.notices]
        notices = {n.id: n for n in found}
        ordered = sorted(notices.values(), key=lambda n: (n.kind, n.year, n.seq))
        return tuple(self._file(n) for n in ordered[:MAX_ATTACHMENTS])

    def _file(self, n: Any) -> Attachment:
        cached = self._files.get(n.id)
        if cached is None:
            from workflow.chasing.notice_docx import DOCX_TYPE, notice_bytes
            from workflow.chasing.notices import notice_view

            view = notice_view(n)
            unit = " ".join(_UNSAFE.sub(" ", view["unit"] or "").split())[:40]
            name = f"{view['number']}{view['kind_label']}（{unit}）.docx"
            cached = self._files[n.id] = Attachment(name, DOCX_TYPE, notice_bytes(view))
        return cached
