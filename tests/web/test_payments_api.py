"""Payments (还款入账) through the API on both stores: exactly once, waterfall, credit,
case payments oldest first, reversal (冲正), bad input, roles."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, update

from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, Creditor, Event, Payment
from tests.factories import make_account
from tests.web.factories import bearer
from tests.web.world import World, build_world

SNAPSHOT = date(2026, 10, 25)  # the creditor's data date; the clock is 2026-11-01 10:00 Beijing
PAID_AT = "2026-10-31T09:30:00+08:00"


def _case_with_components(world: World, engine: Engine) -> tuple[int, str]:
    """A case of col_a whose one account owes fee 50, penalty 120, interest 860.50,
    principal 12,000."""
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=1_303_050)
        account = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        account.principal_fen, account.interest_fen = 1_200_000, 86_050
        account.penalty_fen, account.fee_fen = 12_000, 5_000
        found = case.id, account.account_no
    _backdate(engine)
    return found


def _backdate(engine: Engine) -> None:
    with transaction(engine) as session:
        session.execute(update(Account).values(snapshot_date=SNAPSHOT))


def _post(client: TestClient, token: str, **body: Any) -> Any:
    payload = {"amount": "1000.00", "paid_at": PAID_AT, "reference": "R1", **body}
    return client.post("/api/v1/payments", json=payload, headers=bearer(token))


def _balances(engine: Engine, account_no: str) -> tuple[int, int, int, int, int]:
    with transaction(engine) as session:
        a = session.scalars(select(Account).where(Account.account_no == account_no)).one()
        return (a.fee_fen, a.penalty_fen, a.interest_fen, a.principal_fen, a.credit_fen)


def _count(engine: Engine, table: Any, *where: Any) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table).where(*where)) or 0)


def test_a_payment_is_posted_once_through_the_waterfall_and_shows_on_the_case(
    engine: Engine, client: TestClient
) -> None:
    # given an account owing every component
    world = build_world(engine)
    case_id, account_no = _case_with_components(world, engine)
    token = world.tokens["manager"]
    # when a system posts 1,000.00 for it
    first = _post(client, token, account_no=account_no, channel="银行转账")
    # then it is posted fees → penalty → interest, with an event on the case
    assert first.status_code == 201, first.text
    body = first.json()
    assert body["parts"] == [
        {"account_no": account_no, "fee": "50.00", "penalty": "120.00", "interest": "830.00",
         "principal": "0.00", "credit": "0.00"}
    ]  # fmt: skip
    assert (body["source"], body["entered_by"], body["replayed"]) == ("api", "manager", False)
    assert _balances(engine, account_no) == (0, 0, 3_050, 1_200_000, 0)
    detail = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).json()
    assert detail["total_due"] == "12030.50"
    assert detail["accounts"][0]["interest"] == "30.50"
    assert detail["timeline"][0]["type"] == "payment.posted"
    assert detail["timeline"][0]["payload"]["reference"] == "R1"
    # and posting the same reference again answers 200 with the original, changing nothing
    again = _post(client, token, account_no=account_no, amount="999.00")
    assert again.status_code == 200, again.text
    assert again.json()["id"] == body["id"] and again.json()["amount"] == "1000.00"
    assert again.json()["replayed"] is True
    assert _balances(engine, account_no) == (0, 0, 3_050, 1_200_000, 0)
    assert _count(engine, Payment) == 1
    assert _count(engine, Event, Event.type == "payment.posted") == 1


def test_an_overpayment_is_held_as_credit(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, account_no = _case_with_components(world, engine)
    response = _post(client, world.tokens["manager"], account_no=account_no, amount="14000.00")
    assert response.status_code == 201, response.text
    assert response.json()["parts"][0]["credit"] == "969.50"
    assert _balances(engine, account_no) == (0, 0, 0, 0, 96_950)
    detail = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["manager"]))
    assert detail.json()["accounts"][0]["credit"] == "969.50"
    with transaction(engine) as session:
        assert session.get(Case, case_id).due_fen == 0  # type: ignore[union-attr]


def test_a_case_payment_pays_the_oldest_account_first(engine: Engine, client: TestClient) -> None:
    # given a case with a newer account (overdue since September) and an older one (June)
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=100_000)
        newer = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        older = make_account(
            session, creditor=session.get(Creditor, case.creditor_id), principal_fen=30_000,
            fee_fen=1_000, overdue_since=date(2026, 6, 1),
        )  # fmt: skip
        older.case_id = case.id
        case_id, newer_no, older_no = case.id, newer.account_no, older.account_no
    _backdate(engine)
    # when 500.00 is paid for the case
    response = _post(client, world.tokens["manager"], case_id=case_id, amount="500.00")
    # then the older account is cleared first and the rest goes to the newer one
    assert response.status_code == 201, response.text
    parts = response.json()["parts"]
    assert [(p["account_no"], p["fee"], p["principal"]) for p in parts] == [
        (older_no, "10.00", "300.00"),
        (newer_no, "0.00", "190.00"),
    ]
    assert _balances(engine, older_no) == (0, 0, 0, 0, 0)
    assert _balances(engine, newer_no)[3] == 100_000 - 19_000
    # and the reversal gives both back in one step
    reversal = client.post(
        f"/api/v1/payments/{response.json()['id']}/reversal",
        json={"reason": "银行退票"},
        headers=bearer(world.tokens["manager"]),
    )
    assert reversal.status_code == 200, reversal.text
    assert _balances(engine, older_no) == (1_000, 0, 0, 30_000, 0)
    assert _balances(engine, newer_no)[3] == 100_000


def test_a_reversal_restores_the_balances_once(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, account_no = _case_with_components(world, engine)
    token = world.tokens["manager"]
    before = _balances(engine, account_no)
    posted = _post(client, token, account_no=account_no, amount="14000.00").json()
    url = f"/api/v1/payments/{posted['id']}/reversal"

    first = client.post(url, json={"reason": "客户重复转账，已退回"}, headers=bearer(token))

    assert first.status_code == 200, first.text
    assert first.json()["reversed_by"] == "manager"
    assert first.json()["reversal_reason"] == "客户重复转账，已退回"
    assert _balances(engine, account_no) == before
    with transaction(engine) as session:
        assert session.get(Case, case_id).due_fen == 1_303_050  # type: ignore[union-attr]
    second = client.post(url, json={"reason": "again"}, headers=bearer(token))
    assert second.status_code == 409
    assert second.json()["code"] == "conflict"
    assert _balances(engine, account_no) == before
    assert _count(engine, Event, Event.type == "payment.reversed") == 1
    # the reference stays used: posting it again is a replay of the reversed posting
    replay = _post(client, token, account_no=account_no, amount="14000.00")
    assert replay.status_code == 200 and replay.json()["reversed_at"] is not None
    assert _balances(engine, account_no) == before


def test_the_creditors_waterfall_is_used(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    _case_id, account_no = _case_with_components(world, engine)
    with transaction(engine) as session:
        session.execute(update(Creditor).values(waterfall="principal,interest,penalty,fee"))
    response = _post(client, world.tokens["manager"], account_no=account_no, amount="100.00")
    assert response.json()["parts"][0]["principal"] == "100.00"
    assert _balances(engine, account_no) == (5_000, 12_000, 86_050, 1_190_000, 0)


def test_bad_payments_are_refused_and_nothing_is_written(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    case_id, account_no = _case_with_components(world, engine)
    token = world.tokens["manager"]
    before = _balances(engine, account_no)

    def refused(**body: Any) -> tuple[int, str]:
        response = _post(client, token, **body)
        return response.status_code, response.json()["message"]

    assert refused(account_no=account_no, amount="0") == (
        422, "amount: a payment must be more than 0.00"
    )  # fmt: skip
    assert refused(account_no=account_no, amount="-5.00")[0] == 422
    assert "in one payment" in refused(account_no=account_no, amount="1000000000000.01")[1]
    assert "more than 15 digits" in refused(account_no=account_no, amount="99999999999999999.99")[1]
    assert "more than two decimals" in refused(account_no=account_no, amount="10.001")[1]
    assert refused(account_no=account_no, amount=12.5)[0] == 422  # a number, not a string
    assert "no account 'NOPE'" in refused(account_no="NOPE")[1]
    assert "exactly one" in refused(account_no=account_no, case_id=case_id)[1]
    assert "exactly one" in refused()[1]
    assert "future" in refused(account_no=account_no, paid_at="2026-11-02T00:00:00+08:00")[1]
    assert (
        "already include it"
        in refused(account_no=account_no, paid_at="2026-10-25T12:00:00+08:00")[1]
    )
    assert refused(account_no=account_no, paid_at="2026-10-31T09:30:00")[0] == 422  # naive
    assert refused(account_no=account_no, reference="")[0] == 422
    assert "plausible" in refused(account_no=account_no, paid_at="0001-01-01T00:00:00+08:00")[1]
    assert _balances(engine, account_no) == before
    assert _count(engine, Payment) == 0
    assert _count(engine, Event, Event.type.like("payment.%")) == 0


def test_lenient_amounts_unknown_fields_and_other_currencies_are_refused(
    engine: Engine, client: TestClient
) -> None:
    # given an account owing every component
    world = build_world(engine)
    _case_id, account_no = _case_with_components(world, engine)
    token = world.tokens["manager"]
    before = _balances(engine, account_no)

    def refused(**body: Any) -> str:
        response = _post(client, token, account_no=account_no, **body)
        assert response.status_code == 422, response.text
        return str(response.json()["message"])

    # when amounts are spelt as #10 found them accepted, they are refused, saying why
    assert "commas may only group thousands" in refused(amount="1,00")  # was 100.00
    assert "digits other than 0-9" in refused(amount="١٢")  # was 12.00
    assert "digits other than 0-9" in refused(amount="𝟗")  # was 9.00
    # and a payment in another currency is refused, not posted as yuan
    assert refused(currency="USD") == (
        "the request is not valid: currency: the creditor's accounts are in CNY; "
        "a payment in 'USD' is not accepted (convert it to CNY first)"
    )
    # and so is any field a payment does not have
    assert (
        refused(amout="5.00") == "the request is not valid: amout: Extra inputs are not permitted"
    )
    # and a payment dated years ahead
    assert "in the future" in refused(paid_at="2099-11-25T00:00:00+08:00")
    assert _balances(engine, account_no) == before
    assert _count(engine, Payment) == 0
    # then the same payment in the creditor's currency, grouped as documented, is posted
    posted = _post(client, token, account_no=account_no, amount="1,000.00", currency="CNY")
    assert posted.status_code == 201, posted.text
    assert posted.json()["amount"] == "1000.00"


def test_who_may_post_and_reverse(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    _case_a, account_a = _case_with_components(world, engine)
    with transaction(engine) as session:
        case_b = world.case_for_b(session)
        query = select(Account.account_no).where(Account.case_id == case_b.id)
        account_b = session.scalars(query).one()
    _backdate(engine)

    def post(user: str, account_no: str, source: str, reference: str) -> int:
        response = _post(
            client, world.tokens[user], account_no=account_no, source=source, reference=reference
        )
        return response.status_code

    # a system feeding payments: managers and admins (integration users)
    assert post("col_a", account_a, "api", "A1") == 403
    assert post("lead_a", account_a, "api", "A2") == 403
    assert post("admin", account_a, "api", "A3") == 201
    # manual entry: team lead on their own team's case, manager anywhere
    assert post("col_a", account_a, "manual", "M1") == 403
    assert post("agency_x", account_a, "manual", "M2") == 403
    assert post("lead_a", account_a, "manual", "M3") == 201
    assert post("lead_a", account_b, "manual", "M4") == 422  # not in scope: unknown to them
    assert post("manager", account_b, "manual", "M5") == 201
    with transaction(engine) as session:
        manual = session.scalars(select(Payment).where(Payment.reference == "M3")).one()
        assert (manual.source, manual.entered_by) == ("manual", "lead_a")
        payment_id = manual.id
    # reversal: managers only
    for user in ("col_a", "lead_a", "compliance", "admin", "auditor", "agency_x"):
        response = client.post(
            f"/api/v1/payments/{payment_id}/reversal",
            json={"reason": "x"},
            headers=bearer(world.tokens[user]),
        )
        assert response.status_code == 403, user
    # reading a payment follows the case scope
    url = f"/api/v1/payments/{payment_id}"
    assert client.get(url, headers=bearer(world.tokens["col_a"])).status_code == 200
    assert client.get(url, headers=bearer(world.tokens["col_b"])).status_code == 404
    assert client.get(url, headers=bearer(world.tokens["agency_y"])).status_code == 404


def test_a_replayed_reference_outside_the_callers_scope_reveals_nothing(
    engine: Engine, client: TestClient
) -> None:
    # given a payment posted on team A's case with reference PAY2026111100000001
    world = build_world(engine)
    _case_a, account_a = _case_with_components(world, engine)
    with transaction(engine) as session:
        case_b = world.case_for_b(session)
        account_b = session.scalars(
            select(Account.account_no).where(Account.case_id == case_b.id)
        ).one()
    _backdate(engine)
    reference = "PAY2026111100000001"
    first = _post(client, world.tokens["manager"], account_no=account_a, reference=reference)
    assert first.status_code == 201, first.text
    # when team B's lead guesses that reference for a manual payment on their own case
    guess = _post(
        client, world.tokens["lead_b"], account_no=account_b, source="manual", reference=reference
    )
    # then it is refused as taken, and nothing of team A's payment is in the answer
    assert guess.status_code == 409, guess.text
    body = guess.text
    for secret in (account_a, "1000.00", str(first.json()["id"]), str(first.json()["case_id"])):
        assert secret not in body
    assert _count(engine, Payment, Payment.reference == reference) == 1
    # while team A's own lead gets the original posting back (an honest replay)
    replay = _post(
        client, world.tokens["lead_a"], account_no=account_a, source="manual", reference=reference
    )
    assert replay.status_code == 200 and replay.json()["replayed"] is True
