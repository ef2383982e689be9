"""``POST /api/v1/messages`` (gated, replay-safe), the signed receipts callback, and an
opt-out reply the gate then honours — on both stores."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.messaging.api import messaging_settings
from cuishou.messaging.rules import receipt_signature
from cuishou.messaging.service import send_due
from cuishou.store.db import transaction
from cuishou.store.tables import ContactHold, Event, Message
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.messaging.servers import contract_server
from tests.messaging.world import DAY, FakeClock, options, settings, sms_gateway
from tests.web.factories import WORKDAY_MORNING, Clock, bearer, debtor_mobile, token_for
from tests.web.world import World, build_world

SECRET = "receipt-secret"


@pytest.fixture
def clock() -> Clock:
    return Clock(now=WORKDAY_MORNING)


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    app = create_app(engine, WebSettings(clock=clock))
    app.dependency_overrides[messaging_settings] = lambda: settings(receipt_secret=SECRET)
    with TestClient(app) as test_client:
        yield test_client


def setup(engine: Engine) -> tuple[World, int, int]:
    world = build_world(engine)
    with transaction(engine) as session:
        for name, user in world.users.items():  # tokens valid on the test's Wednesday
            world.tokens[name] = token_for(
                session, user=user, now=WORKDAY_MORNING, ttl=timedelta(days=2)
            )
        case = world.case_for_a(session)
        return world, case.id, debtor_mobile(session, case).id


def post(client: TestClient, token: str, **body: Any) -> Any:
    return client.post("/api/v1/messages", json=body, headers=bearer(token))


def callback(client: TestClient, payload: Any, *, secret: str = SECRET) -> Any:
    body = json.dumps(payload).encode()
    return client.post(
        "/api/v1/messages/receipts",
        content=body,
        headers={
            "X-Cuishou-Signature": receipt_signature(body, secret),
            "Content-Type": "application/json",
        },
    )


def test_a_message_is_gated_queued_and_a_replay_gets_the_same_id(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile = setup(engine)
    token = world.tokens["col_a"]

    first = post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )
    replay = post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )

    assert first.status_code == 201, first.text
    assert first.json()["status"] == "queued"
    assert replay.status_code == 201 and replay.json()["id"] == first.json()["id"]
    assert first.json()["key"] == f"{case_id}:SMS_REMINDER:{DAY.isoformat()}"
    assert "张*您好" in first.json()["body"] and "12345.67元" in first.json()["body"]
    with transaction(engine) as session:
        assert len(session.scalars(select(Message)).all()) == 1
        checked = session.scalars(select(Event).where(Event.type == "compliance.checked")).all()
        assert len(checked) == 1  # the replay asked nobody


def test_the_gate_refuses_with_403_rules_and_next_allowed_at(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    world, case_id, mobile = setup(engine)
    clock.now = WORKDAY_MORNING + timedelta(hours=12)  # 22:00 in Beijing

    response = post(
        client,
        world.tokens["col_a"],
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )

    assert response.status_code == 403, response.text
    body = response.json()
    assert body["code"] == "contact_blocked" and body["status"] == "blocked"
    assert [r["id"] for r in body["rules"]] and body["next_allowed_at"]
    with transaction(engine) as session:
        kept = session.get(Message, body["id"])
        assert kept is not None and kept.status == "blocked" and kept.rule_ids


def test_bad_input_is_a_clear_error(engine: Engine, client: TestClient) -> None:
    world, case_id, mobile = setup(engine)
    token = world.tokens["col_a"]
    wrong_kind = post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="email",
        template_code="EMAIL_STATEMENT",
    )
    no_template = post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="NO_SUCH",
    )
    other_team = post(
        client,
        world.tokens["col_b"],
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )
    assert wrong_kind.status_code == 422 and "email" in wrong_kind.json()["message"]
    assert no_template.status_code == 404
    assert other_team.status_code == 404
    with transaction(engine) as session:
        assert session.scalars(select(Message)).all() == []


def test_receipts_must_be_signed_and_mark_delivery(engine: Engine, client: TestClient) -> None:
    world, case_id, mobile = setup(engine)
    post(
        client,
        world.tokens["col_a"],
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )
    fake = FakeClock(now=WORKDAY_MORNING)
    with contract_server() as server:
        send_due(
            engine, {"sms": sms_gateway(server.url, fake)}, settings(), options(fake, ("sms",), [])
        )
    key = f"{case_id}:SMS_REMINDER:{DAY.isoformat()}"
    receipt = [
        {
            "out_id": key,
            "biz_id": "BIZ000001",
            "success": True,
            "err_code": "DELIVERED",
            "phone_number": "13812341234",
            "report_time": "2026-11-04 10:00:05",
        }
    ]

    forged = callback(client, receipt, secret="wrong")
    applied = callback(client, [*receipt, {"out_id": "nope", "success": True}])

    assert forged.status_code == 401
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] == 1 and applied.json()["rejected"] == 1
    with transaction(engine) as session:
        message = session.scalars(select(Message)).one()
        assert message.status == "delivered" and message.delivered_at is not None


def test_a_td_reply_opens_an_opt_out_the_gate_honours(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    world, case_id, mobile = setup(engine)
    token = world.tokens["col_a"]
    post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_REMINDER",
    )
    fake = FakeClock(now=WORKDAY_MORNING)
    with contract_server() as server:
        send_due(
            engine, {"sms": sms_gateway(server.url, fake)}, settings(), options(fake, ("sms",), [])
        )

    reply = callback(
        client,
        [{"phone_number": "13812341234", "content": "TD", "send_time": "2026-11-04 10:03:00"}],
    )
    clock.now = WORKDAY_MORNING + timedelta(minutes=10)
    again = post(
        client,
        token,
        case_id=case_id,
        contact_point_id=mobile,
        channel="sms",
        template_code="SMS_BROKEN_PROMISE",
    )

    assert reply.status_code == 200 and reply.json()["opt_outs"] == 1
    with transaction(engine) as session:
        hold = session.scalars(select(ContactHold)).one()
        assert hold.kind == "opt_out" and hold.channel == "sms"
    assert again.status_code == 403, again.text
    assert again.json()["rules"]
