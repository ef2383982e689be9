"""Migration 0017 adds the outbox and the jobs tables and reverses cleanly."""

from __future__ import annotations

from alembic import command
from sqlalchemy import Engine, inspect

from cuishou.store.db import alembic_config, current_revision, head_revision, upgrade


def test_the_messages_tables_come_and_go(engine: Engine) -> None:
    assert {"messages", "message_jobs"} <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(engine), "0016")
    assert not {"messages", "message_jobs"} & set(inspect(engine).get_table_names())
    upgrade(engine)
    assert current_revision(engine) == head_revision()
    unique = inspect(engine).get_unique_constraints("messages")
    assert [c["column_names"] for c in unique] == [["key"]]
