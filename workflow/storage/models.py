"""The tables. One row per thing the office talks about.

Conventions:
* timestamps are timezone-aware UTC (:class:`UTCDateTime`); calendar dates (due dates, report
  dates) are plain ``date`` values in Asia/Shanghai terms;
* list-valued columns (aliases, emails, report dates…) are JSON; code assigns a new list rather
  than mutating in place (a plain JSON column does not notice in-place edits);
* states and roles are short strings validated by ``states/`` and ``workflow/``, portable across
  SQLite and PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel


class UTCDateTime(sa.types.TypeDecorator):
    """Store aware datetimes as UTC; SQLite would otherwise drop the zone without converting."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def _json(default: Any = None, nullable: bool = False) -> Any:
    return Field(
        default_factory=lambda: list(default or []), sa_column=sa.Column(sa.JSON, nullable=nullable)
    )


def _ts(nullable: bool = False, index: bool = False) -> Any:
    """A UTC timestamp column; non-nullable ones default to now (callers pass their clock)."""
    column = sa.Column(UTCDateTime(), nullable=nullable, index=index)
    if nullable:
        return Field(default=None, sa_column=column)
    return Field(default_factory=utcnow, sa_column=column)


class Person(SQLModel, table=True):
    """A leader who receives escalation digests (分管领导 / 主要领导)."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    email: str | None = Field(default=None, max_length=200)
    title: str | None = Field(default=None, max_length=100)
    principal: bool = False  # the principal leader (主要领导), escalation's last level


class Unit(SQLModel, table=True):
    """A 科室 / 处室 / 委属单位 in the office's directory."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    aliases: list[str] = _json()
    groups: list[str] = _json()  # e.g. ["委机关各科室"]
    emails: list[str] = _json()
    leader_id: int | None = Field(default=None, foreign_key="person.id")  # leader in charge
    active: bool = True


class Plan(SQLModel, table=True):
    """One year's work plan (工作要点 / 任务分解表)."""

    id: int | None = Field(default=None, primary_key=True)
    year: int
    title: str = Field(max_length=300)
    issuer: str | None = Field(default=None, max_length=200)
    report_dates: list[str] = _json()  # ISO dates, e.g. ["2023-07-31", "2023-11-30"]
    source_file: str | None = Field(default=None, max_length=500)
    created_at: datetime | None = _ts(nullable=True)


class Task(SQLModel, table=True):
    """One requirement of a plan (or a task added by hand, or an event's time limit)."""

    id: int | None = Field(default=None, primary_key=True)
    plan_id: int | None = Field(default=None, foreign_key="plan.id", index=True)
    kind: str = Field(default="ledger", max_length=20)  # ledger | manual | event
    source_key: str | None = Field(
        default=None, max_length=200, index=True
    )  # stable key for re-import
    section_path: list[str] = _json()
    number: str | None = Field(default=None, max_length=30)
    title: str = Field(max_length=500)
    content: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    metric: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    deadline_text: str | None = Field(default=None, max_length=300)
    lead_units: list[str] = _json()  # as resolved at import time (unit names)
    responsible_units: list[str] = _json()
    cooperating_units: list[str] = _json()
    # the unit cells as the office wrote them, by role (groups not expanded), for the export
    units_written: dict[str, list[str]] | None = Field(
        default=None, sa_column=sa.Column(sa.JSON, nullable=True)
    )
    event_kind: str | None = Field(default=None, max_length=50)
    event_date: date | None = None
    event_ref: str | None = Field(default=None, max_length=300)
    created_at: datetime | None = _ts(nullable=True)


_assignment_version = sa.Column("version", sa.Integer, nullable=False)


