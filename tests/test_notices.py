"""Numbered 督办单 / 催办通知书 as library functions, and their numbers under real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from check_helpers import check, directory, report, task
from hypothesis import given
from hypothesis import strategies as st
from test_check_concurrency import run_together
from test_notices_cli import docx_text

from workflow.chasing.notice_docx import render_notice
from workflow.chasing.notices import (
    allocate,
    get_notice,
    list_notices,
    notice_view,
    number_of,
    parse_ref,
)
from workflow.directory.roles import Caller
from workflow.errors import InvalidInput, PermissionDenied
from workflow.storage.models import Notice, NoticeCounter, Person, Unit
from workflow.storage.schema import SCHEMA_HEAD

ROOT = Path(__file__).resolve().parent.parent
D = date.fromisoformat
OFFICE = Caller(role="office", name="办公室")


@pytest.mark.parametrize(
    ("kind", "year", "seq", "text"),
    [("duban", 2026, 12, "督办〔2026〕12号"), ("cuiban", 2027, 3, "催办〔2027〕3号")],
)
def test_numbers_print_and_parse_back(kind, year, seq, text):
    assert number_of(kind, year, seq) == text
    assert parse_ref(text) == (kind, year, seq)


@given(
    kind=st.sampled_from(["duban", "cuiban"]),
    year=st.integers(2000, 2100),
    seq=st.integers(1, 10**6),
)
def test_every_number_parses_back_to_itself(kind, year, seq):
    assert parse_ref(number_of(kind, year, seq)) == (kind, year, seq)


@pytest.mark.parametrize("ref", ["督办2026-12", "督办〔二〇二六〕12号", "", "催办〔2026〕号"])
def test_bad_refs_are_refused(ref):
    with pytest.raises(InvalidInput, match="编号无效"):
        parse_ref(ref)


def _numbers(db) -> list[tuple[str, int, int, int, str]]:
    with db.session() as s:
        return [
            (n.kind, n.seq, n.assignment_id, n.days_overdue, n.grade)
            for n in s.exec(sa.select(Notice).order_by(Notice.kind, Notice.seq)).scalars()
        ]


def test_the_check_issues_one_notice_per_level_told_and_never_twice(db):
    with db.session() as s:
        directory(s)
        a, b = task(s, "修订指南", D("2026-03-02"), "公开科", "法规科")
        (no_mail,) = task(s, "更新专栏", D("2026-03-02"), "无邮箱科")
        (done,) = task(s, "发布预算", D("2026-03-02"), "公开科")
        report(s, done, D("2026-03-02"))
    check(db, D("2026-03-03"))
    check(db, D("2026-03-03"))  # the same day again
    assert _numbers(db) == [("cuiban", 1, a, 1, "yellow"), ("cuiban", 2, b, 1, "yellow")]
    check(db, D("2026-03-06"))  # 4 working days late: the leader in charge (from 3)
    check(db, D("2026-03-16"))  # 10: the principal
    assert _numbers(db)[2:] == [
        ("duban", 1, a, 4, "orange"),
        ("duban", 2, b, 4, "orange"),
        ("duban", 3, a, 10, "red"),
        ("duban", 4, b, 10, "red"),
        ("duban", 5, no_mail, 10, "red"),  # the principal is told of a unit without e-mail
    ]
    # the unit and its leader were not told (no address): no notice at their levels
    assert [n[4] for n in _numbers(db) if n[2] == no_mail] == ["red"]
    with db.session() as s:
        assert s.get(NoticeCounter, ("duban", 2026)).last == 5


def test_a_catch_up_issues_every_level_reached_at_once(db):
    with db.session() as s:
        directory(s)
        (a,) = task(s, "修订指南", D("2026-03-02"), "公开科")
    check(db, D("2026-03-16"))
    assert [(k, s, lvl) for k, s, _, _, lvl in _numbers(db)] == [
        ("cuiban", 1, "yellow"),
        ("duban", 1, "orange"),
        ("duban", 2, "red"),
    ]


def test_visibility_and_stable_rendering(db, tmp_path):
    with db.session() as s:
        directory(s)
        task(s, "修订指南", D("2026-03-02"), "公开科", "法规科")
    check(db, D("2026-03-03"))
    with db.session() as s:
        unit = s.exec(sa.select(Unit).where(Unit.name == "法规科")).scalar_one()
        caller = Caller(role="unit", name=unit.name, unit_id=unit.id)
        assert [n["unit"] for n in list_notices(s, caller)] == ["法规科"]
        assert len(list_notices(s, OFFICE)) == 2
        people = {p.name: p.id for p in s.exec(sa.select(Person)).scalars()}
        for name, seen in (("张副主任", 2), ("李主任", 2), ("王某", 0)):
            leader = Caller(role="leader", name=name, person_id=people.get(name, 999))
            assert len(list_notices(s, leader)) == seen, name
        with pytest.raises(PermissionDenied):
            get_notice(s, caller, "催办〔2026〕1号")  # 公开科's
        view = notice_view(get_notice(s, OFFICE, "催办〔2026〕1号"))
        first, second = tmp_path / "1.docx", tmp_path / "2.docx"
        render_notice(view, first)
        s.execute(
            sa.update(Unit).where(Unit.name == "公开科").values(name="改名科")
        )  # later changes do not reach it
        render_notice(notice_view(get_notice(s, OFFICE, "催办〔2026〕1号")), second)
        s.rollback()
    assert docx_text(first) == docx_text(second) and "公开科" in docx_text(first)
    assert "黄色催办" in docx_text(first) and "2026年3月3日" in docx_text(first)


def test_numbers_survive_a_rollback_without_a_gap(db):
    with db.session() as s:
        assert allocate(s, "duban", 2026, 3) == 3
        s.rollback()
    with db.session() as s:
        assert allocate(s, "duban", 2026, 1) == 1
        assert allocate(s, "duban", 2027, 2) == 2
        s.commit()


# Two processes, each taking numbers one transaction at a time and storing a notice with each.
TAKER = """
import sys, os, time, pathlib
from datetime import date, datetime, UTC
from workflow.storage.db import Database
from workflow.storage.schema import SCHEMA_HEAD
from workflow.storage.models import Notice
from workflow.chasing.notices import allocate
db = Database(os.environ["DUBAN_DATABASE_URL"])
ready, go, base = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), int(sys.argv[3])
(ready / str(os.getpid())).touch()
while not go.exists():
    time.sleep(0.002)
