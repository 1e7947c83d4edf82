"""A small office on a real ``duban serve``, for the page tests: one per test module.

Three units (办公室, 财务审计科, 法规科) under one leader, a 2026 ledger imported by the office
(four assignments: #1 财务审计科 overdue since February, #2 法规科 and #3 财务审计科 due at the end
of March, #4 办公室 due in June), tokens for each, and the daily check run once so the outbox has
rows. The clock is pinned at 2026-03-10 09:00 (Shanghai) for the CLI and the server.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa
from conftest import Cli, fresh_database
from live_server import serve

NOW = "2026-03-10T09:00"
TITLE = "某市卫生健康委员会2026年政务公开工作要点任务落实台账"
HEADER = "序号,重点工作,主要内容,量化指标,责任单位,完成时限"
ROWS = [
    "一、围绕重点领域，加大主动公开力度,,,,,",
    "1,公开部门预算,在门户网站公开2026年部门预算及说明,预算批复后20日内,财务审计科,2月",
    "2,更新政策解读,对新出台的规范性文件开展政策解读,每件文件至少1篇解读,法规科、财务审计科,3月底前",
    '3,政务公开专栏维护,"及时更新政务公开专栏内容\n确保链接有效",每月至少更新2条,办公室,6月',
]
EXTRA_ROW = "4,依申请公开年度统计,汇总全年依申请公开办理情况,形成统计表,法规科,11月底前"


def write_ledger(path: Path, extra: bool = False) -> Path:
    lines = [TITLE, HEADER, *ROWS, *([EXTRA_ROW] if extra else [])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8-sig")
    return path


def module_database(tmp: Path):
    """A database URL for one module (see ``conftest.fresh_database``)."""
    return fresh_database(tmp, prefix="w")


@dataclass
class World:
    url: str  # the server's base URL
    env: dict[str, str]
    tmp: Path
    tokens: dict[str, str] = field(default_factory=dict)  # holder -> token

    @property
    def cli(self) -> Cli:
        return Cli(self.env)

    def engine(self) -> sa.Engine:
        return sa.create_engine(self.env["DUBAN_DATABASE_URL"])

    def execute(self, sql: str, **params) -> None:
        engine = self.engine()
        try:
            with engine.begin() as conn:
                conn.execute(sa.text(sql), params)
        finally:
            engine.dispose()

    def scalar(self, sql: str, **params):
        engine = self.engine()
        try:
            with engine.begin() as conn:
                return conn.execute(sa.text(sql), params).scalar()
        finally:
            engine.dispose()


@contextmanager
def running_office(tmp: Path) -> Iterator[World]:
    with module_database(tmp) as database_url:
        env = {
            "DUBAN_CONFIG_DIR": str(tmp / "config"),
            "DUBAN_DATA_DIR": str(tmp / "data"),
            "DUBAN_DATABASE_URL": database_url,
            "DUBAN_TOKEN": "",
            "DUBAN_NOW": NOW,
        }
        cli = Cli(env)
        office = cli.json("init")["token"]
        env["DUBAN_TOKEN"] = office
        cli.ok("leader", "add", "王副主任", "--email", "wang@example.org", "--title", "分管副主任")
        for i, name in enumerate(("办公室", "财务审计科", "法规科")):
            cli.ok("unit", "add", name, "--email", f"u{i}@example.org", "--leader", "王副主任")
        cli.ok("import", str(write_ledger(tmp / "台账.csv")))
        tokens = {"office": office}
        for name in ("办公室", "财务审计科", "法规科"):
            tokens[name] = cli.json("token", "issue", name)["token"]
        tokens["王副主任"] = cli.json("token", "issue", "王副主任", "--role", "leader")["token"]
        cli.ok("check")
        with serve(env, tmp / "serve.log") as url:
            yield World(url=url, env=env, tmp=tmp, tokens=tokens)
