"""Settings: one TOML file in the config directory plus environment overrides.

Where things live (documented in the README):

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
import re
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


_TOML_POS = re.compile(r"\s*\((?:at line (\d+), column (\d+)|at end of document)\)")
_TOML_REASONS = [  # tomllib's messages, said in Chinese
    ("Invalid value", '值无效（字符串要加引号，如 key = "值"）'),
    ("Cannot overwrite a value", "同一个键或表出现了两次"),
    ("Cannot declare", "同一个表出现了两次"),
    ("Unterminated string", "字符串缺少结尾的引号"),
    ("Expected ']'", "表名缺少结尾的 ]"),
    ("Expected '=' after a key", "键后面缺少 ="),
    ("Expected newline or end of document", "一行只能写一个 键 = 值"),
    ("Invalid statement", "无法识别的行"),
    ("Invalid initial character for a key part", "键名无效"),
]
_OS_REASONS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有读取权限",
    errno.EISDIR: "这是一个目录",
}


def toml_error_text(exc: tomllib.TOMLDecodeError) -> str:
    """``第 3 行第 5 列：值无效…``: tomllib's English error as one Chinese phrase."""
    message = str(exc)
    pos = _TOML_POS.search(message)
    where = "文件末尾"
    if pos and pos.group(1):
        where = f"第 {pos.group(1)} 行第 {pos.group(2)} 列"
    reason = next((zh for en, zh in _TOML_REASONS if message.startswith(en)), "不是合法的 TOML")
    return f"{where}：{reason}"


def os_error_text(exc: OSError) -> str:
    return _OS_REASONS.get(exc.errno, f"系统错误 {exc.errno}")


def read_toml(path: Path) -> dict[str, Any]:
    """Parse a TOML file, turning syntax errors into a Chinese message with the line."""
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"配置文件 {path} 格式错误，{toml_error_text(exc)}") from None
    except OSError as exc:
        raise ConfigError(f"无法读取配置文件 {path}：{os_error_text(exc)}") from None


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
