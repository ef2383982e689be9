"""Field visits through the API on both stores: request → schedule (the gate judges, CN-14)
→ route → record (a visit contact, its promise) → files, with scope and permissions."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Contact, Event, Promise, Visit
from tests.factories import make_planned
from tests.visits.factories import ADDRESS, NOW, VISIT_DAY, VisitWorld, visit_world
from tests.web.factories import Clock, bearer, make_contact_point, token_for

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def vw(engine: Engine) -> VisitWorld:
    return visit_world(engine)


def _request(client: TestClient, vw: VisitWorld, who: str = "col_a") -> int:
    answer = client.post(
        "/api/v1/visits",
        json={"case_id": vw.case_id, "reason": "电话长期不接"},
        headers=bearer(vw.token(who)),
    )
    assert answer.status_code == 201, answer.text
    return int(answer.json()["id"])


def _schedule(client: TestClient, vw: VisitWorld, visit_id: int, **over: object) -> object:
    body = {"day": VISIT_DAY, "start": "14:00", "end": "16:00", "collectors": ["col_a", "col_a2"]}
    body.update(over)
    return client.post(
        f"/api/v1/visits/{visit_id}/schedule", json=body, headers=bearer(vw.token("lead_a"))
    )


def test_a_requested_visit_is_scheduled_with_two_collectors_inside_the_hours(
    client: TestClient, vw: VisitWorld, engine: Engine
) -> None:
    visit_id = _request(client, vw)

    answer = _schedule(client, vw, visit_id)

    assert answer.status_code == 200, answer.text  # type: ignore[attr-defined]
    out = answer.json()  # type: ignore[attr-defined]
    assert out["status"] == "scheduled"
    assert out["collectors"] == ["col_a", "col_a2"]
    assert out["district"] == "广东省深圳市南山区"
    assert out["window_start"] == "2026-11-01T14:00:00+08:00"  # the debtor's zone
    assert "人民路" not in out["address"]  # masked
    with transaction(engine) as session:
        types = session.scalars(select(Event.type).where(Event.case_id == vw.case_id)).all()
    assert "visit.scheduled" in types and types.count("compliance.checked") == 2


@pytest.mark.parametrize(
    ("change", "rule"),
    [
        ({"collectors": ["col_a"]}, "CN-14"),  # 两人同行
        ({"start": "19:30", "end": "20:30"}, "CN-01"),  # 早8点至晚8点
        ({"start": "07:00", "end": "08:30"}, "CN-01"),
    ],
)
def test_the_gate_refuses_a_visit_with_its_rule_ids_and_nothing_is_kept(
    client: TestClient, vw: VisitWorld, engine: Engine, change: dict[str, object], rule: str
) -> None:
    visit_id = _request(client, vw)

    answer = _schedule(client, vw, visit_id, **change)

    assert answer.status_code == 403, answer.text  # type: ignore[attr-defined]
    body = answer.json()  # type: ignore[attr-defined]
    assert body["code"] == "contact_refused" and rule in body["rules"]
    assert rule in body["message"]
    with transaction(engine) as session:
        visit = session.get(Visit, visit_id)
        assert visit is not None and visit.status == "requested" and visit.day is None


def test_scheduling_checks_the_collectors_and_the_role(client: TestClient, vw: VisitWorld) -> None:
    visit_id = _request(client, vw)
    other_team = _schedule(client, vw, visit_id, collectors=["col_a", "col_b"])
    assert other_team.status_code == 422  # type: ignore[attr-defined]
    assert "not in the case's team" in other_team.json()["message"]  # type: ignore[attr-defined]
    unknown = _schedule(client, vw, visit_id, collectors=["col_a", "nobody"])
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    past = _schedule(client, vw, visit_id, day="2026-10-31")
    assert "past" in past.json()["message"]  # type: ignore[attr-defined]
    by_collector = client.post(
        f"/api/v1/visits/{visit_id}/schedule",
        json={"day": VISIT_DAY, "start": "09:00", "end": "11:00", "collectors": ["col_a"]},
        headers=bearer(vw.token("col_a")),
    )
    assert by_collector.status_code == 403
    by_other_lead = client.post(
        f"/api/v1/visits/{visit_id}/schedule",
        json={"day": VISIT_DAY, "start": "09:00", "end": "11:00", "collectors": ["col_a"]},
        headers=bearer(vw.token("lead_b")),
    )
    assert by_other_lead.status_code == 404  # not their team's: ids do not leak
    again = client.post(
        "/api/v1/visits", json={"case_id": vw.case_id}, headers=bearer(vw.token("col_a"))
    )
    assert again.status_code == 409  # one open visit per case


def test_a_scheduled_collector_records_the_visit_as_a_contact_with_its_promise(
    client: TestClient, vw: VisitWorld, engine: Engine, clock: Clock
) -> None:
    visit_id = _request(client, vw)
    assert _schedule(client, vw, visit_id).status_code == 200  # type: ignore[attr-defined]
    clock.now = NOW.replace(hour=6, minute=40)  # 14:40 on the visit day
    record = {
        "outcome": "promise",
        "check_in_lat": 22.5333,
        "check_in_lon": 113.9304,
        "persons_met": [
            {"name": "张伟", "relation": "self"},
            {"name": "李娜", "relation": "spouse"},
        ],
        "notes": "本人在家，同意月底前还款",
        "promise": {"amount": "3000.00", "due_date": "2026-11-30"},
    }
    stranger = client.post(
        f"/api/v1/visits/{visit_id}/record", json=record, headers=bearer(vw.token("col_b"))
    )
    assert stranger.status_code == 404

    # col_a2 is not the case's collector, but goes on the visit: the record is theirs
    answer = client.post(
        f"/api/v1/visits/{visit_id}/record", json=record, headers=bearer(vw.token("col_a2"))
    )

    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["visit"]["status"] == "done" and out["compliance_allowed"] is True
    assert out["promise"]["amount"] == "3000.00"
    assert [p["relation"] for p in out["visit"]["persons_met"]] == ["self", "spouse"]
    assert out["visit"]["persons_met"][1]["name"] == "李*"
    with transaction(engine) as session:
        contact = session.get(Contact, out["contact_id"])
        assert contact is not None
        assert (contact.channel, contact.outcome, contact.contact_point_id) == (
            "visit", "promise", vw.address_id,
        )  # fmt: skip
        promise = session.scalars(select(Promise).where(Promise.contact_id == contact.id)).one()
        assert promise.amount_fen == 300_000
        types = set(session.scalars(select(Event.type).where(Event.case_id == vw.case_id)))
    assert {"contact.logged", "promise.created", "visit.recorded"} <= types
    twice = client.post(
        f"/api/v1/visits/{visit_id}/record", json=record, headers=bearer(vw.token("col_a"))
    )
    assert twice.status_code == 409


def test_a_bad_record_writes_nothing(client: TestClient, vw: VisitWorld, engine: Engine) -> None:
    visit_id = _request(client, vw)
    _schedule(client, vw, visit_id)
    answer = client.post(
        f"/api/v1/visits/{visit_id}/record",
        json={"outcome": "promise", "promise": {"amount": "-5", "due_date": "2026-11-30"}},
        headers=bearer(vw.token("col_a")),
    )
    assert answer.status_code == 422
    with transaction(engine) as session:
        assert session.scalars(select(Contact).where(Contact.case_id == vw.case_id)).all() == []
        visit = session.get(Visit, visit_id)
        assert visit is not None and visit.status == "scheduled"


def test_files_are_kept_by_content_hash_and_served_to_permitted_roles_only(
    client: TestClient, vw: VisitWorld, data_dir: Path
) -> None:
    visit_id = _request(client, vw)
    _schedule(client, vw, visit_id)
    url = f"/api/v1/visits/{visit_id}/files"

    kept = client.post(
        url, files={"file": ("门牌.png", PNG, "image/png")}, headers=bearer(vw.token("col_a"))
    )

    assert kept.status_code == 201, kept.text
    meta = kept.json()
    assert meta["content_type"] == "image/png" and meta["size"] == len(PNG)
    sha = meta["sha256"]
    assert (data_dir / "visits" / sha[:2] / sha).read_bytes() == PNG
    for who in ("col_a", "col_a2", "lead_a", "compliance", "auditor"):
        got = client.get(f"{url}/{meta['id']}", headers=bearer(vw.token(who)))
        assert got.status_code == 200, who
        assert got.content == PNG and got.headers["content-type"] == "image/png"
    assert (
        client.get(f"{url}/{meta['id']}", headers=bearer(vw.token("agency_x"))).status_code == 403
    )
    assert client.get(f"{url}/{meta['id']}", headers=bearer(vw.token("lead_b"))).status_code == 404
    assert client.get(f"{url}/{meta['id']}", headers=bearer(vw.token("col_b"))).status_code == 404
    fake = client.post(
        url, files={"file": ("x.png", b"<script>", "image/png")}, headers=bearer(vw.token("col_a"))
    )
    assert fake.status_code == 422 and "JPEG, PNG" in fake.json()["message"]


def test_routes_order_the_days_visits_per_team(
    client: TestClient, vw: VisitWorld, engine: Engine
) -> None:
    visit_id = _request(client, vw)
    _schedule(client, vw, visit_id)

    planned = client.post(
        "/api/v1/visits/routes", json={"day": VISIT_DAY}, headers=bearer(vw.token("lead_a"))
    )

    assert planned.status_code == 200, planned.text
    (route,) = planned.json()
    assert route["team"] == "一组" and [s["visit_id"] for s in route["stops"]] == [visit_id]
    shown = client.get(f"/api/v1/visits/routes?day={VISIT_DAY}", headers=bearer(vw.token("col_a2")))
    assert [s["position"] for s in shown.json()[0]["stops"]] == [1]
    assert (
        client.get(
            f"/api/v1/visits/routes?day={VISIT_DAY}", headers=bearer(vw.token("lead_b"))
        ).json()
        == []
    )


def test_a_collector_asks_only_on_their_own_cases_and_sees_only_their_visits(
    client: TestClient, vw: VisitWorld
) -> None:
    theirs = client.post(
        "/api/v1/visits", json={"case_id": vw.case_id}, headers=bearer(vw.token("col_b"))
    )
    assert theirs.status_code == 404  # not col_b's case: ids do not leak
    agency = client.post(
        "/api/v1/visits", json={"case_id": vw.case_id}, headers=bearer(vw.token("agency_x"))
    )
    assert agency.status_code == 403
    visit_id = _request(client, vw)

    def listed(who: str) -> list[int]:
        answer = client.get("/api/v1/visits", headers=bearer(vw.token(who)))
        return [v["id"] for v in answer.json()]

    assert listed("col_a") == [visit_id] and listed("lead_a") == [visit_id]
    assert listed("col_a2") == [] and listed("col_b") == [] and listed("lead_b") == []
    assert listed("compliance") == [visit_id]
    _schedule(client, vw, visit_id)
    assert listed("col_a2") == [visit_id]  # now they go on it


def test_a_visit_recorded_after_the_hours_is_kept_and_flagged(
    client: TestClient, vw: VisitWorld, clock: Clock, engine: Engine
) -> None:
    visit_id = _request(client, vw)
    _schedule(client, vw, visit_id, start="18:00", end="20:00")
    clock.now = NOW.replace(hour=13)  # 21:00 Beijing: the pair came late
    with transaction(engine) as session:  # a new login that evening
        token = token_for(session, user=vw.world.users["col_a"], now=clock.now)

    answer = client.post(
        f"/api/v1/visits/{visit_id}/record",
        json={"outcome": "no_answer", "notes": "无人应门"},
        headers=bearer(token),
    )

    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["compliance_allowed"] is False and "CN-01" in out["compliance_rules"]
    assert "compliance_violation" in out["alerts_raised"]


def test_a_team_lead_cancels_an_open_visit_with_a_reason_and_it_may_be_asked_again(
    client: TestClient, vw: VisitWorld
) -> None:
    visit_id = _request(client, vw)
    _schedule(client, vw, visit_id)
    url = f"/api/v1/visits/{visit_id}/cancel"
    lead = bearer(vw.token("lead_a"))
    assert client.post(url, json={"reason": ""}, headers=lead).status_code == 422
    assert (
        client.post(url, json={"reason": "x"}, headers=bearer(vw.token("col_a"))).status_code == 403
    )

    cancelled = client.post(url, json={"reason": "债务人已结清"}, headers=lead)

    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    assert client.post(url, json={"reason": "again"}, headers=lead).status_code == 409
    assert _request(client, vw) != visit_id  # a new request is allowed


def test_the_scheduled_collectors_see_the_address_unmasked_and_each_look_is_audited(
    client: TestClient, vw: VisitWorld, engine: Engine
) -> None:
    visit_id = _request(client, vw)
    url = f"/api/v1/visits/{visit_id}/address"
    # before it is scheduled, the collector who asked sees only the masked address
    assert client.post(url, headers=bearer(vw.token("col_a"))).status_code == 403
    _schedule(client, vw, visit_id)
    # once scheduled, each collector going (no pii.reveal of their own) finds the door
    for who in ("col_a", "col_a2"):
        answer = client.post(url, headers=bearer(vw.token(who)))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"visit_id": visit_id, "address": ADDRESS}
    # a collector of another team does not see the visit at all; a manager may (pii.reveal)
    assert client.post(url, headers=bearer(vw.token("col_b"))).status_code == 404
    assert client.post(url, headers=bearer(vw.token("manager"))).json()["address"] == ADDRESS
    with transaction(engine) as session:
        looks = session.execute(
            select(Event.actor, Event.payload)
            .where(Event.case_id == vw.case_id, Event.type == "pii.revealed")
            .order_by(Event.id)
        ).all()
    assert [actor for actor, _ in looks] == ["col_a", "col_a2", "manager"]
    assert [p.get("granted_by") for _, p in looks] == [
        "visit.scheduled_collector", "visit.scheduled_collector", None,
    ]  # fmt: skip
    assert all(p["field"] == "visit_address" and p["visit_id"] == visit_id for _, p in looks)
    # and after the visit is cancelled, the field team's access ends
    client.post(
        f"/api/v1/visits/{visit_id}/cancel", json={"reason": "已结清"},
        headers=bearer(vw.token("lead_a")),
    )  # fmt: skip
    assert client.post(url, headers=bearer(vw.token("col_a"))).status_code == 403


def test_a_team_lead_imports_the_strategys_planned_visits_of_their_team_once(
    client: TestClient, vw: VisitWorld, engine: Engine
) -> None:
    # given the strategy planned a visit step for a team A case and one for a team B case,
    # and one without an address
    with transaction(engine) as session:
        other = vw.world.case_for_b(session)
        other_point = make_contact_point(session, debtor_id=other.debtor_id, kind="address",
                                         value=ADDRESS)  # fmt: skip
        dropped = vw.world.case_for_a(session)
        make_planned(session, [
            (date.fromisoformat(VISIT_DAY), case_id, "visit", "planned", point)
            for case_id, point in ((vw.case_id, vw.address_id), (other.id, other_point.id),
                                   (dropped.id, None))
        ], created_at=NOW)  # fmt: skip

    def import_as(who: str, body: object) -> Any:
        return client.post("/api/v1/visits/import-plan", json=body, headers=bearer(vw.token(who)))

    body = {"day": VISIT_DAY}
    # when team A's lead imports the day's plan
    answer = import_as("lead_a", body)
    # then only their team's planned visit becomes a request; the one without an address is skipped
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"day": VISIT_DAY, "created": 1, "already": 0, "skipped": 1}
    with transaction(engine) as session:
        visits = session.scalars(select(Visit)).all()
        assert [(v.case_id, v.source, v.status) for v in visits] == [
            (vw.case_id, "strategy", "requested")
        ]
    # and importing again creates nothing twice
    again = import_as("lead_a", body)
    assert again.json()["created"] == 0 and again.json()["already"] == 1
    # and a collector may not import; a bad day is a 422
    assert import_as("col_a", body).status_code == 403
    assert import_as("lead_a", {"day": "not a day"}).status_code == 422
