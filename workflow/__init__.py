"""duban's domain. The ground lies at the top of this package: ``errors`` (the one exception
hierarchy), ``config`` (duban.toml and the environment), ``secretbox`` (secrets encrypted at rest)
and three groups: ``storage`` (the database: engine, tables, schema version, read path, PostgreSQL
locks; ``migrations`` beside it), ``dates`` (the clock, working days, due dates) and ``writing``
(the files people open). Above it, one sub-package per concept an office person names:
``directory`` → ``tasks`` → ``ledger`` / ``chasing`` → ``outbox`` / ``evaluation``, ``audit`` and
``operations``, and the doors ``calls``, ``daemon``, ``demo`` and ``web``. Imports point downwards
only; ``tests/test_architecture.py``, ``tests/test_architecture_rooms.py`` and
``tests/test_architecture_ground.py`` hold the rules.
"""
