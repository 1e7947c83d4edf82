"""The daily check: overdue states, reminders, escalations, progress requests and digests.

Holds: ``policy`` (the office's chasing settings), ``items`` (kinds, open rows, groups),
``cutoffs`` (working-day thresholds as due-date cutoffs), ``expiry`` (overdue, set-based),
``covers`` (the set-based selections and the ``chasecover`` rows), ``planner`` (what one check
queues), ``mails`` (outbox rows and their contexts), ``check`` (the lock, then all of it).
May use: the ground, ``directory``, ``tasks``. Never sends anything: it writes outbox rows.
"""
