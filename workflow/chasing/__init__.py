"""The daily check: overdue states, reminders, escalations, progress requests and digests.

Holds: ``policy`` (the office's chasing settings), ``items`` (kinds, open rows, groups), ``planner``
(what one check queues), ``check`` (bring states up to date, then queue).
May use: the ground, ``directory``, ``tasks``. Never sends anything: it writes outbox rows.
"""
