"""Reading the audit log: who may, the filters, the export, retention and pruning.

Who reads it: an auditor (审计员, issue 29), or the office as long as no account holds that duty
(三员分立 is optional); :func:`may_read` is the one place that decides.
"""

from __future__ import annotations

import csv
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from workflow.audit.actions import ACTION_LABELS, DOOR_LABELS, OUTCOME_LABELS
from workflow.audit.chain import EVENTS, SEAL, Entry, append
from workflow.config import Config
from workflow.dates.clock import SHANGHAI
from workflow.errors import ConfigError, InvalidInput, PermissionDenied

READERS = ("office", "system")
MIN_KEEP_DAYS = 180  # 网络安全法 art. 21: network logs kept at least six months


def may_read(caller: Any) -> bool:
    """Who may read the audit log: the auditor; the office (and the system) while no account
    holds the auditor duty (:meth:`workflow.directory.roles.Caller.holds`)."""
    holds = getattr(caller, "holds", None)
    if holds is not None:
        return bool(holds("auditor"))
    return getattr(caller, "role", None) in READERS


def require_reader(caller: Any) -> None:
    if not may_read(caller):
        raise PermissionDenied(
            f"无权查看审计日志：仅审计员（未设审计员时为办公室）可以查看"
            f"（当前身份：{getattr(caller, 'name', '未登录')}）"
        )


@dataclass(frozen=True)
class AuditSettings:
    keep_days: int = MIN_KEEP_DAYS
    archive_dir: Path | None = None


def audit_settings(config: Config) -> AuditSettings:
    raw = config.section("audit")
    unknown = sorted(set(raw) - {"keep_days", "archive_dir"})
    if unknown:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [audit] 中有未知设置：{'、'.join(unknown)}"
        )
    keep = raw.get("keep_days", MIN_KEEP_DAYS)
    if not isinstance(keep, int) or isinstance(keep, bool) or keep < MIN_KEEP_DAYS:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [audit] keep_days 应为不少于 {MIN_KEEP_DAYS} 的整数"
            f"（审计日志至少保存六个月），现为 {keep!r}"
        )
    folder = raw.get("archive_dir")
    if folder is not None and not isinstance(folder, str):
        raise ConfigError(f"配置文件 {config.config_file} 的 [audit] archive_dir 应为目录路径")
    return AuditSettings(
        keep_days=keep,
        archive_dir=Path(folder).expanduser() if folder else config.data_dir / "audit-archive",
    )


@dataclass(frozen=True)
class AuditFilter:
    since: date | None = None
    until: date | None = None
    action: str | None = None
    actor: str | None = None
    outcome: str | None = None
    address: str | None = None
    limit: int | None = 200

    def where(self) -> list[Any]:
        c = EVENTS.c
        out: list[Any] = []
        if self.since:
            out.append(c.at >= _start(self.since))
        if self.until:
            out.append(c.at < _start(self.until + timedelta(days=1)))
        if self.action:
            out.append(
                sa.or_(
                    c.action == self.action, c.action.like(f"{_escape(self.action)}.%", escape="\\")
                )
            )
        if self.actor:
            out.append(c.actor.like(f"%{_escape(self.actor)}%", escape="\\"))
        if self.outcome:
            if self.outcome not in OUTCOME_LABELS:
                raise InvalidInput(f"结果应为 {' / '.join(OUTCOME_LABELS)} 之一：“{self.outcome}”")
            out.append(c.outcome == self.outcome)
        if self.address:
            out.append(c.address.like(f"%{_escape(self.address)}%", escape="\\"))
        return out


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _start(d: date) -> datetime:
    return datetime(d.year, d.month, d.day, tzinfo=SHANGHAI).astimezone(UTC)


def view(row: Any) -> dict[str, Any]:
    detail = json.loads(row["detail"]) if row["detail"] else None
    return {
        "id": row["id"],
        "at": row["at"].astimezone(SHANGHAI).isoformat(timespec="seconds"),
        "role": row["role"],
        "actor": row["actor"],
        "unit_id": row["unit_id"],
        "person_id": row["person_id"],
        "token_id": row["token_id"],
        "address": row["address"],
        "door": row["door"],
        "door_label": DOOR_LABELS.get(row["door"], row["door"]),
        "action": row["action"],
        "action_label": ACTION_LABELS.get(row["action"], row["action"]),
        "target": row["target"],
        "outcome": row["outcome"],
        "outcome_label": OUTCOME_LABELS.get(row["outcome"], row["outcome"]),
        "detail": detail,
    }


