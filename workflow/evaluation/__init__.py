"""The year-end evaluation: rules, deductions, waivers, scores, the workbook and report.

Holds: ``rules`` (``[scoring]``), ``deductions`` (pure per-assignment rules), ``records`` (what
a sheet covers — a plan or a whole year — and the Core reads), ``sheet`` (rows, unit scores, the
evaluation as values), ``scores`` (``duban score``), ``waivers``, ``layout`` (one line per task,
subtotals, the words of the sheets), ``workbook`` + ``xlsx`` (the .xlsx for the 绩效考核
committee) and ``report`` (the HTML page).
May use: the ground, ``directory``, ``tasks``.
"""
