"""Upgrading a store from before the ledger (revision 0004), on both stores: every account
gets its opening entry, a negative balance becomes credit, case dues are recomputed, and
from then on the store refuses a negative balance."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import IntegrityError

from cuishou.ledger.service import check
from cuishou.store.db import alembic_config, make_engine, transaction, upgrade
from tests.conftest import PG_URL, REQUIRE_PG, STORES, _pg_schema_url

NOW = datetime(2026, 11, 1, 2, tzinfo=UTC)


@pytest.fixture(params=STORES)
def old_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A store migrated only to 0004 (before the ledger)."""
    if request.param == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}")
        command.upgrade(alembic_config(engine), "0004")
        yield engine
        engine.dispose()
        return
    if not PG_URL:
        if REQUIRE_PG or os.environ.get("CUISHOU_REQUIRE_POSTGRES") == "1":
            pytest.fail("PostgreSQL is required")
        pytest.skip("PostgreSQL not configured")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(_pg_schema_url(PG_URL, schema))
    command.upgrade(alembic_config(engine), "0004")
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _seed(engine: Engine) -> None:
    """Two accounts in one case: one sound, one driven to −5.00 principal by the old file path
    (a payment dated after a newer snapshot), and a case due that file payments left stale."""
    with engine.begin() as c:
        stamp = {"now": NOW}
        c.execute(
            text(
                "INSERT INTO creditors (id, code, name, timezone, created_at) VALUES "
                "(1, 'OLD', '旧银行', 'Asia/Shanghai', :now)"
            ),
            stamp,
        )
        c.execute(
            text(
                "INSERT INTO placements (id, creditor_id, batch_code, placed_on, "
                "created_at) VALUES (1, 1, 'B', '2026-10-01', :now)"
            ),
            stamp,
        )
        c.execute(
            text(
                "INSERT INTO debtors (id, id_number, name, gender, birth_date, timezone, "
                "created_at, updated_at) VALUES (1, '110101199003070011', '张三', 'M', "
                "'1990-03-07', 'Asia/Shanghai', :now, :now)"
            ),
            stamp,
        )
        c.execute(
            text(
                "INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, "
                "accounts, due_fen, dpd, bucket, amount_tier, created_at, updated_at) "
                "VALUES (1, 1, 1, 'open', '2026-10-01', 2, 999999, 40, 'M2', 'small', "
                ":now, :now)"
            ),
            stamp,
        )
        for account_id, principal, interest in ((1, 100_000, 2_000), (2, -500, 300)):
            c.execute(
                text("INSERT INTO accounts (id, creditor_id, placement_id, debtor_id, case_id, "
                     "account_no, product_code, currency, principal_fen, interest_fen, "
                     "penalty_fen, fee_fen, credit_fen, snapshot_date, snapshot_due_fen, "
                     "installment_fen, content_hash, status, dpd, bucket, amount_tier, "
                     "created_at, updated_at) VALUES (:id, 1, 1, 1, 1, :no, 'credit_card', "
                     "'CNY', :p, :i, 0, 0, 0, '2026-10-01', 0, 0, 'h', 'open', 40, 'M2', "
                     "'small', :now, :now)"),
                {"id": account_id, "no": f"OLD{account_id}", "p": principal, "i": interest,
                 **stamp},
            )  # fmt: skip


def test_an_old_store_upgrades_into_a_consistent_ledger(old_store: Engine) -> None:
    _seed(old_store)
    upgrade(old_store)
    with transaction(old_store) as session:
        # the negative principal became credit, with an adjustment entry saying why
        row = session.execute(
            text("SELECT principal_fen, credit_fen FROM accounts WHERE id = 2")
        ).one()
        assert tuple(row) == (0, 500)
        kinds = session.execute(
            text("SELECT account_id, kind FROM ledger_entries ORDER BY account_id, id")
        ).all()
        assert [tuple(k) for k in kinds] == [(1, "placement"), (2, "adjustment"), (2, "placement")]
        # the case owes what its accounts owe; every balance is the sum of its entries
        due = session.execute(text("SELECT due_fen FROM cases WHERE id = 1")).scalar_one()
        assert due == 100_000 + 2_000 + 300
        assert check(session) == {"accounts": [], "cases": []}
    # and the store now refuses a negative balance
    with pytest.raises(IntegrityError), transaction(old_store) as session:
        session.execute(text("UPDATE accounts SET interest_fen = -1 WHERE id = 1"))
