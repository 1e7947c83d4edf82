"""Regenerate the shipped sample ledger from the seed data: ``python workflow/samples/make_samples.py``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


# The demo's copy of the ledger: the same tasks with deadlines spread over the year, so the story
# (``duban demo``, the README walk-through) has work due every few weeks, not all on 30 November.
DEMO_DEADLINES = {
    "1": "3月底前",
    "2": "每季度",
    "3": "4月底前",
    "4": "上半年",
    "5": "7月31日、11月30日前",
    "6": "第三季度",
    "7": "9月底前",
    "8": "5月",
    "9": "年内",
    "10": "10月",
    "11": "6月30日前",
    "12": "8月",
    "13": "长期坚持",
    "14": "11月",
}


def main() -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from ledgers import build_yinchuan_xlsx, yinchuan_sections

    from workflow.samples import YINCHUAN_DEMO_LEDGER, YINCHUAN_LEDGER

    build_yinchuan_xlsx(YINCHUAN_LEDGER)
    print(f"wrote {YINCHUAN_LEDGER.relative_to(ROOT)}")
    sections = yinchuan_sections()
    for section in sections:
        for task in section["tasks"]:
            task["deadline"] = DEMO_DEADLINES[task["number"]]
    build_yinchuan_xlsx(YINCHUAN_DEMO_LEDGER, sections)
    print(f"wrote {YINCHUAN_DEMO_LEDGER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
