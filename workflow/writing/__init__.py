"""The files people open: atomic writes and text widths (``files``), the fast write-only .xlsx
sheet (``xlsx_stream``) and the garbage collector paused while a big sheet is built
(``collector``).

Part of the ground of ``workflow/``: it imports only ``workflow.errors`` and ``workflow.config``.
"""
