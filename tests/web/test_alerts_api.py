"""Alert handling by team leads and managers."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Alert, Event
from tests.web.factories import bearer, make_alert
from tests.web.world import build_world


def test_acknowledge_then_resolve_with_events(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        alert_id = make_alert(session, case=world.case_for_a(session)).id
    headers = bearer(world.tokens["lead_a"])

    acknowledged = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    again = client.post(f"/api/v1/alerts/{alert_id}/acknowledge", headers=headers)
    resolved = client.post(
        f"/api/v1/alerts/{alert_id}/resolve", json={"note": "已电话联系组员"}, headers=headers
    )
    twice = client.post(f"/api/v1/alerts/{alert_id}/resolve", headers=headers)

    assert acknowledged.json()["status"] == "acknowledged"
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    assert resolved.status_code == 200
    assert resolved.json()["status"] == "resolved" and resolved.json()["resolved_by"] == "lead_a"
    assert twice.status_code == 409
    with transaction(engine) as session:
        events = session.scalars(
            select(Event.type).where(Event.entity_type == "alert").order_by(Event.id)
        ).all()
        alert = session.get(Alert, alert_id)
    assert events == ["alert.acknowledged", "alert.resolved"]
    assert alert is not None and alert.resolved_at is not None


def test_alert_list_filters_by_status_and_kind(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        make_alert(session, case=case, kind="refusal")
        make_alert(session, case=case, kind="three_failed_contacts", status="resolved")
        make_alert(session, case=world.case_for_a(session), kind="refusal", status="acknowledged")
    headers = bearer(world.tokens["manager"])

    unresolved = client.get("/api/v1/alerts", headers=headers).json()
    resolved = client.get("/api/v1/alerts?status=resolved", headers=headers).json()
    refusals = client.get("/api/v1/alerts?kind=refusal&status=open", headers=headers).json()

    assert unresolved["total"] == 2
    assert [a["kind"] for a in resolved["items"]] == ["three_failed_contacts"]
    assert refusals["total"] == 1
