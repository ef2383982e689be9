"""Promises to pay (承诺还款) through the API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.promises.rules import PromisePolicy
from cuishou.store.db import transaction
from cuishou.store.tables import Contact, Event, Promise, Task
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW
from tests.web.factories import Clock, bearer, debtor_mobile
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


def test_a_promise_sets_a_reminder_for_the_day_before(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session, due_fen=500_000).id
    due = TODAY + timedelta(days=5)

    response = client.post(
        f"/api/v1/cases/{case_id}/promises",
        json={"amount": "100.00", "due_date": due.isoformat()},
        headers=bearer(world.tokens["col_a"]),
    )

    assert response.status_code == 201, response.text
    with transaction(engine) as session:
        task = session.scalars(select(Task)).one()
        event = session.scalars(select(Event).where(Event.type == "promise.created")).one()
    assert (task.kind, task.due_on, task.status) == (
        "promise_reminder",
        due - timedelta(days=1),
        "pending",
    )
    assert task.promise_id == response.json()["id"]
    assert task.assigned_user_id == world.users["col_a"].id
    assert event.payload["reminder_task_id"] == task.id
    assert event.payload["reminder_on"] == (due - timedelta(days=1)).isoformat()


def test_promise_and_kept_rates_per_collector_and_team(engine: Engine, client: TestClient) -> None:
    # given col_a reached debtors 4 times and took 2 promises (1 kept, 1 broken), col_b 1 and 1
    world = build_world(engine)
    with transaction(engine) as session:
        case_a = world.case_for_a(session)
        case_b = world.case_for_b(session)
        for case, user, contacts, outcomes in (
            (case_a, world.users["col_a"], 4, ["kept", "broken"]),
            (case_b, world.users["col_b"], 1, ["open"]),
        ):
            point = debtor_mobile(session, case)
            for _ in range(contacts):
                session.add(
                    Contact(
                        case_id=case.id, contact_point_id=point.id, user_id=user.id,
                        channel="call", party="debtor", outcome="promise", notes="", at=NOW,
                        created_at=NOW,
                    )
                )  # fmt: skip
            for status in outcomes:
                session.add(
                    Promise(
                        case_id=case.id, amount_fen=10_000, due_date=TODAY, status=status,
                        created_by=user.id, created_at=NOW,
                    )
                )  # fmt: skip

    def stats(user: str) -> Any:
        return client.get("/api/v1/promises/stats", headers=bearer(world.tokens[user]))

    manager = stats("manager")
    assert manager.status_code == 200, manager.text
    rows = {r["name"]: r for r in manager.json()["collectors"]}
    assert rows["col_a"]["promises"] == 2 and rows["col_a"]["rpc_contacts"] == 4
    assert rows["col_a"]["promise_rate"] == "0.5000"
    assert (rows["col_a"]["kept"], rows["col_a"]["broken"], rows["col_a"]["kept_rate"]) == (
        1, 1, "0.5000",
    )  # fmt: skip
    assert rows["col_b"]["kept_rate"] is None and rows["col_b"]["open"] == 1
    teams = {t["name"]: t["promises"] for t in manager.json()["teams"]}
    assert teams == {"一组": 2, "二组": 1}
    # a team lead sees their own team only; collectors and compliance see none
    lead = stats("lead_a").json()
    assert [r["name"] for r in lead["collectors"]] == ["col_a"]
    assert stats("auditor").status_code == 200
    for user in ("col_a", "compliance", "agency_x"):
        assert stats(user).status_code == 403, user
    bad = client.get(
        "/api/v1/promises/stats?since=2026-11-02&until=2026-11-01",
        headers=bearer(world.tokens["manager"]),
    )
    assert bad.status_code == 422
    for query in ("until=0001-01-01", "since=0001-01-01", "until=9999-12-31"):
        far = client.get(f"/api/v1/promises/stats?{query}", headers=bearer(world.tokens["manager"]))
        assert far.status_code == 422, query


def test_the_deployments_promise_policy_applies_to_the_api_and_the_contact_form(
    engine: Engine, clock: Clock
) -> None:
    # given a deployment that takes promises within 7 days and of at least ¥100
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=500_000)
        case_id, point = case.id, debtor_mobile(session, case).id
    policy = PromisePolicy(max_days=7, min_amount_fen=10_000)
    app = create_app(engine, WebSettings(clock=clock, promise_policy=policy))
    headers = bearer(world.tokens["col_a"])
    with TestClient(app) as client:

        def promise(amount: str, days: int) -> Any:
            due = str(TODAY + timedelta(days=days))
            return client.post(
                f"/api/v1/cases/{case_id}/promises",
                headers=headers,
                json={"amount": amount, "due_date": due},
            )

        far, small = promise("500", 8), promise("99.99", 3)
        via_contact = client.post(
            f"/api/v1/cases/{case_id}/contacts",
            headers=headers,
            json={
                "contact_point_id": point,
                "channel": "call",
                "outcome": "promise",
                "promise": {"amount": "500", "due_date": str(TODAY + timedelta(days=10))},
            },
        )
        ok = promise("100", 7)
    assert far.status_code == 422 and "within 7 days" in far.json()["message"]
    assert small.status_code == 422 and "at least 100.00" in small.json()["message"]
    assert via_contact.status_code == 422 and "within 7 days" in via_contact.json()["message"]
    assert ok.status_code == 201
