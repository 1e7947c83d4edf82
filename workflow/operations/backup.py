"""Online backups and restores of both databases.

SQLite: the sqlite3 backup API copies a consistent snapshot while the server and the daemon
keep writing (WAL mode), into a temporary file renamed into place. PostgreSQL: ``pg_dump
--format=custom`` of duban's schema (a consistent snapshot too), found on PATH or named by
``[backup] pg_dump``; the connection settings, the password included, go through the
environment (``PGPASSWORD``…), never the command line. A restore checks the file (SQLite's
``quick_check`` / ``pg_restore --list``) and its schema version, and refuses to overwrite a
database that already holds duban's tables unless forced.
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

from workflow.config import Config, os_error_text
from workflow.errors import ConfigError, Conflict, DatabaseError, InvalidInput
from workflow.storage.db import Database
from workflow.storage.schema import SCHEMA_HEAD

SQLITE_MAGIC = b"SQLite format 3\x00"
PGDUMP_MAGIC = b"PGDMP"


@dataclass(frozen=True)
class BackupResult:
    file: str
    dialect: str
    schema_version: str | None
    size: int

    def to_dict(self) -> dict:
        return {
            "file": self.file,
            "dialect": self.dialect,
            "schema_version": self.schema_version,
            "size": self.size,
        }


def known_revisions() -> list[str]:
    """Migration ids shipped with this code, oldest first (file names start with them)."""
    folder = Path(__file__).resolve().parent.parent / "migrations" / "versions"
    return sorted(p.name.split("_")[0] for p in folder.glob("[0-9]*.py"))


def _sqlite_path(db: Database) -> Path:
    path = sa.engine.make_url(db.url).database
    if not path or path == ":memory:":
        raise InvalidInput("内存数据库无法备份")
    return Path(path).expanduser()


def backup(db: Database, config: Config, target: Path) -> BackupResult:
    """Write a consistent backup of ``db`` to ``target`` (refusing to overwrite a file)."""
    target = target.expanduser()
    if target.exists():
        raise Conflict(f"备份文件已存在：{target}（请换一个文件名，不覆盖已有备份）")
    if not target.parent.is_dir():
        raise InvalidInput(f"备份目录不存在：{target.parent}")
    version = db.current_revision()
    if db.dialect == "sqlite":
        _backup_sqlite(db, target)
    elif db.dialect == "postgresql":
        _backup_pg(db, config, target)
    else:  # pragma: no cover - duban runs on these two
        raise DatabaseError(f"不支持备份此类数据库：{db.dialect}")
    return BackupResult(str(target), db.dialect, version, target.stat().st_size)


def _backup_sqlite(db: Database, target: Path) -> None:
    part = target.with_name(f".{target.name}.part")
    source = sqlite3.connect(_sqlite_path(db), timeout=30)
    try:
        fd = os.open(part, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600)  # it holds token hashes
        os.close(fd)
        dest = sqlite3.connect(part)
        try:
            # one step: a read transaction for the whole copy. WAL lets writers go on meanwhile;
            # stepwise copies restart whenever another connection writes (and may never end)
            source.backup(dest)
            dest.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dest.close()
        os.replace(part, target)
    except (OSError, sqlite3.Error) as exc:
        part.unlink(missing_ok=True)
        reason = os_error_text(exc) if isinstance(exc, OSError) else str(exc)
        raise DatabaseError(f"备份失败：{reason}") from None
    finally:
        source.close()


# -------------------------------------------------------------------------- PostgreSQL
def pg_tool(config: Config, name: str) -> str:
    """``pg_dump`` / ``pg_restore``: ``[backup] pg_dump`` (its folder for pg_restore) or PATH."""
    given = config.section("backup").get("pg_dump")
    if given:
        path = Path(str(given)).expanduser()
        candidate = path if name == "pg_dump" else path.with_name(name)
        if not candidate.is_file():
            raise ConfigError(f"[backup] pg_dump 指向的 {candidate} 不存在")
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise ConfigError(
            f"找不到 {name}：请安装 PostgreSQL 客户端（如 apt install postgresql-client），"
            f"或在 duban.toml 的 [backup] pg_dump 中写明 pg_dump 的完整路径"
        )
    return found


def pg_env(db: Database) -> dict[str, str]:
    """libpq's environment for ``db``: the password travels here, never in argv."""
    url = sa.engine.make_url(db.url)
    env = dict(os.environ)
    for key, value in (
        ("PGHOST", url.host),
        ("PGPORT", url.port),
        ("PGUSER", url.username),
        ("PGPASSWORD", url.password),
        ("PGDATABASE", url.database),
    ):
        if value is not None:
            env[key] = str(value)
    options = url.query.get("options")
    if options:
        env["PGOPTIONS"] = options if isinstance(options, str) else " ".join(options)
    return env


