"""How a mail tells its reader to act: the office's contact and the way to report.

Every mail ends with the same block (``notifiers/templates/_howto.txt`` / ``_howto.html``): how
to report each item (the page ``{url}/assignments/{id}`` when ``[server] url`` is set, else the
``duban task report ID`` command), or for leaders the board ``{url}/board``; and whom to ask.
The block is fed here, when a mail is rendered (delivery and preview), not when it is queued,
so the daily check does not need to know and a changed phone number reaches mails already
queued::

    [office]
    name = "市卫健委办公室"
    contact = "张科长"                   # a person (optional)
    phone = "0750-1234567"               # optional
    email = "bgs@example.gov.cn"         # optional

    [server]
    url = "https://duban.example.gov.cn" # where `duban serve` is reached (optional)

Each value is validated when read; a wrong one is a one-line ConfigError (exit code 7).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from notifiers.message import is_valid_address
from workflow.config import Config
from workflow.errors import ConfigError

_PHONE = re.compile(r"^[0-9０-９+＋()（）\- 、,，/转]+$")


@dataclass(frozen=True)
class MailContact:
    """What every mail says about acting: the office's contact and the server's address."""

    office: str
    person: str | None = None
    phone: str | None = None
    email: str | None = None
    server_url: str | None = None

    def context(self) -> dict[str, Any]:
        """The render context's ``contact`` and ``server_url`` (see notifiers/render.py)."""
        return {
            "contact": {
                "name": self.office,
                "person": self.person,
                "phone": self.phone,
                "email": self.email,
            },
            "server_url": self.server_url,
        }


def _where(config: Config, section: str, key: str) -> str:
    return f"配置文件 {config.config_file} 的 [{section}] {key}"


def _optional_text(config: Config, table: dict[str, Any], key: str, limit: int) -> str | None:
    if key not in table:
        return None
    value = table[key]
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > limit:
        raise ConfigError(
            f"{_where(config, 'office', key)} 应为不超过 {limit} 个字的非空文本，实际为 {value!r}"
        )
    return " ".join(value.split())


def server_url(config: Config) -> str | None:
    """``[server] url`` without a trailing slash; None when not set."""
    table = config.section("server")
    if "url" not in table:
        return None
    raw = table["url"]
    where = _where(config, "server", "url")
    if not isinstance(raw, str):
        raise ConfigError(f'{where} 应为网址文本，例如 "https://duban.example.gov.cn"')
    url = raw.strip().rstrip("/")
    try:
        parts = urlsplit(url)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or parts.query
        or parts.fragment
        or any(c.isspace() for c in url)
    ):
        raise ConfigError(
            f"{where} 不是有效的网址：{raw!r}（应以 http:// 或 https:// 开头，"
            '例如 "https://duban.example.gov.cn"）'
        )
    return url


def mail_contact(config: Config) -> MailContact:
    """The validated ``[office]`` contact and ``[server] url`` (see the module doc)."""
    from workflow.chasing.policy import load_policy

    office = load_policy(config).office_name
    table = config.section("office")
    person = _optional_text(config, table, "contact", 30)
    phone = _optional_text(config, table, "phone", 40)
    if phone is not None and (not _PHONE.match(phone) or not re.search(r"[0-9０-９]", phone)):
        raise ConfigError(
            f"{_where(config, 'office', 'phone')} 不是有效的电话号码：{phone!r}"
            '（例如 "0750-1234567"）'
        )
    email = _optional_text(config, table, "email", 200)
    if email is not None and not is_valid_address(email):
        raise ConfigError(
            f"{_where(config, 'office', 'email')} 不是有效的邮箱地址：{email!r}"
            '（例如 "bgs@example.gov.cn"）'
        )
    return MailContact(office, person, phone, email, server_url(config))
