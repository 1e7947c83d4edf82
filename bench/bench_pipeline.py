"""The whole pipeline for a large office: set-up, ledger, import, a simulated year, year end.

    python bench/bench_pipeline.py                  # 1,000 units, 2,000 tasks, all of 2026, SQLite
    python bench/bench_pipeline.py --quick          # 100 units, 200 tasks, 60 working days (~15 s)
    python bench/bench_pipeline.py --days 40        # the first 40 working days only
    python bench/bench_pipeline.py --pg postgresql+psycopg://postgres@127.0.0.1:5432/test
    (PostgreSQL runs in a fresh schema, dropped afterwards)

Stages, each in a fresh child process (its wall and CPU time are the stage's own; its peak
memory is the process's VmHWM, printed beside the RSS right after the imports, before the stage
began — the difference is what the stage itself needed):

1. ``setup``: ``initialize`` (``duban init``), ~10 leaders in charge and a principal
   (``leader_add``), the units (``unit_add``, one transaction each, as 1,000 ``duban unit add``
   would be) with e-mail addresses, a leader in charge and a group (各区县, 市直各单位, 各乡镇,
   各公立医院, 各中小学校, 市属国有企业, 各公用事业单位; the ledger writes "各乡镇（街道）");
2. ``ledger``: an .xlsx as offices write them: title, an intro announcing the report dates
   (7月31日、11月30日前报送), the header, 8 sections of 5 sub-sections, each task with its
   requirement, a 牵头单位 for some, a 责任单位 cell naming a few units or a group, a 完成时限 as
   written in real ledgers ("11月底前", "上半年", "第三季度", "2026年8月31日前", an Excel date,
   "长期坚持" = one obligation per report date, "每季度" = 4, "每月" = 12, "每半年" = 2, empty =
   the report dates);
3. ``import``: ``import_file`` (the ``import`` operation) in one transaction;
4. ``year``: for every working day of 2026 (``ChinaCalendar``, from the day of the import), at
   09:00 the daily check (``check_database`` with the date passed in, the office's policy and
   calendar loaded once, as the daemon does), at 09:05 the outbox delivery (``deliver_pending``)
   to aiosmtpd in another process on a loopback port (4 pooled connections), then during the day
   the units' reports (``task_report``) and the office's verifications / returns
   (``task_verify`` / ``task_return``), one transaction each, as each would be one command or
   request: 85 % of the assignments reported on time (0–10 working days before the due date),
   10 % late (1–20 working days after: some reach the leader in charge, some the principal),
   5 % never; reports verified 1–5 working days later, 2 % of them returned first and reported
   again 2 working days later. Per month: checks, overdue marked, mails queued / sent / dropped
   as stale, time in the check vs the delivery vs the reporting, RSS at the month's end;
5. year end: ``score`` (the ``score`` operation, as of 2026-12-31), ``export.evaluation`` (the
   committee's workbook) and ``export.ledger`` (the ledger with every unit's progress).

The server's count of accepted messages is checked against the rows marked sent; the load
average is printed in the header and at the end (the machine may be shared: CPU seconds are the
steadier figure; with PostgreSQL the server's own CPU is not in them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))  # the sibling benchmarks' helpers

YEAR = 2026
RESULT = "@@result "
OFFICE_NAME = "江门市政务公开办公室"

# ------------------------------------------------------------------ the office's directory

LEADERS = ["王建国", "李红梅", "张志强", "刘海涛", "陈晓东", "杨立新", "赵文华", "黄国平",
           "周建平", "吴晓燕"]  # fmt: skip
PRINCIPAL = "林国栋"
DISTRICTS = ["东湖区", "西山区", "南湖区", "北城区", "高新区", "经开区", "临江县", "青山县",
             "白云县", "清河县", "龙泉县", "凤凰县", "长宁县", "石门县", "云溪区"]  # fmt: skip
DEPARTMENTS = [
    "市发展和改革局", "市教育局", "市科学技术局", "市工业和信息化局", "市公安局", "市民政局",
    "市司法局", "市财政局", "市人力资源和社会保障局", "市自然资源局", "市生态环境局",
    "市住房和城乡建设局", "市交通运输局", "市水利局", "市农业农村局", "市商务局",
    "市文化广电旅游体育局", "市卫生健康局", "市退役军人事务局", "市应急管理局", "市审计局",
    "市市场监督管理局", "市统计局", "市医疗保障局", "市林业局", "市城市管理和综合执法局",
    "市政务服务数据管理局", "市信访局", "市国有资产监督管理委员会", "市民族宗教事务局",
    "市人民政府办公室", "市外事局", "市乡村振兴局", "市地方金融监督管理局", "市体育局",
    "市粮食和物资储备局", "市机关事务管理局", "市人民防空办公室", "市供销合作社",
    "市住房公积金管理中心", "市公共资源交易中心", "市不动产登记中心", "市档案馆",
    "市地方志办公室", "市残疾人联合会", "市总工会", "市妇女联合会", "市科学技术协会",
    "市气象局", "市税务局", "市消防救援支队", "市邮政管理局", "市烟草专卖局",
    "市社会保险基金管理中心", "市就业服务中心", "市疾病预防控制中心", "市投资促进局",
    "市口岸办公室", "市港航事务中心", "市营商环境建设局",
]  # fmt: skip
CENTRES = ["数据资源", "政策研究", "应急指挥", "公共就业", "价格监测", "食品检验", "环境监测",
           "交通指挥", "水文水资源", "农业技术推广", "动物疫病预防控制", "林业科学", "土地储备",
           "城乡规划", "建设工程质量安全", "住房保障", "社会福利", "救助管理", "殡葬管理",
           "公共法律服务", "法律援助", "职业技能鉴定", "人才交流", "老干部服务", "机关幼儿",
           "会展服务", "旅游咨询", "文物保护", "图书", "文化馆", "体育训练", "青少年活动",
           "网络安全", "信用信息", "营商服务", "招商服务", "公路事务", "城市排水", "园林绿化",
           "环境卫生"]  # fmt: skip
INDUSTRIES = ["城市建设投资", "交通投资", "水务", "能源", "文化旅游", "港务", "粮食", "农业发展",
              "建工", "国有资本运营", "金融控股", "公共交通", "燃气", "医药", "物流", "轨道交通",
              "城市更新", "产业投资", "数字科技", "环保", "保安服务", "会展", "商贸", "铁路",
              "机场", "广播电视网络", "出版", "报业", "水产", "林业"]  # fmt: skip
UTILITIES = ["供水有限公司", "燃气有限公司", "公共交通有限公司", "供电所", "污水处理厂"]
TOWN_CHARS = "安平和兴隆丰泰长乐永康福德宁新华荣昌盛明"

# group → share of the units; 各中小学校 takes the rest
GROUP_SHARES = [
    ("各区县", 0.01),
    ("市直各单位", 0.12),
    ("各乡镇", 0.15),
    ("市属国有企业", 0.03),
    ("各公立医院", 0.09),
    ("各公用事业单位", 0.10),
]
SCHOOLS = "各中小学校"


def _towns(n: int) -> list[str]:
    pairs = [a + b for a in TOWN_CHARS for b in TOWN_CHARS if a != b]
    return [pairs[i] if i < len(pairs) else f"{pairs[i % len(pairs)]}{i // len(pairs) + 1}"
            for i in range(n)]  # fmt: skip


def _name(group: str, i: int, towns: list[str]) -> str:
    if group == "各区县":
        return f"{DISTRICTS[i]}人民政府" if i < len(DISTRICTS) else f"第{i + 1}区人民政府"
    if group == "市直各单位":
        if i < len(DEPARTMENTS):
            return DEPARTMENTS[i]
        j = i - len(DEPARTMENTS)
        return f"市{CENTRES[j]}中心" if j < len(CENTRES) else f"市直属事业单位第{j + 1}号"
    if group == "各乡镇":
        return f"{towns[i]}镇人民政府" if i % 3 else f"{towns[i]}街道办事处"
    if group == "市属国有企业":
        return f"市{INDUSTRIES[i]}集团有限公司" if i < len(INDUSTRIES) else f"市属国企第{i + 1}号"
    if group == "各公立医院":
        return f"市第{i + 1}人民医院"
    if group == "各公用事业单位":
        return f"{towns[i // len(UTILITIES)]}{UTILITIES[i % len(UTILITIES)]}"
    return f"市第{i // 2 + 1}{'中学' if i % 2 == 0 else '小学'}"


def directory(units: int) -> dict[str, list[str]]:
    """Group → its units' names (deterministic; every name unique, also once 市 is dropped)."""
    sizes = [(g, max(2, round(units * share))) for g, share in GROUP_SHARES]
    sizes.append((SCHOOLS, max(2, units - sum(n for _, n in sizes))))
    towns = _towns(units)
    return {g: [_name(g, i, towns) for i in range(n)] for g, n in sizes}


