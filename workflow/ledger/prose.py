"""A work plan written as prose (实施方案): numbered paragraphs become tasks. Pure but for re-reading
the .docx for paragraph styles and Word list numbering.

Many plans arrive as a Word document without a task table: sections "一、主要任务", sub-sections
"（一）…", then numbered paragraphs "1.完善公开目录编制。…（委办公室牵头负责，各相关科室负责落实）".
:func:`parse_prose` turns such a document into the same :class:`ParsedLedger` the table parser
produces, so unit resolution, deadlines, the dry run and the database side are shared.

How paragraphs are read, in document order:

* the text of a paragraph is its Word list number (computed by
  :mod:`workflow.ledger.readers.word_numbering` from ``numbering.xml``: per list, per level, restarts,
  formats such as 一、 / （一） / 1.) followed by its typed text;
* a heading is a paragraph in a Word heading style (标题 1 / Heading 1 → section, 2 → sub-section)
  or a short paragraph that starts with "一、" / "（一）"; it sets the task's section path;
* a task is a paragraph numbered "1." / "1、" / "（1）", or an unnumbered one with a unit bracket
  at a sentence's end: title = its first sentence, content = the rest, units and roles from the
  bracket; several brackets in one paragraph make several tasks ("3-1", "3-2", see
  :mod:`workflow.ledger.prose_units`); lines "牵头单位：X" / "（责任单位：Y）" / "完成时限：…" after a
  task (in its paragraph or as paragraphs of their own) are its units and its deadline; an
  unnumbered paragraph right after a task whose units have not come yet continues it;
* a long "（一）…。…" paragraph is a task when it ends with a unit bracket, else a sub-section;
* sections named 总体要求 / 指导思想 / 保障措施 / 组织领导 … hold no tasks; text before the
  first heading is the preamble (title, report dates).

Every paragraph ends in a task or in a warning naming it: the preamble ("正文第1—24段是方案的
标题和开头说明"), each section that holds no tasks, each paragraph read as no task ("正文第60段
未识别为任务…"), each heading with no task under it.

The unit bracket: clauses separated by "，；", each "units + role phrase": 牵头/主办 → lead,
负责/落实/承办 → responsible, 配合/协办/协助/参与 → cooperating. 把关 ("委办公室负责把关，各科室
落实") is taken as lead: the unit that checks and signs off is the one answerable for the task.

Nothing is guessed silently: a task paragraph without a unit bracket stays a task without units
(a warning in the dry run, a refusal in the import, see :func:`resolve_paragraph_units`); a date
broken by the text conversion ("1125日前" for "11月25日前") is a warning, not a date.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from workflow.ledger.deadlines import find_phrase
from workflow.ledger.headers import Header
from workflow.ledger.parsed import (
    SECTION_RE,
    SUBSECTION_RE,
    ParsedLedger,
    ParsedTask,
    assign_keys,
    clean_title,
    first_sentence,
    no_header_error,
    plan_issuer,
    plan_title,
    strip_number,
)
from workflow.ledger.prose_units import (  # noqa: F401 (bracket_units: importable from here)
    Labelled,
    Segment,
    bracket_units,
    peel_labelled,
    read_bracket,
    split_segments,
    trailing_bracket,
    unit_brackets,
)
from workflow.ledger.readers.document import Row, SourceDocument, clip, ledger_error
from workflow.ledger.readers.word_numbering import ParagraphInfo, paragraph_info
from workflow.ledger.units_cell import CellUnits

if TYPE_CHECKING:
    from workflow.ledger.planning import PlannedLedger
    from workflow.ledger.resolve import ResolvedUnit, UnitResolver

UNIT_COLUMN = 0  # prose tasks write their units "in" one pseudo column: the paragraph's bracket
UNIT_PLACE = "段末括号"
HEADING_LIMIT = 60  # a heading is short; "（一）加强责任落实。国务院…" is a paragraph
NON_TASK_SECTIONS = (
    "总体要求", "指导思想", "基本原则", "工作目标", "总体目标", "主要目标", "目标任务",
    "保障措施", "组织保障", "工作保障", "组织领导", "工作要求", "有关要求", "相关要求",
    "工作步骤", "其他事项", "附件",
)  # fmt: skip
_SENTENCE_STOPS = "。！？；;!?"
_CONTACT = re.compile(r"^(联系人|联系电话|电话|邮箱|传真|附件|抄送|此件)")
# "1125日前": month and day run together (the 月 was lost); a bare day is at most two digits
_RUN_TOGETHER = re.compile(r"(?<![\d.．])(\d{3,4})[日号](之前|以前|前|止)")
_WORKING_DAYS = re.compile(
    r"(?<![\d])(\d{1,3}|[一二两三四五六七八九十]{1,3})个?工作日(?:之内|以内|内)?"
)


@dataclass
class ProseTask(ParsedTask):
    """A task read from a paragraph; ``notes`` are its remarks for the dry run and review."""

    paragraph: str = ""  # the whole paragraph as read (number included)
    bracket: str | None = None  # the unit bracket's inner text, as written
    notes: list[str] = field(default_factory=list)

    def shown(self, limit: int = 40) -> str:
        """The paragraph for a one-line message: its start and its bracket."""
        head = clip(trailing_bracket(self.paragraph)[0], limit)
        return f"{head}（{self.bracket}）" if self.bracket else head


@dataclass
class ProseLedger(ParsedLedger):
    """A ledger read from prose paragraphs (the import checks its units itself, see below)."""

    kind: str = "prose"


# --------------------------------------------------------------------------- paragraphs → tasks


def _is_short_heading(text: str) -> bool:
    inner = text.rstrip(_SENTENCE_STOPS)
    return len(inner) <= HEADING_LIMIT and not any(c in inner for c in "。！？；;")


def _non_task(section: list[str]) -> bool:
    return any(word in s for s in section for word in NON_TASK_SECTIONS)


def _section_text(text: str) -> str:
    return " ".join(text.split()).rstrip(_SENTENCE_STOPS)


def _set(section: list[str], text: str, level: int) -> list[str]:
    text = _section_text(text)
    return [text] if level == 1 or not section else [section[0], text]


def run_together_dates(text: str) -> list[str]:
    """Warnings for dates whose 月 was lost ("1125日前"): the readings, never a choice."""
    out = []
    for m in _RUN_TOGETHER.finditer(text):
        digits, end = m.group(1), m.group(2)
        readings = []
        for cut in (1, 2):
            month, day = int(digits[:cut]), int(digits[cut:])
            if len(digits) - cut <= 2 and 1 <= month <= 12 and 1 <= day <= 31:
                readings.append(f"“{month}月{day}日{end}”")
        if readings:
            out.append(
                f"“{m.group(0)}”看不出月份和日期（可能是{'或'.join(readings)}，原文可能缺了“月”字），"
                "未按日期处理，请核对原件"
            )
    return out


def _names_units(text: str) -> bool:
    """The paragraph (or its last line) names a task's units: a unit bracket or unit lines."""
    return bool(unit_brackets(text)) or bool(peel_labelled(text)[1].units)


