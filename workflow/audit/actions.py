"""What is audited, and the Chinese words for it.

``AUDITED`` maps an operation of ``workflow/calls/table.py`` to the action it records; other
doors (sign-in page, backup, restore…) record their own actions by name. Reads that show no
personal data beyond the directory are not audited; every refusal of a token or a permission
is, whatever the operation.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

AUDITED: dict[str, str] = {
    "login": "signin",  # duban login on the server machine
    "token.issue": "token.issue",
    "token.revoke": "token.revoke",
    **{
        f"account.{verb}": f"account.{verb}"
        for verb in ("add", "edit", "lock", "unlock", "reset-password", "remove")
    },
    "unit.add": "unit.add",
    "unit.edit": "unit.edit",
    "unit.import": "unit.import",
    "leader.add": "leader.add",
    "leader.edit": "leader.edit",
    "import": "import",
    "export.ledger": "export",
    "export.evaluation": "export",
    "calendar.import": "settings.calendar",
    "score.waive": "score.waive",
    "mail.test": "settings.mail-test",
    "notify.test-robot": "settings.robot-test",
    "audit.export": "audit.export",
}

ACTION_LABELS: dict[str, str] = {
    "signin": "登录",
    "signout": "退出登录",
    "signin.link": "申请登录链接",
    "token.issue": "签发令牌",
    "token.revoke": "吊销令牌",
    "account.add": "新增账号",
    "account.edit": "修改账号",
    "account.lock": "锁定账号",
    "account.unlock": "解锁账号",
    "account.reset-password": "重置密码",
    "account.remove": "删除账号",
    "account.password": "修改密码",
    "unit.add": "新增单位",
    "unit.edit": "修改单位",
    "unit.import": "导入单位名录",
    "leader.add": "新增领导",
    "leader.edit": "修改领导",
    "import": "导入台账",
    "export": "导出",
    "download": "下载",
    "settings.calendar": "导入日历调休",
    "settings.change": "修改配置",
    "settings.mail-test": "测试邮件设置",
    "settings.robot-test": "测试群机器人",
    "template.change": "修改通知模板",
    "score.waive": "考核免扣",
    "backup": "备份",
    "restore": "恢复",
    "db.upgrade": "升级数据库",
    "audit.export": "导出审计日志",
    "audit.read": "查看审计日志",
    "audit.prune": "清理审计日志",
}

OUTCOME_LABELS = {"ok": "成功", "failed": "失败", "denied": "拒绝", "throttled": "限制（过多失败）"}
DOOR_LABELS = {"cli": "命令行", "api": "接口", "page": "网页", "daemon": "守护进程"}

# the parameter that names what an operation acted on
_TARGET_PARAM = {
    "token.issue": "holder",
    "token.revoke": "token_id",
    **{
        f"account.{verb}": "name"
        for verb in ("add", "edit", "lock", "unlock", "reset-password", "remove")
    },
    "unit.add": "name",
    "unit.edit": "name",
    "unit.import": "file",
    "leader.add": "name",
    "leader.edit": "name",
    "import": "file",
    "export.ledger": "path",
    "export.evaluation": "path",
    "calendar.import": "path",
    "score.waive": "assignment_id",
    "audit.export": "path",
}


def target_of(name: str, params: Mapping[str, Any]) -> Any:
    key = _TARGET_PARAM.get(name)
    return params.get(key) if key else None
