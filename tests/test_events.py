"""Event-triggered working-day time limits, on a real database and the real calendar.

Due dates are cross-checked against ``chinese_calendar`` (an independent source): the number
of working days in (event date, due] is exactly the kind's limit and the due date is worked.
2026 facts: 春节 2026-02-15…23 off, Saturdays 2026-02-14 and 02-28 worked.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import chinese_calendar
import pytest
from conftest import unit_caller
from dbsnap import snapshot
from sqlmodel import select

from calendars import ChinaCalendar
from workflow.directory.units import add_unit
from workflow.errors import ConfigError, Conflict, InvalidInput, NotFound, PermissionDenied
from workflow.storage.models import Assignment, History, Plan, Task
from workflow.tasks.events import (
    BUILTIN_KINDS,
    add_event,
    event_kinds,
    extend_event,
    list_events,
    resolve_kind,
)
from workflow.tasks.lifecycle import fire


@pytest.fixture(scope="module")
def cal() -> ChinaCalendar:
    return ChinaCalendar()


@pytest.fixture
def units(db, office, now):
    with db.session() as s:
        office_unit = add_unit(s, office, "办公室", now)
        fagui = add_unit(s, office, "法规处", now)
        return {"办公室": unit_caller(office_unit), "法规处": unit_caller(fagui)}


def independent_working_days(start: date, end: date) -> int:
    """Working days in (start, end] by chinese_calendar, one day at a time."""
    count, d = 0, start
    while d < end:
        d += timedelta(days=1)
        count += chinese_calendar.is_workday(d)
    return count


def test_builtin_kinds_match_the_regulation():
    kinds = event_kinds()
    assert {k.name: (k.working_days, k.extension_days) for k in kinds.values()} == {
        "政策解读": (3, 0),
        "规范性文件公开": (3, 0),
        "依申请公开": (20, 20),
        "主动公开": (20, 0),
        "网站找错": (2, 0),
        "办事指南变更": (1, 0),
    }


@pytest.mark.parametrize("kind", BUILTIN_KINDS, ids=lambda k: k.key)
@pytest.mark.parametrize(
    "event_date",
    [date(2026, 2, 13), date(2026, 2, 14), date(2026, 2, 20), date(2026, 3, 2), date(2026, 9, 30),
     date(2025, 12, 31), date(2026, 4, 30)],
)  # fmt: skip
def test_due_is_n_working_days_after_the_event(db, office, now, units, cal, kind, event_date):
    with db.session() as s:
        added = add_event(
            s, office, kind.name, event_date, "法规处", "测试依据", calendar=cal, now=now
        )
        due = added.assignment.due
    assert chinese_calendar.is_workday(due)
    assert independent_working_days(event_date, due) == kind.working_days
    assert independent_working_days(event_date, due - timedelta(days=1)) == kind.working_days - 1


def test_add_event_records_task_assignment_and_history(db, office, now, units, cal):
    with db.session() as s:
        added = add_event(
            s,
            office,
            "政策解读",
            date(2026, 2, 13),
            "法规处",
            "粤卫规〔2026〕1号",
            calendar=cal,
            now=now,
        )
        tid, aid = added.task.id, added.assignment.id
    with db.session() as s:
        task = s.get(Task, tid)
        a = s.get(Assignment, aid)
        history = s.exec(select(History).where(History.assignment_id == aid)).all()
    assert (task.kind, task.event_kind, task.event_date, task.event_ref) == (
        "event",
        "policy_interpretation",
        date(2026, 2, 13),
        "粤卫规〔2026〕1号",
    )
    assert task.title == "政策解读：粤卫规〔2026〕1号"
    assert task.responsible_units == ["法规处"]
    # Friday 13th → Saturday 14th (worked), 春节 15–23 off → 24th, 25th
    assert a.due == a.original_due == date(2026, 2, 25)
    assert json.loads(a.due_rule) == {"kind": "working_days", "start": "2026-02-13", "n": 3}
    assert (a.state, a.period, a.due_provisional) == ("assigned", "", False)
    assert [h.action for h in history] == ["create"]


def test_ascii_key_and_chinese_name_are_the_same_kind():
    kinds = event_kinds()
    assert resolve_kind(kinds, "information_request") is resolve_kind(kinds, "依申请公开")
    assert resolve_kind(kinds, "  Website_Error ").name == "网站找错"
    with pytest.raises(InvalidInput) as info:
        resolve_kind(kinds, "政策发布")
    assert "政策解读（policy_interpretation）" in info.value.message


def test_configured_kinds():
    kinds = event_kinds(
        {
            "policy_interpretation": 5,
            "website_error": {"name": "我为政府网站找错", "working_days": 3},
            "hotline": {"name": "12345热线转办", "working_days": 5, "extension_days": 5},
        }
    )
    assert kinds["policy_interpretation"].working_days == 5
    assert kinds["policy_interpretation"].name == "政策解读"
    assert resolve_kind(kinds, "我为政府网站找错").working_days == 3
    assert resolve_kind(kinds, "12345热线转办").extension_days == 5


@pytest.mark.parametrize(
    ("section", "fragment"),
    [
        ({"policy_interpretation": 0}, "不小于 1"),
        ({"policy_interpretation": "三"}, "整数"),
        ({"hotline": 5}, "新的事件类型"),
        ({"hotline": {"name": "热线"}}, "working_days"),
        ({"hotline": {"working_days": 2}}, "name"),
        ({"hotline": {"name": "热线", "working_days": 2, "days": 1}}, "未知项"),
        ({"热线": {"name": "热线", "working_days": 2}}, "英文字母"),
        ({"hotline": {"name": "政策解读", "working_days": 2}}, "名称都是"),
    ],
)
def test_bad_event_config(section, fragment):
    with pytest.raises(ConfigError) as info:
        event_kinds(section)
    assert fragment in info.value.message


def test_refusals_change_nothing(db, office, now, units, cal):
    with db.session() as s:
        add_event(
            s, office, "网站找错", date(2026, 3, 2), "法规处", "留言 #88", calendar=cal, now=now
        )
    before = snapshot(db.engine)
    cases = [
        (office, "网站找错", "法规处", "留言 #88", Conflict),  # the same event again
        (office, "网站找错", "不存在的处", "留言 #89", NotFound),
        (office, "未知类型", "法规处", "留言 #89", InvalidInput),
        (office, "网站找错", "法规处", "  ", InvalidInput),
        (units["办公室"], "网站找错", "法规处", "留言 #89", PermissionDenied),
    ]
    for caller, kind, unit, ref, error in cases:
        with pytest.raises(error), db.session() as s:
            add_event(s, caller, kind, date(2026, 3, 2), unit, ref, calendar=cal, now=now)
    assert snapshot(db.engine) == before


def test_a_unit_records_its_own_event(db, now, units, cal):
    with db.session() as s:
        added = add_event(
            s,
            units["法规处"],
            "依申请公开",
            date(2026, 3, 2),
            "法规处",
            "申请 2026-001",
            calendar=cal,
            now=now,
        )
        assert added.assignment.due == date(2026, 3, 30)
    with db.session() as s:
        assert [r["ref"] for r in list_events(s, units["法规处"])] == ["申请 2026-001"]
        assert list_events(s, units["办公室"]) == []


def test_event_joins_the_plan_of_its_year(db, office, now, units, cal):
    """The plan of the due date's year; a year without one gets a plan for the office."""
    with db.session() as s:
        s.add(Plan(year=2026, title="2026年政务公开工作要点"))
        s.flush()
        added = add_event(
            s, office, "主动公开", date(2026, 3, 2), "法规处", "x", calendar=cal, now=now
        )
        other = add_event(
            s, office, "主动公开", date(2025, 3, 3), "法规处", "y", calendar=cal, now=now
        )
        # 20 working days after 22 December 2026 is in January 2027: the 2027 evaluation
        late_year = add_event(
            s, office, "主动公开", date(2026, 12, 22), "法规处", "w", calendar=cal, now=now
        )
        plans = {p.year: p for p in s.exec(select(Plan)).all()}
        assert added.task.plan_id == plans[2026].id
        assert other.task.plan_id == plans[2025].id
        assert plans[2025].title == "2025年度督办任务（手工新增、事件时限）"
        assert late_year.assignment.due.year == 2027 and late_year.task.plan_id == plans[2027].id
        with pytest.raises(NotFound):
            add_event(
                s,
                office,
                "主动公开",
                date(2026, 3, 2),
                "法规处",
                "z",
                calendar=cal,
                now=now,
                plan_id=99,
            )


