"""``workflow.dates.workdays``: loading and installing overrides, provisional warnings, recomputing dues."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from calendars import ChinaCalendar, parse_override
from workflow.config import load_config
from workflow.dates.due import date_rule, due_from_rule, working_days_rule
from workflow.dates.workdays import (
    ProvisionalWarner,
    calendar_dir,
    install_override,
    load_calendar,
    provisional_message,
    provisional_years_used,
)
from workflow.directory.roles import Caller
from workflow.errors import CalendarInputError
from workflow.ledger.recompute import find_provisional_due, recompute_due_dates
from workflow.storage.models import Assignment, History, Task, Unit

SAMPLE_2027 = """\
year = 2027
source = "国办发明电〔2026〕99号（测试用，虚构）"

[[holiday]]
name = "春节"
from = 2027-02-05
to = 2027-02-13

[[workday]]
date = 2027-02-20
"""


@pytest.fixture
def config(tmp_path: Path):
    return load_config(
        {"DUBAN_CONFIG_DIR": str(tmp_path / "config"), "DUBAN_DATA_DIR": str(tmp_path / "data")}
    )


def notice(tmp_path: Path, text: str = SAMPLE_2027, name: str = "notice.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_load_calendar_without_and_with_overrides(config, tmp_path):
    assert load_calendar(config).is_provisional(2027)
    info = install_override(config, notice(tmp_path))
    assert info.installed == calendar_dir(config) / "2027.toml" and info.confirmed
    assert info.holidays == 1 and info.workdays == 1 and info.replaced == ()
    cal = load_calendar(config)
    assert not cal.is_provisional(2027)
    assert not cal.is_working_day(date(2027, 2, 11))


def test_a_broken_installed_file_is_a_calendar_input_error(config):
    calendar_dir(config).mkdir(parents=True)
    (calendar_dir(config) / "2027.toml").write_text("year = 2027\nsource = \n", encoding="utf-8")
    with pytest.raises(CalendarInputError, match="2027.toml 第 2 行"):
        load_calendar(config)


def test_install_refuses_a_bad_file_and_writes_nothing(config, tmp_path):
    bad = notice(tmp_path, SAMPLE_2027.replace("to = 2027-02-13", "to = 2028-02-13"), "bad.toml")
    with pytest.raises(
        CalendarInputError, match="bad.toml 第 7 行：日期 2028-02-13 不在本文件的年份 2027 内"
    ):
        install_override(config, bad)
    assert not calendar_dir(config).exists()


def test_install_checks_against_installed_corrections(config, tmp_path):
    off = 'year = 2027\nsource = "a"\nscope = "days"\n[[holiday]]\nname = "x"\nfrom = 2027-03-03\n'
    on = 'year = 2027\nsource = "b"\nscope = "days"\n[[workday]]\ndate = 2027-03-03\n'
    first = install_override(config, notice(tmp_path, off, "off.toml"))
    assert first.installed.name == "2027-days-off.toml" and not first.confirmed
    with pytest.raises(CalendarInputError, match="相互矛盾"):
        install_override(config, notice(tmp_path, on, "on.toml"))
    assert sorted(p.name for p in calendar_dir(config).iterdir()) == ["2027-days-off.toml"]


def test_a_new_whole_year_file_replaces_the_old_one(config, tmp_path):
    install_override(config, notice(tmp_path))
    manual = calendar_dir(config) / "my-2027.toml"
    (calendar_dir(config) / "2027.toml").rename(manual)  # as if the office had copied it by hand
    info = install_override(config, notice(tmp_path, SAMPLE_2027.replace("99号", "100号")))
    assert info.replaced == (manual,)
    assert sorted(p.name for p in calendar_dir(config).iterdir()) == ["2027.toml"]
    assert "100号" in load_calendar(config).year_status([2027])[0].source


def test_provisional_helpers():
    cal = ChinaCalendar()
    used = provisional_years_used(cal, [date(2026, 12, 31), date(2027, 1, 4), date(2028, 3, 1)])
    assert used == {2027, 2028}
    assert provisional_message([]) is None
    assert provisional_message([2028, 2027]).startswith("2027、2028 年的节假日安排尚未确认")
    warner = ProvisionalWarner(cal)
    warner.note(date(2026, 5, 1))
    assert warner.message() is None
    warner.note(date(2027, 1, 4), date(2027, 6, 1))
    assert warner.message() == provisional_message([2027])
    warner.note(date(2027, 9, 1))
    assert warner.message() is None  # once per command


def _assignment(session, task, unit, due, rule, provisional, state="assigned"):
    row = Assignment(
        task_id=task.id,
        unit_id=unit.id,
        period=f"p{due}{state}",
        state=state,
        due=due,
        original_due=due,
        due_rule=rule,
        due_provisional=provisional,
    )
    session.add(row)
    session.flush()
    return row


def test_find_and_recompute_provisional_due_dates(db):
    guess = ChinaCalendar()
    official = ChinaCalendar([parse_override(SAMPLE_2027, "2027.toml")])
    office = Caller(role="office", name="办公室")
    at = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
    limit = working_days_rule(date(2027, 2, 1), 10)
    month_end = date_rule(date(2027, 2, 13), True)
    with db.session() as session:
        unit = Unit(name="政务公开科")
        task = Task(title="春节后首批政策解读")
        session.add_all([unit, task])
        session.flush()
        a_limit = _assignment(session, task, unit, due_from_rule(limit, guess), limit, True)
        a_roll = _assignment(session, task, unit, due_from_rule(month_end, guess), month_end, True)
        _assignment(session, task, unit, date(2027, 2, 12), month_end, True, state="verified")
        _assignment(
            session, task, unit, date(2026, 3, 2), date_rule(date(2026, 3, 2), False), False
        )
        no_rule = _assignment(session, task, unit, date(2027, 3, 1), None, True)
        ids = (a_limit.id, a_roll.id, no_rule.id)

    assert due_from_rule(limit, guess) == date(2027, 2, 19)  # the library's guess: 2/5–2/10 off
    assert due_from_rule(month_end, guess) == date(2027, 2, 12)
    with db.session() as session:
        assert [a.id for a in find_provisional_due(session, guess)] == list(ids)
        assert (
            recompute_due_dates(session, guess, office, now=at) == []
        )  # same calendar: nothing moves

    with db.session() as session:
        changes = recompute_due_dates(session, official, office, now=at)
    assert [(c.assignment_id, c.old_due, c.new_due, c.provisional) for c in changes] == [
        (ids[0], date(2027, 2, 19), date(2027, 2, 22), False),  # 2/11–2/13 now off, 2/20 worked
        (ids[1], date(2027, 2, 12), date(2027, 2, 4), False),
    ]
    with db.session() as session:
        rows = {a.id: a for a in session.exec(select(Assignment)).all()}
        assert rows[ids[0]].due == rows[ids[0]].original_due == date(2027, 2, 22)
        assert not rows[ids[0]].due_provisional and not rows[ids[1]].due_provisional
        assert rows[ids[2]].due_provisional  # no rule: cannot be recomputed, stays flagged
        history = session.exec(select(History).where(History.action == "due_recomputed")).all()
        assert {(h.assignment_id, h.actor, h.data["from"], h.data["to"]) for h in history} == {
            (ids[0], "办公室", "2027-02-19", "2027-02-22"),
            (ids[1], "办公室", "2027-02-12", "2027-02-04"),
        }
        assert [a.id for a in find_provisional_due(session, official)] == [ids[2]]