def _rows(numbers: list[int]) -> str:
    first, last = min(numbers), max(numbers)
    return f"正文第{first}段" if first == last else f"正文第{first}—{last}段"


@dataclass
class _Open:
    """A task paragraph being read (continuation paragraphs and unit lines may follow)."""

    row: Row
    number: str | None
    text: str  # without the number
    section: list[str]
    bracket_found: bool = False
    raw: str = ""  # the paragraph(s) as read, number included
    labelled: Labelled = field(default_factory=Labelled)  # lines "牵头单位：X" after it


class _ProseParser:
    """Reads paragraphs in order; every paragraph ends in a task, or in a warning that names it
    (the preamble, a section that holds no tasks, a paragraph that is no task, an empty
    heading)."""

    def __init__(self, doc: SourceDocument, info: dict[int, ParagraphInfo]) -> None:
        self.doc = doc
        self.info = info
        self.preamble: list[str] = []
        self.preamble_rows: list[int] = []
        self.tasks: list[ProseTask] = []
        self.warnings: list[str] = list(doc.warnings)
        self.section: list[str] = []
        self.seen_heading = False
        self.open: _Open | None = None
        self.skipped: dict[str, list[int]] = {}  # a section without tasks → its paragraphs
        self.headings: list[tuple[Row, list[str]]] = []  # headings of task sections

    def warn(self, row: Row, text: str) -> None:
        self.warnings.append(f"{self.doc.path.name}：{row.where()}：{text}")

    def run(self) -> None:
        for stream in self.doc.streams:
            for row in stream.rows:
                if row.paragraph and row.cells and row.cells[0].strip():
                    self.paragraph(row)
        self.close()
        self.account()

    def account(self) -> None:
        """The warnings for paragraphs that hold no task, a range per part."""
        name = self.doc.path.name
        if self.preamble_rows:
            self.warnings.insert(
                len(self.doc.warnings),
                f"{name}：{_rows(self.preamble_rows)}是方案的标题和开头说明，不作为任务",
            )
        for section, numbers in self.skipped.items():
            self.warnings.append(f"{name}：{_rows(numbers)}（“{section}”部分）不是任务，未导入")
        for row, path in self.headings:
            if not any(t.section_path[: len(path)] == path for t in self.tasks):
                self.warn(row, f"标题“{path[-1]}”下没有识别出任务")

    def skip(self, row: Row) -> None:
        """A paragraph of a section that holds no tasks (总体要求, 保障措施 …)."""
        top = next((s for s in self.section if _non_task([s])), " / ".join(self.section))
        self.skipped.setdefault(top, []).append(row.number)

    def unread(self, row: Row, text: str) -> None:
        self.warnings.append(
            f"{self.doc.path.name}：{row.where()}未识别为任务（没有编号，也没有写明责任单位），"
            f"未导入：{clip(text, 40)}"
        )

    def paragraph(self, row: Row) -> None:
        info = self.info.get(row.number)
        text = " ".join(row.cells[0].split()) if "\n" not in row.cells[0] else row.cells[0]
        if info is not None and info.prefix:
            text = info.prefix + text
        in_preamble = not self.seen_heading
        for problem in run_together_dates(text):
            self.warn(
                row,
                problem + ("；未据此设定报送日期，可用 --report-dates 指定" if in_preamble else ""),
            )
        level = self._heading_level(text, info)
        if level is not None:
            self.close()
            self.section = _set(self.section, text, level)
            self.seen_heading = True
            if _non_task(self.section):
                self.skip(row)
            else:
                self.headings.append((row, list(self.section)))
            return
        number, body = strip_number(text)
        if number is not None:
            self.close()
            self.start(row, number, body, text)
            return
        marker = SECTION_RE.match(text) or SUBSECTION_RE.match(text)
        if marker is not None:  # "（一）加强责任落实。国务院…": a task, or a sub-section with text
            self.close()
            self.marked_paragraph(row, text, marker.group(0))
            return
        if self.open is not None and self.open.labelled.take(text):  # "牵头单位：X" after it
            self.open.raw += "\n" + text
            self.open.bracket_found = self.open.bracket_found or bool(self.open.labelled.units)
            return
        if self.open is not None and not self.open.bracket_found and not _CONTACT.match(text):
            self.open.text += "\n" + text
            self.open.raw += "\n" + text
            self.open.bracket_found = _names_units(text)
            return
        self.close()
        if _non_task(self.section):
            self.skip(row)
        elif (trailing_bracket(text)[1] if in_preamble else _names_units(text)) and not (
            _CONTACT.match(text)
        ):  # an unnumbered task: its words, then its unit bracket
            self.open = _Open(row, None, text, list(self.section), True, text)
        elif in_preamble:
            self.preamble.append(text)
            self.preamble_rows.append(row.number)
        else:
            self.unread(row, text)

    def _heading_level(self, text: str, info: ParagraphInfo | None) -> int | None:
        if not _is_short_heading(text):
            return None
        if info is not None and info.heading in (1, 2):
            return info.heading
        if SECTION_RE.match(text):
            return 1
        if SUBSECTION_RE.match(text):
            return 2
        return None

    def start(self, row: Row, number: str, body: str, text: str) -> None:
        has_units = _names_units(body)
        if _non_task(self.section):
            if has_units:
                self.warn(row, f"“{clip(body, 20)}”在“{self.section[0]}”部分，不作为任务导入")
            self.skip(row)
            return
        if not self.seen_heading and not has_units:
            self.preamble.append(text)
            self.preamble_rows.append(row.number)
            return
        self.open = _Open(row, number, body, list(self.section), has_units, text)

    def marked_paragraph(self, row: Row, text: str, marker: str) -> None:
        level = 1 if SECTION_RE.match(text) else 2
        body = text[len(marker) :].strip()
        parent = self.section[: level - 1]
        heading = marker + clean_title(first_sentence(body))
        has_units = _names_units(body)
        non_task = _non_task(self.section) or _non_task([heading])
        if has_units and not non_task:
            self.open = _Open(row, marker.strip("、.． "), body, parent, True, text)
            self.close()
        elif not non_task:
            self.warn(
                row,
                f"以“{marker}”开头的段落末尾没有写明责任单位，按小节标题处理，未作为任务导入："
                f"{clip(text, 40)}",
            )
        self.section = _set(self.section, heading, level)
        self.seen_heading = True
        if non_task:
            self.skip(row)

    def close(self) -> None:
        if self.open is None:
            return
        current, self.open = self.open, None
        self.tasks.extend(self.read_tasks(current))

    def read_tasks(self, current: _Open) -> list[ProseTask]:
        """The tasks of a paragraph (with its continuations and unit lines): one per unit
        bracket; unit lines belong to the last one."""
        body, labelled = peel_labelled(current.text)
        segments = split_segments(body)
        lines = labelled.units + current.labelled.units
        deadline = "；".join(labelled.deadline + current.labelled.deadline) or None
        many = len(segments) > 1
        out = []
        for index, segment in enumerate(segments, start=1):
            number = current.number
            if many and number is not None:
                number = f"{number}-{index}"
            last = index == len(segments)
            task = self.task(current, segment, number, lines if last else [], many)
            task.deadline_text = deadline  # "完成时限：…" lines hold for every task above them
            out.append(task)
        return out

    def task(
        self, current: _Open, segment: Segment, number: str | None, lines: list[str], many: bool
    ) -> ProseTask:
        full, inner = segment.text, segment.bracket
        title = clean_title(first_sentence(full))
        content = _content(full, title)
        read = read_bracket(inner) if inner else CellUnits()
        for line in lines:
            more = read_bracket(line)
            read.mentions.extend(more.mentions)
            read.notes.extend(more.notes)
        written = "；".join(x for x in (inner, *segment.remarks, *lines) if x) or None
        row = current.row
        paragraph = current.raw if not many else f"{full}（{inner}）" if inner else full
        task = ProseTask(
            section_path=current.section,
            number=number,
            title=title,
            content=content,
            metric=None,
            deadline_text=None,
            progress=None,
            units=[(m, UNIT_COLUMN) for m in read.mentions],
            row=row,
            header=Header(row=row, names={UNIT_COLUMN: UNIT_PLACE}),
            paragraph=paragraph,
            bracket=written,
        )
        if not title:
            raise ledger_error(self.doc.path, row.where(), "编号段落没有内容")
        if many:
            task.notes.append(
                "与同段其他任务分开：本段共有多个单位括号，每个括号前的文字为一项任务"
            )
        for note in [*read.notes, *segment.remarks]:
            task.notes.append(f"括号中的“{clip(note, 30)}”不是单位名称，作为备注，未分派")
            self.warn(row, task.notes[-1])
        etc = [m.written for m in read.mentions if m.etc]
        if etc:
            task.notes.append(
                f"“{'、'.join(etc)}”中的“等”没有写明还有哪些单位，只分派给写明的单位，请核对"
            )
            self.warn(row, task.notes[-1])
        if not read.mentions:
            task.notes.append(
                "段末没有写明责任单位（如“（委办公室牵头负责，各相关科室负责落实）”）"
            )
        deadline_notes = self._deadline_notes(full)
        task.notes.extend(deadline_notes)
        for note in deadline_notes:  # a missing bracket is warned when units are resolved
            self.warn(row, note)
        return task

    def _deadline_notes(self, text: str) -> list[str]:
        notes = run_together_dates(text)
        chosen = find_phrase(text)
        limits = [m.group(0) for m in _WORKING_DAYS.finditer(text) if m.group(0) != chosen]
        limits = list(dict.fromkeys(limits))
        if limits and chosen:
            shown = "、".join(f"“{p}”" for p in limits)
            notes.append(f"段中另有事件触发的工作日时限{shown}，事件发生后用 duban event add 登记")
        return notes


