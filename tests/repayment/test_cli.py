"""``cuishou payments waterfall``: a creditor's allocation order, checked, with an event."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Creditor, Event
from tests.factories import make_creditor

runner = CliRunner()


def test_a_creditors_waterfall_is_set_and_recorded(store_env: str) -> None:
    engine = make_engine(store_env)
    with transaction(engine) as session:
        make_creditor(session, code="ZSBANK")
    result = runner.invoke(
        app,
        ["payments", "waterfall", "--creditor", "ZSBANK", "--order",
         "penalty,interest,fee,principal", "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["waterfall"] == ["penalty", "interest", "fee", "principal"]
    with transaction(engine) as session:
        assert session.scalar(select(Creditor.waterfall)) == "penalty,interest,fee,principal"
        event = session.scalars(select(Event)).one()
    assert event.type == "creditor.waterfall_changed"
    assert event.payload["from"] == "fee,penalty,interest,principal"
    engine.dispose()


def test_a_bad_order_or_creditor_is_refused(store_env: str) -> None:
    bad = runner.invoke(app, ["payments", "waterfall", "--creditor", "X", "--order", "fee"])
    assert bad.exit_code != 0 and "once each" in bad.output
    unknown = runner.invoke(
        app,
        ["payments", "waterfall", "--creditor", "NOPE", "--order",
         "fee,penalty,interest,principal"],
    )  # fmt: skip
    assert unknown.exit_code != 0 and "no creditor 'NOPE'" in unknown.output
