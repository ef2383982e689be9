"""Adding and reviewing contact points (新增联系方式, 核实) through the API, on both stores:
values normalised by the placement rules, duplicates refused, each change an event, and
the review moving the status the gate and the dialer read."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import ContactPoint, Event
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW  # 2026-11-01 10:00 in Shanghai
from tests.web.factories import Clock, bearer, debtor_mobile
from tests.web.world import World, build_world


@pytest.fixture
def clock() -> Clock:
    return Clock(now=NOW)


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=clock))) as test_client:
        yield test_client


def setup(engine: Engine) -> tuple[World, int, int, int]:
    """Case of col_a with a debtor mobile 13812341234 and a named spouse 13900001111."""
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        spouse = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == case.debtor_id, ContactPoint.owner == "third_party"
            )
        ).one()
        return world, case.id, debtor_mobile(session, case).id, spouse.id


def add(client: TestClient, token: str, case_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/contact-points", json=body, headers=bearer(token))


def verify(client: TestClient, token: str, point_id: int, **body: Any) -> Any:
    return client.post(
        f"/api/v1/contact-points/{point_id}/verify", json=body, headers=bearer(token)
    )


def check(client: TestClient, token: str, case_id: int, point_id: int) -> Any:
    body = {"case_id": case_id, "contact_point_id": point_id, "channel": "call"}
    return client.post("/api/v1/compliance/check", json=body, headers=bearer(token)).json()


def test_a_point_is_added_normalised_new_and_masked_with_an_event(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, _, _ = setup(engine)

    response = add(client, world.tokens["col_a"], case_id, kind="mobile",
                   value="+86 137-0000-2222", owner="debtor", source="public_record")  # fmt: skip

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["value"] == "137****2222" and body["verification"] == "new"
    assert body["status"] == "active" and body["source"] == "public_record"
    with transaction(engine) as session:
        point = session.get(ContactPoint, body["id"])
        assert point is not None and point.value == "13700002222"
        event = session.scalars(select(Event).where(Event.type == "contact_point.added")).one()
    assert event.entity_id == body["id"] and event.case_id == case_id and event.actor == "col_a"
    assert event.payload == {
        "kind": "mobile", "owner": "debtor", "relation": None, "source": "public_record"
    }  # fmt: skip


def test_a_third_party_needs_a_name_and_gets_a_coded_relation(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, _, _ = setup(engine)
    token = world.tokens["col_a"]
    unnamed = add(client, token, case_id, kind="phone", value="0755-12345678",
                  owner="third_party", source="debtor")  # fmt: skip
    assert unnamed.status_code == 422 and "name" in unnamed.json()["message"]

    named = add(client, token, case_id, kind="phone", value="(0755)12345678",
                owner="third_party", owner_name="王芳", relation="同事",
                source="debtor")  # fmt: skip
    assert named.status_code == 201, named.text
    assert named.json()["relation"] == "colleague" and named.json()["owner_name"] == "王*"


@pytest.mark.parametrize(
    ("kind", "value", "words"),
    [
        ("mobile", "1381234", "11-digit"),
        ("phone", "12345", "landline"),
        ("email", "zhang@", "e-mail"),
        ("wechat", "1x", "WeChat"),
        ("address", "北京", "too short"),
    ],
)
def test_a_bad_value_is_refused_with_a_clear_message(
    engine: Engine, client: TestClient, kind: str, value: str, words: str
) -> None:
    world, case_id, _, _ = setup(engine)
    response = add(client, world.tokens["col_a"], case_id, kind=kind, value=value,
                   owner="debtor", source="debtor")  # fmt: skip
    assert response.status_code == 422
    assert words in response.json()["message"]
    with transaction(engine) as session:
        assert session.scalar(select(Event).where(Event.type == "contact_point.added")) is None


def test_a_duplicate_is_refused_with_409_even_when_written_differently(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    # 13812341234 is already the debtor's mobile (from the placement file)
    again = add(client, world.tokens["col_a"], case_id, kind="mobile",
                value="138 1234 1234", owner="debtor", source="debtor")  # fmt: skip
    assert again.status_code == 409
    assert again.json()["contact_point_id"] == mobile
    assert "already" in again.json()["message"]


def test_review_moves_status_keeps_a_history_and_needs_a_reason_to_invalidate(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    world, _case_id, mobile, _ = setup(engine)
    token = world.tokens["col_a"]
    assert verify(client, token, mobile, status="invalid").status_code == 422  # no reason
    assert verify(client, token, mobile, status="unknown", reason="x").status_code == 422

    invalid = verify(client, token, mobile, status="invalid", reason="空号")
    assert invalid.status_code == 200, invalid.text
    assert invalid.json()["verification"] == "invalid" and invalid.json()["status"] == "invalid"
    assert verify(client, token, mobile, status="invalid", reason="空号").status_code == 422

    verified = verify(client, token, mobile, status="verified", reason="本人接听确认")
    assert verified.json()["verification"] == "verified" and verified.json()["status"] == "active"
    history = verified.json()["history"]
    assert [h["type"] for h in history] == ["contact_point.invalidated", "contact_point.verified"]
    assert history[0]["payload"]["reason"] == "空号"
    assert history[1]["payload"]["previous"] == {"verification": "invalid", "status": "invalid"}
    with transaction(engine) as session:
        point = session.get(ContactPoint, mobile)
        assert point is not None and point.verified_at == NOW
    shown = client.get(f"/api/v1/contact-points/{mobile}", headers=bearer(token))
    assert shown.status_code == 200 and len(shown.json()["history"]) == 2
    assert shown.json()["value"] == "138****1234"


def test_scope_and_roles(engine: Engine, client: TestClient) -> None:
    world, case_id, mobile, _ = setup(engine)
    body = {"kind": "email", "value": "zhang@example.com", "owner": "debtor", "source": "debtor"}
    # out of scope looks like nothing there; an auditor may not add or review
    assert add(client, world.tokens["col_b"], case_id, **body).status_code == 404
    assert verify(client, world.tokens["col_b"], mobile, status="verified").status_code == 404
    assert add(client, world.tokens["auditor"], case_id, **body).status_code == 403
    assert verify(client, world.tokens["col_a"], 999_999, status="verified").status_code == 404
    assert add(client, world.tokens["col_a"], case_id, **body).status_code == 201


def test_the_gate_sees_the_review(engine: Engine, client: TestClient) -> None:
    """Third-party contact refused while the debtor has a working number; allowed once
    every number of theirs is reviewed invalid; refused again when a new one is added."""
    world, case_id, mobile, spouse = setup(engine)
    token = world.tokens["col_a"]
    landline = add(client, token, case_id, kind="phone", value="010-88886666",
                   owner="debtor", source="public_record").json()["id"]  # fmt: skip
    refused = check(client, token, case_id, spouse)
    assert not refused["allowed"] and [r["id"] for r in refused["rules"]] == ["CN-08"]

    verify(client, token, mobile, status="invalid", reason="空号")
    assert not check(client, token, case_id, spouse)["allowed"]  # the landline still works
    verify(client, token, landline, status="invalid", reason="非本人")

    assert check(client, token, case_id, spouse)["allowed"]
    found = add(client, token, case_id, kind="mobile", value="13655556666",
                owner="debtor", source="repair_vendor")  # fmt: skip
    assert found.status_code == 201
    assert not check(client, token, case_id, spouse)["allowed"]
