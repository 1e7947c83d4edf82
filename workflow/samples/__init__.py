"""Sample files shipped with duban (``duban demo`` imports them).

* ``yinchuan-2023.xlsx``: the 2023 Yinchuan 任务落实台账 (14 tasks in 4 sections) as an office's
  workbook: merged title and section rows, the 填报单位 line, the header repeated per section,
  the report dates 7/31 and 11/30 in the intro. Regenerate with ``python
  workflow/samples/make_samples.py`` (it uses the builders in ``tests/ledgers.py``).
* ``yinchuan-2023-demo.xlsx``: the same ledger with its deadlines spread over the year (3月底前,
  每季度, 上半年, 第三季度 …): what ``duban demo`` plays and ``duban demo --sample FILE`` writes
  for the README's walk-through.
* :data:`YINCHUAN_DIRECTORY`: a unit directory the sample resolves against:
  (name, aliases, groups); "委机关各科室" and "委属各单位" are groups.
"""

from __future__ import annotations

from pathlib import Path

SAMPLES = Path(__file__).parent
YINCHUAN_LEDGER = SAMPLES / "yinchuan-2023.xlsx"
YINCHUAN_DEMO_LEDGER = SAMPLES / "yinchuan-2023-demo.xlsx"

YINCHUAN_DIRECTORY: list[tuple[str, list[str], list[str]]] = [
    ("办公室", ["委办公室"], ["委机关各科室"]),
    ("人口发展与妇幼健康科", ["妇幼科"], ["委机关各科室"]),
    ("财务审计科", [], ["委机关各科室"]),
    ("法规与综合监督科", ["法规科"], ["委机关各科室"]),
    ("健康综合科", [], ["委机关各科室"]),
    ("宣传与对外交流合作科", ["宣传科"], ["委机关各科室"]),
    ("督查督办科", [], ["委机关各科室"]),
    ("银川市第一人民医院", ["市一院"], ["委属各单位"]),
    ("银川市中医医院", [], ["委属各单位"]),
    ("银川市疾病预防控制中心", ["市疾控中心"], ["委属各单位"]),
]
