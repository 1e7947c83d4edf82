"""Unit cells against the directory: the name as written, bracket and all, before its parts.

Real ledgers write groups and units whose own name holds a bracket ("各乡镇（街道）",
"各县(市、区)卫生计生局", "市政务服务数据管理局（市大数据中心）"); a bracket is only a note or
another name ("海域处（审批处）", "综合协调处（含办公室、档案室）") when the whole is unknown.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from ledgers import write_xlsx

from calendars import ChinaCalendar
from workflow.directory.units import add_unit, edit_unit, resolve_unit
from workflow.errors import LedgerError, NotFound
from workflow.ledger.importing import import_ledger
from workflow.ledger.parsed import ParsedTask
from workflow.ledger.resolve import UnitResolver
from workflow.ledger.units_cell import split_unit_cell

NOW = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)

# as ``duban unit add`` is given them: name, aliases, groups
DIRECTORY: list[tuple[str, list[str], list[str]]] = [
    ("办公室", [], ["委机关各科室"]),
    ("财务科", [], ["委机关各科室"]),
    ("医政科", [], ["各科室（单位）"]),
    ("海域处（审批处）", [], ["厅机关各处室"]),  # stored as 海域处, alias 审批处
    ("综合协调处", [], ["厅机关各处室"]),
    ("安平镇人民政府", [], ["各乡镇（街道）"]),
    ("兴隆街道办事处", [], ["各乡镇(街道)"]),  # half-width: the same group
    ("白云镇人民政府", [], ["各乡镇"]),  # a group without the bracket, another one
    ("市第一人民医院", [], ["各公立医院"]),
    ("三元区卫生计生局", [], ["各县(市、区)卫生计生局"]),
    ("永安市卫生计生局", [], ["各县（市、区）卫生计生局"]),
    ("市政务服务数据管理局（市大数据中心）", [], []),  # stored as the name + an alias
    ("市档案馆", [], []),  # renamed below to its full name, bracket included
]
ARCHIVES = "市档案馆（市地方志办公室）"
TOWNS = [("安平镇人民政府", "各乡镇（街道）"), ("兴隆街道办事处", "各乡镇（街道）")]
COUNTIES = [("三元区卫生计生局", "各县（市、区）卫生计生局"), ("永安市卫生计生局", "各县（市、区）卫生计生局")]  # fmt: skip


@pytest.fixture
def directory(db, office):
    with db.session() as s:
        for name, aliases, groups in DIRECTORY:
            add_unit(s, office, name, NOW, aliases=aliases, groups=groups)
        edit_unit(s, office, "市档案馆", NOW, rename=ARCHIVES)
    return db


def _task(cell: str) -> ParsedTask:
    """A task whose 责任单位 cell (column 3) is ``cell``; resolving needs only its units."""
    mentions = [(m, 3) for m in split_unit_cell(cell, "responsible")]
    return ParsedTask([], "1", "任务", None, None, None, None, mentions, row=None, header=None)


def resolve(db, office, cell: str) -> list[tuple[str, str, str, str | None]]:
    with db.session() as s:
        resolver = UnitResolver(s, office, NOW)
        unknown: list = []
        resolved = resolver.resolve_task(_task(cell), unknown)
        assert not unknown, [u.mention.full for u in unknown]
        return [(r.unit.name, r.role, r.how, r.group) for r in resolved]


R = "responsible"


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        # a group whose own name holds a bracket, either width, with a role word, among others
        ("各乡镇（街道）", [(n, R, "group", g) for n, g in TOWNS]),
        ("各乡镇(街道)", [(n, R, "group", g) for n, g in TOWNS]),
        ("各乡镇（街道）牵头", [(n, "lead", "group", g) for n, g in TOWNS]),
        ("各乡镇（街道）、市第一人民医院",
         [*((n, R, "group", g) for n, g in TOWNS), ("市第一人民医院", R, "exact", None)]),
        ("各县(市、区)卫生计生局", [(n, R, "group", g) for n, g in COUNTIES]),
        ("各县（市、区）卫生计生局负责落实", [(n, R, "group", g) for n, g in COUNTIES]),
        ("委各科室(单位)负责落实", [("医政科", R, "group", "各科室（单位）")]),  # 三明 2017
        # the group without the bracket is another group
        ("各乡镇", [("白云镇人民政府", R, "group", "各乡镇")]),
        # units whose real name holds a bracket
        ("市政务服务数据管理局（市大数据中心）", [("市政务服务数据管理局", R, "exact", None)]),
        ("市大数据中心", [("市政务服务数据管理局", R, "alias", None)]),
        (ARCHIVES, [(ARCHIVES, R, "exact", None)]),
        ("市档案馆(市地方志办公室)", [(ARCHIVES, R, "exact", None)]),
        ("档案馆（市地方志办公室）牵头", [(ARCHIVES, "lead", "normalized", None)]),
        # the whole unknown: the bracket is another name or a note
        ("海域处（审批处）", [("海域处", R, "exact", None)]),
        ("海域处(审批处)、办公室", [("海域处", R, "exact", None), ("办公室", R, "exact", None)]),
        ("海域处\n（审批处）", [("海域处", R, "exact", None)]),
        ("审批处", [("海域处", R, "alias", None)]),
        ("各公立医院（含专科医院）", [("市第一人民医院", R, "group", "各公立医院")]),
        ("综合协调处（含办公室、档案室）", [("综合协调处", R, "exact", None)]),
        # brackets holding a role; labelled brackets around the whole cell
        ("办公室（牵头）、财务科（配合）",
         [("办公室", "lead", "exact", None), ("财务科", "cooperating", "exact", None)]),
        ("（牵头单位：办公室；责任单位：财务科）",
         [("办公室", "lead", "exact", None), ("财务科", R, "exact", None)]),
        ("(牵头单位:海域处(审批处);配合单位:各乡镇(街道))",
         [("海域处", "lead", "exact", None), *((n, "cooperating", "group", g) for n, g in TOWNS)]),
        # plain names, normalized names, groups, notes after the names
        ("局办公室主办,财务科协办", [("办公室", "lead", "normalized", None), ("财务科", "cooperating", "exact", None)]),
        ("委机关各科室", [("办公室", R, "group", "委机关各科室"), ("财务科", R, "group", "委机关各科室")]),
        ("办公室、财务科等委机关各科室", [("办公室", R, "exact", None), ("财务科", R, "exact", None)]),
        ("办公室、财务科，按职责分工落实", [("办公室", R, "exact", None), ("财务科", R, "exact", None)]),
        ("委机关各科室根据职责分别负责", [("办公室", R, "group", "委机关各科室"), ("财务科", R, "group", "委机关各科室")]),
    ],
)  # fmt: skip
def test_cell_resolves_to(directory, office, cell, expected):
    assert resolve(directory, office, cell) == expected


def test_explained_with_the_name_that_matched(directory, office):
    with directory.session() as s:
        resolver = UnitResolver(s, office, NOW)
        got = {
            cell: [r.explain() for r in resolver.resolve_task(_task(cell), [])]
            for cell in (ARCHIVES, "档案馆（市地方志办公室）", "海域处（审批处）", "审批处")
        }
    assert got == {
        ARCHIVES: ["名称一致"],
        "档案馆（市地方志办公室）": ["规范化匹配：档案馆（市地方志办公室）"],
        "海域处（审批处）": ["名称一致"],
        "审批处": ["别名：审批处"],
    }


@pytest.mark.parametrize(
    ("written", "found"),
    [
        ("市政务服务数据管理局（市大数据中心）", "市政务服务数据管理局"),
        ("市政务服务数据管理局(市大数据中心)", "市政务服务数据管理局"),
        ("市大数据中心", "市政务服务数据管理局"),
        (ARCHIVES, ARCHIVES),
        ("海域处（审批处）", "海域处"),
        ("海域处（备注）", "海域处"),
        ("（审批处）", None),
        ("市档案馆", None),  # the part of a name is not the name
        ("各乡镇（街道）", None),  # a group is not a unit
    ],
)
def test_directory_resolves_a_name_with_its_bracket(directory, written, found):
    with directory.session() as s:
        if found is None:
            with pytest.raises(NotFound):
                resolve_unit(s, written)
        else:
            assert resolve_unit(s, written).name == found


def test_a_name_with_a_bracket_is_not_a_rename_conflict(directory, office):
    """Renaming to "财务科（新）" is no clash with 财务科: only whole names count."""
    with directory.session() as s:
        assert edit_unit(s, office, "办公室", NOW, rename="财务科（新）").name == "财务科（新）"


def test_import_with_bracketed_groups_and_unknown_named_as_written(directory, office, tmp_path):
    rows = [
        ["2026年政务公开工作任务分解表"],
        ["序号", "工作任务", "责任单位", "完成时限"],
        ["1", "公开基层政务", "各乡镇（街道）", "11月"],
        ["2", "公开数据开放", "市政务服务数据管理局（市大数据中心）、市档案馆(市地方志办公室)", "11月"],
    ]  # fmt: skip
    with directory.session() as s:
        result = import_ledger(
            s, office, write_xlsx(tmp_path / "a.xlsx", rows), calendar=ChinaCalendar(), now=NOW
        )
    assert [[u["name"] for u in t.units] for t in result.tasks] == [
        ["安平镇人民政府", "兴隆街道办事处"],
        ["市政务服务数据管理局", ARCHIVES],
    ]
    rows.append(["3", "公开社区事务", "各街道（社区）", "11月"])
    with directory.session() as s, pytest.raises(LedgerError) as err:
        import_ledger(
            s, office, write_xlsx(tmp_path / "b.xlsx", rows), calendar=ChinaCalendar(), now=NOW
        )
    assert "第5行C列（责任单位）：单位“各街道（社区）”不在单位名录中" in err.value.message


# -- adding a unit: the same refusals, without loading the directory --------------------------
@pytest.mark.parametrize(
    ("name", "aliases", "refused"),
    [
        ("办公室", [], "单位“办公室”已存在（办公室）"),
        (" 办 公室", [], "单位“办公室”已存在（办公室）"),  # cleaned as it is stored
        ("审批处", [], "单位“审批处”已存在（海域处）"),  # another unit's alias
        ("海域处（新址）", [], "单位“海域处”已存在（海域处）"),  # the name before the bracket
        ("市大数据中心", [], "单位“市大数据中心”已存在（市政务服务数据管理局）"),
        ("停用科", [], "单位“停用科”已存在（停用科）"),  # inactive units count
        ("局财务科", [], None),  # a normalized match is no clash (as before)
        ("各乡镇（街道）", [], None),  # a group's name is free: stored as 各乡镇 + alias 街道
        ("新科室", ["财务科"], None),  # aliases given are not checked (as before)
    ],
)
def test_unit_add_refuses_a_taken_name(directory, office, name, aliases, refused):
    from workflow.errors import Conflict

    with directory.session() as s:
        add_unit(s, office, "停用科", NOW)
        edit_unit(s, office, "停用科", NOW, active=False)
    with directory.session() as s:
        if refused is None:
            assert add_unit(s, office, name, NOW, aliases=aliases).id
        else:
            with pytest.raises(Conflict) as err:
                add_unit(s, office, name, NOW, aliases=aliases)
            assert err.value.message == refused


def test_unit_add_loads_no_other_unit(directory, office):
    """The directory is checked with plain rows, not one ORM object per unit per add."""
    import sqlalchemy as sa

    from workflow.errors import Conflict
    from workflow.storage.models import Unit

    loaded: list[str] = []

    def count(target, context):
        loaded.append(target.name)

    sa.event.listen(Unit, "load", count)
    try:
        with directory.session() as s:
            add_unit(s, office, "新科室", NOW, groups=["委机关各科室"])
            with pytest.raises(Conflict, match="已存在"):
                add_unit(s, office, "审批处", NOW)
    finally:
        sa.event.remove(Unit, "load", count)
    assert loaded == []
