"""Numbered 督办单 and 催办通知书: one document per overdue assignment and escalation level told.

When the daily check tells an audience about an overdue assignment (an ``o`` cover of this run,
:mod:`.covers`), each level newly told produces one notice, numbered in sequence per kind and
year (the year of the check's date):

========== ============ ========== =====================================
level      kind         grade      number
========== ============ ========== =====================================
unit       催办通知书   黄色       催办〔2026〕3号   (the unit's overdue notice)
leader     督办单       橙色       督办〔2026〕12号  (the leader in charge)
principal  督办单       红色       督办〔2026〕13号  (the principal leader)
========== ============ ========== =====================================

Numbers are gap-free and unique: :func:`allocate` takes the next ``n`` from the counter row of
(kind, year) with one ``UPDATE … RETURNING`` in the issuing transaction (PostgreSQL locks the
row until commit; SQLite holds its write lock), the unique constraint (kind, year, seq) backs it
up, and a rolled-back check (a dry run) gives its numbers back. Issuing is idempotent per
(assignment, due date, level): the check covers each level once, and the unique constraint
(assignment, due, level) stands behind it (a notice already there refuses the whole check rather
than leave a gap in the numbers). Everything the document shows is stored in the row, so it renders the same later.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from workflow.chasing.covers import BITS, COUNTED, C, T
from workflow.chasing.items import WorkdayCalendar
from workflow.directory.roles import Caller
from workflow.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Notice, NoticeCounter, Person, Unit

N = Notice.__table__
NC = NoticeCounter.__table__
U = Unit.__table__

# level -> (kind, grade)
LEVELS: dict[str, tuple[str, str]] = {
    "unit": ("cuiban", "yellow"),
    "leader": ("duban", "orange"),
    "principal": ("duban", "red"),
}
KIND_PREFIX = {"cuiban": "催办", "duban": "督办"}
KIND_TITLE = {"cuiban": "催办通知书", "duban": "督办单"}
GRADE_LABELS = {"yellow": "黄色", "orange": "橙色", "red": "红色"}
LEVEL_LABELS = {"unit": "责任单位", "leader": "分管领导", "principal": "主要领导"}


def number_of(kind: str, year: int, seq: int) -> str:
    """The document number as printed: 督办〔2026〕12号."""
    return f"{KIND_PREFIX[kind]}〔{year}〕{seq}号"


def allocate(session: Session, kind: str, year: int, n: int) -> int:
    """Take the next ``n`` numbers of (kind, year); returns the last one taken (the first is
    ``last - n + 1``). Must run in the transaction that stores the notices."""
    take = (
        sa.update(NC)
        .where(NC.c.kind == kind, NC.c.year == year)
        .values(last=NC.c.last + n)
        .returning(NC.c.last)
    )
    last = session.execute(take).scalar()
    if last is None:  # the year's first number: create the counter (once, whoever is first)
        if session.connection().dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert
        else:
            from sqlalchemy.dialects.sqlite import insert
        session.execute(insert(NC).values(kind=kind, year=year, last=0).on_conflict_do_nothing())
        last = session.execute(take).scalar_one()
    return int(last)


def issue_notices(
    session: Session,
    run: int,
    as_of: date,
    calendar: WorkdayCalendar,
    office_name: str,
    now: datetime,
) -> int:
    """One notice per level newly told in check run ``run`` (see module doc); returns how many.

    One grouped read of this run's ``o`` covers, then per level told: the numbers, one INSERT."""
    told_now = list(
        session.execute(
            sa.select(C.c.due, C.c.new_levels, sa.func.count())
            .where(C.c.run == run, C.c.what == "o")
            .group_by(C.c.due, C.c.new_levels)
        )
    )
    issued = 0
    for level, (kind, grade) in LEVELS.items():
        bit = BITS[level]
        dues = sorted({due for due, bits, _ in told_now if bits & bit})
        if not dues:
            continue
        count = sum(n for _, bits, n in told_now if bits & bit)
        # no NOT EXISTS against ``notice`` here: it read the table being inserted into, and
        # PostgreSQL, planning on a table still empty, re-read every notice inserted so far for
        # each row (quadratic with a late-year backlog); the unique (assignment, due, level)
        # refuses a notice already there, and with it the whole check
        told = sa.and_(C.c.run == run, C.c.what == "o", C.c.new_levels.op("&")(bit) > 0)
        first = allocate(session, kind, as_of.year, count) - count
        late = {d: calendar.working_days_between(d, as_of) for d in dues}
        days = sa.case(late, value=C.c.due, else_=0)
        seq = sa.func.row_number().over(order_by=(C.c.unit_id, C.c.due, C.c.assignment_id))
        columns = {
            "kind": sa.literal(kind),
            "year": sa.literal(as_of.year),
            "seq": first + seq,
            "level": sa.literal(level),
            "grade": sa.literal(grade),
            "assignment_id": C.c.assignment_id,
            "due": C.c.due,
            "unit_id": C.c.unit_id,
            "unit_name": U.c.name,
            "task_id": C.c.task_id,
            "task_title": T.c.title,
            "requirement": T.c.content,
            "days_overdue": days,
            "issued_on": sa.literal(as_of, sa.Date),
            "office_name": sa.literal(office_name),
            "created_at": sa.literal(now, N.c.created_at.type),
        }
        source = C.join(T, T.c.id == C.c.task_id).join(U, U.c.id == C.c.unit_id)
        try:
            with session.begin_nested():
                written = session.execute(
                    sa.insert(N).from_select(
                        list(columns), sa.select(*columns.values()).select_from(source).where(told)
                    ),
                    execution_options=COUNTED,
                ).rowcount
        except sa.exc.IntegrityError:
            written = -1
        if written != count:  # a notice already there: refuse rather than leave a gap
            found = "其中已有印发过的" if written < 0 else f"实际 {written} 份"
            raise Conflict(
                f"{KIND_TITLE[kind]}编号冲突（应印发 {count} 份，{found}），本次检查未保存"
            )
        issued += written
    return issued