def test_provisional_year_is_flagged(db, office, now, units, cal):
    with db.session() as s:
        added = add_event(
            s, office, "政策解读", date(2027, 5, 6), "法规处", "x", calendar=cal, now=now
        )
        assert added.assignment.due_provisional


def test_list_filters(db, office, now, units, cal):
    with db.session() as s:
        add_event(s, office, "政策解读", date(2026, 3, 2), "法规处", "a", calendar=cal, now=now)
        add_event(s, office, "依申请公开", date(2026, 3, 2), "办公室", "b", calendar=cal, now=now)
        add_task_like = list_events(s, office)
        assert [(r["kind_name"], r["ref"], r["due"]) for r in add_task_like] == [
            ("政策解读", "a", "2026-03-05"),
            ("依申请公开", "b", "2026-03-30"),
        ]
        assert [r["ref"] for r in list_events(s, office, kind="information_request")] == ["b"]
        assert [r["ref"] for r in list_events(s, office, unit="法规处")] == ["a"]
        row = add_task_like[1]
        assert (
            row["working_days"] == 20
            and row["extended"] is False
            and row["state_label"] == "已分派"
        )


# ------------------------------------------------------------------ 依申请公开 extension


@pytest.fixture
def request_id(db, office, now, units, cal):
    with db.session() as s:
        added = add_event(
            s,
            office,
            "依申请公开",
            date(2026, 3, 2),
            "法规处",
            "申请 2026-007",
            calendar=cal,
            now=now,
        )
        return added.assignment.id


