"""The ledger parser: located rows in, :class:`ParsedLedger` out. Pure: no database, no dates.

How rows are read:

* text before the first header (title rows, the intro paragraph, the 填报单位/填报时间 line) is
  the preamble; the title gives the plan's name and year, the intro its report dates;
* a header row (see :mod:`workflow.ledger.headers`) sets the columns; it may repeat before
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

import re
from dataclasses import dataclass, field

from workflow.ledger.accounting import CellBook
from workflow.ledger.choice import apply_choice, check_choice, mapping
from workflow.ledger.columns import content_header, infer_columns, review_workbook
from workflow.ledger.foreign import _contact_cell, foreign_table  # noqa: F401 (tests import it here)
from workflow.ledger.headers import (
    LABELS,
    Header,
    _key,
    detect_header,
    merge_subheader,
    number_only,
    resolve_spans,
)
from workflow.ledger.parsed import (
    NUMERAL_ONLY,
    SENTENCE_END,
    TITLE_LIMIT,
    ParsedLedger,
    ParsedTask,
    assign_keys,
    clean_title,
    first_sentence,
    no_header_error,
    plan_issuer,
    plan_title,
    section_level,
    strip_number,
)
from workflow.ledger.readers.document import Row, SourceDocument, Stream, clip, ledger_error
from workflow.ledger.units_cell import UnitMention, read_unit_cell

# "16. 建立…", "20.2021年11月20日前…", "（3）…" — but not a decimal such as "2.5万"
_FILL_LINE = re.compile(
    r"^(填报单位|填报时间|填表单位|填表时间|填报人|审核人|联系人|联系电话)[:：]"
)
_NOTE = re.compile(r"^(注|备注|说明)[:：]")


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
    more: list[Row] = field(default_factory=list)  # rows under its merged cells: units, deadline


def _set_section(section: list[str], text: str, level: int) -> list[str]:
    text = " ".join(text.split()).rstrip(SENTENCE_END)
    return [text] if level == 1 or not section else [section[0], text]


class _Parser:
    def __init__(
        self,
        doc: SourceDocument,
        choice: dict[str, str] | None = None,
        known: frozenset[str] = frozenset(),
    ) -> None:
        self.doc = doc
        self.known = known  # the directory's unit names, aliases and groups
        self.choice = dict(choice or {})  # the office's column roles (--columns)
        self.keys = {_key(name): role for name, role in self.choice.items()}
        self.matched: set[str] = set()
        self.preset: Header | None = None  # see content_header
        self.preamble: list[str] = []
        self.records: list[_Record] = []
        self.warnings: list[str] = list(doc.warnings)
        self.seen_header = False
        self.headers: list[Header] = []
        self.book = CellBook()

    def detect(self, row: Row) -> Header | None:
        return detect_header(row, self.keys)

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
            if header is None and self.preset is not None and row is self.preset.row:
                header = self.preset  # a table without a header row: columns read by content
                self.headers.append(header)
                self.seen_header = True
                place = row.place
            if not row.paragraph and row.place != place:  # a new Word table
                place = row.place
                reason = foreign_table(row, header)
                skipping = reason is not None
                if skipping:
                    self.book.use_row(row)
                    self.warnings.append(
                        f"{self.doc.path.name}：{row.where()}：该表格{reason}，不是任务表的续表，已跳过"
                    )
            if skipping and not row.paragraph:
                self.book.use_row(row)
                continue
            found, sub = self.detect(row), False
            if found is not None:
                sub = i < len(rows) and merge_subheader(found, rows[i])
                after = i + 1 if sub else i
                resolve_spans(found, rows[after : after + 40])
                infer_columns(found, rows[after:], self.detect, self.known)
                apply_choice(found, self.choice, self.matched)
            if found is not None and found.columns.keys() & {"task", "requirement"}:
                if not self.seen_header and not previous_was_section:
                    section = []  # headings in a prose preamble are not the table's sections
                header = found
                self.headers.append(found)
                self.seen_header = True
                self.book.use_row(row)
                if sub:
                    self.book.use_row(rows[i])
                i = after
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
                self.book.use_row(row)
                return _set_section(section, text, level)
            if header is None or _FILL_LINE.match(text) or _NOTE.match(text) or row.paragraph:
                if _FILL_LINE.match(text) or (_NOTE.match(text) and review_workbook(header)):
                    self.book.use_row(row)  # the form's 填报单位 line; duban's own notes
                elif not self.seen_header:
                    self.book.use_row(row)
                    self.preamble.append(text)
                return section
        elif header is None or row.paragraph:
            if not self.seen_header:
                self.book.use_row(row)
                self.preamble.append(" ".join(values))
            return section
        return self.data_row(row, header, section)

    def data_row(self, row: Row, header: Header, section: list[str]) -> list[str]:
        self.book.under(row, header)
        number_col, task_col, req_col = (
            header.first("number"),
            header.first("task"),
            header.first("requirement"),
        )
        number = row.cell(number_col)
        item = row.cell(task_col)
        requirement = row.cell(req_col)
        heading = row.cell(header.first("section"))
        self.book.use(row, header.first("section"))
        if heading and heading not in section:  # a section column beside the task's name
            section = _set_section(section, heading, section_level(heading) or 1)
        has_units = any(row.cell(c) for c, _ in header.unit_columns)
        if (
            number
            and NUMERAL_ONLY.match(number)
            and not has_units
            and not row.cell(header.first("deadline"))
        ):
            title = item or requirement
            self.book.use(row, number_col, task_col if item else req_col)
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
            if self.records and (has_units or row.cell(header.first("deadline"))):
                # under a group cell merged down (CSV leaves it blank): more of the task above
                self.records[-1].more.append(row)
            elif number or has_units:
                self.book.use_row(row)
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
        # columns beyond the first title and content (and those under a spanning header): kept
        # in the content, in column order
        more_cols = sorted(
            [
                *header.columns.get("extra", []),
                *header.columns.get("requirement", [])[1:],
                *header.columns.get("task", [])[1:],
            ]
        )
        extra = list(dict.fromkeys(row.cell(c) for c in more_cols if row.cell(c)))
        extra = [e for e in extra if e not in (rec.item, rec.requirement)]
        if extra:
            content = "\n".join([content, *extra] if content else extra)
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
        if number_only(title) and rec.requirement:  # a number is never a title
            item_number, title = title.strip("、.．（）() "), first_sentence(rec.requirement)
        number = shared_number or rec.number or req_number or item_number
        units: list[tuple[UnitMention, int]] = []
        for line in (row, *rec.more):
            for column, role in header.unit_columns:
                units.extend(self.unit_cell(line, header, column, role))
        deadline = self.first_text(rec, "deadline")
        task = ParsedTask(
            section_path=section,
            number=number or None,
            title=title,
            content=content,
            metric=self.joined(rec, "metric"),
            deadline_text=deadline,
            progress=self.joined(rec, "progress"),
            units=units,
            row=row,
            header=header,
        )
        self.book.use(
            row,
            header.first("number"),
            header.first("task"),
            header.first("requirement"),
            *more_cols,
        )
        quiet = [*header.columns.get("ignore", []), *header.columns.get("derived", [])]
        for line in (row, *rec.more):
            self.book.use(line, *quiet)
        if not title:
            raise ledger_error(self.doc.path, task.where("task"), "没有工作任务名称")
        if not units:
            columns = header.unit_columns
            where = task.where(column=columns[0][0]) if columns else task.where()
            raise ledger_error(self.doc.path, where, f"任务“{clip(title)}”没有填写牵头或责任单位")
        return task

    def unit_cell(
        self, row: Row, header: Header, column: int, role: str
    ) -> list[tuple[UnitMention, int]]:
        self.book.use(row, column)
        cell = read_unit_cell(row.cell(column), role)
        mentions = cell.mentions
        where = f"{row.where(column)}（{header.label(column) or LABELS[role]}）"
        for note in cell.notes:
            self.warnings.append(
                f"{self.doc.path.name}：{where}：“{clip(note, 30)}”不是单位名称，作为备注，未分派"
            )
        etc = [m.written for m in mentions if m.etc]
        if etc:
            self.warnings.append(
                f"{self.doc.path.name}：{where}：“{'、'.join(etc)}”中的“等”没有写明还有哪些单位，"
                "只分派给写明的单位，请核对"
            )
        return [(m, column) for m in mentions]

    def joined(self, rec: _Record, role: str) -> str | None:
        """Every cell of the role's columns (in the task's rows), each text once."""
        texts: list[str] = []
        for line in (rec.row, *rec.more):
            for column in rec.header.columns.get(role, []):
                text = line.cell(column)
                self.book.use(line, column)
                if text and text not in texts:
                    texts.append(text)
        return "\n".join(texts) or None

    def first_text(self, rec: _Record, role: str) -> str | None:
        """The first non-empty cell of the role's columns; another different text stays unused
        (and is named in a warning)."""
        found: str | None = None
        for line in (rec.row, *rec.more):
            for column in rec.header.columns.get(role, []):
                text = line.cell(column)
                if text and (found is None or text == found):
                    found = text
                    self.book.use(line, column)
                elif not text:
                    self.book.use(line, column)
        return found


def _walk(parser: _Parser) -> _Parser:
    for stream in parser.doc.streams:
        before = len(parser.headers)
        parser.stream(stream)
        if (
            len(parser.headers) == before
            and stream.rows
            and parser.doc.format == "xlsx"
            and parser.seen_header
        ):
            parser.warnings.append(f"工作表“{stream.name}”中没有找到表头，已跳过")
    return parser


def parse_table(
    doc: SourceDocument,
    columns: dict[str, str] | None = None,
    known: frozenset[str] = frozenset(),
) -> ParsedLedger | None:
    """Parse a document's task table; ``None`` for a Word document with no task table at all
    (a plan written as prose, see :mod:`workflow.ledger.prose`). Raises LedgerError for anything
    that is not a ledger."""
    parser = _walk(_Parser(doc, columns, known))
    if not parser.headers:
        preset = content_header(doc.streams, parser.known)
        if preset is not None:
            apply_choice(preset, parser.choice, parser.matched)
            parser = _Parser(doc, columns, known)
            parser.preset = preset
            parser = _walk(parser)
    if not parser.headers:
        if doc.format == "docx":  # no task table: a plan written as prose (issue 8)
            return None
        raise no_header_error(doc)
    for header in parser.headers:
        if not header.unit_columns:
            raise ledger_error(
                doc.path,
                header.row.where(),
                "表头中没有牵头单位或责任单位列（如“牵头单位”“责任单位”“责任科室”）",
            )
    check_choice(parser.choice, parser.matched, parser.headers)
    tasks = parser.tasks()
    unused = parser.book.unused(doc)
    parser.warnings.extend(u.message(doc.path.name) for u in unused)
    if not tasks:
        first = parser.headers[0].row
        raise ledger_error(doc.path, first.where(), "表头下面没有任何任务（表格是空的）")
    title = plan_title(parser.preamble, doc.path)
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
        issuer=plan_issuer(title),
        preamble=parser.preamble,
        tasks=tasks,
        warnings=parser.warnings,
        unused=unused,
        columns=mapping(parser.headers),
    )
