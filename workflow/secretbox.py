"""Secrets stored in the database (group robots' keys and signing secrets), encrypted at rest.

The database is backed up, copied for tests and read by reporting tools; a robot key in it
would let anyone post in a leadership chat. So each secret is stored as a Fernet token
(AES-128-CBC + HMAC-SHA256, from ``cryptography``) under a key that never enters the database:

* ``DUBAN_ROBOT_KEY`` (the environment: e.g. the systemd unit's ``EnvironmentFile``), else
* ``<config dir>/robot-key`` (mode 0600), written the first time a robot is set
  (:func:`encrypt` with ``create=True``).

The daemon, the server and the office's CLI must therefore see the same key: the same config
directory, or the same ``DUBAN_ROBOT_KEY``. Losing the key loses the robots' keys (set them
again); nothing else depends on it. Secrets are never printed or logged; only a fingerprint
(:func:`fingerprint`, 8 hex digits of a SHA-256) is shown to tell two keys apart.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from workflow.config import Config
from workflow.errors import ConfigError

KEY_ENV = "DUBAN_ROBOT_KEY"
KEY_FILE = "robot-key"


class SecretUnreadable(ConfigError):
    """A stored secret cannot be decrypted with the key in use (another config dir or key)."""


def key_path(config: Config) -> Path:
    return config.config_dir / KEY_FILE


def _fernet(config: Config, *, create: bool):
    from cryptography.fernet import Fernet

    raw = (config.env.get(KEY_ENV) or "").strip()
    where = f"环境变量 {KEY_ENV}"
    if not raw:
        path = key_path(config)
        where = f"密钥文件 {path}"
        if path.exists():
            try:
                raw = path.read_text(encoding="ascii").strip()
            except (OSError, UnicodeDecodeError) as exc:
                raise ConfigError(f"无法读取{where}（{exc}）") from None
        elif create:
            raw = Fernet.generate_key().decode("ascii")
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="ascii") as fh:
                fh.write(raw + "\n")
        else:
            raise SecretUnreadable(
                f"找不到机器人密钥的加密密钥（{where}，或环境变量 {KEY_ENV}）："
                "请使用设置机器人时的配置目录，或重新设置机器人"
            )
    try:
        return Fernet(raw.encode("ascii"))
    except (ValueError, UnicodeEncodeError):
        raise ConfigError(f"{where} 不是有效的密钥（应为 Fernet 密钥，44 个字符）") from None


def encrypt(config: Config, secret: str) -> str:
    """``secret`` encrypted for the database; creates the key file when there is no key yet."""
    return _fernet(config, create=True).encrypt(secret.encode("utf-8")).decode("ascii")


def decrypt(config: Config, stored: str) -> str:
    """The secret back; SecretUnreadable when this key did not encrypt it."""
    from cryptography.fernet import InvalidToken

    try:
        return _fernet(config, create=False).decrypt(stored.encode("ascii")).decode("utf-8")
    except (InvalidToken, UnicodeError):
        raise SecretUnreadable(
            "机器人密钥无法解密：当前的加密密钥不是设置机器人时所用的那一个"
            f"（{key_path(config)} 或环境变量 {KEY_ENV}），请使用同一配置目录或重新设置机器人"
        ) from None


def fingerprint(secret: str) -> str:
    """8 hex digits that tell two keys apart without revealing them."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()[:8]