class Assignment(SQLModel, table=True):
    """One unit's share of a task, for one period; the row the lifecycle moves.

    ``period`` distinguishes recurring obligations (每月 → "2023-03", report dates →
    "2023-07-31"); it is "" for a one-off task. ``version`` is the optimistic lock.
    """

    __table_args__ = (
        # unit first: also the index of every unit's own reads (migration 0011)
        sa.UniqueConstraint("unit_id", "task_id", "period", name="uq_assignment"),
        # the daily check's selections; no third column, so PostgreSQL keeps one entry per
        # (state, due) with a list of rows (deduplication): the catch-up's UPDATE 4.4 → 3.8 s
        sa.Index("ix_assignment_state_due", "state", "due"),
    )
    __mapper_args__ = {"version_id_col": _assignment_version}  # noqa: RUF012

    id: int | None = Field(default=None, primary_key=True)
    task_id: int = Field(foreign_key="task.id")
    unit_id: int = Field(foreign_key="unit.id")  # indexed by uq_assignment
    role: str = Field(default="responsible", max_length=20)  # lead | responsible | cooperating
    period: str = Field(default="", max_length=30)
    state: str = Field(default="assigned", max_length=20)
    due: date  # indexed with the state (ix_assignment_state_due)
    original_due: date
    due_rule: str | None = Field(default=None, max_length=300)  # JSON: how ``due`` was computed
    due_provisional: bool = False  # computed on a provisional (unpublished) calendar year
    late: bool = False
    overdue_since: date | None = None  # the due date that was missed
    reported_at: datetime | None = _ts(nullable=True)
    verified_at: datetime | None = _ts(nullable=True)
    returned_count: int = 0
    version: int = Field(default=1, sa_column=_assignment_version)
    created_at: datetime | None = _ts(nullable=True)
    clock_paused_on: date | None = None  # an event clock stopped (补正, 第三方意见) since (0017)
    acknowledged_at: datetime | None = _ts(nullable=True)  # the unit's 签收 (0017)
    acknowledged_by: str | None = Field(default=None, max_length=100)


class Report(SQLModel, table=True):
    """Progress written by a unit (进展落实情况) with its evidence."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    evidence: list[str] = _json()  # links, document numbers (文号)
    actor: str = Field(max_length=100)
    late: bool = False
    count: int = Field(default=1, sa_column_kwargs={"server_default": sa.text("1")})  # 量化指标
    created_at: datetime | None = _ts()


class History(SQLModel, table=True):
    """Append-only record of every change: who, when, from, to, why. Read by assignment only;
    no foreign key, so the record never blocks (or slows) the rows it describes."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int | None = Field(default=None, index=True)
    task_id: int | None = None
    entity: str = Field(default="assignment", max_length=30)
    action: str = Field(max_length=40)
    from_state: str | None = Field(default=None, max_length=20)
    to_state: str | None = Field(default=None, max_length=20)
    actor: str = Field(max_length=100)
    role: str = Field(max_length=20)
    address: str | None = Field(default=None, max_length=64)  # remote address, over HTTP
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    data: dict[str, Any] | None = Field(default=None, sa_column=sa.Column(sa.JSON, nullable=True))
    at: datetime | None = _ts()


class Token(SQLModel, table=True):
    """An access token, stored as a SHA-256 hash only."""

    id: int | None = Field(default=None, primary_key=True)
    token_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    prefix: str = Field(max_length=12)  # first characters, to tell tokens apart in listings
    role: str = Field(max_length=20)  # office | unit | leader
    unit_id: int | None = Field(default=None, foreign_key="unit.id")
    person_id: int | None = Field(default=None, foreign_key="person.id")
    label: str = Field(max_length=100)
    created_at: datetime | None = _ts()
    revoked_at: datetime | None = _ts(nullable=True)
    # a person's token (issue 29, migration 0022): whose, until when, last used when
    account_id: int | None = Field(default=None, index=True)
    expires_at: datetime | None = _ts(nullable=True)
    last_used_at: datetime | None = _ts(nullable=True)


