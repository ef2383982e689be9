"""Interest caps per creditor and per product of a creditor, set with
``cuishou compliance interest-cap`` on both stores, applied wherever interest is judged."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.compliance.interest_cap_settings import judge_case
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Account, Creditor, Debtor, Event
from tests.factories import make_account
from tests.web.factories import make_case

runner = CliRunner()
CONTRACT = date(2025, 6, 1)  # 1-year LPR 3.00%: 4 × LPR is 12%


def seeded(url: str) -> int:
    """A case of TESTBANK: a credit card at 18.25% and a consumer loan at 30%, each with
    ¥365.00 of interest."""
    engine = make_engine(url)
    with transaction(engine) as session:
        case = make_case(session)
        card = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        card.product_code, card.interest_fen = "credit_card", 36_500
        card.annual_rate, card.contract_date = Decimal("0.1825"), CONTRACT
        loan = make_account(
            session,
            creditor=session.get(Creditor, case.creditor_id),
            debtor=session.get(Debtor, case.debtor_id),
            product_code="consumer_loan",
            interest_fen=36_500,
        )
        loan.case_id, loan.annual_rate, loan.contract_date = case.id, Decimal("0.30"), CONTRACT
        case_id = case.id
    engine.dispose()
    return case_id


def judged(url: str, case_id: int) -> list[tuple[bool, int, Decimal | None]]:
    """(above the cap, demandable fen, the ceiling) for the card, then the loan."""
    engine = make_engine(url)
    with transaction(engine) as session:
        result = [(j.above_cap, j.demandable_fen, j.cap_rate) for j in judge_case(session, case_id)]
    engine.dispose()
    return result


def cap(*args: str) -> Any:
    result = runner.invoke(app, ["compliance", "interest-cap", "--creditor", "TESTBANK", *args])
    assert result.exit_code == 0, result.output
    return result


def test_a_bank_is_not_held_to_the_private_lending_cap(store_env: str) -> None:
    case_id = seeded(store_env)
    shown = json.loads(cap("--json").stdout)
    assert shown == {"creditor": "TESTBANK", "interest_cap": "none", "products": {}}
    # the demo's credit cards at 18.25% are not flagged, nor is anything else
    assert judged(store_env, case_id) == [(False, 36_500, None), (False, 36_500, None)]


def test_creditor_and_product_caps_are_set_applied_and_recorded(store_env: str) -> None:
    case_id = seeded(store_env)

    # a private lender: 4 × LPR on every product
    said = cap("--cap", "private_lending_4x_lpr")
    assert "creditor TESTBANK: interest cap private_lending_4x_lpr" in said.output
    twelve = Decimal("0.12")
    assert judged(store_env, case_id) == [(True, 24_000, twelve), (True, 14_600, twelve)]

    # its cards judged by no cap, its consumer loans by a fixed 24%
    cap("--product", "credit_card", "--cap", "none")
    listed = cap("--product", "consumer_loan", "--cap", "fixed:24")
    assert "product consumer_loan: fixed:24%" in listed.output
    assert judged(store_env, case_id) == [
        (False, 36_500, None),
        (True, 29_200, Decimal("0.24")),
    ]
    # the card follows the creditor again
    cap("--product", "credit_card", "--cap", "inherit")
    shown = json.loads(cap("--json").stdout)
    assert shown["products"] == {"consumer_loan": "fixed:24%"}
    assert judged(store_env, case_id)[0] == (True, 24_000, twelve)

    engine = make_engine(store_env)
    with transaction(engine) as session:
        events = session.scalars(
            select(Event).where(Event.type == "creditor.interest_cap_changed").order_by(Event.id)
        ).all()
        assert [(e.actor, e.payload) for e in events] == [
            ("cli", {"product": None, "from": "none", "to": "private_lending_4x_lpr"}),
            ("cli", {"product": "credit_card", "from": None, "to": "none"}),
            ("cli", {"product": "consumer_loan", "from": None, "to": "fixed:24%"}),
            ("cli", {"product": "credit_card", "from": "none", "to": None}),
        ]
    engine.dispose()


def test_bad_input_is_one_clear_line_and_changes_nothing(store_env: str) -> None:
    seeded(store_env)
    cases = [
        (["--creditor", "TESTBANK", "--cap", "4xlpr"], "is not an interest cap"),
        (["--creditor", "TESTBANK", "--cap", "fixed:240%"], "at most 100"),
        (["--creditor", "NOBODY", "--cap", "none"], "no creditor 'NOBODY'"),
        (["--creditor", "TESTBANK", "--product", "boat_loan", "--cap", "none"],
         "no product 'boat_loan'"),
        (["--creditor", "TESTBANK", "--cap", "inherit"], "inherit is for a product"),
        (["--creditor", "TESTBANK", "--product", "credit_card"], "--product needs --cap"),
    ]  # fmt: skip
    for args, message in cases:
        result = runner.invoke(app, ["compliance", "interest-cap", *args])
        said = " ".join(result.output.split())
        assert result.exit_code == 2, (args, result.output)
        assert message in said and "Traceback" not in said, (args, said)
    engine = make_engine(store_env)
    with transaction(engine) as session:
        assert session.scalar(select(Creditor.interest_cap)) == "none"
        assert session.scalars(select(Event).where(Event.type.like("creditor.%"))).all() == []
    engine.dispose()
