"""Case list, detail, queue, assignment and reveal through the API, on both stores."""

from __future__ import annotations

from datetime import date, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.auth.rules import Principal
from cuishou.cases.rules import QueueFacts, queue_priority_key
from cuishou.cases.service import filters_for, my_queue, queue_heads
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Contact, ContactHold, Event, Promise, StrategyVersion, User
from cuishou.strategy.definition import shipped_text, text_sha256
from cuishou.strategy.service.planning import plan_open_cases
from tests.factories import NOW
from tests.web.factories import bearer, debtor_mobile
from tests.web.world import build_world


def test_case_detail_is_masked_with_yuan_amounts_accounts_points_and_timeline(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=1_234_567, debtor_name="王小明")
        case_id = case.id

    response = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["col_a"]))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total_due"] == "12345.67"
    assert body["debtor"]["name"] == "王**"
    assert body["debtor_name"] == "王**"
    assert "*" in body["debtor"]["id_number"] and len(body["debtor"]["id_number"]) == 18
    [account] = body["accounts"]
    assert account["account_no"].startswith("AC")
    assert account["principal"] == "12345.67" and account["bucket"] == "M2"
    assert account["dpd"] == 45
    owners = {p["owner"]: p for p in body["contact_points"]}
    assert owners["debtor"]["value"] == "138****1234"
    assert owners["third_party"]["value"] == "139****1111"
    assert owners["third_party"]["relation"] == "spouse"
    assert owners["third_party"]["owner_name"] == "李*"
    assert body["assigned_to"] == "col_a" and body["team"] == "一组" and body["agency"] == "AGX"
    assert "13812341234" not in response.text
    assert body["timeline"] == [] and body["promises"] == []
    assert body["segment"] is None and body["plan"] is None


def test_case_detail_shows_the_segment_and_todays_plan_with_the_gates_decision(
    engine: Engine, client: TestClient
) -> None:
    """After the planning step: ``segment`` {code, name, strategy_version} and ``plan`` (the
    day's actions, each with the gate's decision) — a dispute hold drops the call."""
    world = build_world(engine)
    day = date(2026, 11, 2)
    with transaction(engine) as session:
        case_id = world.case_for_a(session, bucket="M2", dpd=45).id
        disputed = world.case_for_a(session, bucket="M2", dpd=45)
        session.add(
            ContactHold(
                debtor_id=disputed.debtor_id, case_id=None, kind="dispute", reason="",
                opened_at=NOW, opened_by="compliance",
            )
        )  # fmt: skip
        disputed_id = disputed.id
        body = shipped_text()
        session.add(
            StrategyVersion(
                code="default", version=1, zh="默认", en="Default", body=body,
                sha256=text_sha256(body), status="active", note="", author="strategist",
                created_at=NOW, effective_from=day,
            )
        )  # fmt: skip
    plan_open_cases(engine, day, now=NOW)

    response = client.get(f"/api/v1/cases/{case_id}", headers=bearer(world.tokens["col_a"]))

    assert response.status_code == 200, response.text
    body = response.json()
    # not graded yet: the default strategy's NEW segment, day 0 — an SMS reminder
    assert body["segment"] == {
        "code": "NEW", "name": "待评分", "name_en": "Not yet graded",
        "strategy_version": "default@1", "since": "2026-11-02", "day": 0,
    }  # fmt: skip
    assert body["plan"]["day"] == "2026-11-02"
    [sms] = body["plan"]["actions"]
    assert (sms["action"], sms["status"], sms["allowed"]) == ("sms", "planned", True)
    assert sms["template"] == "SMS_REMINDER" and sms["rule_ids"] == []
    assert sms["window_start"].startswith("2026-11-02T00:00:00")  # 08:00 Beijing, in UTC
    other = client.get(f"/api/v1/cases/{disputed_id}", headers=bearer(world.tokens["col_a"]))
    [refused] = other.json()["plan"]["actions"]
    assert (refused["status"], refused["allowed"]) == ("dropped", False)
    assert refused["rule_ids"] == ["CN-X-SUSPEND"] and refused["window_start"] is None


