"""The words of duban that are not the lifecycle's: roles, notification kinds and channels.

Each is a :class:`states.labels.Labelled` ``StrEnum``: a member equals the plain string the
database stores (so no migration), and ``member.label`` is the one place its Chinese name is
written. The lifecycle's own words (:class:`states.State`, :class:`states.TriggerName`) live in
``states/``. ``tests/test_vocabulary.py`` checks that every member has a label, that labels are
unique, and that the lower packages (``notifiers``) agree with these lists.
"""

from __future__ import annotations

from states.labels import Labelled


class Role(Labelled):
    """Who is acting (a token's role; ``system`` is the daily check)."""

    OFFICE = ("office", "办公室")
    UNIT = ("unit", "单位")
    LEADER = ("leader", "领导")
    SECURITY = ("security", "安全管理员")  # manages accounts and locks (三员分立, issue 29)
    AUDITOR = ("auditor", "审计员")  # reads the audit log
    SYSTEM = ("system", "系统")


class UnitRole(Labelled):
    """A unit's part in a task (an assignment's ``role``)."""

    LEAD = ("lead", "牵头")
    RESPONSIBLE = ("responsible", "责任")
    COOPERATING = ("cooperating", "配合")


class NotificationKind(Labelled):
    """What a notification (an outbox row's ``kind``) is about."""

    REMINDER = ("reminder", "到期提醒")
    DUE_TODAY = ("due_today", "今日到期")
    OVERDUE = ("overdue", "逾期通知")
    ESCALATION = ("escalation", "逾期升级")
    PROGRESS_REQUEST = ("progress_request", "进展报送")
    DIGEST = ("digest", "领导汇总")
    UNSIGNED = ("unsigned", "签收督办")
    DECISION = ("decision", "办理决定")  # 退回, extension approved/refused, verified (issue 29)
    SIGNIN_LINK = ("signin_link", "登录链接")  # a one-time sign-in link (issue 29)
    TEST = ("test", "测试邮件")


class Channel(Labelled):
    """How a notification travels (an outbox row's ``channel``; a robot's ``kind``)."""

    EMAIL = ("email", "电子邮件")
    WECOM = ("wecom", "企业微信机器人")
    DINGTALK = ("dingtalk", "钉钉机器人")
    FEISHU = ("feishu", "飞书机器人")


ROLES = (Role.OFFICE.value, Role.UNIT.value, Role.LEADER.value)  # a token's roles
WORK_ROLES = ROLES  # an account holds one of these at most …
DUTIES = (Role.SECURITY.value, Role.AUDITOR.value)  # … plus any of the 三员 duties
ACCOUNT_ROLES = WORK_ROLES + DUTIES
ROLE_LABELS = Role.labels()
UNIT_ROLES = UnitRole.values()
UNIT_ROLE_LABELS = UnitRole.labels()
# the kinds the daily check plans (a test mail is not one of them)
PLANNED_KINDS = tuple(  # what the daily check plans (decisions and tests are queued by hand)
    k.value for k in NotificationKind if k not in (NotificationKind.TEST, NotificationKind.DECISION)
)
KIND_LABELS = NotificationKind.labels()
ROBOT_CHANNELS = tuple(c.value for c in Channel if c is not Channel.EMAIL)
CHANNEL_LABELS = Channel.labels()
