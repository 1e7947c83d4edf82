"""Personal accounts (issue 29): passwords, lockout across processes, 三员分立, personal tokens,
sign-in links, sessions that remember a device, and history that says who."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workflow.accounts import manage
from workflow.accounts.passwords import check_strength, verify
from workflow.accounts.signin import (
    AccountLocked,
    check_password,
    issue_personal_token,
    make_link,
    use_link,
)
from workflow.audit.reading import may_read
from workflow.directory.tokens import authenticate
from workflow.directory.units import add_unit
from workflow.directory.web_sessions import open_session, resume
from workflow.errors import (
    Conflict,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
)
from workflow.storage.db import Database
from workflow.storage.models import Account, Token

IDLE = timedelta(minutes=30)
GOOD = "Zhang-san2026"


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    """Token expiry is checked against the clock: the fixtures' ``now``."""
    monkeypatch.setenv("DUBAN_NOW", "2026-03-02T09:00")


@pytest.fixture
def people(db, office, now):
    """法规科 with a unit clerk 张三 (password GOOD, changed) and an office clerk 李四."""
    with db.session() as s:
        add_unit(s, office, "法规科", now)
        zhang, _ = manage.add_account(s, office, "张三", "unit", now, unit="法规科")
        li, li_password = manage.add_account(s, office, "李四", ["office"], now)
        manage.change_password(s, zhang.id, _, GOOD, now)
        return {"张三": zhang.id, "李四": li.id, "李四 password": li_password}


@pytest.mark.parametrize(
    "password",
    ["Ab1!", "abcdefgh", "abcdefg1", "ABCDEFG1", "12345678!"],
)
def test_weak_passwords_are_refused(password):
    with pytest.raises(InvalidInput, match="密码太"):
        check_strength(password)


def test_a_password_with_three_kinds_passes_but_not_one_holding_the_name():
    check_strength("abcdefG1")
    check_strength("abc-def-1")
    with pytest.raises(InvalidInput, match="账号名"):
        check_strength("Zhangsan-1", "zhangsan")


def test_initial_password_must_be_changed_and_only_the_hash_is_stored(db, office, now, people):
    with db.session() as s:
        li = s.get(Account, people["李四"])
        assert li.must_change and people["李四 password"] not in li.password_hash
        assert verify(li.password_hash, people["李四 password"])
        with pytest.raises(InvalidInput, match="密码太短"):
            manage.change_password(s, li.id, people["李四 password"], "short", now)
        with pytest.raises(NotAuthenticated, match="原密码不正确"):
            manage.change_password(s, li.id, "wrong", "Li-si-2026", now)
        manage.change_password(s, li.id, people["李四 password"], "Li-si-2026", now)
        assert not li.must_change


def test_roles_are_checked(db, office, now):
    with db.session() as s:
        with pytest.raises(InvalidInput, match="角色无效"):
            manage.add_account(s, office, "甲", "boss", now)
        with pytest.raises(InvalidInput, match="只能选一个"):
            manage.add_account(s, office, "甲", "office,unit", now)
        with pytest.raises(InvalidInput, match="所属单位"):
            manage.add_account(s, office, "甲", "unit", now)
        with pytest.raises(InvalidInput, match="电子邮箱"):
            manage.add_account(s, office, "甲", "office", now, email="not-mail")
        manage.add_account(s, office, "甲", "office", now)
        with pytest.raises(Conflict, match="账号已存在"):
            manage.add_account(s, office, "甲", "office", now)


def test_five_wrong_passwords_lock_for_15_minutes_whatever_worker(database_url, db, people, now):
    # two "workers": two engines on the same database, alternating
    other = Database(database_url)
    try:
        for i in range(4):
            with pytest.raises(NotAuthenticated, match="账号或密码错误"):
                check_password(db if i % 2 else other, "张三", "Wrong-pass1", now)
        with pytest.raises(AccountLocked, match="账号已锁定") as locked:
            check_password(other, "张三", "Wrong-pass1", now)
        assert locked.value.until == now + timedelta(minutes=15)
        assert "2026-03-02 09:15" in locked.value.message  # Asia/Shanghai
        with pytest.raises(AccountLocked):  # even the right password, on the other worker
            check_password(db, "张三", GOOD, now + timedelta(minutes=14))
        caller = check_password(db, "张三", GOOD, now + timedelta(minutes=15, seconds=1))
        assert caller.name == "张三（法规科）" and caller.unit_id is not None
    finally:
        other.engine.dispose()


def test_a_right_password_clears_the_count(db, people, now):
    for _ in range(4):
        with pytest.raises(NotAuthenticated):
            check_password(db, "张三", "Wrong-pass1", now)
    check_password(db, "张三", GOOD, now)
    for _ in range(4):
        with pytest.raises(NotAuthenticated):
            check_password(db, "张三", "Wrong-pass1", now)
    assert check_password(db, "张三", GOOD, now).account_id == people["张三"]


def test_an_unknown_name_is_told_the_same_as_a_wrong_password(db, people, now):
    with pytest.raises(NotAuthenticated, match="^账号或密码错误$"):
        check_password(db, "nobody", GOOD, now)


