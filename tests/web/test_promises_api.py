"""Promises to pay (承诺还款) through the API."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Event
from tests.factories import NOW
from tests.web.factories import bearer
from tests.web.world import build_world

TODAY = NOW.date()  # 10:00 in Beijing


def test_a_promise_is_stored_in_fen_shown_in_yuan_with_an_event(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session, due_fen=500_000).id

    response = client.post(
        f"/api/v1/cases/{case_id}/promises",
        json={"amount": "1234.5", "due_date": (TODAY + timedelta(days=30)).isoformat()},
        headers=bearer(world.tokens["col_a"]),
    )

    assert response.status_code == 201, response.text
    assert response.json()["amount"] == "1234.50"
    assert response.json()["created_by"] == "col_a"
    detail = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["col_a"])).json()
    assert [p["status"] for p in detail["promises"]] == ["open"]
    assert detail["timeline"][0]["type"] == "promise.created"
    with transaction(engine) as session:
        event = session.scalar(select(Event).where(Event.type == "promise.created"))
    assert event is not None and event.payload["amount"] == "1234.50"


def test_bad_promises_are_refused_with_reasons(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session, due_fen=500_000).id
        closed_id = world.case_for_a(session, status="closed").id
    headers = bearer(world.tokens["col_a"])
    soon = (TODAY + timedelta(days=3)).isoformat()

    def promise(amount: object, due: str, case: int = case_id) -> tuple[int, str]:
        response = client.post(
            f"/api/v1/cases/{case}/promises",
            json={"amount": amount, "due_date": due},
            headers=headers,
        )
        return response.status_code, response.json().get("message", "")

    assert promise("0", soon) == (422, "amount: a promise must be more than 0.00")
    assert promise("-5", soon)[0] == 422
    assert "more than two decimals" in promise("10.001", soon)[1]
    assert promise(12.5, soon)[0] == 422  # a number, not a yuan string
    assert "total due" in promise("5000.01", soon)[1]
    assert "in the past" in promise("10", (TODAY - timedelta(days=1)).isoformat())[1]
    assert "30 days" in promise("10", (TODAY + timedelta(days=31)).isoformat())[1]
    assert "closed" in promise("10", soon, case=closed_id)[1]
    assert promise("5000.00", TODAY.isoformat())[0] == 201