for i in range(25):
    with db.session() as s:
        seq = allocate(s, "duban", 2026, 1)
        s.add(Notice(kind="duban", year=2026, seq=seq, level="leader", grade="orange",
                     assignment_id=base + i, due=date(2026, 3, 2), unit_id=1, unit_name="公开科",
                     task_id=1, task_title="修订指南", days_overdue=3, issued_on=date(2026, 3, 5),
                     office_name="办公室", created_at=datetime(2026, 3, 5, tzinfo=UTC)))
        s.commit()
"""


def test_two_processes_taking_numbers_get_each_once_without_gaps(db, database_url, tmp_path):
    env = {**os.environ, "DUBAN_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    ready, go = tmp_path / "ready", tmp_path / "go"
    ready.mkdir()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", TAKER, str(ready), str(go), str(base)],
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        for base in (1000, 2000)
    ]
    while len(list(ready.iterdir())) < 2 and all(p.poll() is None for p in procs):
        time.sleep(0.005)
    go.touch()
    for p in procs:
        _, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
    with db.session() as s:
        seqs = [n.seq for n in s.exec(sa.select(Notice)).scalars()]
    assert sorted(seqs) == list(range(1, 51))


def test_checks_started_together_number_each_notice_once(cli_env, office_db, tmp_path):
    with office_db.session() as s:
        directory(s)
        for i in range(5):
            task(s, f"任务{i}", D("2026-03-02"), "公开科", "法规科")
    results = run_together(cli_env, ["2026-03-05", "2026-03-06", "2026-03-05"], tmp_path)
    for r in results:
        assert "Traceback" not in r.stderr and "IntegrityError" not in r.stderr, r.stderr
    numbers = _numbers(office_db)
    assert Counter((a, g) for _, _, a, _, g in numbers).most_common(1)[0][1] == 1
    for kind in ("cuiban", "duban"):
        seqs = [s for k, s, *_ in numbers if k == kind]
        assert seqs == list(range(1, len(seqs) + 1))
    assert len([n for n in numbers if n[0] == "cuiban"]) == 10


def test_migration_0018_downgrades_and_upgrades_again(db):
    from alembic import command

    def tables() -> set[str]:
        with db.engine.connect() as conn:
            return set(sa.inspect(conn).get_table_names())

    assert {"notice", "noticecounter"} <= tables()
    cfg = db._alembic_config()
    with db.engine.begin() as conn:
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0012")
    assert not {"notice", "noticecounter"} & tables() and db.current_revision() == "0012"
    db.upgrade()
    assert {"notice", "noticecounter"} <= tables() and db.current_revision() == SCHEMA_HEAD