def test_extension_once_up_to_20_days(db, office, now, request_id, cal):
    with db.session() as s:
        a = extend_event(
            s,
            office,
            request_id,
            20,
            "需征求第三方意见",
            calendar=cal,
            now=now,
            approved_by="张主任",
        )
        assert a.original_due == date(2026, 3, 30)
        assert a.due == cal.add_working_days(date(2026, 3, 30), 20)
        assert independent_working_days(date(2026, 3, 2), a.due) == 40
    with db.session() as s:
        a = s.get(Assignment, request_id)
        assert json.loads(a.due_rule) == {"kind": "working_days", "start": "2026-03-02", "n": 40}
        h = s.exec(select(History).where(History.action == "extend")).one()
        assert (h.actor, h.reason, h.data["event_extension_days"]) == (
            "办公室",
            "需征求第三方意见",
            20,
        )
        assert h.data["to_due"] == a.due.isoformat()
        assert list_events(s, office)[0]["extended"] is True
    before = snapshot(db.engine)
    with pytest.raises(Conflict) as info, db.session() as s:
        extend_event(
            s, office, request_id, 5, "再延一次", calendar=cal, now=now, approved_by="张主任"
        )
    assert "只能延长一次" in info.value.message
    assert snapshot(db.engine) == before


@pytest.mark.parametrize(("days", "error"), [(21, InvalidInput), (0, InvalidInput)])
def test_extension_limits(db, office, now, request_id, cal, days, error):
    before = snapshot(db.engine)
    with pytest.raises(error), db.session() as s:
        extend_event(
            s, office, request_id, days, "理由", calendar=cal, now=now, approved_by="张主任"
        )
    assert snapshot(db.engine) == before


def test_extension_is_for_the_office_only_with_a_reason(db, now, units, request_id, cal, office):
    with pytest.raises(PermissionDenied), db.session() as s:
        extend_event(s, units["法规处"], request_id, 10, "来不及", calendar=cal, now=now)
    with pytest.raises(InvalidInput), db.session() as s:
        extend_event(s, office, request_id, 10, "  ", calendar=cal, now=now)


def test_only_extendable_kinds(db, office, now, units, cal):
    with db.session() as s:
        aid = add_event(
            s, office, "政策解读", date(2026, 3, 2), "法规处", "x", calendar=cal, now=now
        ).assignment.id
    with pytest.raises(InvalidInput) as info, db.session() as s:
        extend_event(s, office, aid, 2, "理由", calendar=cal, now=now)
    assert "不可延长" in info.value.message


def test_extension_of_an_overdue_request_goes_through_the_lifecycle(
    db, office, now, request_id, cal
):
    from workflow.directory.roles import Caller

    with db.session() as s:
        fire(s, request_id, "expire", Caller.system(), now=now)
    with db.session() as s:
        a = extend_event(
            s, office, request_id, 10, "补正材料", calendar=cal, now=now, approved_by="张主任"
        )
        assert a.state == "in_progress"


# ------------------------------------------------------------------ CLI


