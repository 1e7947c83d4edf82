"""Database failures said in Chinese, importable without SQLAlchemy (the sqlite3 read path)."""

from __future__ import annotations

# The database drivers' (psycopg, sqlite3) words for the usual failures, said in Chinese.
_DB_REASONS: list[tuple[tuple[str, ...], str]] = [
    (("connection refused",), "连接被拒绝，数据库服务器没有在该端口监听，请检查地址和端口"),
    (
        ("could not translate host name", "name or service not known", "nodename nor servname"),
        "数据库服务器的域名无法解析，请检查地址和 DNS 设置",
    ),
    (("no route to host",), "数据库服务器不可达，请检查网络和防火墙"),
    (("timeout expired", "timed out"), "连接数据库超时，服务器无应答"),
    (("password authentication failed",), "数据库用户名或密码错误"),
    (("no password supplied",), "数据库需要密码，但未提供"),
    (("role", "does not exist"), "数据库用户不存在"),
    (("database", "does not exist"), "数据库不存在，请先创建"),
    (("too many clients", "remaining connection slots"), "数据库连接数已满，请稍后重试"),
    (("the database system is shutting down",), "数据库服务器正在停止"),
    (("the database system is starting up",), "数据库服务器正在启动，请稍后重试"),
    (("terminating connection due to administrator",), "数据库服务器已停止或重启"),
    (("server closed the connection unexpectedly",), "数据库服务器意外关闭了连接"),
    (("consuming input failed", "connection is closed"), "与数据库的连接已断开"),
    (("unable to open database file",), "无法打开数据库文件，请检查路径和权限"),
    (("database is locked",), "数据库正被其他进程占用（锁定），请稍后重试"),
    (("readonly database",), "数据库文件只读，无法写入"),
    (("database or disk is full",), "磁盘已满，无法写入数据库"),
    (("disk i/o error",), "读写数据库文件时磁盘出错"),
    (
        ("file is not a database", "database disk image is malformed"),
        "数据库文件已损坏或不是数据库",
    ),
]


def database_reason(exc: BaseException) -> str:
    """A driver error as Chinese first, its first line kept as ``（系统原文：…）``."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    first = " ".join(text.splitlines()[0].split())[:200] if text else type(orig).__name__
    lowered = text.lower()
    meaning = next(
        (zh for words, zh in _DB_REASONS if all(w in lowered for w in words)), "数据库出错"
    )
    return f"{meaning}（系统原文：{first}）"