# ------------------------------------------------------------------ the ledger

SECTIONS = [
    "围绕优化营商环境，加大政策公开力度",
    "围绕保障和改善民生，加强重点领域信息公开",
    "围绕政策解读和回应关切，提升政策发布质效",
    "围绕平台建设，提升政务公开服务水平",
    "围绕制度规范，夯实政务公开工作基础",
    "围绕基层政务公开，推进标准化规范化建设",
    "围绕依申请公开，依法规范办理",
    "围绕监督保障，强化工作落实",
]
TOPICS = ["财政预决算", "重大建设项目", "公共资源配置", "社会公益事业", "义务教育招生", "医疗卫生",
          "生态环境", "食品药品安全", "安全生产", "就业创业", "社会救助", "养老服务",
          "住房保障", "征地补偿", "乡村振兴", "政府采购", "行政许可", "行政处罚", "双随机抽查",
          "政策解读", "政务舆情回应", "政府网站", "政务新媒体", "政府公报", "政府信息公开指南",
          "依申请公开", "政务公开专区", "基层政务公开标准目录", "民生实事", "政府工作报告"]  # fmt: skip
ACTIONS = ["做好", "深化", "加强", "规范", "推进", "抓好"]
REQUIREMENT = (
    "按照《中华人民共和国政府信息公开条例》和本年度政务公开工作要点要求，{topic}相关信息形成"
    "或变更后及时在政府门户网站及政务新媒体主动公开，做到内容准确、更新及时、"
    "便于查阅；同步做好政策解读和社会关切回应，完善信息发布审核机制，确保发布规范。"
)
# (phrase as written, weight); a datetime is an Excel date cell
DEADLINES: list[tuple[object, int]] = [
    ("3月底前", 5), ("4月底前", 4), ("5月底前", 5), ("6月底前", 7), ("9月底前", 6),
    ("10月底前", 5), ("11月底前", 9), ("12月底前", 3), ("上半年", 3), ("年底前", 5),
    ("第三季度", 2), ("第二季度", 2), (f"{YEAR}年8月31日前", 2), ("10月20日前", 1),
    ("11月上旬", 1), (datetime(YEAR, 9, 30), 3), (datetime(YEAR, 6, 15), 2),
    ("长期坚持", 15), ("常态化", 3), ("每季度", 8), ("每半年", 4), ("每月", 2), ("", 3),
]  # fmt: skip
# how a 责任单位 cell is written: (kind, weight)
UNIT_CELLS = [
    ("units", 40), ("district+unit", 8), ("各区县", 13), ("市直各单位", 2.5),
    ("各乡镇（街道）", 1.8), ("各区县、市直各单位", 1.5), ("各公立医院", 1.5), (SCHOOLS, 0.6),
    ("市属国有企业", 4), ("各公用事业单位", 1.2), ("各区县、各乡镇（街道）", 0.7),
]  # fmt: skip


