"""Alembic environment: runs on the connection handed in by ``workflow.storage.db.Database``."""

from alembic import context
from sqlmodel import SQLModel

import workflow.storage.models  # noqa: F401  (registers the tables)

target_metadata = SQLModel.metadata


def include_object(obj, name, type_, reflected, compare_to):
    # APScheduler keeps its job table in the same database; it is not ours to migrate.
    return not (type_ == "table" and name.startswith("apscheduler"))


def run() -> None:
    connection = context.config.attributes.get("connection")
    if connection is None:
        from sqlalchemy import create_engine

        engine = create_engine(context.config.get_main_option("sqlalchemy.url"))
        with engine.begin() as conn:
            _configure(conn)
        return
    _configure(connection)


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run()