def _content(full: str, title: str) -> str | None:
    """The paragraph after its first sentence (all of it when the title is a clause of it)."""
    _, body = strip_number(full)
    for i, ch in enumerate(body):
        if ch in _SENTENCE_STOPS or ch == "\n":
            head, rest = body[:i], body[i + 1 :]
            if clean_title(head) == title:
                return rest.strip() or None
            break
    return body.strip() if clean_title(body) != title else None


def parse_prose(doc: SourceDocument) -> ProseLedger:
    """Tasks from a .docx written as prose; LedgerError when it holds no numbered task paragraph."""
    info = paragraph_info(doc.path) if doc.path.exists() else {}
    parser = _ProseParser(doc, info)
    parser.run()
    if not parser.tasks:
        if doc.has_tables:
            raise no_header_error(doc)
        raise ledger_error(
            doc.path,
            "",
            "文档中没有表格，也没有找到编号的任务段落（如“1.完善公开目录编制。…（委办公室牵头负责）”），"
            "不是任务分解表/台账或工作方案",
        )
    assign_keys(parser.tasks)
    title = plan_title(parser.preamble, doc.path)
    return ProseLedger(
        path=doc.path,
        format=doc.format,
        title=title,
        issuer=plan_issuer(title),
        preamble=parser.preamble,
        tasks=list(parser.tasks),
        warnings=list(dict.fromkeys(parser.warnings)),
    )


