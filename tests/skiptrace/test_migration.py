"""Migration 0014 on a store with contact points: a point already invalid (空号) is
backfilled ``invalid``, the others ``new``; the migration reverses."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from sqlalchemy import Engine, text

from cuishou.store.db import alembic_config, current_revision, head_revision, upgrade


def test_points_get_their_review_status_and_the_migration_reverses(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0014-1")
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO debtors (id, id_number, name, gender, birth_date, timezone, "
                 "created_at, updated_at) VALUES (1, '110101199003070011', '张三', 'M', "
                 "'1990-03-07', 'Asia/Shanghai', :at, :at)"),
            {"at": at},
        )  # fmt: skip
        for value, status in (("13812341234", "active"), ("13900001111", "invalid")):
            connection.execute(
                text("INSERT INTO contact_points (debtor_id, kind, value, label, owner, "
                     "owner_name, status, source, created_at) VALUES (1, 'mobile', :value, '', "
                     "'debtor', '', :status, 'placement', :at)"),
                {"value": value, "status": status, "at": at},
            )  # fmt: skip

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT value, status, verification, verified_at FROM contact_points "
                 "ORDER BY value")
        ).all()  # fmt: skip
    assert [tuple(r) for r in rows] == [
        ("13812341234", "active", "new", None),
        ("13900001111", "invalid", "invalid", None),
    ]
    command.downgrade(alembic_config(engine), "0014-1")
    with engine.connect() as connection:
        columns = connection.execute(text("SELECT * FROM contact_points")).keys()
    assert "verification" not in columns
    upgrade(engine)
