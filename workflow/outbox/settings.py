"""Mail settings: ``[smtp]`` and ``[notify]`` in duban.toml, the sink they select, the test mail.

Example (every key of ``[smtp]`` can be overridden by ``DUBAN_SMTP_<KEY>``)::

    [smtp]
    host = "smtp.exmail.qq.com"       # DUBAN_SMTP_HOST
    port = 465                         # DUBAN_SMTP_PORT (default: 25 / 587 / 465 by tls)
    tls = "ssl"                        # DUBAN_SMTP_TLS: none | starttls (default) | ssl
    user = "duban@office.gov.cn"       # DUBAN_SMTP_USER
    password_file = "/etc/duban/smtp-password"   # or DUBAN_SMTP_PASSWORD (never in this file)
    from = "市政府办公室督办 <duban@office.gov.cn>"  # DUBAN_SMTP_FROM (default: user)
    timeout = 30                       # seconds
    concurrency = 4                    # parallel connections, each reused for many mails
    ca_file = "/etc/duban/internal-ca.pem"   # trust an internal CA (certificates stay checked)
    local_hostname = "duban.office.gov.cn"   # EHLO name

    [notify]
    delivery = "smtp"                  # DUBAN_NOTIFY_DELIVERY: smtp | console | file (dry runs)
    directory = "outbox"               # file delivery: .eml files here (relative: data dir)
    max_attempts = 12                  # temporary failures before a notification is failed
    retry_minutes = 1                  # first back-off; doubles per attempt …
    retry_max_minutes = 240            # … up to this
    claim_minutes = 30                 # how long a sender owns the rows it is delivering
    stop_timeout = 30                  # seconds the daemon takes to stop on SIGTERM (at most)

The password is never read from the command line or from duban.toml itself (the file is often
shared and backed up): ``DUBAN_SMTP_PASSWORD`` wins, else ``password_file`` (first line).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from notifiers.email import TLS_MODES, SettingsError, SmtpSettings, SmtpSink
from notifiers.message import bare_address, domain_of, is_valid_address
from notifiers.sinks import ConsoleSink, FileSink
from workflow.config import Config
from workflow.errors import ConfigError

SMTP_KEYS = (
    "host",
    "port",
    "tls",
    "user",
    "password_file",
    "from",
    "timeout",
    "concurrency",
    "ca_file",
    "validate_certs",
    "local_hostname",
)
ENV_KEYS = {  # [smtp] key -> environment variable
    "host": "DUBAN_SMTP_HOST",
    "port": "DUBAN_SMTP_PORT",
    "user": "DUBAN_SMTP_USER",
    "tls": "DUBAN_SMTP_TLS",
    "from": "DUBAN_SMTP_FROM",
    "password_file": "DUBAN_SMTP_PASSWORD_FILE",
}
PASSWORD_ENV = "DUBAN_SMTP_PASSWORD"
DEFAULT_PORTS = {"none": 25, "starttls": 587, "ssl": 465}
DELIVERIES = ("smtp", "console", "file")
NOTIFY_KEYS = (
    "delivery",
    "directory",
    "max_attempts",
    "retry_minutes",
    "retry_max_minutes",
    "claim_minutes",
    "stop_timeout",
    "on_verified",
)
DEFAULT_SENDER = "督办系统 <duban@localhost>"


@dataclass(frozen=True)
class NotifySettings:
    """How the outbox delivers: which sink, and the retry policy for temporary failures."""

    delivery: str = "smtp"
    directory: Path | None = None
    max_attempts: int = 12
    retry_minutes: int = 1
    retry_max_minutes: int = 240
    claim_minutes: int = 30
    stop_timeout: int = 30  # seconds: the daemon finishes or gives back its batch within this
    on_verified: bool = True  # tell a unit its report was verified (issue 29)

    def backoff_minutes(self, attempts: int) -> int:
        """Minutes to wait after the ``attempts``-th failed attempt: 1, 2, 4 … capped."""
        exponent = min(max(attempts - 1, 0), 30)
        return min(self.retry_minutes * 2**exponent, self.retry_max_minutes)


# ---------------------------------------------------------------- helpers


def _where(config: Config, section: str, key: str) -> str:
    return f"配置文件 {config.config_file} 的 [{section}] {key}"


def _env_where(name: str) -> str:
    return f"环境变量 {name}"


def _int(value: Any, where: str, low: int, high: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ConfigError(f"{where} 应为 {low} 到 {high} 之间的整数，实际为 {value!r}")
    return value


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where} 应为非空文本，实际为 {value!r}")
    return value.strip()


def _check_keys(config: Config, section: str, table: Mapping[str, Any], allowed) -> None:
    if section == "smtp" and "password" in table:
        raise ConfigError(
            f"{_where(config, 'smtp', 'password')}：密码不要写在配置文件里，"
            f"请用环境变量 {PASSWORD_ENV} 或 password_file（只含密码的文件）"
        )
    unknown = sorted(set(table) - set(allowed))
    if unknown:
        raise ConfigError(
            f"配置文件 {config.config_file} 的 [{section}] 中有未知的设置：{'、'.join(unknown)}"
            f"（可选 {'、'.join(allowed)}）"
        )


def _merged_smtp(config: Config) -> dict[str, tuple[Any, str]]:
    """Each [smtp] value with where it came from; the environment wins over the file."""
    table = config.section("smtp")
    _check_keys(config, "smtp", table, SMTP_KEYS)
    values = {k: (v, _where(config, "smtp", k)) for k, v in table.items()}
    for key, name in ENV_KEYS.items():
        raw = config.env.get(name)
        if raw is not None and raw.strip():
            values[key] = (raw.strip(), _env_where(name))
    return values


def _password(config: Config, values: dict[str, tuple[Any, str]]) -> str | None:
    env = config.env.get(PASSWORD_ENV)
    if env:
        return env
    if "password_file" not in values:
        return None
    raw, where = values["password_file"]
    path = Path(_text(raw, where)).expanduser()
    if not path.is_absolute():
        path = config.config_dir / path
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        from workflow.config import os_error_text

        raise ConfigError(f"{where}：无法读取密码文件 {path}（{os_error_text(exc)}）") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}：密码文件 {path} 不是 UTF-8 文本") from None
    password = lines[0].strip() if lines else ""
    if not password:
        raise ConfigError(f"{where}：密码文件 {path} 是空的")
    return password


def mail_sender(config: Config) -> str:
    """The From address: ``from`` (or ``DUBAN_SMTP_FROM``), else the login user, else a
    placeholder usable by the console and file dry runs."""
    values = _merged_smtp(config)
    if "from" in values:
        raw, where = values["from"]
        sender = _text(raw, where)
        if not is_valid_address(sender):
            raise ConfigError(
                f"{where} 不是有效的发件地址：{sender!r}（例如 督办 <duban@x.gov.cn>）"
            )
        return sender
    if "user" in values:
        user = str(values["user"][0]).strip()
        if is_valid_address(user):
            return user
    return DEFAULT_SENDER


def message_id_domain(config: Config) -> str:
    """The right-hand side of Message-IDs: the sender's domain."""
    return domain_of(mail_sender(config)).lower()


