"""A parsed ledger: tasks with their section path, title, text, units and deadline cell, before
any date or unit is resolved. Shared by the table parser and the prose parser. Pure.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from workflow.ledger.headers import LABELS, Header
from workflow.ledger.readers.document import Row, SourceDocument, clip, ledger_error
from workflow.ledger.units_cell import UnitMention

_CN = "一二三四五六七八九十百零〇"


LEADING_NUMBER = re.compile(
    r"^\s*(?:(\d{1,3})\s*[.．、](?!\d+(?:[.．]\d+)?\s*(?:[%％万亿千元倍]|个百分点))|[（(](\d{1,3})[）)])\s*"
)
SECTION_RE = re.compile(rf"^[{_CN}]+\s*[、.．]")


SUBSECTION_RE = re.compile(rf"^[（(][{_CN}]+[）)]")


NUMERAL_ONLY = re.compile(rf"^(?:[{_CN}]+[、.．]?|[（(][{_CN}]+[）)])$")


_TITLE_WORDS = ("要点", "台账", "方案", "分解", "计划", "清单", "任务表")


_YEAR = re.compile(r"(?<![\d〔\[（(])((?:19|20)\d{2})\s*年")


SENTENCE_END = "。！？；;!?"


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
    # cells no task field took, also named in ``warnings`` (see workflow.ledger.accounting)
    unused: list[Any] = field(default_factory=list)
    # the column mapping the table parser chose (see workflow.ledger.choice.mapping)
    columns: list[dict[str, Any]] = field(default_factory=list)

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


def strip_number(text: str) -> tuple[str | None, str]:
    """ "16. 建立…" → ("16", "建立…"); "（3）做好…" → ("3", "做好…")."""
    m = LEADING_NUMBER.match(text)
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
    sentence = body.rstrip(SENTENCE_END)
    for i, ch in enumerate(body):
        if (ch in SENTENCE_END or ch == "\n") and i > 0:
            sentence = body[:i].strip().rstrip(SENTENCE_END)
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
    return " ".join(body.split()).rstrip(SENTENCE_END + "，,")


def section_level(text: str) -> int | None:
    if SECTION_RE.match(text):
        return 1
    if SUBSECTION_RE.match(text):
        return 2
    return None


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


_NOTICE = re.compile(r"印发\s*《(?P<title>[^《》]{4,120})》")
_SENTENCE_START = ("为", "根据", "按照", "现将", "经", "请", "各")


def _joined(preamble: list[str]) -> list[str]:
    """Preamble lines with a title broken across lines put back together: a line whose 《 is
    not closed takes the following lines until it is."""
    out: list[str] = []
    pending = ""
    for text in preamble:
        for line in text.splitlines():
            line = line.strip()
            if not line:
                continue
            pending += line
            if pending.count("《") > pending.count("》"):
                continue
            out.append(pending)
            pending = ""
    if pending:
        out.append(pending)
    return out


def _sentence(line: str) -> bool:
    """A sentence of the intro, never a title."""
    return (
        line.endswith(("。", "；", ";", "！", "：", ":"))
        or line.startswith(_SENTENCE_START)
        or (len(line) > 30 and any(c in line for c in "，,。"))
        or line.count("《") != line.count("》")
    )


def plan_title(preamble: list[str], path: Path) -> str:
    """The plan's name: the document title ("XX市卫生健康局2023年政务公开工作要点"), or the
    《…》 a notice prints ("关于印发《…》的通知"); never a sentence of the intro nor a lone "《";
    else the file name."""
    lines = _joined(preamble)
    for line in lines:
        notice = _NOTICE.search(line)
        if notice and any(w in notice.group("title") for w in _TITLE_WORDS):
            return " ".join(notice.group("title").split())
        if _sentence(line) or len(line) > 80:
            continue
        if any(w in line for w in _TITLE_WORDS):
            return line.strip("《》")
    for line in lines:
        if not _sentence(line) and len(line) <= 80 and len(line.strip("《》 ")) >= 4:
            return line
    return path.stem


def plan_issuer(title: str) -> str | None:
    """The body that issues the plan: the title's words before its year ("XX市卫生健康局")."""
    m = _YEAR.search(title)
    if m and m.start() > 0:
        issuer = title[: m.start()].strip(" 《》“”")
        issuer = re.sub(r"^关于(?:印发)?", "", issuer)
        return issuer if len(issuer) >= 2 else None
    return None


def no_header_error(doc: SourceDocument):
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
