"""The strategy API on both stores: submit, four eyes, activate, show with history, validate
with row numbers, diff of stored versions, rollback."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.store.db import transaction
from tests.strategy.texts import SIMPLE, variant
from tests.web.factories import bearer, make_case, make_user, token_for


def tokens(engine: Engine) -> dict[str, dict[str, str]]:
    with transaction(engine) as session:
        make_case(session, bucket="M3", dpd=70)
        users = {
            name: make_user(session, role=role, username=name)
            for name, role in (("alice", "strategist"), ("boss", "manager"), ("col", "collector"))
        }
        return {name: bearer(token_for(session, user=user)) for name, user in users.items()}


def test_the_lifecycle_through_the_api(engine: Engine, client: TestClient) -> None:
    auth = tokens(engine)
    made = client.post("/api/v1/strategies", json={"body": SIMPLE, "note": "first"},
                       headers=auth["alice"])  # fmt: skip
    assert made.status_code == 201, made.text
    version = made.json()
    assert (version["code"], version["version"], version["state"]) == ("simple", 1, "draft")
    own = client.post(f"/api/v1/strategies/{version['id']}/approve", headers=auth["alice"])
    assert own.status_code == 403 and "four eyes" in own.json()["message"]
    early = client.post(f"/api/v1/strategies/{version['id']}/activate", headers=auth["boss"])
    assert early.status_code == 409
    ok = client.post(f"/api/v1/strategies/{version['id']}/approve", json={"note": "fine"},
                     headers=auth["boss"])  # fmt: skip
    assert ok.json()["approved_by"] == "boss"
    past = client.post(f"/api/v1/strategies/{version['id']}/activate",
                       json={"effective_from": "2026-10-31"}, headers=auth["boss"])  # fmt: skip
    assert past.status_code == 422 and "in the past" in past.json()["message"]
    live = client.post(f"/api/v1/strategies/{version['id']}/activate", headers=auth["boss"])
    assert live.json()["state"] == "in_force" and live.json()["effective_from"] == "2026-11-01"
    shown = client.get(f"/api/v1/strategies/{version['id']}", headers=auth["col"])
    assert shown.status_code == 403
    shown = client.get(f"/api/v1/strategies/{version['id']}", headers=auth["boss"]).json()
    assert [e["type"] for e in shown["history"]] == [
        "strategy.submitted", "strategy.approved", "strategy.activated",
    ]  # fmt: skip
    assert shown["document"]["rules"][1] == {"segment": "LATE", "when": {}, "note": ""}
    second = client.post("/api/v1/strategies", json={"body": variant(SIMPLE, zh="二")},
                         headers=auth["alice"]).json()  # fmt: skip
    diff = client.get("/api/v1/strategies/diff?a=simple@1&b=" + str(second["id"]),
                      headers=auth["boss"]).json()  # fmt: skip
    assert diff["header"] == [{"field": "zh", "a": "简单策略", "b": "二"}]
    bad = client.get("/api/v1/strategies/diff?a=nonsense&b=1", headers=auth["boss"])
    assert bad.status_code == 422
    nothing = client.post("/api/v1/strategies/rollback", headers=auth["boss"])
    assert nothing.status_code == 409 and "first strategy" in nothing.json()["message"]


def test_validate_through_the_api(engine: Engine, client: TestClient) -> None:
    auth = tokens(engine)
    gap = SIMPLE.replace("  - segment: LATE\n", "  - segment: LATE\n    when: {bucket: [M7+]}\n")
    report = client.post("/api/v1/strategies/validate", json={"body": gap},
                         headers=auth["alice"]).json()  # fmt: skip
    kinds = [(p["kind"], p["rows"]) for p in report["problems"]]
    assert ("gap", []) in kinds and ("unknown_template", [1]) in kinds
    assert report["open_cases"] == 1 and report["clean"] is False
    assert report["rows"] == [
        {"row": 1, "segment": "EARLY", "matched": 0, "decided": 0},
        {"row": 2, "segment": "LATE", "matched": 0, "decided": 0},
    ]
    broken = client.post("/api/v1/strategies/validate", json={"body": "code: [x"},
                         headers=auth["alice"]).json()  # fmt: skip
    assert broken["problems"][0]["kind"] == "document"
    assert "not valid YAML" in broken["problems"][0]["en"]
    refused = client.post("/api/v1/strategies", json={"body": "code: [x"}, headers=auth["alice"])
    assert refused.status_code == 422 and refused.json()["code"] == "invalid_strategy"


def test_numbers_too_large_for_the_store_name_no_version(
    engine: Engine, client: TestClient
) -> None:
    auth = tokens(engine)
    huge = "9" * 30
    for query in (f"a={huge}&b=1", f"a=default@{huge}&b=1", "a=" + "x" * 40 + "@1&b=1"):
        response = client.get(f"/api/v1/strategies/diff?{query}", headers=auth["boss"])
        assert response.status_code == 404, (query, response.text)
