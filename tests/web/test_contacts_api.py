"""Logging contacts (催记): events, invalid numbers, promises, contact-driven alerts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Alert, Case, Contact, ContactPoint, Event, Promise
from tests.factories import NOW
from tests.web.factories import bearer, debtor_mobile, make_contact_point
from tests.web.world import World, build_world


def _setup(engine: Engine) -> tuple[World, int, int]:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        return world, case.id, debtor_mobile(session, case).id


def _log(client: TestClient, world: World, case_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/contacts", json=body, headers=bearer(world.tokens["col_a"])
    )


def test_a_contact_is_stored_with_party_and_a_contact_logged_event(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, point_id = _setup(engine)
    at = (NOW - timedelta(hours=1)).isoformat()  # 09:00 in Shanghai

    response = _log(
        client, world, case_id, contact_point_id=point_id, channel="call",
        outcome="connected_debtor", at=at, notes="本人接听，称下周还款",
    )  # fmt: skip

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["contact"]["party"] == "debtor" and body["contact"]["outcome_zh"] == "本人接通"
    assert body["contact"]["at"].startswith("2026-11-01T01:00")
    assert body["alerts_raised"] == [] and body["promise"] is None
    assert body["compliance"] == {"allowed": True, "rules": []}
    with transaction(engine) as session:
        event = session.scalar(select(Event).where(Event.type == "contact.logged"))
    assert event is not None and event.case_id == case_id and event.actor == "col_a"
    assert event.payload["outcome"] == "connected_debtor"


def test_invalid_number_marks_the_contact_point_invalid(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    response = _log(
        client, world, case_id, contact_point_id=point_id, channel="call", outcome="invalid_number"
    )
    assert response.status_code == 201
    with transaction(engine) as session:
        point = session.get(ContactPoint, point_id)
        assert point is not None and point.status == "invalid"
        assert session.scalar(select(Event).where(Event.type == "contact_point.invalidated"))


def test_three_failed_contacts_in_a_row_raise_one_alert(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    outcomes = [
        "no_answer",
        "connected_debtor",
        "no_answer",
        "powered_off",
        "rejected",
        "no_answer",
    ]
    raised = []
    for minutes, outcome in enumerate(outcomes):
        at = (NOW - timedelta(minutes=60 - minutes)).isoformat()
        response = _log(
            client,
            world,
            case_id,
            contact_point_id=point_id,
            channel="call",
            outcome=outcome,
            at=at,
        )
        assert response.status_code == 201, response.text
        raised.append(response.json()["alerts_raised"])

    assert raised == [[], [], [], [], ["three_failed_contacts"], []]
    with transaction(engine) as session:
        alerts = session.scalars(select(Alert).where(Alert.case_id == case_id)).all()
        events = session.scalars(select(Event).where(Event.type == "alert.raised")).all()
    assert [(a.kind, a.status) for a in alerts] == [("three_failed_contacts", "open")]
    assert len(events) == 1 and events[0].entity_id == alerts[0].id


def test_a_refusal_raises_a_refusal_alert(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    response = _log(
        client, world, case_id, contact_point_id=point_id, channel="call", outcome="refused"
    )
    assert response.json()["alerts_raised"] == ["refusal"]
    alerts = client.get("/api/v1/alerts", headers=bearer(world.tokens["lead_a"])).json()
    assert [(a["case_id"], a["kind"], a["kind_zh"]) for a in alerts["items"]] == [
        (case_id, "refusal", "明确拒绝还款")
    ]


def test_a_promise_outcome_takes_the_promise(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    due = (NOW.date() + timedelta(days=7)).isoformat()
    response = _log(
        client, world, case_id, contact_point_id=point_id, channel="call", outcome="promise",
        promise={"amount": "2000.50", "due_date": due},
    )  # fmt: skip
    missing = _log(
        client, world, case_id, contact_point_id=point_id, channel="call", outcome="promise"
    )
    stray = _log(
        client, world, case_id, contact_point_id=point_id, channel="call", outcome="no_answer",
        promise={"amount": "1.00", "due_date": due},
    )  # fmt: skip

    assert response.status_code == 201, response.text
    promise = response.json()["promise"]
    assert promise["amount"] == "2000.50" and promise["status"] == "open"
    assert missing.status_code == stray.status_code == 422
    with transaction(engine) as session:
        stored = session.scalars(select(Promise)).all()
    assert [(p.amount_fen, p.contact_id is not None) for p in stored] == [(200_050, True)]


def test_channel_must_fit_the_contact_point(engine: Engine, client: TestClient) -> None:
    world, case_id, _point_id = _setup(engine)
    with transaction(engine) as session:
        case_debtor = session.scalar(
            select(ContactPoint.debtor_id).where(ContactPoint.id == _point_id)
        )
        assert case_debtor is not None
        address = make_contact_point(
            session, debtor_id=case_debtor, kind="address", value="北京市朝阳区某某路1号"
        ).id
    sms_to_address = _log(
        client, world, case_id, contact_point_id=address, channel="sms", outcome="no_answer"
    )
    visit = _log(
        client, world, case_id, contact_point_id=address, channel="visit",
        outcome="lost_contact", collectors=2,
    )  # fmt: skip
    assert sms_to_address.status_code == 422 and "mobile" in sms_to_address.json()["message"]
    assert visit.status_code == 201


def _address(engine: Engine, case_id: int) -> int:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return make_contact_point(
            session, debtor_id=case.debtor_id, kind="address", value="北京市朝阳区某某路1号"
        ).id


def test_a_visit_must_say_how_many_collectors_went(engine: Engine, client: TestClient) -> None:
    world, case_id, _point_id = _setup(engine)
    address = _address(engine, case_id)
    visit = {"contact_point_id": address, "channel": "visit", "outcome": "lost_contact"}

    missing = _log(client, world, case_id, **visit)

    # not taken for one person (a false CN-14 violation) nor for two (a hidden one)
    assert missing.status_code == 422
    assert missing.json()["errors"] == [
        {"field": "collectors",
         "message": "a field visit needs the number of collectors going (外访人数)"}
    ]  # fmt: skip
    assert _log(client, world, case_id, **visit, collectors=0).status_code == 422
    with transaction(engine) as session:
        assert session.scalars(select(Contact)).all() == []
    # NOW is 10:00 in Shanghai, not a holiday: only the number of collectors can fail
    two = _log(client, world, case_id, **visit, collectors=2)
    assert two.status_code == 201, two.text
    assert two.json()["compliance"] == {"allowed": True, "rules": []}
    alone = _log(client, world, case_id, **visit, collectors=1)
    assert alone.json()["compliance"] == {"allowed": False, "rules": ["CN-14"]}
    # calls and messages are made by one person: nobody is asked
    call = _log(client, world, case_id, contact_point_id=_point_id, channel="call",
                outcome="no_answer")  # fmt: skip
    assert call.status_code == 201 and call.json()["compliance"]["allowed"] is True


def test_the_gate_asks_how_many_collectors_go_on_a_visit(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, _point_id = _setup(engine)
    address = _address(engine, case_id)
    token = bearer(world.tokens["col_a"])
    body = {"case_id": case_id, "contact_point_id": address, "channel": "visit"}

    missing = client.post("/api/v1/compliance/check", json=body, headers=token)
    two = client.post("/api/v1/compliance/check", json={**body, "collectors": 2}, headers=token)
    alone = client.post("/api/v1/compliance/check", json={**body, "collectors": 1}, headers=token)

    assert missing.status_code == 422 and missing.json()["errors"][0]["field"] == "collectors"
    assert two.json()["allowed"] is True
    assert [r["id"] for r in alone.json()["rules"]] == ["CN-14"]
    letter = client.post("/api/v1/compliance/check", headers=token,
                         json={**body, "channel": "letter"})  # fmt: skip
    assert letter.status_code == 200 and letter.json()["allowed"] is True


def test_times_are_checked(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    base = {"contact_point_id": point_id, "channel": "call", "outcome": "negotiating"}
    future = _log(client, world, case_id, **base, at=(NOW + timedelta(hours=1)).isoformat())
    naive = _log(client, world, case_id, **base, at="2026-10-31T09:00:00")
    backwards = _log(
        client, world, case_id, **base, callback_at=(NOW - timedelta(hours=1)).isoformat()
    )
    far = _log(client, world, case_id, **base, callback_at=(NOW + timedelta(days=40)).isoformat())
    ancient = _log(client, world, case_id, **base, at="0001-01-01T00:00:00+08:00")
    fine = _log(client, world, case_id, **base, callback_at=(NOW + timedelta(days=1)).isoformat())
    assert [r.status_code for r in (future, naive, backwards, far, ancient)] == [422] * 5
    assert fine.status_code == 201


def test_an_unknown_outcome_or_channel_is_a_422(engine: Engine, client: TestClient) -> None:
    world, case_id, point_id = _setup(engine)
    response = _log(
        client, world, case_id, contact_point_id=point_id, channel="fax", outcome="maybe"
    )
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == {"channel", "outcome"}