def test_separate_duties_once_someone_holds_them(db, office, now, people):
    with db.session() as s:
        assert office.holds("security") and may_read(office)
        manage.add_account(s, office, "安全员", "security", now)
        manage.add_account(s, office, "审计员", "auditor", now)
    with db.session() as s:
        from workflow.directory.tokens import create_office_token

        clerk = authenticate(s, create_office_token(s, now))
        assert not clerk.holds("security") and not may_read(clerk)
        with pytest.raises(PermissionDenied, match="仅安全管理员"):
            manage.list_accounts(s, clerk, now)
        sec = authenticate(s, issue_personal_token(s, manage.find_account(s, "安全员").id, now))
        assert sec.role == "security" and sec.holds("security") and not may_read(sec)
        assert [a["name"] for a in manage.list_accounts(s, sec, now)][:2] == ["张三", "李四"]
        auditor = authenticate(s, issue_personal_token(s, manage.find_account(s, "审计员").id, now))
        assert may_read(auditor) and not auditor.holds("security")


def test_one_account_may_hold_every_duty(db, office, now):
    with db.session() as s:
        all_in_one, _ = manage.add_account(s, office, "王五", "office,security,auditor", now)
        caller = authenticate(s, issue_personal_token(s, all_in_one.id, now))
        assert caller.role == "office" and caller.holds("security") and may_read(caller)


def test_personal_tokens_expire_and_note_their_last_use(db, people, now, monkeypatch):
    with db.session() as s:
        token = issue_personal_token(s, people["张三"], now, days=30)
    monkeypatch.setenv("DUBAN_NOW", "2026-03-10T10:00")
    with db.session() as s:
        assert authenticate(s, token).name == "张三（法规科）"
    with db.session() as s:
        row = s.exec(
            __import__("sqlmodel").select(Token).where(Token.account_id.is_not(None))
        ).one()
        assert row.expires_at == now + timedelta(days=30) and row.last_used_at is not None
        view = manage.show_account(s, s_caller(s, token), "张三", now)
        assert view["tokens"][0]["last_used_at"] is not None
    monkeypatch.setenv("DUBAN_NOW", "2026-04-02T09:00")
    with db.session() as s, pytest.raises(NotAuthenticated, match="令牌已过期"):
        authenticate(s, token)


def s_caller(s, token):
    return authenticate(s, token)


def test_a_sign_in_link_works_once_and_expires(db, people, now):
    with db.session() as s:
        _, code = make_link(s, "张三", now)
        _, late = make_link(s, "张三", now)
    with db.session() as s:
        assert use_link(s, code, now + timedelta(minutes=1)).account_id == people["张三"]
    with db.session() as s, pytest.raises(NotAuthenticated, match="登录链接无效"):
        use_link(s, code, now + timedelta(minutes=2))
    with db.session() as s, pytest.raises(NotAuthenticated, match="登录链接无效"):
        use_link(s, late, now + timedelta(minutes=16))


def test_remember_this_device_outlives_the_idle_timeout(db, people, now):
    caller = check_password(db, "张三", GOOD, now)
    with db.session() as s:
        kept, _ = open_session(s, caller, now, IDLE, remember=True)
        plain, _ = open_session(s, caller, now, IDLE)
    later = now + timedelta(days=20)
    with db.session() as s:
        assert resume(s, kept, later, IDLE).caller.name == "张三（法规科）"
    with db.session() as s, pytest.raises(NotAuthenticated, match="未操作"):
        resume(s, plain, later, IDLE)
    with db.session() as s, pytest.raises(NotAuthenticated):
        resume(s, kept, later + timedelta(days=11), IDLE)


def test_lock_reset_and_remove_end_the_sessions(db, office, people, now):
    caller = check_password(db, "张三", GOOD, now)
    with db.session() as s:
        sid, _ = open_session(s, caller, now, IDLE)
        token = issue_personal_token(s, people["张三"], now)
    with db.session() as s:
        manage.lock_account(s, office, "张三", now)
    with db.session() as s, pytest.raises(NotAuthenticated):
        resume(s, sid, now, IDLE)
    with pytest.raises(AccountLocked, match="联系安全管理员解锁"):
        check_password(db, "张三", GOOD, now + timedelta(days=1))
    with db.session() as s:
        manage.unlock_account(s, office, "张三", now)
        _, fresh = manage.reset_password(s, office, "张三", now)
    assert check_password(db, "张三", fresh, now).name == "张三（法规科）"
    with pytest.raises(NotAuthenticated):
        check_password(db, "张三", GOOD, now)
    with db.session() as s:
        manage.remove_account(s, office, "张三", now)
    with db.session() as s, pytest.raises(NotAuthenticated, match="令牌已吊销"):
        authenticate(s, token)


def test_history_says_which_person_did_it(db, office, people, now):
    from workflow.tasks.assignments import add_task, show_assignment
    from workflow.tasks.lifecycle import fire

    with db.session() as s:
        _, rows = add_task(s, office, "修订指南", ["法规科"], now.date() + timedelta(days=30), now)
        aid = rows[0].id
    caller = check_password(db, "张三", GOOD, now)
    with db.session() as s:
        fire(s, aid, "start", caller, now=now)
    with db.session() as s:
        history = show_assignment(s, office, aid)["history"]
    assert history[-1]["actor"] == "张三（法规科）"
