"""A case's ledger (账务流水) through the API on both stores: every change, in scope only."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from cuishou.store.db import transaction
from cuishou.store.tables import Account
from tests.web.factories import bearer
from tests.web.world import build_world


def test_the_ledger_shows_every_change_and_sums_to_what_is_owed(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=500_000)
        other = world.case_for_b(session)
        account_no = session.scalars(
            select(Account.account_no).where(Account.case_id == case.id)
        ).one()
        session.execute(update(Account).values(snapshot_date=other.opened_on))
        case_id, other_id = case.id, other.id
    posted = client.post(
        "/api/v1/payments",
        json={"account_no": account_no, "amount": "1200.00",
              "paid_at": "2026-10-31T09:30:00+08:00", "reference": "L1"},
        headers=bearer(world.tokens["manager"]),
    )  # fmt: skip
    assert posted.status_code == 201, posted.text

    response = client.get(f"/api/v1/cases/{case_id}/ledger", headers=bearer(world.tokens["col_a"]))

    assert response.status_code == 200, response.text
    ledger = response.json()
    assert [(e["kind"], e["owed"], e["reference"]) for e in ledger["entries"]] == [
        ("placement", "5000.00", None),
        ("payment", "-1200.00", "L1"),
    ]
    assert ledger["entries"][1]["kind_zh"] == "还款"
    assert (ledger["owed"], ledger["credit"]) == ("3800.00", "0.00")
    case = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["col_a"])).json()
    assert case["total_due"] == ledger["owed"]
    # another team's case is not found, and its ledger neither
    url = f"/api/v1/cases/{other_id}/ledger"
    assert client.get(url, headers=bearer(world.tokens["col_a"])).status_code == 404


def test_a_manager_adjusts_a_balance_with_a_reason_and_nobody_overdraws(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=500_000)
        account_no = session.scalars(
            select(Account.account_no).where(Account.case_id == case.id)
        ).one()
        case_id = case.id
    body = {"account_no": account_no, "principal": "-300.00", "reason": "creditor's correction"}
    for user in ("col_a", "lead_a", "admin"):
        assert client.post("/api/v1/ledger/adjustments", json=body,
                           headers=bearer(world.tokens[user])).status_code == 403  # fmt: skip
    made = client.post(
        "/api/v1/ledger/adjustments", json=body, headers=bearer(world.tokens["manager"])
    )
    assert made.status_code == 201, made.text
    assert (made.json()["kind"], made.json()["owed"]) == ("adjustment", "-300.00")
    detail = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["manager"]))
    assert detail.json()["total_due"] == "4700.00"
    # an adjustment that would overdraw, or moves nothing, or names an unknown field: refused
    for bad in (
        {**body, "principal": "-4700.01"},
        {**body, "principal": "0"},
        {**body, "principle": "-1.00"},
    ):
        response = client.post(
            "/api/v1/ledger/adjustments", json=bad, headers=bearer(world.tokens["manager"])
        )
        assert response.status_code == 422, (bad, response.text)
    ledger = client.get(f"/api/v1/cases/{case_id}/ledger", headers=bearer(world.tokens["manager"]))
    assert [e["kind"] for e in ledger.json()["entries"]] == ["placement", "adjustment"]