def current_schema(db: Database) -> str:
    with db.engine.connect() as conn:
        return conn.execute(sa.text("select current_schema()")).scalar_one()


def _run(argv: list[str], env: dict[str, str], what: str) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        first = next((ln for ln in done.stderr.splitlines() if ln.strip()), "")
        raise DatabaseError(f"{what}失败（{Path(argv[0]).name} 原文：{first[:300]}）")
    return done


def _backup_pg(db: Database, config: Config, target: Path) -> None:
    part = target.with_name(f".{target.name}.part")
    argv = [
        pg_tool(config, "pg_dump"),
        "--format=custom",
        "--no-owner",
        "--no-privileges",
        f"--schema={current_schema(db)}",
        f"--file={part}",
    ]
    try:
        _run(argv, pg_env(db), "备份")
        part.chmod(0o600)
        os.replace(part, target)
    finally:
        part.unlink(missing_ok=True)


# -------------------------------------------------------------------------- restore
def backup_version(config: Config, source: Path) -> tuple[str, str | None]:
    """(dialect, schema version) of a backup file, after checking that it is one."""
    source = source.expanduser()
    try:
        head = source.open("rb").read(16)
    except OSError as exc:
        raise InvalidInput(f"无法读取备份文件 {source}：{os_error_text(exc)}") from None
    if head.startswith(SQLITE_MAGIC):
        try:
            conn = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
            try:
                if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                    raise InvalidInput(f"备份文件已损坏：{source}（SQLite 完整性检查未通过）")
                row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
            finally:
                conn.close()
        except sqlite3.Error as exc:
            raise InvalidInput(f"备份文件无法读取：{source}（{exc}）") from None
        return "sqlite", row[0] if row else None
    if head.startswith(PGDUMP_MAGIC):
        tool = pg_tool(config, "pg_restore")
        _run([tool, "--list", str(source)], dict(os.environ), "检查备份文件")
        data = _run(
            [tool, "--data-only", "--table=alembic_version", "--file=-", str(source)],
            dict(os.environ),
            "读取备份的结构版本",
        ).stdout
        found = re.search(r"^COPY [^\n]*alembic_version[^\n]*\n(\w+)\n", data, re.M)
        return "postgresql", found.group(1) if found else None
    raise InvalidInput(
        f"不是 duban 的备份文件：{source}（既不是 SQLite 数据库，也不是 pg_dump 归档）"
    )


def check_version(version: str | None) -> None:
    known = known_revisions()
    if version is None or version not in known:
        raise InvalidInput(f"备份文件的结构版本（{version or '无'}）不是本程序认识的版本，不能恢复")
    if known.index(version) > known.index(SCHEMA_HEAD):  # pragma: no cover - newer code's file
        raise InvalidInput(f"备份来自更新版本的 duban（结构版本 {version}），请先升级程序")


def holds_duban(db: Database) -> bool:
    try:
        with db.engine.connect() as conn:
            return sa.inspect(conn).has_table("alembic_version")
    except sa.exc.OperationalError:
        return False


def restore(db: Database, config: Config, source: Path, *, force: bool = False) -> dict:
    """Restore ``source`` into ``db``; refuses a database that already holds duban's tables
    unless ``force`` (stop the server and the daemon first: the docs say so)."""
    source = source.expanduser()
    dialect, version = backup_version(config, source)
    check_version(version)
    if dialect != db.dialect:
        raise InvalidInput(
            f"备份文件是 {dialect} 数据库的备份，目标数据库是 {db.dialect}，不能直接恢复"
        )
    if holds_duban(db) and not force:
        raise Conflict(
            f"目标数据库 {db.safe_url} 中已有督办数据，恢复会覆盖它：请先停止服务和守护进程，"
            "确认后加 --force"
        )
    if dialect == "sqlite":
        _restore_sqlite(db, source)
    else:
        _restore_pg(db, config, source)
    db.engine.dispose()
    return {"file": str(source), "database": db.safe_url, "schema_version": version}


def _restore_sqlite(db: Database, source: Path) -> None:
    path = _sqlite_path(db)
    db.engine.dispose()
    from workflow.storage.db import create_private_file

    create_private_file(path)
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    dest = sqlite3.connect(path, timeout=30)
    try:
        src.backup(dest)  # page by page, under the destination's write lock
    except sqlite3.Error as exc:
        raise DatabaseError(f"恢复失败：{exc}") from None
    finally:
        dest.close()
        src.close()


def _restore_pg(db: Database, config: Config, source: Path) -> None:
    db.engine.dispose()
    argv = [
        pg_tool(config, "pg_restore"),
        "--clean",
        "--if-exists",
        "--no-owner",
        "--no-privileges",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={sa.engine.make_url(db.url).database}",
        str(source),
    ]
    _run(argv, pg_env(db), "恢复")
