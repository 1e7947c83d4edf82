"""The database: engine and sessions (``db``), the tables (``models``), the schema version
(``schema``), the sqlite3-or-SQLAlchemy read path (``reading``), PostgreSQL-only locks
(``pglocks``) and database failures said in Chinese (``db_reasons``).

Part of the ground of ``workflow/``: it imports only ``workflow.errors`` and ``workflow.config``.
This ``__init__`` imports nothing, so ``schema``, ``db_reasons`` and ``reading`` stay importable
without SQLAlchemy (start-up time, issue 18).
"""
