"""Regenerate the shipped sample ledger from the seed data: ``python workflow/samples/make_samples.py``."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def main() -> None:
    sys.path[:0] = [str(ROOT), str(ROOT / "tests")]
    from ledgers import build_yinchuan_xlsx

    from workflow.samples import YINCHUAN_LEDGER

    build_yinchuan_xlsx(YINCHUAN_LEDGER)
    print(f"wrote {YINCHUAN_LEDGER.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
