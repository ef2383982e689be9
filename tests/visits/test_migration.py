"""Migration 0016 adds the visit tables and reverses."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from cuishou.store.db import alembic_config, current_revision, head_revision, upgrade

TABLES = {"visits", "visit_collectors", "visit_files"}


def test_the_visit_tables_come_and_go(engine: Engine) -> None:
    assert set(inspect(engine).get_table_names()) >= TABLES
    command.downgrade(alembic_config(engine), "0015")
    assert not TABLES & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    assert set(inspect(engine).get_table_names()) >= TABLES