class Notification(SQLModel, table=True):
    """The outbox: one row per notification, unique by ``key`` so it is never queued twice.

    Written in the same transaction as the change that caused it; delivered later. Nothing is
    deleted: ``state`` goes pending → sent, or failed (with ``last_error``).
    """

    id: int | None = Field(default=None, primary_key=True)
    key: str = Field(max_length=300, sa_column_kwargs={"unique": True})
    kind: str = Field(max_length=30, index=True)
    recipients: list[str] = _json()
    recipient_name: str = Field(max_length=100)
    assignment_id: int | None = Field(default=None, foreign_key="assignment.id", index=True)
    level: int = 0
    context: dict[str, Any] = Field(
        default_factory=dict, sa_column=sa.Column(sa.JSON, nullable=False)
    )
    # pending | sent | failed | dropped (stale before it went out: see ``note``)
    state: str = Field(default="pending", max_length=20, index=True)
    channel: str = Field(
        default="email", max_length=20, sa_column_kwargs={"server_default": "email"}
    )  # email | wecom | dingtalk | feishu (a robot row's key is the email key + "#<channel>")
    attempts: int = 0  # answers from the mail server (not claims: a crash uses up nothing)
    next_attempt_at: datetime | None = _ts(nullable=True)
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    # why it was dropped, or which items were left out, because they went stale before sending
    note: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    message_id: str | None = Field(default=None, max_length=300)
    as_of: date | None = None  # the check date that queued it
    created_at: datetime | None = _ts()
    sent_at: datetime | None = _ts(nullable=True)


class Robot(SQLModel, table=True):
    """A group robot (企业微信 / 钉钉 / 飞书 webhook) of a unit (``owner`` "u<id>") or a leader
    ("p<id>"); at most one per kind per owner. ``token`` and ``secret`` are encrypted at rest
    (:mod:`workflow.secretbox`); ``fingerprint`` tells keys apart without showing them."""

    __table_args__ = (sa.UniqueConstraint("owner", "kind", name="uq_robot"),)

    id: int | None = Field(default=None, primary_key=True)
    owner: str = Field(max_length=20, index=True)
    kind: str = Field(max_length=20)  # wecom | dingtalk | feishu
    token: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # encrypted
    secret: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    fingerprint: str = Field(max_length=16)
    mention_mobiles: list[str] = _json()
    updated_at: datetime | None = _ts()


class ExtensionRequest(SQLModel, table=True):
    """A unit's request for a later due date; the original date counts until approved."""

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    requested_due: date
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    requested_by: str = Field(max_length=100)
    requested_at: datetime | None = _ts()
    status: str = Field(default="pending", max_length=20)  # pending | approved | refused
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _ts(nullable=True)
    decision_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))


class Waiver(SQLModel, table=True):
    """The office waives one deduction on appeal (申诉), with a reason."""

    __table_args__ = (sa.UniqueConstraint("assignment_id", "rule", name="uq_waiver"),)

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    rule: str = Field(max_length=40)
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    actor: str = Field(max_length=100)
    created_at: datetime | None = _ts()


class ChaseCover(SQLModel, table=True):
    """One item the daily check has told its audience about, never told twice.

    ``what`` is the occasion: ``r<offset>`` (a reminder that many working days before ``due``),
    ``o`` (overdue: ``levels`` holds one bit per audience told — 1 the unit, 2 its leader in
    charge, 4 the principal) or ``p`` (a progress request; ``due`` is the plan's report date).
    ``run`` numbers the check that last wrote it and ``new_levels`` what that check added, so
    the check reads back what it has just covered.
    """

    assignment_id: int = Field(primary_key=True)
    due: date = Field(primary_key=True)
    what: str = Field(primary_key=True, max_length=20)
    run: int = Field(index=True)
    as_of: date
    levels: int = 0
    new_levels: int = 0
    unit_id: int  # the assignment's unit and task: this run's covers are read back without
    task_id: int  # joining the assignments (migration 0012)


class WebSession(SQLModel, table=True):
    """A browser signed in on the pages: the cookie holds a random id, stored here hashed.

    Server-side, so several server processes share it and 退出 ends it for good; it lasts while
    the token stays valid and the browser is not idle longer than ``[server] session_idle_minutes``.
    """

    id: int | None = Field(default=None, primary_key=True)
    sid_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    # signed in with a token, or (migration 0022) with an account's password or sign-in link
    token_id: int | None = Field(default=None, foreign_key="token.id", index=True)
    account_id: int | None = Field(default=None, index=True)
    remember: bool = False  # "remember this device": no idle timeout, 30 days
    csrf: str = Field(max_length=64)  # the session's anti-forgery token, in every form
    created_at: datetime | None = _ts()
    last_seen_at: datetime | None = _ts(index=True)