def list_events(conn: sa.Connection, caller: Any, where: AuditFilter) -> list[dict[str, Any]]:
    """Newest first, at most ``where.limit`` rows (None: all)."""
    require_reader(caller)
    query = sa.select(EVENTS).where(*where.where()).order_by(EVENTS.c.id.desc())
    if where.limit is not None:
        if where.limit < 1:
            raise InvalidInput(f"条数应为正整数：{where.limit}")
        query = query.limit(where.limit)
    return [view(r) for r in conn.execute(query).mappings()]


COLUMNS = (
    "id",
    "at",
    "actor",
    "role",
    "door_label",
    "address",
    "action_label",
    "target",
    "outcome_label",
    "detail",
)
HEADERS = ("序号", "时间", "操作人", "角色", "途径", "来源地址", "操作", "对象", "结果", "详情")


def write_rows(path: Path, rows: list[dict[str, Any]]) -> None:
    """``.csv`` (UTF-8 with BOM, for Excel) or ``.jsonl`` (one raw row a line, hashes included)."""
    if path.suffix.lower() == ".jsonl":
        with path.open("w", encoding="utf-8") as out:
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False, default=str) + "\n")
            out.flush()
            os.fsync(out.fileno())
        return
    if path.suffix.lower() != ".csv":
        raise InvalidInput(f"导出文件应为 .csv 或 .jsonl：{path.name}")
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS)
        for row in rows:
            writer.writerow([_cell(row.get(k)) for k in COLUMNS])


def _cell(value: Any) -> str:
    text = (
        ""
        if value is None
        else (json.dumps(value, ensure_ascii=False) if isinstance(value, dict) else str(value))
    )
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text  # no formulas


def export_events(conn: sa.Connection, caller: Any, where: AuditFilter, path: Path) -> int:
    require_reader(caller)
    rows = list_events(conn, caller, AuditFilter(**{**where.__dict__, "limit": None}))
    rows.reverse()  # oldest first in a file
    try:
        write_rows(path, rows)
    except OSError as exc:
        from workflow.config import os_error_text

        raise InvalidInput(f"无法写入 {path}：{os_error_text(exc)}") from None
    return len(rows)


def prune(
    conn: sa.Connection, settings: AuditSettings, now: datetime, actor: Entry
) -> dict[str, Any]:
    """Export the rows older than ``keep_days`` to a JSON-lines file in the archive folder, then
    delete them and move the chain's anchor — in one transaction holding the seal, so no append
    interleaves. The rows go as a prefix of the chain (by id), so what stays still verifies."""
    conn.execute(SEAL.update().where(SEAL.c.id == 1).values(last_id=SEAL.c.last_id))  # take turns
    cutoff = now - timedelta(days=settings.keep_days)
    first_kept = conn.execute(
        sa.select(sa.func.min(EVENTS.c.id)).where(EVENTS.c.at >= cutoff)
    ).scalar()
    bound = sa.true() if first_kept is None else EVENTS.c.id < first_kept
    rows = conn.execute(sa.select(EVENTS).where(bound).order_by(EVENTS.c.id)).mappings().all()
    result: dict[str, Any] = {
        "pruned": len(rows),
        "file": None,
        "cutoff": cutoff.astimezone(SHANGHAI).date(),
    }
    if rows:
        assert settings.archive_dir is not None
        settings.archive_dir.mkdir(parents=True, exist_ok=True)
        path = settings.archive_dir / f"audit-{rows[0]['id']:09d}-{rows[-1]['id']:09d}.jsonl"
        raw = [
            {**dict(r), "at": r["at"].astimezone(UTC).isoformat(timespec="microseconds")}
            for r in rows
        ]
        write_rows(path, raw)  # fsynced before the rows are deleted
        conn.execute(EVENTS.delete().where(EVENTS.c.id <= rows[-1]["id"]))
        conn.execute(
            SEAL.update()
            .where(SEAL.c.id == 1)
            .values(pruned_id=rows[-1]["id"], pruned_hash=rows[-1]["row_hash"])
        )
        result["file"] = str(path)
        append(
            conn, Entry(**{**actor.__dict__, "detail": {"pruned": len(rows), "file": path.name}})
        )
    return result
