"""Alembic environment: run programmatically from ``cuishou.store.db.upgrade``."""

from __future__ import annotations

import warnings

from alembic import context
from sqlalchemy import Engine, engine_from_config, pool
from sqlalchemy.exc import SAWarning

from cuishou.store.db import database_url
from cuishou.store.tables import Base

config = context.config
target_metadata = Base.metadata

# SQLite batch migrations reflect the tables they rebuild and those they refer to; the
# case-insensitive username index (lower(username), migration 0005) cannot be reflected and
# is never rebuilt by a later migration (the users table is not recreated), so the warning
# about skipping it says nothing to act on.
warnings.filterwarnings(
    "ignore",
    message="Skipped unsupported reflection of expression-based index uq_users_username_lower",
    category=SAWarning,
)


def run_migrations_online() -> None:
    engine: Engine | None = config.attributes.get("engine")
    if engine is None:
        engine = engine_from_config(
            {"sqlalchemy.url": database_url()}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations_online()