# ------------------------------------------------------------------ reading them back


def notice_view(n: Any) -> dict[str, Any]:
    """The documented JSON shape of one notice (``duban notice show --json``)."""
    return {
        "id": n.id,
        "number": number_of(n.kind, n.year, n.seq),
        "kind": n.kind,
        "kind_label": KIND_TITLE[n.kind],
        "year": n.year,
        "seq": n.seq,
        "level": n.level,
        "level_label": LEVEL_LABELS.get(n.level, n.level),
        "grade": n.grade,
        "grade_label": GRADE_LABELS.get(n.grade, n.grade),
        "assignment_id": n.assignment_id,
        "task_id": n.task_id,
        "unit": n.unit_name,
        "title": n.task_title,
        "requirement": n.requirement,
        "due": n.due,
        "days_overdue": n.days_overdue,
        "issued_on": n.issued_on,
        "office": n.office_name,
    }


def _visible_units(session: Session, caller: Caller) -> list[int] | None:
    """The units whose notices ``caller`` may see (None: all). A unit its own; a leader the
    units in their charge (the principal: all); the office all."""
    if caller.role in ("office", "system"):
        return None
    if caller.role == "unit":
        return [caller.unit_id] if caller.unit_id is not None else []
    if caller.role == "leader" and caller.person_id is not None:
        person = session.get(Person, caller.person_id)
        if person is not None and person.principal:
            return None
        return list(
            session.execute(sa.select(U.c.id).where(U.c.leader_id == caller.person_id)).scalars()
        )
    return []


def list_notices(
    session: Session,
    caller: Caller,
    year: int | None = None,
    unit: str | None = None,
    assignment_id: int | None = None,
) -> list[dict[str, Any]]:
    """Notices by kind and number; each caller sees only what :func:`_visible_units` allows."""
    query = sa.select(N).order_by(N.c.year, N.c.kind, N.c.seq)
    visible = _visible_units(session, caller)
    if visible is not None:
        query = query.where(N.c.unit_id.in_(visible))
    if year is not None:
        query = query.where(N.c.year == year)
    if unit:
        unit_id = session.execute(sa.select(U.c.id).where(U.c.name == unit)).scalar()
        if unit_id is None:
            raise NotFound(f"单位“{unit}”不存在（用 duban unit list 查看单位名称）")
        if visible is not None and unit_id not in visible:
            raise PermissionDenied(f"{caller.name}无权查看单位“{unit}”的督办单、催办通知书")
        query = query.where(N.c.unit_id == unit_id)
    if assignment_id is not None:
        query = query.where(N.c.assignment_id == assignment_id)
    return [notice_view(n) for n in session.execute(query)]


def parse_ref(ref: str | int) -> tuple[str, int, int] | int:
    """A notice named by its id (``12``) or its number (``督办〔2026〕12号``)."""
    text = str(ref).strip()
    if text.isdigit():
        return int(text)
    for kind, prefix in KIND_PREFIX.items():
        body = text.removeprefix(prefix)
        if body != text and body.endswith("号"):
            for left, right in (("〔", "〕"), ("[", "]"), ("(", ")"), ("（", "）")):
                if body.startswith(left) and right in body:
                    year, _, seq = body[1:-1].partition(right)
                    if year.isdigit() and seq.isdigit():
                        return kind, int(year), int(seq)
    raise InvalidInput(f"督办单编号无效：{text!r}（应为序号如 12，或文号如 督办〔2026〕12号）")


def get_notice(session: Session, caller: Caller, ref: str | int) -> Any:
    """One notice the caller may see, by id or number."""
    key = parse_ref(ref)
    if isinstance(key, int):
        where = N.c.id == key
    else:
        where = sa.and_(N.c.kind == key[0], N.c.year == key[1], N.c.seq == key[2])
    row = session.execute(sa.select(N).where(where)).first()
    if row is None:
        raise NotFound(f"督办单/催办通知书 {ref} 不存在（用 duban notice list 查看）")
    visible = _visible_units(session, caller)
    if visible is not None and row.unit_id not in visible:
        raise PermissionDenied(
            f"{number_of(row.kind, row.year, row.seq)} 不属于{caller.name}，无权查看"
        )
    return row