class Account(SQLModel, table=True):
    """A person who signs in (issue 29): a name, roles, a unit where it has one, contacts.

    ``roles`` is a set (JSON list) of office | unit | leader | security | auditor: one work role
    at most (office, unit or leader) plus the 三员 duties. The password is kept as an argon2 hash
    only; ``must_change`` while it is the one the office set. ``failures`` counts wrong passwords
    since the last right one; at 5 the account is locked until ``locked_until``.
    """

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=100, sa_column_kwargs={"unique": True})
    roles: list[str] = _json()
    unit_id: int | None = Field(default=None, foreign_key="unit.id", index=True)
    email: str | None = Field(default=None, max_length=200)
    mobile: str | None = Field(default=None, max_length=30)
    password_hash: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    must_change: bool = True
    failures: int = 0
    locked_until: datetime | None = _ts(nullable=True)
    created_at: datetime | None = _ts()
    password_changed_at: datetime | None = _ts(nullable=True)


class SignInLink(SQLModel, table=True):
    """A one-time sign-in link (issue 29): the code's SHA-256, its account, expiry, use."""

    id: int | None = Field(default=None, primary_key=True)
    code_hash: str = Field(max_length=64, sa_column_kwargs={"unique": True})
    account_id: int = Field(index=True)
    created_at: datetime | None = _ts()
    expires_at: datetime | None = _ts()
    used_at: datetime | None = _ts(nullable=True)