# ---------------------------------------------------------------- [smtp]


def smtp_settings(config: Config) -> SmtpSettings:
    """The validated ``[smtp]`` settings with environment overrides (see module doc)."""
    values = _merged_smtp(config)
    if "host" not in values:
        raise ConfigError(
            f"未配置 SMTP 服务器：请在配置文件 {config.config_file} 的 [smtp] 中设置 host，"
            "或设置环境变量 DUBAN_SMTP_HOST"
        )
    host = _text(*values["host"])
    tls = "starttls"
    if "tls" in values:
        raw, where = values["tls"]
        tls = str(raw).strip().lower()
        if tls not in TLS_MODES:
            raise ConfigError(f"{where} 只能是 none、starttls 或 ssl，实际为 {raw!r}")
    port = _int(*values["port"], 1, 65535) if "port" in values else DEFAULT_PORTS[tls]
    user = _text(*values["user"]) if "user" in values else None
    password = _password(config, values)
    if user and not password:
        raise ConfigError(
            f"已设置 SMTP 登录用户 {user}，但没有密码：请设置环境变量 {PASSWORD_ENV} "
            f"或在 [smtp] 中设置 password_file"
        )
    if password and not user:
        raise ConfigError(
            "已提供 SMTP 密码，但没有登录用户：请在 [smtp] 中设置 user（或 DUBAN_SMTP_USER）"
        )
    sender = mail_sender(config)
    if sender == DEFAULT_SENDER:
        raise ConfigError(
            f"未配置发件地址：请在配置文件 {config.config_file} 的 [smtp] 中设置 from"
            '（或环境变量 DUBAN_SMTP_FROM），例如 from = "督办系统 <duban@office.gov.cn>"'
        )
    kwargs: dict[str, Any] = {}
    if "timeout" in values:
        kwargs["timeout"] = _int(*values["timeout"], 1, 600)
    if "concurrency" in values:
        kwargs["concurrency"] = _int(*values["concurrency"], 1, 32)
    if "validate_certs" in values:
        raw, where = values["validate_certs"]
        if not isinstance(raw, bool):
            raise ConfigError(f"{where} 应为 true 或 false，实际为 {raw!r}")
        kwargs["validate_certs"] = raw
    if "ca_file" in values:
        raw, where = values["ca_file"]
        path = Path(_text(raw, where)).expanduser()
        path = path if path.is_absolute() else config.config_dir / path
        if not path.is_file():
            raise ConfigError(f"{where}：找不到 CA 证书文件 {path}")
        kwargs["ca_file"] = str(path)
    if "local_hostname" in values:
        kwargs["local_hostname"] = _text(*values["local_hostname"])
    try:
        return SmtpSettings(
            host=host, port=port, user=user, password=password, tls=tls, sender=sender, **kwargs
        )
    except SettingsError as exc:
        raise ConfigError(f"[smtp] 设置无效：{exc}") from None


