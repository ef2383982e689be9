"""``/api/v1/allocation``: preview, apply and undo for a manager; 403 for a collector;
a clear 422 for a bad date."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.store.db import transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.web.factories import Clock, bearer, make_case
from tests.web.world import build_world


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as test_client:
        yield test_client


def test_preview_apply_and_undo_over_the_api(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        for _ in range(3):
            make_case(session)
    manager = bearer(world.tokens["manager"])
    collector = bearer(world.tokens["col_a"])
    body = {"as_of": "2026-11-01"}
    assert (
        client.post("/api/v1/allocation/preview", json=body, headers=collector).status_code == 403
    )
    assert client.post("/api/v1/allocation", json=body, headers=collector).status_code == 403
    bad = client.post("/api/v1/allocation", json={"as_of": "0001-01-01"}, headers=manager)
    assert bad.status_code == 422
    preview = client.post("/api/v1/allocation/preview", json=body, headers=manager)
    assert preview.status_code == 200 and preview.json()["assigned"] == 3
    assert preview.json()["batch"] is None
    applied = client.post("/api/v1/allocation", json=body, headers=manager)
    assert applied.status_code == 200, applied.text
    batch = applied.json()["batch"]
    assert applied.json()["assigned"] == 3 and sum(applied.json()["by_collector"].values()) == 3
    undone = client.post(f"/api/v1/allocation/{batch}/undo", headers=manager)
    assert undone.status_code == 200 and undone.json()["restored"] == 3
    again = client.post(f"/api/v1/allocation/{batch}/undo", headers=manager)
    assert again.status_code == 422
    missing = client.post("/api/v1/allocation/999999/undo", headers=manager)
    assert missing.status_code == 404
