"""The schema version this code expects, importable without SQLAlchemy or alembic."""

# The newest migration. Checked against alembic's own view by tests/test_migrations.py; kept
# here so that every command can check the schema without importing alembic (~120 ms).
SCHEMA_HEAD = "0022"