def _cell(rng: random.Random, groups: dict[str, list[str]]) -> tuple[str, str]:
    """(how the cell is written, the cell)."""
    kind = rng.choices([k for k, _ in UNIT_CELLS], [w for _, w in UNIT_CELLS])[0]
    if kind == "units":
        return "1–3 named units", "、".join(rng.sample(groups["市直各单位"], rng.randint(1, 3)))
    if kind == "district+unit":
        picked = rng.sample(groups["各区县"], min(2, len(groups["各区县"])))
        return "a unit + 2 districts", "、".join([rng.choice(groups["市直各单位"]), *picked])
    return kind, kind


def write_ledger(path: Path, tasks: int, groups: dict[str, list[str]], seed: int) -> dict:
    """The 2026 ledger as an .xlsx; returns what it holds (tasks, phrases, cells)."""
    from bench_import import _cn
    from openpyxl import Workbook

    rng = random.Random(seed)
    wb = Workbook()
    ws = wb.active
    ws.title = "任务分解表"
    ws.append([f"{YEAR}年政务公开工作要点任务分解台账"])
    ws.append([
        f"请各区县、市直各单位对照台账细化措施、逐项落实，落实情况或进展信息分别于{YEAR}年7月31日、"
        f"11月30日前报送{OFFICE_NAME}。对未按时完成的将在年底绩效考核中扣除相应分数。"
    ])  # fmt: skip
    ws.append(["序号", "工作任务", "具体要求", "牵头单位", "责任单位", "完成时限", "进展落实情况"])
    subsections = 5
    per_sub = -(-tasks // (len(SECTIONS) * subsections))
    phrases: Counter = Counter()
    cells: Counter = Counter()
    number = 0
    for s, section in enumerate(SECTIONS, start=1):
        ws.append([f"{_cn(s)}、{section}"])
        for sub in range(1, subsections + 1):
            if number >= tasks:
                break
            topic = TOPICS[(s * subsections + sub) % len(TOPICS)]
            ws.append([f"（{_cn(sub)}）加强{topic}领域公开"])
            for _ in range(per_sub):
                if number >= tasks:
                    break
                number += 1
                topic = rng.choice(TOPICS)
                deadline = rng.choices([d for d, _ in DEADLINES], [w for _, w in DEADLINES])[0]
                phrases[
                    "Excel date" if isinstance(deadline, datetime) else deadline or "(empty)"
                ] += 1
                lead = rng.choice(groups["市直各单位"]) if rng.random() < 0.4 else ""
                kind, cell = _cell(rng, groups)
                cells[kind] += 1
                ws.append([
                    str(number), f"{rng.choice(ACTIONS)}{topic}信息公开（第{number}项）",
                    REQUIREMENT.format(topic=topic), lead, cell, deadline, "",
                ])  # fmt: skip
    wb.save(path)
    return {"tasks": number, "phrases": phrases, "cells": cells}


# ------------------------------------------------------------------ stages (child processes)


def _peak_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():  # this process image only (not inflated by a parent's pages)
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _rss_mb() -> float:
    status = Path("/proc/self/status")
    if status.exists():
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024
    return 0.0


def _at(d: date, hour: int, minute: int = 0) -> datetime:
    from workflow.dates.clock import SHANGHAI

    return datetime(d.year, d.month, d.day, hour, minute, tzinfo=SHANGHAI)


def _config(state: dict):
    from workflow.config import load_config

    return load_config(state["env"])


def _office():
    from workflow.directory.roles import Caller

    return Caller(role="office", name="办公室")


class Clock:
    """Wall and CPU seconds spent inside ``with clock.part(name)`` blocks, per name."""

    def __init__(self) -> None:
        self.wall: Counter = Counter()
        self.cpu: Counter = Counter()

    def part(self, name: str):
        clock = self

        class _Part:
            def __enter__(self):
                self.t, self.c = time.perf_counter(), time.process_time()

            def __exit__(self, *exc):
                clock.wall[name] += time.perf_counter() - self.t
                clock.cpu[name] += time.process_time() - self.c

        return _Part()

    def line(self, name: str) -> str:
        return f"{self.wall[name]:8.2f} s wall {self.cpu[name]:8.2f} s CPU"


def stage_setup(state: dict) -> dict:
    from workflow.directory.calls import leader_add, unit_add
    from workflow.directory.setup import initialize
    from workflow.storage.db import Database

    config = _config(state)
    now = _at(date.fromisoformat(state["day0"]), 8)
    groups = directory(state["units"])
    clock = Clock()
    with clock.part("init"):
        initialize(config, now=now)  # the office token it returns is not kept or printed
    db = Database(config.database_url)
    office = _office()
    with clock.part("leaders"):
        for i, name in enumerate([*LEADERS, PRINCIPAL]):
            with db.session() as s:
                leader_add(s, office, now, name, email=f"leader{i}@gov.example.cn",
                           title="主要领导" if name == PRINCIPAL else "分管领导",
                           principal=name == PRINCIPAL)  # fmt: skip
    slices = []
    n = 0
    with clock.part("units"):
        for group, names in groups.items():
            for name in names:
                start = time.perf_counter()
                with db.session() as s:
                    unit_add(s, office, now, name, groups=[group],
                             emails=[f"u{n:04d}@units.example.cn"],
                             leader=LEADERS[n % len(LEADERS)])  # fmt: skip
                slices.append(time.perf_counter() - start)
                n += 1
    db.engine.dispose()
    tenth = max(1, n // 10)
    first, last = sum(slices[:tenth]) / tenth, sum(slices[-tenth:]) / tenth
    lines = [
        f"  init (schema + office token)  {clock.line('init')}",
        f"  {len(LEADERS) + 1} leaders (leader_add)      {clock.line('leaders')}",
        f"  {n} units (unit_add)        {clock.line('units')}   "
        f"first tenth {first * 1000:.1f} ms/unit, last tenth {last * 1000:.1f} ms/unit",
        "  groups: " + "、".join(f"{g} {len(v)}" for g, v in groups.items()),
    ]
    return {"lines": lines}


def stage_ledger(state: dict) -> dict:
    path = Path(state["ledger"])
    info = write_ledger(path, state["tasks"], directory(state["units"]), state["seed"])
    lines = [
        f"  {info['tasks']} tasks in {len(SECTIONS)} sections × 5 sub-sections, "
        f"{path.stat().st_size / 1024:.0f} KB",
        "  完成时限: " + ", ".join(f"{k} {v}" for k, v in info["phrases"].most_common()),
        "  责任单位: " + ", ".join(f"{k} {v}" for k, v in info["cells"].most_common()),
    ]
    return {"lines": lines}


def stage_import(state: dict) -> dict:
    import sqlalchemy as sa

    from workflow.ledger.calls import import_file
    from workflow.storage.db import Database
    from workflow.storage.models import Assignment

    config = _config(state)
    db = Database(config.database_url)
    now = _at(date.fromisoformat(state["day0"]), 8, 30)
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as s:
        out = import_file(s, _office(), config, now, file=state["ledger"])
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    result = out["result"]
    with db.engine.connect() as conn:
        roles = dict(conn.execute(
            sa.select(Assignment.role, sa.func.count()).group_by(Assignment.role)
        ).all())  # fmt: skip
        per_unit = conn.execute(
            sa.select(sa.func.count()).select_from(Assignment).group_by(Assignment.unit_id)
        ).scalars().all()  # fmt: skip
        periods = conn.execute(
            sa.select(sa.func.count(sa.distinct(Assignment.period)))
        ).scalar()  # fmt: skip
    db.engine.dispose()
    total = sum(roles.values())
    changes = result["plan"].get("changes", {})
    counts = {k: v for k, v in changes.items() if isinstance(v, int)}
    lines = [
        f"  import_file: {wall:.2f} s wall {cpu:.2f} s CPU; plan “{result['plan']['title']}”, "
        f"report dates {', '.join(result['plan']['report_dates'])}",
        f"  {total:,} assignments ("
        + ", ".join(f"{r} {n:,}" for r, n in sorted(roles.items()))
        + f"; {periods} distinct periods), {len(per_unit)} units with work: "
        f"min {min(per_unit, default=0)}, median {sorted(per_unit)[len(per_unit) // 2] if per_unit else 0}, "
        f"max {max(per_unit, default=0)} per unit",
        "  counts: " + ", ".join(f"{k} {v}" for k, v in counts.items() if v),
        f"  warnings: {len(result.get('warnings', []))}"
        + (f" (first: {result['warnings'][0]})" if result.get("warnings") else ""),
    ]
    return {"lines": lines, "assignments": total, "timed": (wall, cpu)}


def _schedule(rows, calendar, days: list[date], seed: int):
    """What the units and the office do on each day: day → [(action, assignment, unit)]."""
    rng = random.Random(seed)
    first = days[0]
    plan: dict[date, list[tuple[str, int, int]]] = defaultdict(list)
    fate: Counter = Counter()

    def on_or_before(d: date) -> date:
        while not calendar.is_working_day(d):
            d -= timedelta(days=1)
        return d

    for aid, unit_id, due in rows:
        r = rng.random()
        base = on_or_before(due)
        if r < 0.85:
            k = rng.randint(0, 10)
            report = max(first, calendar.add_working_days(base, -k) if k else base)
            fate["on time"] += 1
        elif r < 0.95:
            report = max(first, calendar.add_working_days(base, rng.randint(1, 20)))
            fate["late"] += 1
        else:
            fate["never"] += 1
            continue
        plan[report].append(("report", aid, unit_id))
        verify = calendar.add_working_days(report, rng.randint(1, 5))
        if rng.random() < 0.02:
            plan[verify].append(("return", aid, unit_id))
            again = calendar.add_working_days(verify, 2)
            plan[again].append(("report", aid, unit_id))
            plan[calendar.add_working_days(again, 3)].append(("verify", aid, unit_id))
        else:
            plan[verify].append(("verify", aid, unit_id))
    return plan, fate


def stage_year(state: dict) -> dict:
    import sqlalchemy as sa

    from workflow.chasing.check import check_database, load_calendar
    from workflow.chasing.policy import load_policy
    from workflow.directory.roles import Caller
    from workflow.errors import DubanError
    from workflow.outbox.delivery import deliver_pending
    from workflow.storage.db import Database
    from workflow.storage.models import Assignment, Unit
    from workflow.tasks.calls import task_report, task_return, task_verify

    config = _config(state)
    db = Database(config.database_url)
    calendar, policy = load_calendar(config), load_policy(config)
    day0 = date.fromisoformat(state["day0"])
    days = [day0 + timedelta(n) for n in range((date(YEAR, 12, 31) - day0).days + 1)]
    days = [d for d in days if calendar.is_working_day(d)]
    if state["days"]:
        days = days[: state["days"]]
    prep = time.perf_counter()
    with db.engine.connect() as conn:
        units = dict(conn.execute(sa.select(Unit.id, Unit.name)).all())
        rows = conn.execute(
            sa.select(Assignment.id, Assignment.unit_id, Assignment.due)
            .where(Assignment.due.is_not(None))
            .order_by(Assignment.id)
        ).all()
    plan, fate = _schedule(rows, calendar, days, state["seed"])
    callers = {u: Caller(role="unit", name=name, unit_id=u) for u, name in units.items()}
    office = _office()
    prep = time.perf_counter() - prep
    print(
        f"  {len(days)} working days {days[0]} … {days[-1]}; {len(rows):,} assignments: "
        f"{fate['on time']:,} to report on time, {fate['late']:,} late, {fate['never']:,} never "
        f"(script of the year built in {prep:.1f} s, not counted)",
        flush=True,
    )
    header = (
        f"  {'month':7} {'days':>4} {'expired':>7} {'queued':>6} {'sent':>6} {'dropped':>7} "
        f"{'reports':>7} {'late':>5} {'verified':>8} {'ret':>4} | {'check s':>8} {'deliver s':>9} "
        f"{'report s':>8} (wall; CPU) {'RSS MB':>6}"
    )
    print(header, flush=True)
    text = "已按要求完成相关信息公开，专栏已更新，详见门户网站政务公开专栏。"
    month_stats: dict[str, Counter] = {}
    total = Counter()
    clock_month, clock_total = Clock(), Clock()
    errors: Counter = Counter()
    first_errors: list[str] = []
    slowest: list[tuple[float, str]] = []

    def flush_month(month: str) -> None:
        m = month_stats[month]
        print(
            f"  {month:7} {m['days']:>4} {m['expired']:>7,} {m['queued']:>6,} {m['sent']:>6,} "
            f"{m['dropped']:>7,} {m['reports']:>7,} {m['late']:>5,} {m['verified']:>8,} "
            f"{m['returned']:>4} | {clock_month.wall['check']:8.1f} {clock_month.wall['deliver']:9.1f} "
            f"{clock_month.wall['report']:8.1f}"
            f" ({clock_month.cpu['check']:.1f}; {clock_month.cpu['deliver']:.1f}; "
            f"{clock_month.cpu['report']:.1f}) {_rss_mb():6.0f}",
            flush=True,
        )
        for k in ("check", "deliver", "report"):
            clock_total.wall[k] += clock_month.wall[k]
            clock_total.cpu[k] += clock_month.cpu[k]
        clock_month.wall.clear()
        clock_month.cpu.clear()

    month = None
    for d in days:
        key = d.strftime("%Y-%m")
        if key != month:
            if month is not None:
                flush_month(month)
            month = key
            month_stats[key] = Counter()
        m = month_stats[key]
        m["days"] += 1
        start = time.perf_counter()
        with clock_month.part("check"):
            report = check_database(db, d, calendar=calendar, policy=policy, now=_at(d, 9))
        slowest.append((time.perf_counter() - start, f"check {d}"))
        m["expired"] += len(report.expired)
        m["queued"] += len(report.queued)
        start = time.perf_counter()
        with clock_month.part("deliver"):
            summary = deliver_pending(db, config, _at(d, 9, 5))
        slowest.append((time.perf_counter() - start, f"delivery {d} ({summary.sent} sent)"))
        m["sent"] += summary.sent
        m["dropped"] += summary.dropped
        m["failed"] += summary.failed + summary.retried
        with clock_month.part("report"):
            for action, aid, unit_id in plan.get(d, ()):
                try:
                    with db.session() as s:
                        if action == "report":
                            view = task_report(s, callers[unit_id], _at(d, 10), aid, text=text)
                            m["reports"] += 1
                            m["late"] += bool(view.get("late"))
                        elif action == "verify":
                            task_verify(s, office, _at(d, 15), aid)
                            m["verified"] += 1
                        else:
                            task_return(
                                s,
                                office,
                                _at(d, 15),
                                aid,
                                reason="佐证材料不完整，请补充后重新报送",
                            )
                            m["returned"] += 1
                except DubanError as exc:
                    errors[action] += 1
                    if len(first_errors) < 5:
                        first_errors.append(f"{d} {action} #{aid}: {exc.message}")
    if month is not None:
        flush_month(month)
    for m in month_stats.values():
        total.update(m)
    with db.engine.connect() as conn:
        states = dict(conn.execute(
            sa.select(Assignment.state, sa.func.count()).group_by(Assignment.state)
        ).all())  # fmt: skip
    db.engine.dispose()
    wall = sum(clock_total.wall.values())
    slowest.sort(reverse=True)
    lines = [
        f"  {'total':7} {total['days']:>4} {total['expired']:>7,} {total['queued']:>6,} "
        f"{total['sent']:>6,} {total['dropped']:>7,} {total['reports']:>7,} {total['late']:>5,} "
        f"{total['verified']:>8,} {total['returned']:>4}",
        f"  check    {clock_total.line('check')}  ({clock_total.wall['check'] / max(1, total['days']):.2f} s per day)",
        f"  delivery {clock_total.line('deliver')}  "
        f"({total['sent'] / max(clock_total.wall['deliver'], 1e-9):.0f} mails/s; "
        f"{total['failed']} failed or retried)",
        f"  reports  {clock_total.line('report')}  "
        f"({(total['reports'] + total['verified'] + total['returned']) / max(clock_total.wall['report'], 1e-9):.0f} "
        f"operations/s, one transaction each)",
        f"  share of the year's time: check {clock_total.wall['check'] / max(wall, 1e-9):.0%}, "
        f"delivery {clock_total.wall['deliver'] / max(wall, 1e-9):.0%}, "
        f"reporting {clock_total.wall['report'] / max(wall, 1e-9):.0%}",
        "  slowest: " + "; ".join(f"{label} {s:.1f} s" for s, label in slowest[:4]),
        "  states at the end: " + ", ".join(f"{k} {v:,}" for k, v in sorted(states.items())),
    ]
    if errors:
        lines.append(f"  refused operations: {dict(errors)}; first: {first_errors}")
    return {"lines": lines, "sent": total["sent"], "queued": total["queued"]}


def stage_score(state: dict) -> dict:
    from workflow.evaluation.calls import score
    from workflow.storage.db import Database

    config = _config(state)
    db = Database(config.database_url)
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as s:
        out = score(s, _office(), config, _at(date(YEAR, 12, 31), 18), as_of=f"{YEAR}-12-31")
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.engine.dispose()
    display = out["display"]
    units = display.get("units", [])
    lines = [
        f"  score as of {YEAR}-12-31: {wall:.2f} s wall {cpu:.2f} s CPU; {len(units)} units, "
        f"{len(display.get('rows', []))} deduction rows",
    ]
    if units:
        lines.append(f"  best {units[0][1]} {units[0][2]}, worst {units[-1][1]} {units[-1][2]}")
    return {"lines": lines}


def stage_export_evaluation(state: dict) -> dict:
    from workflow.evaluation.calls import export_file
    from workflow.storage.db import Database

    config = _config(state)
    db = Database(config.database_url)
    path = Path(state["workdir"]) / f"{YEAR}年考核结果.xlsx"
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as s:
        out = export_file(s, _office(), config, _at(date(YEAR + 1, 1, 5), 9), path=str(path),
                          as_of=f"{YEAR}-12-31")  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.engine.dispose()
    return {
        "lines": [
            f"  export.evaluation: {wall:.2f} s wall {cpu:.2f} s CPU; {out.get('units')} units, "
            f"{out.get('deductions')} deductions, {path.stat().st_size / 1024:.0f} KB"
        ]
    }


def stage_export_ledger(state: dict) -> dict:
    from workflow.ledger.calls import export_file
    from workflow.storage.db import Database

    config = _config(state)
    db = Database(config.database_url)
    path = Path(state["workdir"]) / f"{YEAR}年台账（导出）.xlsx"
    start, cpu = time.perf_counter(), time.process_time()
    with db.session() as s:
        out = export_file(s, _office(), _at(date(YEAR + 1, 1, 5), 9), plan=str(YEAR),
                          path=str(path), as_of=f"{YEAR}-12-31")  # fmt: skip
    wall, cpu = time.perf_counter() - start, time.process_time() - cpu
    db.engine.dispose()
    rows = out.get("rows", out.get("row_count", "?"))
    return {
        "lines": [
            f"  export.ledger: {wall:.2f} s wall {cpu:.2f} s CPU; {out.get('tasks', '?')} tasks, "
            f"{rows} rows, {path.stat().st_size / 1024:.0f} KB"
        ]
    }


STAGES = {
    "setup": ("1. set-up: init, leaders, units", stage_setup),
    "ledger": ("2. the ledger .xlsx", stage_ledger),
    "import": ("3. import", stage_import),
    "year": (
        "4. a simulated year: check 09:00, delivery 09:05, reports and verifications",
        stage_year,
    ),
    "score": ("5a. year end: score", stage_score),
    "export-evaluation": ("5b. year end: the evaluation workbook", stage_export_evaluation),
    "export-ledger": ("5c. year end: the exported ledger", stage_export_ledger),
}


def child(stage: str, state_file: str) -> None:
    """Run one stage in this (fresh) process; the last line is the result as JSON."""
    state = json.loads(Path(state_file).read_text(encoding="utf-8"))
    func = STAGES[stage][1]
    import sqlalchemy  # noqa: F401 - the imports every stage needs, outside the timing
    import sqlmodel  # noqa: F401

    import workflow.storage.models  # noqa: F401

    base = _rss_mb()
    start, cpu = time.perf_counter(), time.process_time()
    out = func(state)
    out.update(wall=time.perf_counter() - start, cpu=time.process_time() - cpu,
               peak_mb=_peak_mb(), base_mb=base)  # fmt: skip
    print(RESULT + json.dumps(out, ensure_ascii=False, default=str), flush=True)


# ------------------------------------------------------------------ the parent


def run_stage(stage: str, state_file: Path) -> dict:
    title = STAGES[stage][0]
    print(f"\n{title}", flush=True)
    proc = subprocess.Popen(
        [sys.executable, __file__, "--stage", stage, "--state", str(state_file)],
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT):
            result = json.loads(line[len(RESULT) :])
        else:
            print(line, end="", flush=True)
    if proc.wait() != 0 or result is None:
        raise SystemExit(f"stage {stage} failed (exit {proc.returncode})")
    for line in result["lines"]:
        print(line)
    print(
        f"  stage: {result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, peak RSS "
        f"{result['peak_mb']:.0f} MB (process after imports: {result['base_mb']:.0f} MB)",
        flush=True,
    )
    return result


def _load() -> str:
    return ", ".join(f"{x:.1f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def first_working_day(year: int) -> date:
    from calendars import ChinaCalendar

    calendar = ChinaCalendar()
    d = date(year, 1, 2)  # 1 January is always a holiday
    while not calendar.is_working_day(d):
        d += timedelta(days=1)
    return d


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", type=int, default=1000)
    parser.add_argument("--tasks", type=int, default=2000)
    parser.add_argument("--days", type=int, default=0,
                        help="simulate only the first N working days (default: the whole year)")  # fmt: skip
    parser.add_argument("--quick", action="store_true",
                        help="100 units, 200 tasks, 60 working days: to the end of March (a smoke test)")  # fmt: skip
    parser.add_argument("--pg", default=os.environ.get("DUBAN_BENCH_DATABASE_URL"),
                        help="PostgreSQL URL: the run uses a fresh schema, dropped afterwards")  # fmt: skip
    parser.add_argument("--concurrency", type=int, default=4, help="SMTP connections")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--keep", action="store_true", help="keep the working directory")
    parser.add_argument("--stage", choices=list(STAGES), help=argparse.SUPPRESS)
    parser.add_argument("--state", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.stage:
        child(args.stage, args.state)
        return 0
    if args.quick:
        args.units, args.tasks, args.days = 100, 200, args.days or 60

    from bench_mail import Server
    from bench_mail import office as mail_office

    workdir = Path(tempfile.mkdtemp(prefix="duban-pipeline-"))
    server = Server()
    schema = admin = None
    started = time.perf_counter()
    try:
        if args.pg:
            from bench_check import pg_db

            db, schema, admin = pg_db(args.pg)
            url = db.engine.url.render_as_string(hide_password=False)
            db.engine.dispose()
            where = f"PostgreSQL (schema {schema})"
        else:
            url = f"sqlite:///{workdir / 'duban.db'}"
            where = "SQLite file"
        mail_office(workdir, server.port, args.concurrency)  # writes config/duban.toml
        env = {"DUBAN_CONFIG_DIR": str(workdir / "config"), "DUBAN_DATA_DIR": str(workdir),
               "DUBAN_DATABASE_URL": url}  # fmt: skip
        day0 = first_working_day(YEAR)
        state = {
            "env": env, "workdir": str(workdir), "units": args.units, "tasks": args.tasks,
            "days": args.days, "seed": args.seed, "day0": day0.isoformat(),
            "ledger": str(workdir / f"{YEAR}年政务公开工作要点任务分解台账.xlsx"),
        }  # fmt: skip
        state_file = workdir / "state.json"
        state_file.write_text(json.dumps(state, ensure_ascii=False), encoding="utf-8")
        days = f"{args.days} working days" if args.days else "every working day"
        print(f"duban pipeline: {args.units} units, {args.tasks} tasks, {days} of {YEAR}, {where}")
        print(f"load average at start: {_load()}  (python {sys.version.split()[0]})")
        print("each stage runs in a fresh process: wall and CPU are its own, peak RSS is its VmHWM")
        results = {}
        for stage in STAGES:
            server_cpu = server.cpu()
            accepted = server.count()
            results[stage] = run_stage(stage, state_file)
            if stage == "year":
                got = server.count() - accepted
                print(f"  aiosmtpd accepted {got:,} messages (marked sent: {results[stage]['sent']:,}; "
                      f"{'match' if got == results[stage]['sent'] else 'MISMATCH'}), "
                      f"server CPU {server.cpu() - server_cpu:.1f} s")  # fmt: skip
        if not args.pg:
            size = (workdir / "duban.db").stat().st_size / 1024 / 1024
            print(f"\nSQLite file at the end: {size:.0f} MB")
        print("\nsummary (wall s / CPU s / peak MB):")
        for stage, r in results.items():
            print(f"  {stage:18} {r['wall']:8.1f} {r['cpu']:8.1f} {r['peak_mb']:7.0f}")
        print(
            f"whole run {time.perf_counter() - started:.0f} s; load average at the end: {_load()}"
        )
    finally:
        server.close()
        if schema is not None and admin is not None:
            import sqlalchemy as sa

            with admin.begin() as conn:
                conn.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
        if args.keep:
            print(f"kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
