"""``cuishou ledger check`` on both stores."""

from __future__ import annotations

import json

from sqlalchemy import text
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from tests.factories import make_account

runner = CliRunner()


def test_a_consistent_store_passes_and_a_balance_changed_behind_the_ledger_is_found(
    store_env: str,
) -> None:
    engine = make_engine(store_env)
    with transaction(engine) as session:
        account = make_account(session, account_no="LEDGER1")
        account_id = account.id
    result = runner.invoke(app, ["ledger", "check"])
    assert result.exit_code == 0, result.output
    assert "ledger consistent" in result.output
    # when a balance is changed without an entry (what only a bug or a hand edit could do)
    with transaction(engine) as session:
        session.execute(
            text("UPDATE accounts SET fee_fen = fee_fen + 7 WHERE id = :i"), {"i": account_id}
        )
    engine.dispose()
    found = runner.invoke(app, ["ledger", "check", "--json"])
    assert found.exit_code == 1
    data = json.loads(found.stdout)
    assert data["accounts"][0]["account_no"] == "LEDGER1"
    assert data["accounts"][0]["difference"]["fee"] == 7
