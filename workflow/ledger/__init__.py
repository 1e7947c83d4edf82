"""The ledger in and out: reading files, parsing tables and prose plans, deadline language,
resolving units, importing into tasks, the review workbook and the ledger export.

Holds: ``readers/`` (xlsx, docx, csv → located rows; ``limits``: what a file may hold, checked
before parsing), ``headers``, ``units_cell``, ``parsed``,
``table``, ``prose``, ``parse``, ``phrases`` + ``deadlines`` (完成时限 → due dates), ``planning``,
``resolve``, ``result``, ``apply`` (the plan's rows compared and written, in bulk), ``importing``
(``duban import``), ``review``, ``export``, ``recompute``
(due dates recomputed after ``duban calendar import``).
May use: the ground, ``directory``, ``tasks``.
"""
