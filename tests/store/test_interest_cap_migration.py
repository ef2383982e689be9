"""Migration 0007 on a store that already has creditors: each gets the ``none`` cap."""

from __future__ import annotations

from datetime import UTC, datetime

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, text

from cuishou.store.db import MIGRATIONS, alembic_config, current_revision, head_revision, upgrade


def test_existing_creditors_get_no_cap_and_the_migration_reverses(engine: Engine) -> None:
    before = ScriptDirectory(str(MIGRATIONS)).get_revision("0007").down_revision
    assert isinstance(before, str)
    command.downgrade(alembic_config(engine), before)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO creditors (code, name, timezone, rule_pack, waterfall, created_at) "
                 "VALUES ('OLD', '老银行', 'Asia/Shanghai', 'cn', "
                 "'fee,penalty,interest,principal', :at)"),
            {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        )  # fmt: skip

    upgrade(engine)

    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        caps = connection.execute(text("SELECT code, interest_cap FROM creditors")).all()
        assert [tuple(row) for row in caps] == [("OLD", "none")]
        assert connection.execute(text("SELECT COUNT(*) FROM creditor_products")).scalar() == 0
