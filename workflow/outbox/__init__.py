"""Delivering what the check queued: the outbox, claims, delivery, channel settings, preview.

Holds: ``queue`` (the office's view: list, retry, cancel), ``claims`` (claim, record, renew, the
senders' lock), ``delivery`` (render, send), ``outcomes`` (each result recorded), ``fresh``
(stale items left out, stale mails dropped), ``contact`` (``[office]`` contact, ``[server] url``),
``settings`` (``[smtp]`` / ``[notify]``), ``preview`` (``duban notify preview``).
May use: the ground, ``directory``, ``tasks``, ``chasing``; ``notifiers`` to render and send.
"""
