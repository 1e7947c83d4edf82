"""``[smtp]`` and ``[notify]``: validation with Chinese messages, environment overrides, password."""

from __future__ import annotations

import pytest
from outbox_helpers import write_config

from workflow.errors import ConfigError
from workflow.outbox.settings import (
    describe_smtp,
    mail_sender,
    message_id_domain,
    notify_settings,
    smtp_settings,
)

FULL = """
[smtp]
host = "smtp.exmail.qq.com"
port = 465
tls = "ssl"
user = "duban@office.gov.cn"
password_file = "smtp-password"
from = "市政府办公室督办 <duban@office.gov.cn>"
timeout = 20
concurrency = 2
local_hostname = "duban.office.gov.cn"
"""


def settings_for(tmp_path, text: str, **env):
    return smtp_settings(write_config(tmp_path, text, **env))


def test_full_smtp_section(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "smtp-password").write_text("s3cret\n")
    s = settings_for(tmp_path, FULL)
    assert (s.host, s.port, s.tls, s.user, s.password) == (
        "smtp.exmail.qq.com",
        465,
        "ssl",
        "duban@office.gov.cn",
        "s3cret",
    )
    assert s.sender == "市政府办公室督办 <duban@office.gov.cn>"
    assert (s.timeout, s.concurrency, s.local_hostname) == (20, 2, "duban.office.gov.cn")
    assert "s3cret" not in repr(s)
    assert describe_smtp(s)["password"] == "（已设置）"
    assert "s3cret" not in str(describe_smtp(s))


@pytest.mark.parametrize(("tls", "port"), [("none", 25), ("starttls", 587), ("ssl", 465)])
def test_default_port_follows_tls(tmp_path, tls, port):
    s = settings_for(tmp_path, f'[smtp]\nhost = "mail.x.cn"\ntls = "{tls}"\nfrom = "a@x.cn"\n')
    assert (s.tls, s.port) == (tls, port)


def test_defaults_starttls_and_sender_from_user(tmp_path):
    s = settings_for(
        tmp_path,
        '[smtp]\nhost = "mail.x.cn"\nuser = "duban@x.cn"\n',
        DUBAN_SMTP_PASSWORD="pw",
    )
    assert (s.tls, s.port, s.sender, s.password) == ("starttls", 587, "duban@x.cn", "pw")


def test_every_key_overridable_from_the_environment(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "smtp-password").write_text("from-file")
    s = settings_for(
        tmp_path,
        FULL,
        DUBAN_SMTP_HOST="relay.internal",
        DUBAN_SMTP_PORT="2525",
        DUBAN_SMTP_USER="other@office.gov.cn",
        DUBAN_SMTP_PASSWORD="from-env",
        DUBAN_SMTP_TLS="STARTTLS",
        DUBAN_SMTP_FROM="督办 <noreply@office.gov.cn>",
    )
    assert (s.host, s.port, s.tls, s.user) == (
        "relay.internal",
        2525,
        "starttls",
        "other@office.gov.cn",
    )
    assert s.password == "from-env"  # the environment wins over the file
    assert s.sender == "督办 <noreply@office.gov.cn>"


def test_environment_alone_is_enough(tmp_path):
    s = settings_for(
        tmp_path, "", DUBAN_SMTP_HOST="127.0.0.1", DUBAN_SMTP_TLS="none", DUBAN_SMTP_FROM="a@x.cn"
    )
    assert (s.host, s.port, s.tls, s.user, s.password) == ("127.0.0.1", 25, "none", None, None)


def test_password_file_absolute_and_via_env(tmp_path):
    secret = tmp_path / "elsewhere" / "pw"
    secret.parent.mkdir()
    secret.write_text("abs-secret\nignored second line\n")
    text = f'[smtp]\nhost = "h"\nuser = "u@x.cn"\npassword_file = "{secret}"\n'
    assert settings_for(tmp_path, text).password == "abs-secret"
    env_file = tmp_path / "envpw"
    env_file.write_text("env-file-secret")
    s = settings_for(
        tmp_path, '[smtp]\nhost = "h"\nuser = "u@x.cn"\n', DUBAN_SMTP_PASSWORD_FILE=str(env_file)
    )
    assert s.password == "env-file-secret"


