"""Templates are screened when saved; one with findings cannot be activated."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.exc import IntegrityError

from cuishou.store.db import transaction
from cuishou.store.tables import MessageTemplate
from tests.web.factories import bearer
from tests.web.world import build_world


def test_a_clean_template_activates_and_retires_the_previous_version(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    token = world.tokens["compliance"]
    text = "【XX银行】尊敬的客户，您的账户已逾期，请通过官方App还款。如有疑问请致电95555。"
    body = {"code": "sms.reminder.m1", "channel": "sms", "body": text}
    first = client.post("/api/v1/templates", json=body, headers=bearer(token))
    assert first.status_code == 201, first.text
    assert first.json()["findings"] == [] and first.json()["version"] == 1
    one = client.post(f"/api/v1/templates/{first.json()['id']}/activate", headers=bearer(token))
    assert one.status_code == 200 and one.json()["status"] == "active"
    second = client.post("/api/v1/templates", json=body, headers=bearer(token)).json()
    assert second["version"] == 2
    client.post(f"/api/v1/templates/{second['id']}/activate", headers=bearer(token))
    listed = client.get("/api/v1/templates", headers=bearer(world.tokens["col_a"])).json()
    assert [(t["version"], t["status"]) for t in listed] == [(1, "retired"), (2, "active")]


def test_a_template_with_findings_is_saved_but_never_activated(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    token = world.tokens["manager"]
    third = {"code": "sms.relative", "channel": "sms", "audience": "third_party",
             "body": "您好，您的亲属张三欠款5000元已逾期，请转告其尽快还款。"}  # fmt: skip
    saved = client.post("/api/v1/templates", json=third, headers=bearer(token))
    assert saved.status_code == 201
    assert "debt_to_third_party" in {f["category"] for f in saved.json()["findings"]}
    refused = client.post(f"/api/v1/templates/{saved.json()['id']}/activate", headers=bearer(token))
    assert refused.status_code == 409
    assert "debt_to_third_party" in refused.json()["message"]
    # collectors may read templates but not write them
    assert client.post("/api/v1/templates", json=third,
                       headers=bearer(world.tokens["col_a"])).status_code == 403  # fmt: skip
    assert client.post("/api/v1/templates/999/activate", headers=bearer(token)).status_code == 404


def test_screen_endpoint(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    token = world.tokens["col_a"]
    found = client.post("/api/v1/compliance/screen",
                        json={"text": "我保证可以为你免除全部利息", "audience": "debtor"},
                        headers=bearer(token))  # fmt: skip
    assert found.status_code == 200
    assert [f["category"] for f in found.json()["findings"]] == ["over_promise"]
    negated = client.post("/api/v1/compliance/screen", json={"text": "我们不会通知您的单位"},
                          headers=bearer(token))  # fmt: skip
    assert negated.json() == {"findings": []}
    assert client.post("/api/v1/compliance/screen", json={"text": "x", "audience": "boss"},
                       headers=bearer(token)).status_code == 422  # fmt: skip
    assert client.post("/api/v1/compliance/screen", json={"text": "x"},
                       headers=bearer(world.tokens["auditor"])).status_code == 403  # fmt: skip


def test_the_store_keeps_at_most_one_active_version_per_code(engine: Engine) -> None:
    now = datetime(2026, 11, 1, tzinfo=UTC)

    def version(n: int, status: str) -> MessageTemplate:
        return MessageTemplate(
            code="sms.x", version=n, channel="sms", audience="debtor", body="您好",
            status=status, findings=[], created_by="t", created_at=now,
        )  # fmt: skip

    with transaction(engine) as session:
        session.add_all([version(1, "active"), version(2, "retired"), version(3, "retired")])
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(version(4, "active"))


def test_us_electronic_templates_must_carry_an_opt_out(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    token = world.tokens["compliance"]
    plain = {"code": "us.sms.1", "channel": "sms", "pack": "us-regf",
             "body": "This is a message from ACME Collections about your account."}  # fmt: skip
    saved = client.post("/api/v1/templates", json=plain, headers=bearer(token)).json()
    assert [(f["category"], f["rule_id"]) for f in saved["findings"]] == [
        ("missing_opt_out", "US-04")
    ]
    assert client.post(f"/api/v1/templates/{saved['id']}/activate",
                       headers=bearer(token)).status_code == 409  # fmt: skip
    fixed = {**plain, "body": plain["body"] + " Reply STOP to opt out of texts."}
    good = client.post("/api/v1/templates", json=fixed, headers=bearer(token)).json()
    assert good["findings"] == []
    # letters need none, and the cn pack does not ask for it
    for other in ({"code": "us.letter", "channel": "letter"}, {"code": "cn.sms", "pack": "cn"}):
        saved = client.post("/api/v1/templates", json={**plain, **other}, headers=bearer(token))
        assert saved.json()["findings"] == []
