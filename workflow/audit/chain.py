"""Append to the chain and verify it.

Each row carries ``prev_hash`` (the hash of the row before it, or of the last pruned row) and
``row_hash`` = SHA-256 over ``prev_hash`` and the row's own fields. Ids are consecutive: the
appender takes the next one itself. Appends take turns through the single ``auditseal`` row:
the first statement of every append is an UPDATE of that row, which on SQLite takes the write
lock at once (no read-then-write race between processes) and on PostgreSQL locks the row until
commit — plain SQL, no advisory lock, so it works on PostgreSQL-compatible databases too.
The seal also names the newest row, so deleting the newest rows is detected as well.

This is tamper-evident, not tamper-proof: someone who can write the database could rewrite the
whole chain. The deployment should ship rows off the machine (``duban audit export``, syslog)
— see docs/security-dengbao.md.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from workflow.storage.models import AuditEvent, AuditSeal

EVENTS = AuditEvent.__table__
SEAL = AuditSeal.__table__
FIELDS = (
    "id",
    "at",
    "role",
    "actor",
    "unit_id",
    "person_id",
    "token_id",
    "address",
    "door",
    "action",
    "target",
    "outcome",
    "detail",
)


@dataclass(frozen=True)
class Entry:
    """What happened, before it has an id and a place in the chain."""

    at: datetime
    role: str
    actor: str
    door: str
    action: str
    outcome: str = "ok"
    target: str | None = None
    address: str | None = None
    unit_id: int | None = None
    person_id: int | None = None
    token_id: int | None = None
    detail: dict[str, Any] | None = None


def _stamp(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="microseconds")


def row_hash(prev_hash: str, row: dict[str, Any]) -> str:
    """The hash of one row: its predecessor's hash plus its fields in a fixed order."""
    values = [_stamp(row[f]) if f == "at" else row[f] for f in FIELDS]
    text = json.dumps(values, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(f"{prev_hash}\n{text}".encode()).hexdigest()


def _clip(text: str | None, size: int) -> str | None:
    return None if text is None else str(text)[:size]


def append(conn: sa.Connection, entry: Entry) -> int:
    """Append ``entry`` in the connection's transaction (the caller commits); returns its id.

    Use a transaction of its own (:func:`append_now`) unless the row must stand or fall with
    the change it records."""
    conn.execute(SEAL.update().where(SEAL.c.id == 1).values(last_id=SEAL.c.last_id))  # take turns
    seal = conn.execute(sa.select(SEAL).where(SEAL.c.id == 1)).mappings().one()
    new_id = max(seal["last_id"], seal["pruned_id"]) + 1
    prev = seal["last_hash"] if seal["last_id"] > seal["pruned_id"] else seal["pruned_hash"]
    row = {
        "id": new_id,
        "at": entry.at.astimezone(UTC).replace(microsecond=entry.at.microsecond),
        "role": _clip(entry.role, 20),
        "actor": _clip(entry.actor, 200) or "",
        "unit_id": entry.unit_id,
        "person_id": entry.person_id,
        "token_id": entry.token_id,
        "address": _clip(entry.address, 100),
        "door": _clip(entry.door, 20),
        "action": _clip(entry.action, 40),
        "target": _clip(entry.target, 300),
        "outcome": _clip(entry.outcome, 20),
        "detail": None
        if not entry.detail
        else json.dumps(entry.detail, ensure_ascii=False, sort_keys=True, default=str),
    }
    digest = row_hash(prev, row)
    conn.execute(EVENTS.insert().values(**row, prev_hash=prev, row_hash=digest))
    conn.execute(SEAL.update().where(SEAL.c.id == 1).values(last_id=new_id, last_hash=digest))
    return new_id


def append_now(engine: sa.Engine, entry: Entry) -> int:
    """Append ``entry`` in a transaction of its own, committed before returning."""
    with engine.begin() as conn:
        return append(conn, entry)


@dataclass
class Verdict:
    """The result of a verification: ``problems`` in Chinese, each naming the rows."""

    checked: int = 0
    first_id: int | None = None
    last_id: int | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "checked": self.checked,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "problems": self.problems,
        }


def verify(conn: sa.Connection, chunk: int = 5000) -> Verdict:
    """Walk the chain from the anchor (the last pruned row) to the seal's newest row."""
    seal = conn.execute(sa.select(SEAL).where(SEAL.c.id == 1)).mappings().one()
    verdict = Verdict()
    expected_id = seal["pruned_id"] + 1
    expected_prev = seal["pruned_hash"]
    after = seal["pruned_id"]
    last_seen = seal["pruned_id"]
    while True:
        rows = (
            conn.execute(
                sa.select(EVENTS).where(EVENTS.c.id > after).order_by(EVENTS.c.id).limit(chunk)
            )
            .mappings()
            .all()
        )
        for row in rows:
            rid = row["id"]
            verdict.checked += 1
            verdict.first_id = verdict.first_id or rid
            verdict.last_id = rid
            if rid != expected_id:
                verdict.problems.append(_gap(expected_id, rid - 1))
            elif row["prev_hash"] != expected_prev:
                verdict.problems.append(
                    f"第 {rid} 条记录与前一条的链接不符：第 {rid - 1} 条记录被修改，或第 {rid} 条的链接被改动"
                )
            if row_hash(row["prev_hash"], dict(row)) != row["row_hash"]:
                verdict.problems.append(f"第 {rid} 条记录的内容被修改（哈希不符）")
            expected_id = rid + 1
            expected_prev = row["row_hash"]
            last_seen = rid
        if len(rows) < chunk:
            break
        after = rows[-1]["id"]
    if seal["last_id"] > last_seen:
        verdict.problems.append(_gap(last_seen + 1, seal["last_id"]) + "（日志末尾）")
    elif seal["last_id"] == last_seen and last_seen > seal["pruned_id"]:
        if seal["last_hash"] != expected_prev:
            verdict.problems.append(f"第 {last_seen} 条记录被修改（与封存的末条哈希不符）")
    elif seal["last_id"] < last_seen:
        verdict.problems.append(
            f"第 {seal['last_id'] + 1}–{last_seen} 条记录不是通过审计接口写入的（封存记录只到第 {seal['last_id']} 条）"
        )
    return verdict


def _gap(first: int, last: int) -> str:
    if first == last:
        return f"第 {first} 条记录已被删除"
    return f"第 {first}–{last} 条记录已被删除"