# --------------------------------------------------------------------------- units at import


def resolve_paragraph_units(
    resolver: UnitResolver, planned: PlannedLedger, *, dry_run: bool
) -> list[list[ResolvedUnit]]:
    """Resolve every task's units; a paragraph without units, or with a unit not in the
    directory, is a warning in the dry run (the paragraph shown) and refuses the import."""
    path = planned.parsed.path
    problems: list[tuple[ParsedTask, str]] = []
    resolved = []
    for pt in planned.tasks:
        task = pt.parsed
        unknown: list = []
        resolved.append(resolver.resolve_task(task, unknown))
        if not task.units:
            problems.append((task, f"任务“{clip(task.title, 20)}”没有写明责任单位（段末括号）"))
        names = list(dict.fromkeys(u.mention.full for u in unknown))
        if names:
            close = resolver.closest(names[0])
            hint = f"（与“{names[0]}”最接近的是：{'、'.join(close)}）" if close else ""
            listed = "、".join(f"“{n}”" for n in names)
            problems.append((task, f"单位{listed}不在单位名录中{hint}"))
    if not problems:
        return resolved
    if not dry_run:
        task, problem = problems[0]
        others = len({id(t) for t, _ in problems}) - 1
        more = f"（另有 {others} 段也有此类问题，可先用 --dry-run 查看）" if others else ""
        raise ledger_error(
            path,
            task.row.where(),
            f"{problem}{more}；请用 duban unit add / duban unit edit --add-alias 补充名录，"
            "加 --create-units 自动新建，或修改文件（或 --to-ledger 导出的复核台账）后再导入",
        )
    for task, problem in problems:
        shown = task.shown() if isinstance(task, ProseTask) else clip(task.title)
        planned.warnings.append(
            f"{path.name}：{task.row.where()}：{problem}，正式导入前须解决；原文：{shown}"
        )
    return resolved
