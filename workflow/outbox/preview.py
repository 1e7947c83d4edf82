"""``duban notify preview``: render any kind of mail for one assignment, without sending it.

The context is built from the database the way the daily check builds it (same item fields,
working days counted on the office's calendar), so the office sees what the unit or leader
would receive, with the office's template overrides. A preview writes nothing.

* reminder / due_today / overdue / progress_request: to the assignment's unit;
* escalation: to the unit's leader in charge (level 1), or the principal leader (level 2) when
  the unit has none;
* digest: to the unit's leader in charge, grouped by every unit that leader oversees (their
  overdue work, plus this assignment so the preview is never empty).

``--as-of D`` shows the state as of D, read back from the history: the state the assignment
had at the end of D (past due and still waiting counts as overdue, as the check would mark it),
the due date in force then (extensions after D are rolled back), the last report made by D,
and the working days counted from D. The mail carries the office's contact and the way to
report, as delivery renders it.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

import states
from workflow.config import Config
from workflow.dates.clock import local_date
from workflow.directory.roles import Caller, require_role
from workflow.errors import CalendarInputError, ConfigError, InvalidInput
from workflow.storage.models import Assignment, History, Person, Plan, Report, Task, Unit

WAITING = ("assigned", "in_progress")

PREVIEW_KINDS = ("reminder", "due_today", "overdue", "escalation", "digest", "progress_request")


def preview_notification(
    session: Session,
    caller: Caller,
    config: Config,
    kind: str,
    assignment_id: int,
    as_of: date,
    channel: str = "email",
) -> dict[str, Any]:
    """Subject, text and HTML of a ``kind`` mail about ``assignment_id`` as of ``as_of``;
    for a robot ``channel`` (wecom / dingtalk / feishu), the markdown it would post."""
    from notifiers.render import RenderError
    from workflow.chasing.policy import load_policy
    from workflow.dates.workdays import load_calendar
    from workflow.outbox.contact import mail_contact
    from workflow.outbox.settings import renderer
    from workflow.tasks.assignments import get_assignment

    require_role(caller, "office", "预览通知")
    if kind not in PREVIEW_KINDS:
        raise InvalidInput(f"通知类型无效：{kind}（可选 {' / '.join(PREVIEW_KINDS)}）")
    assignment = get_assignment(session, assignment_id)
    render = renderer(config)  # a broken template override: ConfigError before anything else
    action = mail_contact(config).context()
    builder = _Builder(session, load_calendar(config), as_of, load_policy(config).office_name)
    try:
        recipient, recipients, context = builder.build(kind, assignment)
    except ValueError as exc:  # calendars.CalendarError: a date outside the calendar's range
        raise CalendarInputError(f"预览通知时无法计算工作日：{exc}") from None
    if channel != "email":
        from workflow.outbox.robots import preview_robot

        robot = preview_robot(config, kind, channel, context)
        return {"kind": kind, "assignment_id": assignment_id, "as_of": as_of,
                "recipient": recipient, **robot}  # fmt: skip
    try:
        mail = render.render(kind, {**context, **action})
    except RenderError as exc:
        raise ConfigError(f"通知模板无法渲染：{exc}") from None
    return {
        "kind": kind,
        "assignment_id": assignment_id,
        "as_of": as_of,
        "recipient": recipient,
        "recipients": recipients,
        "subject": mail.subject,
        "text": mail.text,
        "html": mail.html,
    }


class _Builder:
    def __init__(self, session: Session, calendar, as_of: date, office: str) -> None:
        self.session = session
        self.cal = calendar
        self.as_of = as_of
        self.office = office

    def working_days(self, due: date) -> int:
        if due >= self.as_of:
            return self.cal.working_days_between(self.as_of, due)
        return -self.cal.working_days_between(due, self.as_of)

    def as_of_day(self, a: Assignment) -> tuple[str, date]:
        """The assignment's state and due date at the end of ``as_of`` (see the module doc)."""
        rows = self.session.execute(
            sa.select(History.action, History.to_state, History.data, History.at)
            .where(History.assignment_id == a.id)
            .order_by(History.at, History.id)
        ).all()
        state, due = "assigned", a.due
        for row in rows:
            if row.at is not None and local_date(row.at) <= self.as_of:
                state = row.to_state or state
        for row in reversed(rows):  # roll back the extensions made after as_of
            if row.at is not None and local_date(row.at) > self.as_of and row.action == "extend":
                before = (row.data or {}).get("from_due")
                if before:
                    due = date.fromisoformat(str(before)[:10])
        if not rows:
            state = a.state
        if state in WAITING and due < self.as_of:
            state = "overdue"  # what the daily check marks it that day
        return state, due

    def item(self, a: Assignment) -> dict[str, Any]:
        task = self.session.get(Task, a.task_id)
        assert task is not None
        state, due = self.as_of_day(a)
        reports = self.session.execute(
            sa.select(Report.text, Report.created_at)
            .where(Report.assignment_id == a.id)
            .order_by(Report.id.desc())  # type: ignore[union-attr]
        ).all()
        report = next((r for r in reports if local_date(r.created_at) <= self.as_of), None)
        return {
            "assignment_id": a.id,
            "task_title": task.title,
            "section": " / ".join(task.section_path or []),
            "due": due,
            "working_days": self.working_days(due),
            "state_label": states.STATE_LABELS.get(state, state),
            "last_report": report.text if report else None,
            "last_report_at": local_date(report.created_at) if report else None,
            "requirement": task.content,
        }

    def build(self, kind: str, a: Assignment) -> tuple[str, list[str], dict[str, Any]]:
        unit = self.session.get(Unit, a.unit_id)
        assert unit is not None
        base = {"office": self.office, "as_of": self.as_of}
        if kind in ("reminder", "due_today", "overdue", "progress_request"):
            context = {**base, "unit": unit.name, "recipient": unit.name, "items": [self.item(a)]}
            if kind == "progress_request":
                context["report_due"] = self.report_due(a)
            return unit.name, list(unit.emails or []), context
        leader, level = self.leader_of(unit)
        name = leader.name if leader else "（未设置分管领导）"
        recipients = [leader.email] if leader and leader.email else []
        if kind == "escalation":
            context = {
                **base,
                "unit": unit.name,
                "recipient": name,
                "items": [self.item(a)],
                "level": level,
                "leader": name,
            }
            return name, recipients, context
        context = {
            **base,
            "leader": name,
            "period_label": f"{self.as_of.year}年第{self.as_of.isocalendar()[1]}周",
            "units": self.digest_units(leader, unit, a),
        }
        return name, recipients, context

    def leader_of(self, unit: Unit) -> tuple[Person | None, int]:
        if unit.leader_id is not None:
            return self.session.get(Person, unit.leader_id), 1
        principal = self.session.execute(
            sa.select(Person).where(Person.principal.is_(True)).order_by(Person.id).limit(1)  # type: ignore[attr-defined]
        ).scalar()
        return principal, 2

    def report_due(self, a: Assignment) -> date:
        """The plan's next report date on or after ``as_of``; the due date when there is none."""
        task = self.session.get(Task, a.task_id)
        plan = self.session.get(Plan, task.plan_id) if task and task.plan_id else None
        upcoming = []
        for raw in (plan.report_dates if plan else None) or []:
            try:
                d = date.fromisoformat(str(raw))
            except ValueError:
                continue
            if d >= self.as_of:
                upcoming.append(d)
        return min(upcoming, default=a.due)

    def digest_units(self, leader: Person | None, unit: Unit, a: Assignment) -> list[dict]:
        if leader is not None and not leader.principal:
            units = self.session.execute(
                sa.select(Unit).where(Unit.leader_id == leader.id).order_by(Unit.id)
            ).scalars()
            unit_ids = [u.id for u in units]
        elif leader is not None:
            unit_ids = list(self.session.execute(sa.select(Unit.id).order_by(Unit.id)).scalars())
        else:
            unit_ids = [unit.id]
        rows = self.session.execute(
            sa.select(Assignment)
            .where(
                Assignment.unit_id.in_(unit_ids),  # type: ignore[attr-defined]
                sa.or_(Assignment.state == "overdue", Assignment.id == a.id),
            )
            .order_by(Assignment.unit_id, Assignment.due, Assignment.id)
        ).scalars()
        by_unit: dict[int, list[Assignment]] = {}
        for row in rows:
            by_unit.setdefault(row.unit_id, []).append(row)
        names = {
            u.id: u.name
            for u in self.session.execute(sa.select(Unit).where(Unit.id.in_(by_unit))).scalars()  # type: ignore[union-attr]
        }
        return [
            {"unit": names[uid], "items": [self.item(r) for r in items]}
            for uid, items in by_unit.items()
        ]
