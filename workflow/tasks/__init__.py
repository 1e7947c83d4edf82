"""The work itself: tasks and each unit's assignment, the lifecycle, extensions, events.

Holds: ``assignments`` (add, list, show), ``lifecycle`` (the door to ``states/``: start, report,
verify, return, extend, cancel, reopen), ``extensions`` (延期 requests), ``events`` (working-day
time limits that start when something happens).
May use: the ground, ``directory``; ``states`` and ``calendars``.
"""