def describe_smtp(settings: SmtpSettings) -> dict[str, Any]:
    """The settings as shown to the office (the password is never shown)."""
    return {
        "host": settings.host,
        "port": settings.port,
        "tls": settings.tls,
        "user": settings.user,
        "password": "（已设置）" if settings.password else None,
        "from": settings.sender,
        "timeout": settings.timeout,
        "concurrency": settings.concurrency,
        "validate_certs": settings.validate_certs,
        "ca_file": settings.ca_file,
    }


# ---------------------------------------------------------------- [notify]


def notify_settings(config: Config) -> NotifySettings:
    """The validated ``[notify]`` settings (``DUBAN_NOTIFY_DELIVERY`` overrides ``delivery``)."""
    table = config.section("notify")
    _check_keys(config, "notify", table, NOTIFY_KEYS)
    delivery, where = table.get("delivery", "smtp"), _where(config, "notify", "delivery")
    if config.env.get("DUBAN_NOTIFY_DELIVERY", "").strip():
        delivery, where = config.env["DUBAN_NOTIFY_DELIVERY"], _env_where("DUBAN_NOTIFY_DELIVERY")
    delivery = str(delivery).strip().lower()
    if delivery not in DELIVERIES:
        raise ConfigError(f"{where} 只能是 smtp、console 或 file，实际为 {delivery!r}")
    directory = None
    if delivery == "file" or "directory" in table:
        raw = table.get("directory", "outbox")
        path = Path(_text(raw, _where(config, "notify", "directory"))).expanduser()
        directory = path if path.is_absolute() else config.data_dir / path
    kwargs = {
        key: _int(table[key], _where(config, "notify", key), low, high)
        for key, low, high in (
            ("max_attempts", 1, 1000),
            ("retry_minutes", 1, 1440),
            ("retry_max_minutes", 1, 10080),
            ("claim_minutes", 1, 1440),
            ("stop_timeout", 1, 3600),
        )
        if key in table
    }
    if "on_verified" in table:
        if not isinstance(table["on_verified"], bool):
            raise ConfigError(
                f"{_where(config, 'notify', 'on_verified')} 只能是 true 或 false，"
                f"实际为 {table['on_verified']!r}"
            )
        kwargs["on_verified"] = table["on_verified"]
    settings = NotifySettings(delivery=delivery, directory=directory, **kwargs)
    if settings.retry_max_minutes < settings.retry_minutes:
        raise ConfigError(
            f"{_where(config, 'notify', 'retry_max_minutes')} 不能小于 retry_minutes"
            f"（{settings.retry_max_minutes} < {settings.retry_minutes}）"
        )
    return settings


