"""Settings: one TOML file in the config directory plus environment overrides.

Where things live (documented in docs/deployment.md; every key: docs/configuration.md):

* config directory: ``$DUBAN_CONFIG_DIR``, else the platform's user config dir
  (``~/.config/duban`` on Linux). It holds ``duban.toml`` (the office's settings),
  ``calendar/*.toml`` (calendar overrides), ``templates/`` (mail template overrides) and
  ``token`` (the token saved by ``duban login``).
* database: ``$DUBAN_DATABASE_URL``, else ``[database] url`` in ``duban.toml``, else an
  embedded SQLite file ``duban.db`` in the data directory (``$DUBAN_DATA_DIR`` or
  ``~/.local/share/duban``). The CLI and the daemon read the same settings, so on one machine
  they find the same database.

Each section (``[smtp]``, ``[check]``, ``[scoring]``…) is validated by the module that owns it
through :meth:`Config.section`; :func:`load_config` validates the file itself and the database.
"""

from __future__ import annotations

import errno
import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.errors import ConfigError

CONFIG_FILE = "duban.toml"
TOKEN_FILE = "token"
SERVER_FILE = "server"  # the server URL saved by ``duban login --server`` (client mode)


@dataclass(frozen=True)
class Config:
    config_dir: Path
    data_dir: Path
    database_url: str
    raw: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)

    @property
    def config_file(self) -> Path:
        return self.config_dir / CONFIG_FILE

    def section(self, name: str) -> dict[str, Any]:
        """The raw ``[name]`` table of duban.toml (empty when absent)."""
        value = self.raw.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"配置文件 {self.config_file} 中的 [{name}] 应为一个表（section）")
        return dict(value)


def config_dir_of(env: Mapping[str, str]) -> Path:
    """The config directory for ``env`` (``$DUBAN_CONFIG_DIR`` or the platform's default)."""
    return _default_config_dir(env)


def _default_config_dir(env: Mapping[str, str]) -> Path:
    if env.get("DUBAN_CONFIG_DIR"):
        return Path(env["DUBAN_CONFIG_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_config_dir("duban"))


def _default_data_dir(env: Mapping[str, str]) -> Path:
    if env.get("DUBAN_DATA_DIR"):
        return Path(env["DUBAN_DATA_DIR"]).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir("duban"))


_OS_REASONS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有权限",
    errno.EPERM: "没有权限",
    errno.EISDIR: "这是一个目录",
    errno.ENOTDIR: "路径中的某一级不是目录",
    errno.ENOSPC: "磁盘已满",
    errno.EROFS: "磁盘或目录只读",
    errno.ENAMETOOLONG: "文件名过长",
    errno.EBUSY: "文件正被占用",
    errno.EEXIST: "文件已存在",
}


def os_error_text(exc: OSError) -> str:
    """A file error in Chinese; an unusual one keeps the system's words, labelled."""
    known = _OS_REASONS.get(exc.errno or 0)
    if known:
        return known
    return f"系统错误（系统原文：{exc.strerror or exc}）"


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file (UTF-8, a byte-order mark tolerated), turning syntax and encoding
    errors into a Chinese message with the line."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{os_error_text(exc)}") from None
    try:
        return tomllib.loads(data.decode("utf-8-sig"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        # only on error: the calendars package costs start-up time
        from calendars.toml_text import TomlEncodingError, decode_toml_bytes, toml_error_text

        if isinstance(exc, tomllib.TOMLDecodeError):
            raise ConfigError(f"配置文件 {path} 格式错误，{toml_error_text(exc)}") from None
        try:
            decode_toml_bytes(data)
        except TomlEncodingError as bad:
            raise ConfigError(f"配置文件 {path} 编码错误，{bad.message}") from None
        raise  # pragma: no cover - decode_toml_bytes fails where decode failed


def load_config(env: Mapping[str, str] | None = None) -> Config:
    """Load settings from the environment and ``duban.toml``."""
    env = dict(os.environ if env is None else env)
    config_dir = _default_config_dir(env)
    data_dir = _default_data_dir(env)
    path = config_dir / CONFIG_FILE
    raw = read_toml(path) if path.exists() else {}
    db = raw.get("database", {})
    if not isinstance(db, dict):
        raise ConfigError(f"配置文件 {path} 中的 [database] 应为一个表（section）")
    url = env.get("DUBAN_DATABASE_URL") or db.get("url")
    if url is not None and (not isinstance(url, str) or "://" not in url):
        raise ConfigError(
            f"数据库地址无效：{url!r}（应形如 sqlite:///路径 或 postgresql+psycopg://…）"
        )
    if not url:
        url = f"sqlite:///{data_dir / 'duban.db'}"
    return Config(config_dir=config_dir, data_dir=data_dir, database_url=url, raw=raw, env=env)


def database_chosen(config: Config) -> bool:
    """Whether this machine was given a database (``DUBAN_DATABASE_URL``, ``[database] url``)
    or already has the default one; False on a desk that was never set up (issue 29)."""
    if config.env.get("DUBAN_DATABASE_URL") or config.raw.get("database", {}).get("url"):
        return True
    return (config.data_dir / "duban.db").exists()


DESK_NOT_SET_UP = (
    "本机尚未连接督办服务器：请运行 duban login --server 服务器地址"
    "（地址和账号向办公室索取），登录后即可使用"
)


def saved_token(config: Config) -> str | None:
    """The token to act with: ``$DUBAN_TOKEN``, else the one ``duban login`` saved."""
    if config.env.get("DUBAN_TOKEN"):
        return config.env["DUBAN_TOKEN"].strip()
    path = config.config_dir / TOKEN_FILE
    if path.exists():
        return path.read_text(encoding="utf-8").strip() or None
    return None


def save_token(config: Config, token: str) -> Path:
    """Store the token for later commands, readable by the user only."""
    config.config_dir.mkdir(parents=True, exist_ok=True)
    path = config.config_dir / TOKEN_FILE
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path