class Appeal(SQLModel, table=True):
    """A unit's appeal (申诉) against the deductions of one assignment (or one rule of it).

    ``state``: pending → upheld (the rows are waived) | rejected. ``rule`` None: every
    deduction of the assignment.
    """

    id: int | None = Field(default=None, primary_key=True)
    assignment_id: int = Field(foreign_key="assignment.id", index=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    rule: str | None = Field(default=None, max_length=40)
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    evidence: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    state: str = Field(default="pending", max_length=20)
    actor: str = Field(max_length=100)
    created_at: datetime | None = _ts()
    decision: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    decided_by: str | None = Field(default=None, max_length=100)
    decided_at: datetime | None = _ts(nullable=True)


class Bonus(SQLModel, table=True):
    """Bonus points (加分) the office grants a unit for a year, with the evidence."""

    id: int | None = Field(default=None, primary_key=True)
    unit_id: int = Field(foreign_key="unit.id", index=True)
    year: int = Field(index=True)
    points: str = Field(max_length=20)  # a Decimal as text: exact on every database
    reason: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    evidence: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    actor: str = Field(max_length=100)
    created_at: datetime | None = _ts()


class FrozenEvaluation(SQLModel, table=True):
    """A year's evaluation frozen (封存) as signed: later changes no longer move it."""

    id: int | None = Field(default=None, primary_key=True)
    year: int = Field(sa_column=sa.Column(sa.Integer, nullable=False, unique=True))
    as_of: date
    sheet: str = Field(sa_column=sa.Column(sa.Text, nullable=False))  # the sheet's JSON
    actor: str = Field(max_length=100)
    created_at: datetime | None = _ts()


class FailedGuess(SQLModel, table=True):
    """Failed tokens per remote address, shared by every server process (issue 27).

    ``pending`` counts the attempts being checked right now, so that parallel guesses cannot all
    pass before the first failure is counted: an address is admitted only while ``failures +
    pending`` stays under the limit. ``window_start`` opens the counting window; an address over
    the limit is refused until ``blocked_until``.
    """

    address: str = Field(max_length=64, primary_key=True)
    failures: int = 0
    pending: int = 0
    window_start: datetime | None = _ts()
    blocked_until: datetime | None = _ts(nullable=True)


class AuditEvent(SQLModel, table=True):
    """One row of the security audit log (issue 30): append-only, each row chained to the one
    before by ``prev_hash``/``row_hash`` (see ``workflow/audit/chain.py``).

    Who: what the caller carries today (role, name, unit, token); ``person_id`` is nullable so
    that personal accounts (issue 29) fit in without another migration.
    """

    id: int | None = Field(default=None, primary_key=True)
    at: datetime | None = _ts(index=True)
    role: str = Field(max_length=20)
    actor: str = Field(max_length=200)
    unit_id: int | None = None
    person_id: int | None = None
    token_id: int | None = None
    address: str | None = Field(default=None, max_length=100)
    door: str = Field(max_length=20)  # cli / api / page / daemon
    action: str = Field(max_length=40, index=True)
    target: str | None = Field(default=None, max_length=300)
    outcome: str = Field(max_length=20)  # ok / failed / denied / throttled
    detail: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    prev_hash: str = Field(max_length=64)
    row_hash: str = Field(max_length=64)


class AuditSeal(SQLModel, table=True):
    """The audit chain's single lock row and its ends: every append updates this row first (so
    appends from several processes take turns), ``last_*`` name the newest row (a deleted tail
    is detected) and ``pruned_*`` the newest row pruned (the chain's anchor after pruning)."""

    id: int = Field(default=1, primary_key=True)
    last_id: int = 0
    last_hash: str = Field(default="", max_length=64)
    pruned_id: int = 0
    pruned_hash: str = Field(default="", max_length=64)


class Heartbeat(SQLModel, table=True):
    """The daemon's sign of life, written every minute; ``/readyz`` and ``duban status`` read it."""

    name: str = Field(primary_key=True, max_length=40)
    beat_at: datetime | None = _ts()
    pid: int = 0
    host: str = Field(default="", max_length=200)


class Notice(SQLModel, table=True):
    """A numbered 督办单 (``kind`` "duban") or 催办通知书 ("cuiban"), issued by the daily check
    for one overdue assignment at one escalation level (see :mod:`workflow.chasing.notices`).

    Everything the document shows is stored here when it is issued, so the same notice always
    renders the same, whatever happens to the task, the unit, the calendar or the config later.
    ``seq`` runs per (kind, year) without gaps; :class:`NoticeCounter` hands it out.
    """

    __table_args__ = (
        sa.UniqueConstraint("kind", "year", "seq", name="uq_notice_number"),
        sa.UniqueConstraint("assignment_id", "due", "level", name="uq_notice_level"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=10)  # duban | cuiban
    year: int
    seq: int
    level: str = Field(max_length=20)  # unit | leader | principal
    grade: str = Field(max_length=10)  # yellow | orange | red
    assignment_id: int = Field(index=True)
    due: date
    unit_id: int = Field(index=True)
    unit_name: str = Field(max_length=100)
    task_id: int
    task_title: str = Field(max_length=500)
    requirement: str | None = Field(default=None, sa_column=sa.Column(sa.Text, nullable=True))
    days_overdue: int
    issued_on: date
    office_name: str = Field(max_length=200)
    created_at: datetime | None = _ts()


class NoticeCounter(SQLModel, table=True):
    """The last number handed out per (kind, year): updated in the issuing transaction (a row
    lock on PostgreSQL, the write lock on SQLite), so numbers never repeat and never skip."""

    kind: str = Field(primary_key=True, max_length=10)
    year: int = Field(primary_key=True)
    last: int = 0


class EvidenceCheck(SQLModel, table=True):
    """The checks of one evidence link of one report (issue 31): the first result, kept as the
    reference, and the latest one. A link is flagged when it no longer opens or its page's
    hash differs from the first check's."""

    __tablename__ = "evidence_check"

    id: int | None = Field(default=None, primary_key=True)
    report_id: int = Field(foreign_key="report.id", index=True)
    assignment_id: int = Field(index=True)
    url: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    first_at: datetime | None = _ts()
    first_status: int | None = None
    first_hash: str | None = Field(default=None, max_length=64)
    latest_at: datetime | None = _ts()
    latest_stage: str = Field(default="reported", max_length=20)  # reported | verify | year_end
    latest_status: int | None = None
    latest_final_url: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    latest_title: str | None = Field(default=None, max_length=300)
    latest_hash: str | None = Field(default=None, max_length=64)
    latest_pub_date: str | None = Field(default=None, max_length=10)
    latest_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    checks: int = 1
