"""The ledger parser: located rows in, :class:`ParsedLedger` out. Pure: no database, no dates.

How rows are read:

* text before the first header (title rows, the intro paragraph, the 填报单位/填报时间 line) is
  the preamble; the title gives the plan's name and year, the intro its report dates;
* a header row (see :mod:`workflow.importer.headers`) sets the columns; it may repeat before
  every section, with other names for the same columns;
* a row (or Word paragraph) holding only "一、…" or "（一）…" is a section or sub-section;
  a 序号 cell holding "一" with a title next to it is one too;
* a 工作任务 cell that reads "三、做好…" (the Jiangmen layout) is a section heading for its row;
* a row whose 工作任务 cell is empty, or merged from the row above, continues the item above: it
  is its own task under that item. An item spanning several rows becomes a level of the section
  path and each row takes its title from its requirement's first sentence;
* every task gets a stable ``key`` (its number, else its section and title) for re-import.

Errors are :class:`~workflow.errors.LedgerError` naming file, sheet/table, row and column.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from workflow.importer.headers import LABELS, Header, detect_header, merge_subheader
from workflow.importer.source import Row, SourceDocument, Stream, clip, ledger_error
from workflow.importer.units_cell import UnitMention, split_unit_cell

_CN = "一二三四五六七八九十百零〇"
SECTION_RE = re.compile(rf"^[{_CN}]+\s*[、.．]")
SUBSECTION_RE = re.compile(rf"^[（(][{_CN}]+[）)]")
_NUMERAL_ONLY = re.compile(rf"^(?:[{_CN}]+[、.．]?|[（(][{_CN}]+[）)])$")
# "16. 建立…", "20.2021年11月20日前…", "（3）…" — but not a decimal such as "2.5万"
_LEADING_NUMBER = re.compile(
    r"^\s*(?:(\d{1,3})\s*[.．、](?!\d+(?:[.．]\d+)?\s*(?:[%％万亿千元倍]|个百分点))|[（(](\d{1,3})[）)])\s*"
)
_FILL_LINE = re.compile(
    r"^(填报单位|填报时间|填表单位|填表时间|填报人|审核人|联系人|联系电话)[:：]"
)
_NOTE = re.compile(r"^(注|备注|说明)[:：]")
_TITLE_WORDS = ("要点", "台账", "方案", "分解", "计划", "清单", "任务表")
_YEAR = re.compile(r"(?<![\d〔\[（(])((?:19|20)\d{2})\s*年")
_SENTENCE_END = "。！？；;!?"


@dataclass
class ParsedTask:
    """One task as read from the file (units not yet resolved, deadline not yet read)."""

    section_path: list[str]
    number: str | None
    title: str
    content: str | None
    metric: str | None
    deadline_text: str | None
    progress: str | None
    units: list[tuple[UnitMention, int]]  # mention and the column it was written in
    row: Row
    header: Header
    key: str = ""

    def where(self, role: str | None = None, column: int | None = None) -> str:
        """Location of the row, or of the column holding ``role`` (with its header name)."""
        if column is None and role is not None:
            column = self.header.first(role)
        if column is None:
            return self.row.where()
        return (
            f"{self.row.where(column)}（{self.header.label(column) or LABELS.get(role or '', '')}）"
        )


@dataclass
class ParsedLedger:
    path: Path
    format: str
    title: str
    issuer: str | None
    preamble: list[str]
    tasks: list[ParsedTask]
    warnings: list[str] = field(default_factory=list)

    @property
    def intro(self) -> str:
        return "\n".join(self.preamble)

    def title_year(self) -> int | None:
        """The plan year written in the title ("…2023年政务公开…"), else in the file name."""
        for text in (self.title, self.path.stem):
            m = _YEAR.search(text or "")
            if m:
                return int(m.group(1))
        return None


@dataclass
class _Record:
    """One data row before items are grouped."""

    row: Row
    header: Header
    section: list[str]
    item: str
    item_heading: bool
    continues: bool
    number: str
    requirement: str


def strip_number(text: str) -> tuple[str | None, str]:
    """ "16. 建立…" → ("16", "建立…"); "（3）做好…" → ("3", "做好…")."""
    m = _LEADING_NUMBER.match(text)
    if not m:
        return None, text.strip()
    return m.group(1) or m.group(2), text[m.end() :].strip()


def first_sentence(text: str) -> str:
    """The title a requirement gives: its first sentence, without number and final stop.

    A long first sentence (over 40 characters) is cut at its first comma when that clause
    can stand as a title ("设立专栏,重点围绕…" → "设立专栏"), not when it is a lead-in
    ("按照《…》相关要求,…"); the full text stays in the task's content.
    """
    _, body = strip_number(text)
    body = body.strip()
    sentence = body.rstrip(_SENTENCE_END)
    for i, ch in enumerate(body):
        if (ch in _SENTENCE_END or ch == "\n") and i > 0:
            sentence = body[:i].strip().rstrip(_SENTENCE_END)
            break
    if len(sentence) > TITLE_LIMIT:
        clause = _split_clause(sentence)
        if clause and len(clause) >= 4 and not clause.startswith(_LEAD_INS):
            return clause
    return sentence


TITLE_LIMIT = 40
_LEAD_INS = ("按照", "根据", "对照", "依据", "围绕", "结合", "为了", "为")


def _split_clause(sentence: str) -> str:
    """The text before the first comma outside brackets and quotes."""
    depth = 0
    for i, ch in enumerate(sentence):
        if ch in "（(《“【":
            depth += 1
        elif ch in "）)》”】" and depth:
            depth -= 1
        elif ch in ",，" and depth == 0:
            return sentence[:i].strip()
    return ""


def clean_title(text: str) -> str:
    _, body = strip_number(text)
    return " ".join(body.split()).rstrip(_SENTENCE_END + "，,")


def section_level(text: str) -> int | None:
    if SECTION_RE.match(text):
        return 1
    if SUBSECTION_RE.match(text):
        return 2
    return None


def _set_section(section: list[str], text: str, level: int) -> list[str]:
    text = " ".join(text.split()).rstrip(_SENTENCE_END)
    return [text] if level == 1 or not section else [section[0], text]


_ITEM_NUMBER = re.compile(r"^[（(]?\d{1,3}(?:[.．]\d{1,3})*[）)]?\s*[、.．]?$")
_EMAIL_CELL = re.compile(r"^[^\s@]+@[^\s@]+\.[^\s@]+$")
_DATE_CELL = re.compile(r"^\d{4}[-/.．](?:0?[1-9]|1[0-2])(?:[-/.．](?:0?[1-9]|[12]\d|3[01]))?$")
_PHONE_PUNCTUATION = re.compile(r"[\s()（）+\-—]")


def _contact_cell(value: str) -> bool:
    """A cell that is only a phone number or an e-mail address: a contact list, not a task."""
    value = value.strip()
    if _EMAIL_CELL.match(value):
        return True
    if _DATE_CELL.match(value):
        return False
    digits = _PHONE_PUNCTUATION.sub("", value)
    return digits.isdigit() and 7 <= len(digits) <= 13


def _foreign_table(row: Row, header: Header | None) -> str | None:
    """Why a Word table that starts without a header is not the ledger continued (None: it is).

    A ledger split over several tables keeps its width, and its first row is a section or an
    item whose 序号 is a number; a contact list ("科室 | 联系人 | 电话") after the ledger is not.
    """
    if header is None or detect_header(row) is not None:
        return None
    if row.width != header.width:
        return "的列数与表头不一致"
    values = row.values()
    contact = next((v for v in values if _contact_cell(v)), None)
    if contact is not None:
        return f"第一行含电话或邮箱“{clip(contact, 20)}”，像是联系人表"
    number = row.cell(header.first("number")).strip()
    if len(values) == 1 or not number or header.first("number") is None:
        return None
    if _ITEM_NUMBER.match(number) or _NUMERAL_ONLY.match(number) or section_level(number):
        return None
    return f"第一行的序号“{clip(number, 12)}”不是编号"


class _Parser:
    def __init__(self, doc: SourceDocument) -> None:
        self.doc = doc
        self.preamble: list[str] = []
        self.records: list[_Record] = []
        self.warnings: list[str] = list(doc.warnings)
        self.seen_header = False
        self.headers: list[Header] = []

    # -- rows -------------------------------------------------------------------------------
    def stream(self, stream: Stream) -> None:
        """Walk one sheet / document body / CSV file; the header does not cross sheets."""
        header: Header | None = None
        section: list[str] = []
        place: str | None = None
        skipping = False
        previous_was_section = False
        rows = stream.rows
        i = 0
        while i < len(rows):
            row = rows[i]
            i += 1
            values = row.values()
            if not values:
                continue
            if not row.paragraph and row.place != place:  # a new Word table
                place = row.place
                reason = _foreign_table(row, header)
                skipping = reason is not None
                if skipping:
                    self.warnings.append(
                        f"{self.doc.path.name}：{row.where()}：该表格{reason}，不是任务表的续表，已跳过"
                    )
            if skipping and not row.paragraph:
                continue
            found = detect_header(row)
            if found is not None:
                if not self.seen_header and not previous_was_section:
                    section = []  # headings in a prose preamble are not the table's sections
                header = found
                self.headers.append(found)
                self.seen_header = True
                if i < len(rows) and merge_subheader(header, rows[i]):
                    i += 1
                previous_was_section = False
                continue
            before = section
            section = self.row(row, values, header, section)
            previous_was_section = section is not before

    def row(
        self, row: Row, values: list[str], header: Header | None, section: list[str]
    ) -> list[str]:
        """Handle one non-header row; returns the section path after it (a new list if changed)."""
        if len(values) == 1:
            text = values[0]
            level = section_level(text)
            if level is not None and len(text) <= 80:
                return _set_section(section, text, level)
            if header is None or _FILL_LINE.match(text) or _NOTE.match(text) or row.paragraph:
                if not self.seen_header and not _FILL_LINE.match(text):
                    self.preamble.append(text)
                return section
        elif header is None or row.paragraph:
            if not self.seen_header:
                self.preamble.append(" ".join(values))
            return section
        return self.data_row(row, header, section)

    def data_row(self, row: Row, header: Header, section: list[str]) -> list[str]:
        number_col, task_col, req_col = (
            header.first("number"),
            header.first("task"),
            header.first("requirement"),
        )
        number = row.cell(number_col)
        item = row.cell(task_col)
        requirement = row.cell(req_col)
        has_units = any(row.cell(c) for c, _ in header.unit_columns)
        if (
            number
            and _NUMERAL_ONLY.match(number)
            and not has_units
            and not row.cell(header.first("deadline"))
        ):
            title = item or requirement
            level = 2 if number.startswith(("（", "(")) else 1
            text = (
                number
                if not title
                else (
                    f"{number}{title}"
                    if level == 2 or number[-1] in "、.．"
                    else f"{number}、{title}"
                )
            )
            return _set_section(section, text, level)
        if not item and not requirement:
            if number or has_units:
                self.warnings.append(f"{row.where()}：没有工作任务内容，已跳过")
            return section
        heading_level = section_level(item) if item else None
        if heading_level is not None and not (
            task_col is not None and task_col in row.merged and self.records
        ):
            section = _set_section(section, item, heading_level)
        continues = (
            bool(self.records) and task_col is not None and (not item or task_col in row.merged)
        )
        if continues and not item:
            prev = self.records[-1]
            item, heading_level = prev.item, (1 if prev.item_heading else None)
        self.records.append(
            _Record(
                row=row,
                header=header,
                section=list(section),
                item=item,
                item_heading=heading_level is not None,
                continues=continues,
                number=number.rstrip("、.．").strip(),
                requirement=requirement,
            )
        )
        return section

    # -- records → tasks --------------------------------------------------------------------
    def groups(self) -> list[list[_Record]]:
        groups: list[list[_Record]] = []
        for rec in self.records:
            if rec.continues and groups and groups[-1][-1].item == rec.item:
                groups[-1].append(rec)
            else:
                groups.append([rec])
        return groups

    def tasks(self) -> list[ParsedTask]:
        tasks: list[ParsedTask] = []
        for group in self.groups():
            several = len(group) > 1
            first = group[0].number
            # one 序号 for several rows (merged or left empty below): number them 1-1, 1-2…
            shared = several and bool(first) and all(r.number in ("", first) for r in group)
            for index, rec in enumerate(group, start=1):
                tasks.append(self.task(rec, several, f"{first}-{index}" if shared else None))
        assign_keys(tasks)
        return tasks

    def task(self, rec: _Record, several: bool, shared_number: str | None) -> ParsedTask:
        header, row = rec.header, rec.row
        req_number, req_body = strip_number(rec.requirement)
        section = list(rec.section)
        if rec.item and not rec.item_heading and several:
            section.append(clean_title(rec.item))
        content = (req_body or None) if rec.requirement else None
        if rec.item and not rec.item_heading and not several:
            title = clean_title(rec.item)
            item_number, item_body = strip_number(rec.item)
            if not rec.requirement and "\n" in item_body.strip() and len(title) > TITLE_LIMIT:
                # several long paragraphs and no 具体要求 column: the first sentence is the
                # title, the whole cell the content (short bullet lists stay one title)
                title, content = first_sentence(rec.item), item_body.strip()
        else:
            title = first_sentence(rec.requirement) if rec.requirement else clean_title(rec.item)
            item_number = None
        number = shared_number or rec.number or req_number or item_number
        units: list[tuple[UnitMention, int]] = []
        for column, role in header.unit_columns:
            mentions = split_unit_cell(row.cell(column), role)
            units.extend((m, column) for m in mentions)
            etc = [m.written for m in mentions if m.etc]
            if etc:
                where = f"{row.where(column)}（{header.label(column) or LABELS[role]}）"
                self.warnings.append(
                    f"{self.doc.path.name}：{where}：“{'、'.join(etc)}”中的“等”没有写明还有哪些单位，"
                    "只分派给写明的单位，请核对"
                )
        task = ParsedTask(
            section_path=section,
            number=number or None,
            title=title,
            content=content,
            metric=row.cell(header.first("metric")) or None,
            deadline_text=row.cell(header.first("deadline")) or None,
            progress=row.cell(header.first("progress")) or None,
            units=units,
            row=row,
            header=header,
        )
        if not title:
            raise ledger_error(self.doc.path, task.where("task"), "没有工作任务名称")
        if not units:
            columns = header.unit_columns
            where = task.where(column=columns[0][0]) if columns else task.where()
            raise ledger_error(self.doc.path, where, f"任务“{clip(title)}”没有填写牵头或责任单位")
        return task


def assign_keys(tasks: list[ParsedTask]) -> None:
    """Stable keys for re-import: the number when numbers are unique, else section + number,
    else a digest of section and title; a repeated key gets "#2", "#3"."""
    numbers = Counter(t.number for t in tasks if t.number)
    seen: Counter[str] = Counter()
    for t in tasks:
        if t.number and numbers[t.number] == 1:
            key = f"n:{t.number}"
        elif t.number:
            heads = "/".join(_section_numeral(s) for s in t.section_path)
            key = f"n:{heads}/{t.number}"
        else:
            raw = "\x1f".join([*t.section_path, t.title]).encode("utf-8")
            key = "t:" + hashlib.sha1(raw).hexdigest()[:16]
        seen[key] += 1
        t.key = key if seen[key] == 1 else f"{key}#{seen[key]}"


def _section_numeral(text: str) -> str:
    m = SECTION_RE.match(text) or SUBSECTION_RE.match(text)
    return m.group(0).strip("、.．") if m else clip(text, 12)


def _title(preamble: list[str], path: Path) -> str:
    for text in preamble:
        first = text.splitlines()[0].strip()
        if any(w in first for w in _TITLE_WORDS) and len(first) <= 80:
            return first
    for text in preamble:
        first = text.splitlines()[0].strip()
        if len(first) <= 80:
            return first
    return path.stem


def _issuer(title: str) -> str | None:
    m = _YEAR.search(title)
    if m and m.start() > 0:
        return title[: m.start()].strip() or None
    return None


def _no_header_error(doc: SourceDocument):
    if doc.format == "docx" and not doc.has_tables:
        return ledger_error(
            doc.path, "", "文档中没有表格，不是任务分解表/台账（未找到带表头的任务表格）"
        )
    if not doc.row_count:
        return ledger_error(doc.path, "", "文件中没有任何内容")
    places = list(
        dict.fromkeys(r.place for s in doc.streams for r in s.rows if r.place and not r.paragraph)
    )
    where = "、".join(places[:5]) or "全文"
    return ledger_error(
        doc.path,
        where,
        "未找到表头，不像任务分解表/台账（表头应含“序号”“工作任务/重点工作”“具体要求”“责任单位”“完成时限”等列）",
    )


def parse_ledger(doc: SourceDocument) -> ParsedLedger:
    """Parse a read document into tasks; raises LedgerError for anything that is not a ledger."""
    parser = _Parser(doc)
    for stream in doc.streams:
        before = len(parser.headers)
        parser.stream(stream)
        if (
            len(parser.headers) == before
            and stream.rows
            and doc.format == "xlsx"
            and parser.seen_header
        ):
            parser.warnings.append(f"工作表“{stream.name}”中没有找到表头，已跳过")
    if not parser.headers:
        if doc.format == "docx":  # no task table: a plan written as prose (issue 8)
            from workflow.importer.prose import parse_prose

            return parse_prose(doc)
        raise _no_header_error(doc)
    for header in parser.headers:
        if not header.unit_columns:
            raise ledger_error(
                doc.path,
                header.row.where(),
                "表头中没有牵头单位或责任单位列（如“牵头单位”“责任单位”“责任科室”）",
            )
    tasks = parser.tasks()
    if not tasks:
        first = parser.headers[0].row
        raise ledger_error(doc.path, first.where(), "表头下面没有任何任务（表格是空的）")
    title = _title(parser.preamble, doc.path)
    if title == doc.path.stem and not any(
        title == t.splitlines()[0].strip() for t in parser.preamble if t.strip()
    ):
        parser.warnings.append(
            f"{doc.path.name}：表头上方没有标题行，以文件名“{title}”作为工作计划名称；"
            "再次导入修改后的台账时请保持文件名不变（或加上标题行），否则会建成另一个计划"
        )
    return ParsedLedger(
        path=doc.path,
        format=doc.format,
        title=title,
        issuer=_issuer(title),
        preamble=parser.preamble,
        tasks=tasks,
        warnings=parser.warnings,
    )
