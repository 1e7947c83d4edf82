"""The year-end evaluation: rules, deductions, waivers, scores, the workbook and report.

Holds: ``rules`` (``[scoring]``), ``deductions`` (pure per-assignment rules), ``waivers``,
``scores`` (``duban score``), ``workbook`` (the .xlsx / HTML for the 绩效考核 committee).
May use: the ground, ``directory``, ``tasks``.
"""
