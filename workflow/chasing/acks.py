"""Early escalation of tasks nobody signed for (签收, issue 31).

A task assigned (``Assignment.created_at``, Asia/Shanghai) on day D and still neither signed
for nor started when the ``[check] ack_within_days``-th working day after D has ended (default
0 = off, the default; 2 is the usual setting) is told to the unit's leader in charge by the next
working day's check — once per assignment and due date, like every
item of the check: a ``chasecover`` row with ``what = "k"``. One ``unsigned`` mail per leader
per check lists every such task of the units they oversee, grouped by unit; it goes through the
outbox (unique key, robots of the leader) like an escalation. A unit whose leader has no
address (or that has no leader) is named in the check's warnings instead.

Only *newly* assigned tasks are chased: one assigned more than ``WINDOW`` working days before
the limit ran out is left to the overdue path, so turning the setting on (or upgrading a
database whose tasks were never signed for) does not send every old task to the leaders at once,
while a check that missed a few days (the daemon was down) still catches up.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, time, timedelta
from typing import Any

from workflow.chasing import covers as cv
from workflow.chasing.items import OpenRow
from workflow.chasing.mails import iso, mail_key
from workflow.dates.clock import SHANGHAI

WHAT = "k"
WINDOW = 10  # working days after the limit during which an unsigned task is still chased
NO_ACK_LEADER = "单位“{}”没有分管领导（或领导没有邮箱、群机器人），未签收任务的提醒未排队"


def queue_unsigned(planner: Any) -> None:
    """Cover the tasks unsigned past the limit and queue one ``unsigned`` mail per leader.

    ``planner`` is the check's :class:`workflow.chasing.planner.Planner` (loaded units, people,
    writer and run number; typed loosely: the planner imports this module)."""
    days = planner.policy.ack_within_days
    if days <= 0:
        return
    # assigned on D: D's own working day and the next ``days`` ones are the time to sign; the
    # check of the working day after them tells the leader
    latest_day = planner.cal.add_working_days(planner.as_of, -(days + 1))
    boundary = datetime.combine(latest_day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    earliest_day = planner.cal.add_working_days(latest_day, -WINDOW)
    since = datetime.combine(earliest_day + timedelta(days=1), time(0), tzinfo=SHANGHAI)
    A = cv.A
    where = (
        A.c.state == "assigned",
        A.c.acknowledged_at.is_(None),
        A.c.created_at < boundary,
        A.c.created_at >= since,
        A.c.due >= planner.first_day,
        A.c.due <= planner.last_day,
    )
    selection = cv.Selection(WHAT, where)
    told = [
        u.id
        for u in planner.units.values()
        if u.leader_id in planner.people and planner.reachable(planner.people[u.leader_id])
    ]
    if len(told) < len(planner.units):
        for unit_id in cv.units_left_out(planner.session, selection, told):
            planner.warn(NO_ACK_LEADER.format(planner.units[unit_id].name))
    if not cv.cover(planner.session, selection, told, planner.run_no, planner.as_of):
        return
    by_leader: dict[int, list[tuple[OpenRow, int]]] = defaultdict(list)
    for _, r in cv.covered_now(planner.session, planner.run_no, [WHAT]):
        leader = planner.units[r.unit_id].leader_id
        row = OpenRow(r.id, r.unit_id, r.task_id, r.state, r.due)
        by_leader[leader].append((row, planner.remaining(r.due)))
    for person_id in sorted(by_leader):
        _mail(planner, planner.people[person_id], by_leader[person_id], days)


def _mail(planner: Any, person, rows: list[tuple[OpenRow, int]], days: int) -> None:
    writer = planner.writer
    covers = [f"{WHAT}:{r.id}:{iso(r.due)}" for r, _ in rows]
    units = sorted({planner.units[r.unit_id].name for r, _ in rows})
    context = {
        **writer.base(),
        "unit": units[0] if len(units) == 1 else f"{units[0]}等{len(units)}个单位",
        "recipient": person.name,
        "leader": person.name,
        "items": [writer.item(r, wd) for r, wd in rows],
        "ack_within_days": days,
        "covers": covers,
    }
    key = mail_key("unsigned", f"p{person.id}", planner.as_of, covers)
    ids = [r.id for r, _ in rows]
    unit = units[0] if len(units) == 1 else None
    writer.add(key, "unsigned", [person.email], person.name, context, ids, 1, unit, len(ids))