def test_cli_add_list_extend(duban, tmp_path):
    duban.ok("unit", "add", "法规处")
    out = duban.ok(
        "event",
        "add",
        "依申请公开",
        "--date",
        "2026-03-02",
        "--unit",
        "法规处",
        "--ref",
        "申请 2026-007",
    ).stdout
    assert "2026-03-30" in out and "20 个工作日" in out
    row = duban.json("event", "add", "policy_interpretation", "--date", "2026-02-13", "--unit", "法规处", "--ref", "粤卫规〔2026〕1号")  # fmt: skip
    assert (row["kind_name"], row["due"], row["working_days"]) == ("政策解读", "2026-02-25", 3)
    rows = duban.json("event", "list")
    assert [(r["kind"], r["due"]) for r in rows] == [
        ("policy_interpretation", "2026-02-25"),
        ("information_request", "2026-03-30"),
    ]
    assert "申请 2026-007" in duban.ok("event", "list").stdout
    later = duban.ok(
        "event", "add", "网站找错", "--date", "2027-05-06", "--unit", "法规处", "--ref", "留言 1"
    )
    assert "2027 年的节假日安排尚未确认" in later.stderr and "日历暂定" in later.stdout
    request = rows[1]["id"]
    ext = duban.json(
        "event", "extend", str(request), "--days", "20", "--reason", "需征求第三方意见",
        "--approved-by", "张主任",
    )  # fmt: skip
    assert ext["original_due"] == "2026-03-30" and ext["due"] > "2026-04-20"
    again = duban(
        "event", "extend", str(request), "--days", "5", "--reason", "x", "--approved-by", "张主任"
    )
    assert again.exit_code == Conflict.exit_code
    assert "只能延长一次" in again.stderr and "Traceback" not in again.output


def test_cli_errors_are_one_chinese_line(duban):
    duban.ok("unit", "add", "法规处")
    bad_kind = duban(
        "event", "add", "发布会", "--date", "2026-03-02", "--unit", "法规处", "--ref", "x"
    )
    assert bad_kind.exit_code == InvalidInput.exit_code
    assert bad_kind.stderr.startswith("错误：未知的事件类型“发布会”")
    bad_date = duban(
        "event", "add", "政策解读", "--date", "2026-02-30", "--unit", "法规处", "--ref", "x"
    )
    assert bad_date.exit_code == InvalidInput.exit_code and "2026-02-30" in bad_date.stderr
    bad_unit = duban(
        "event", "add", "政策解读", "--date", "2026-03-02", "--unit", "法规科", "--ref", "x"
    )
    assert bad_unit.exit_code == NotFound.exit_code and "法规处" in bad_unit.stderr
    assert duban.json("event", "list") == []


def test_cli_kinds_from_config(duban, cli_env):
    from pathlib import Path

    config = Path(cli_env["DUBAN_CONFIG_DIR"]) / "duban.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        '[events]\npolicy_interpretation = 5\n\n[events.hotline]\nname = "12345热线转办"\nworking_days = 5\n',
        encoding="utf-8",
    )
    kinds = {k["key"]: k for k in duban.json("event", "kinds")}
    assert kinds["policy_interpretation"]["working_days"] == 5
    assert kinds["hotline"]["name"] == "12345热线转办"
    duban.ok("unit", "add", "法规处")
    row = duban.json(
        "event",
        "add",
        "12345热线转办",
        "--date",
        "2026-03-02",
        "--unit",
        "法规处",
        "--ref",
        "工单 1",
    )
    assert row["due"] == "2026-03-09"
    config.write_text("[events]\npolicy_interpretation = 0\n", encoding="utf-8")
    bad = duban("event", "kinds")
    assert bad.exit_code == ConfigError.exit_code and "不小于 1" in bad.stderr


def test_cli_uses_the_office_calendar_overrides(duban, cli_env):
    """A day the office marked off (override file) is not counted."""
    from pathlib import Path

    folder = Path(cli_env["DUBAN_CONFIG_DIR"]) / "calendar"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2026-days-test.toml").write_text(
        'year = 2026\nsource = "测试"\nscope = "days"\n\n'
        '[[holiday]]\nname = "临时停工"\nfrom = 2026-03-03\n',
        encoding="utf-8",
    )
    duban.ok("unit", "add", "法规处")
    row = duban.json(
        "event", "add", "政策解读", "--date", "2026-03-02", "--unit", "法规处", "--ref", "x"
    )
    assert row["due"] == "2026-03-06"  # 03-04, 03-05, 03-06 (03-03 off)
