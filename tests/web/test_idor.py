"""No IDOR: a user outside a case's scope gets 404 on every case endpoint, and nothing changes.

Pairs: collector A vs collector B's case, team lead A vs team B's case, agency X vs
agency Y's case. An out-of-scope id answers exactly like an id that does not exist.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.store.db import transaction
from cuishou.store.tables import Account, Agreement, Alert, Case, Contact, Event, Payment, Promise
from tests.factories import NOW, make_payment
from tests.web.factories import bearer, debtor_mobile, make_alert
from tests.web.world import build_world

OUTSIDERS = ["col_a", "lead_a", "agency_x"]
PROMISE = {"amount": "100.00", "due_date": (NOW.date() + timedelta(days=3)).isoformat()}


def _calls(
    case_id: int, point_id: int, alert_id: int, payment_id: int
) -> list[tuple[str, str, dict[str, Any] | None]]:
    payment = {
        "case_id": case_id,
        "amount": "10.00",
        "paid_at": NOW.isoformat(),
        "reference": "IDOR1",
        "source": "manual",
    }
    plan = {"kind": "deferral", "first_due": (NOW.date() + timedelta(days=10)).isoformat()}
    return [
        ("POST", f"/api/v1/cases/{case_id}/agreements/quote", plan),
        ("POST", f"/api/v1/cases/{case_id}/agreements", plan),
        ("GET", f"/api/v1/payments/{payment_id}", None),
        ("POST", "/api/v1/payments", payment),
        ("GET", f"/api/v1/cases/{case_id}", None),
        (
            "POST",
            f"/api/v1/cases/{case_id}/contacts",
            {"contact_point_id": point_id, "channel": "call", "outcome": "refused"},
        ),
        ("POST", f"/api/v1/cases/{case_id}/promises", PROMISE),
        ("POST", f"/api/v1/cases/{case_id}/assign", {"collector": "col_a"}),
        ("POST", "/api/v1/cases/assign", {"collector": "col_a", "case_ids": [case_id]}),
        ("POST", f"/api/v1/cases/{case_id}/reveal", {"field": "id_number"}),
        ("POST", f"/api/v1/alerts/{alert_id}/acknowledge", None),
        ("POST", f"/api/v1/alerts/{alert_id}/resolve", None),
    ]


def _payment_on(session: Any, case_id: int) -> int:
    """A posted payment on the case's account, dated after its (backdated) snapshot."""
    account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
    account.snapshot_date = NOW.date() - timedelta(days=7)
    return make_payment(session, account=account, amount_fen=1_000, paid_at=NOW).id  # type: ignore[no-any-return]


def _state(engine: Engine, case_id: int) -> tuple[Any, ...]:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return (
            case.assigned_user_id,
            case.team_id,
            case.agency_id,
            session.scalar(select(func.count()).select_from(Contact)),
            session.scalar(select(func.count()).select_from(Promise)),
            session.scalar(select(func.count()).select_from(Payment)),
            session.scalar(select(func.count()).select_from(Agreement)),
            session.scalar(select(func.count()).select_from(Event).where(Event.case_id == case_id)),
            tuple(session.scalars(select(Alert.status).where(Alert.case_id == case_id))),
        )


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_no_case_endpoint_reaches_a_case_outside_the_scope(
    engine: Engine, client: TestClient, outsider: str
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_b(session)
        point_id = debtor_mobile(session, case).id
        alert_id = make_alert(session, case=case).id
        payment_id = _payment_on(session, case.id)
        case_id = case.id
        world.case_for_a(session)  # in scope: lists are not empty for the outsider
    before = _state(engine, case_id)
    headers = bearer(world.tokens[outsider])

    for method, path, body in _calls(case_id, point_id, alert_id, payment_id):
        response = client.request(method, path, json=body, headers=headers)
        # 403 only where the role may never do this at all; never 2xx, never a leak
        allowed = {404, 403} if response.status_code == 403 else {404}
        assert response.status_code in allowed, (method, path, response.text)
        if response.status_code == 404:
            assert response.json()["code"] == "not_found"

    for path in ("/api/v1/cases", "/api/v1/queue", "/api/v1/alerts?status=unresolved"):
        listed = client.get(path, headers=headers).json()
        key = "case_id" if "alerts" in path else "id"
        assert case_id not in {item[key] for item in listed["items"]}, path
    assert _state(engine, case_id) == before


def test_team_lead_gets_404_not_403_on_other_teams_case_writes(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_b(session)
        alert_id = make_alert(session, case=case).id
        payment_id = _payment_on(session, case.id)
        case_id, point_id = case.id, debtor_mobile(session, case).id
    headers = bearer(world.tokens["lead_a"])
    statuses = [
        client.request(method, path, json=body, headers=headers).status_code
        for method, path, body in _calls(case_id, point_id, alert_id, payment_id)
    ]
    assert statuses == [404] * len(statuses)


def test_an_out_of_scope_id_looks_like_a_missing_one(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_b(session).id
    headers = bearer(world.tokens["col_a"])
    hidden = client.get(f"/api/v1/cases/{case_id}", headers=headers)
    missing = client.get("/api/v1/cases/999999", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["code"] == missing.json()["code"]
    assert hidden.json()["message"].replace(str(case_id), "N") == missing.json()["message"].replace(
        "999999", "N"
    )


def test_contact_point_of_another_debtor_is_refused(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        mine = world.case_for_a(session).id
        foreign_point = debtor_mobile(session, world.case_for_b(session)).id
    response = client.post(
        f"/api/v1/cases/{mine}/contacts",
        json={"contact_point_id": foreign_point, "channel": "call", "outcome": "no_answer"},
        headers=bearer(world.tokens["col_a"]),
    )
    assert response.status_code == 422
    assert response.json()["field"] == "contact_point_id"