def test_case_list_filters_and_pages_with_a_total(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        for bucket in ("M1", "M2", "M2", "M3"):
            world.case_for_a(session, bucket=bucket)
        world.case_for_a(session, bucket="M2", amount_tier="large")
        world.case_for_b(session, bucket="M2")
    headers = bearer(world.tokens["manager"])

    everything = client.get("/api/v1/cases", headers=headers).json()
    m2 = client.get("/api/v1/cases?bucket=M2&limit=2", headers=headers).json()
    m2_rest = client.get("/api/v1/cases?bucket=M2&limit=2&offset=2", headers=headers).json()
    large = client.get("/api/v1/cases?tier=large", headers=headers).json()
    of_b = client.get("/api/v1/cases?assigned=col_b", headers=headers).json()
    mine = client.get("/api/v1/cases?assigned=me", headers=bearer(world.tokens["col_a"])).json()

    assert everything["total"] == 6
    assert m2["total"] == 4 and len(m2["items"]) == 2
    assert len(m2_rest["items"]) == 2
    assert {c["id"] for c in m2["items"]}.isdisjoint({c["id"] for c in m2_rest["items"]})
    assert large["total"] == 1 and large["items"][0]["amount_tier"] == "large"
    assert of_b["total"] == 1 and of_b["items"][0]["assigned_to"] == "col_b"
    assert mine["total"] == 5


def test_a_bad_filter_is_a_422_with_a_code(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    response = client.get("/api/v1/cases?limit=0&tier=huge", headers=bearer(world.tokens["admin"]))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_input"
    assert {e["field"] for e in body["errors"]} == {"limit", "tier"}


def test_queue_puts_callbacks_then_promises_then_worse_buckets_then_larger_amounts(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    col_a = world.users["col_a"]
    with transaction(engine) as session:
        plain_small = world.case_for_a(session, bucket="M3", due_fen=100_00)
        plain_large = world.case_for_a(session, bucket="M3", due_fen=900_00)
        worse_bucket = world.case_for_a(session, bucket="M5", due_fen=50_00)
        promise_due = world.case_for_a(session, bucket="M1", due_fen=10_00)
        callback_due = world.case_for_a(session, bucket="M1", due_fen=10_00)
        callback_tomorrow = world.case_for_a(session, bucket="M1", due_fen=20_00)
        answered_callback = world.case_for_a(session, bucket="M1", due_fen=5_00)
        closed = world.case_for_a(session, bucket="M7+", status="closed")
        session.add(
            Promise(
                case_id=promise_due.id,
                amount_fen=10_00,
                due_date=NOW.date(),
                status="open",
                created_by=col_a.id,
                created_at=NOW,
            )
        )
        for case, callback_at, later in (
            (callback_due, NOW + timedelta(hours=2), False),
            (callback_tomorrow, NOW + timedelta(days=1), False),
            (answered_callback, NOW - timedelta(hours=1), True),
        ):
            point = debtor_mobile(session, case)
            for offset, callback in (
                (timedelta(hours=-3), callback_at),
                (timedelta(hours=-2), None),
            ):
                if callback is None and not later:
                    continue
                session.add(
                    Contact(
                        case_id=case.id,
                        contact_point_id=point.id,
                        user_id=col_a.id,
                        channel="call",
                        party="debtor",
                        outcome="negotiating",
                        notes="",
                        at=NOW + offset,
                        callback_at=callback,
                        created_at=NOW,
                    )
                )
        ranks = {"M1": 1, "M3": 3, "M5": 5}
        facts = [
            QueueFacts(
                case_id=c.id,
                callback_due=c is callback_due,
                promise_due=c is promise_due,
                bucket_rank=ranks[c.bucket],
                due_fen=c.due_fen,
            )
            for c in (
                plain_small,
                plain_large,
                worse_bucket,
                promise_due,
                callback_due,
                callback_tomorrow,
                answered_callback,
            )
        ]
        closed_id = closed.id

    response = client.get("/api/v1/queue", headers=bearer(world.tokens["col_a"]))

    assert response.status_code == 200, response.text
    body = response.json()
    got = [item["id"] for item in body["items"]]
    expected = [f.case_id for f in sorted(facts, key=queue_priority_key)]
    assert got == expected
    assert got[:2] == [callback_due.id, promise_due.id]
    assert closed_id not in got and body["total"] == 7
    first = body["items"][0]
    assert first["callback_due"] is True and first["next_callback_at"] is not None
    assert body["items"][1]["promise_due"] is True
    assert body["items"][1]["promise_due_date"] == NOW.date().isoformat()


def test_assign_moves_a_case_to_a_collector_of_the_team_and_appends_an_event(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session).id

    response = client.post(
        f"/api/v1/cases/{case_id}/assign",
        json={"collector": "col_a2"},
        headers=bearer(world.tokens["lead_a"]),
    )

    assert response.status_code == 200, response.text
    assert response.json()["assigned_to"] == "col_a2"
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.assigned_user_id == world.users["col_a2"].id
        assert case.agency_id is None  # an internal collector: recalled from the agency
        event = session.scalar(select(Event).where(Event.type == "case.assigned"))
        assert event is not None and event.actor == "lead_a"
        assert event.payload["from"] == "col_a" and event.payload["to"] == "col_a2"


def test_a_team_lead_cannot_assign_to_another_teams_collector(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session).id
    response = client.post(
        f"/api/v1/cases/{case_id}/assign",
        json={"collector": "col_b"},
        headers=bearer(world.tokens["lead_a"]),
    )
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_assign_only_to_an_active_collector(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session).id
    headers = bearer(world.tokens["manager"])
    to_lead = client.post(
        f"/api/v1/cases/{case_id}/assign", json={"collector": "lead_b"}, headers=headers
    )
    to_nobody = client.post(
        f"/api/v1/cases/{case_id}/assign", json={"collector": "ghost"}, headers=headers
    )
    assert to_lead.status_code == 422 and "collectors" in to_lead.json()["message"]
    assert to_nobody.status_code == 422 and to_nobody.json()["field"] == "collector"


def test_bulk_assign_is_all_or_nothing(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        ids = [world.case_for_a(session).id for _ in range(3)]
        other = world.case_for_b(session).id
    headers = bearer(world.tokens["lead_a"])

    refused = client.post(
        "/api/v1/cases/assign",
        json={"collector": "col_a2", "case_ids": [*ids, other]},
        headers=headers,
    )
    done = client.post(
        "/api/v1/cases/assign", json={"collector": "col_a2", "case_ids": ids}, headers=headers
    )

    assert refused.status_code == 404
    assert done.status_code == 200 and done.json() == {"collector": "col_a2", "assigned": 3}
    with transaction(engine) as session:
        owners = set(session.scalars(select(Case.assigned_user_id).where(Case.id.in_(ids))))
        events = session.scalars(select(Event.case_id).where(Event.type == "case.assigned")).all()
    assert owners == {world.users["col_a2"].id}
    assert sorted(events) == sorted(ids)


def test_reveal_returns_one_field_and_is_audited(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        case_id, point_id = case.id, debtor_mobile(session, case).id

    phone = client.post(
        f"/api/v1/cases/{case_id}/reveal",
        json={"field": "contact_point", "contact_point_id": point_id},
        headers=bearer(world.tokens["compliance"]),
    )
    by_collector = client.post(
        f"/api/v1/cases/{case_id}/reveal",
        json={"field": "id_number"},
        headers=bearer(world.tokens["col_a"]),
    )

    assert phone.status_code == 200, phone.text
    assert phone.json()["value"] == "13812341234"
    assert by_collector.status_code == 403
    with transaction(engine) as session:
        events = session.scalars(select(Event).where(Event.type == "pii.revealed")).all()
    assert [(e.actor, e.payload["field"], e.case_id) for e in events] == [
        ("compliance", "contact_point", case_id)
    ]
    assert "13812341234" not in str(events[0].payload)


def test_queue_heads_are_the_top_of_each_collectors_queue_in_one_query(engine: Engine) -> None:
    # given two collectors with cases of mixed buckets and amounts, a promise due for one
    world = build_world(engine)
    with transaction(engine) as session:
        for bucket, due in (("M3", 100_00), ("M3", 900_00), ("M5", 50_00), ("M1", 10_00)):
            world.case_for_a(session, bucket=bucket, due_fen=due)
            world.case_for_b(session, bucket=bucket, due_fen=due * 2)
        promised = world.case_for_b(session, bucket="M1", due_fen=1_00)
        world.case_for_a(session, bucket="M7+", status="closed")
        session.add(
            Promise(case_id=promised.id, amount_fen=1_00, due_date=NOW.date(), status="open",
                    created_by=world.users["col_b"].id, created_at=NOW)
        )  # fmt: skip
    principals = [principal_of(world.users[name]) for name in ("col_a", "col_b")]

    # when the heads of both queues are read at once, and each queue as the collector sees it
    with transaction(engine) as session:
        heads = queue_heads(session, principals, now=NOW, depth=3)
        shown = {
            p.username: [
                item.id
                for item in my_queue(
                    session, p, filters_for(session, p, bucket=None, status="open", tier=None,
                                            assigned=None),
                    now=NOW, limit=3, offset=0,
                ).items
            ]
            for p in principals
        }  # fmt: skip

    # then they are the same cases in the same order
    assert [(name, position) for name, position, _ in heads] == [
        (name, position) for name in ("col_a", "col_b") for position in range(3)
    ]
    got = {name: [case for n, _, case in heads if n == name] for name in ("col_a", "col_b")}
    assert got == shown
    assert got["col_b"][0] == promised.id


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, role=user.role,
                     team_id=user.team_id, agency_id=user.agency_id)  # fmt: skip