@pytest.mark.parametrize(
    ("text", "env", "message"),
    [
        ("", {}, "未配置 SMTP 服务器"),
        ('[smtp]\nhost = "h"\npassword = "x"\nfrom = "a@x.cn"\n', {}, "密码不要写在配置文件里"),
        ('[smtp]\nhost = "h"\nhots = "x"\n', {}, "未知的设置：hots"),
        ('[smtp]\nhost = "h"\ntls = "tls"\nfrom = "a@x.cn"\n', {}, "只能是 none、starttls 或 ssl"),
        ('[smtp]\nhost = "h"\nport = 70000\nfrom = "a@x.cn"\n', {}, "[smtp] port 应为 1 到 65535"),
        ('[smtp]\nhost = "h"\nfrom = "a@x.cn"\n', {"DUBAN_SMTP_PORT": "abc"}, "DUBAN_SMTP_PORT"),
        ('[smtp]\nhost = "h"\nuser = "u@x.cn"\n', {}, "没有密码"),
        ('[smtp]\nhost = "h"\nfrom = "a@x.cn"\n', {"DUBAN_SMTP_PASSWORD": "p"}, "没有登录用户"),
        ('[smtp]\nhost = "h"\nuser = "duban"\npassword_file = "nope"\n', {}, "无法读取密码文件"),
        ('[smtp]\nhost = "h"\n', {}, "未配置发件地址"),
        ('[smtp]\nhost = "h"\nfrom = "督办系统"\n', {}, "不是有效的发件地址"),
        ('[smtp]\nhost = "h"\nfrom = "a@x.cn"\nconcurrency = 0\n', {}, "concurrency"),
        ('[smtp]\nhost = "h"\nfrom = "a@x.cn"\nvalidate_certs = "no"\n', {}, "true 或 false"),
        ('[smtp]\nhost = "h"\nfrom = "a@x.cn"\nca_file = "ca.pem"\n', {}, "找不到 CA 证书文件"),
        ('[smtp]\nhost = ""\nfrom = "a@x.cn"\n', {}, "[smtp] host 应为非空文本"),
        ("smtp = 3\n", {}, "[smtp] 应为一个表"),
    ],
)
def test_bad_smtp_settings_are_refused_in_chinese(tmp_path, text, env, message):
    with pytest.raises(ConfigError) as err:
        settings_for(tmp_path, text, **env)
    assert message in err.value.message
    assert "\n" not in err.value.message


def test_empty_password_file_is_refused(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "pw").write_text("\n")
    with pytest.raises(ConfigError, match="密码文件 .* 是空的"):
        settings_for(tmp_path, '[smtp]\nhost = "h"\nuser = "u@x.cn"\npassword_file = "pw"\n')


def test_sender_and_message_id_domain(tmp_path):
    assert mail_sender(write_config(tmp_path, "")) == "督办系统 <duban@localhost>"
    config = write_config(tmp_path, '[smtp]\nfrom = "督办 <duban@Office.Gov.cn>"\n')
    assert message_id_domain(config) == "office.gov.cn"


def test_notify_defaults_and_validation(tmp_path):
    n = notify_settings(write_config(tmp_path, ""))
    assert (n.delivery, n.max_attempts, n.claim_minutes) == ("smtp", 12, 30)
    assert [n.backoff_minutes(a) for a in range(1, 11)] == [1, 2, 4, 8, 16, 32, 64, 128, 240, 240]
    config = write_config(tmp_path, '[notify]\ndelivery = "file"\n')
    assert notify_settings(config).directory == config.data_dir / "outbox"
    for text, message in [
        ('[notify]\ndelivery = "mail"\n', "只能是 smtp、console 或 file"),
        ("[notify]\nmax_attempts = 0\n", "max_attempts 应为 1 到 1000"),
        ("[notify]\nretry_minutes = 10\nretry_max_minutes = 5\n", "不能小于 retry_minutes"),
        ("[notify]\nsurprise = 1\n", "未知的设置：surprise"),
    ]:
        with pytest.raises(ConfigError, match=message):
            notify_settings(write_config(tmp_path, text))
    with pytest.raises(ConfigError, match="环境变量 DUBAN_NOTIFY_DELIVERY"):
        notify_settings(write_config(tmp_path, "", DUBAN_NOTIFY_DELIVERY="carrier-pigeon"))