def make_sink(config: Config, *, now: Callable[[], datetime] | None = None):
    """The sink ``[notify] delivery`` selects: SmtpSink, ConsoleSink (stdout) or FileSink.

    ``now`` supplies the Date header (default: the current time). Settings are validated here,
    so a wrong ``[smtp]`` is reported before anything is claimed from the outbox.
    """
    settings = notify_settings(config)
    if settings.delivery == "console":
        return ConsoleSink(now=now)
    if settings.delivery == "file":
        assert settings.directory is not None
        return FileSink(settings.directory, now=now)
    return SmtpSink(smtp_settings(config), now=now)


# ---------------------------------------------------------------- duban mail test


def renderer(config: Config):
    """The template renderer with the office's overrides (``<config dir>/templates``).

    The overrides are checked here: a broken one is a ConfigError (exit code 7) naming the file
    and line, before anything is claimed or sent.
    """
    from notifiers.render import Renderer, RenderError

    override = config.config_dir / "templates"
    try:
        return Renderer(override if override.is_dir() else None)
    except RenderError as exc:
        raise ConfigError(f"邮件模板有误：{exc}") from None


def send_test_mail(config: Config, address: str, now: datetime) -> tuple[SmtpSettings, str]:
    """Send the ``test`` mail to ``address`` over SMTP with the current settings, end to end.

    Always SMTP, whatever ``[notify] delivery`` says: the point is to check the server, the
    login and TLS. Returns (settings, Message-ID); raises DeliveryError with the server's words.
    """
    from notifiers.email import deliver
    from notifiers.message import Message, make_message_id
    from notifiers.render import RenderError
    from workflow.chasing.policy import load_policy
    from workflow.dates.clock import SHANGHAI, local_date
    from workflow.errors import DeliveryError, InvalidInput

    if any(ord(c) < 32 or ord(c) == 127 for c in address):
        raise InvalidInput(f"收件地址不能含换行或控制字符：{address!r}")
    if not is_valid_address(address):
        raise InvalidInput(f"收件地址无效：{address!r}（例如 someone@office.gov.cn）")
    settings = smtp_settings(config)
    office = load_policy(config).office_name
    try:
        mail = renderer(config).render(
            "test", {"office": office, "as_of": local_date(now), "host": settings.host}
        )
    except RenderError as exc:
        raise ConfigError(f"测试邮件模板有误：{exc}") from None
    key = f"test:{bare_address(address)}:{now.isoformat()}"
    message = Message(
        key=key,
        message_id=make_message_id(key, domain_of(settings.sender)),
        sender=settings.sender,
        to=(address,),
        subject=mail.subject,
        text=mail.text,
        html=mail.html,
    )
    [result] = deliver([message], settings, now=lambda: now.astimezone(SHANGHAI))
    where = f"{settings.host}:{settings.port}，tls = {settings.tls}"
    if result.status != "sent":
        kind = {
            "temporary": "暂时性错误，可稍后重试",
            "blocked": "设置有误，请检查 [smtp] 的用户名、密码、发件地址和加密方式",
        }.get(result.status, "永久性错误")
        raise DeliveryError(f"测试邮件发送失败（{where}，{kind}）：{result.error}")
    if result.refused:
        reasons = "；".join(f"{a}：{r}" for a, r in result.refused.items())
        raise DeliveryError(f"测试邮件被拒收（{where}）：{reasons}")
    return settings, message.message_id
