"""Dates: today in Asia/Shanghai and date parsing (``clock``), the office's working-day calendar
(``workdays``) and due dates from stored rules (``due``).

Part of the ground of ``workflow/``: it imports only ``workflow.errors`` and ``workflow.config``
(and the pure ``calendars`` package).
"""
