"""GET /api/v1/experiments[/{id}] and the experiment pages, on both stores: who may read,
the exact shape, the buttons each role gets, four eyes through the pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.experiments.service import report
from cuishou.store.db import transaction
from cuishou.store.tables import Event
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.experiments.world import CLOCK, TODAY, World, build_world
from tests.web.factories import Clock, bearer
from tests.web.pages import HTML, csrf_of, login


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


@pytest.fixture
def api(engine: Engine, world: World) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock(now=CLOCK)))) as client:
        yield client


def test_the_results_are_the_service_report_exactly(
    engine: Engine, world: World, api: TestClient
) -> None:
    response = api.get(
        f"/api/v1/experiments/{world.experiment_id}", headers=bearer(world.tokens["manager"])
    )
    assert response.status_code == 200, response.text
    body = response.json()
    with transaction(engine) as session:
        expected = report(session, None, world.experiment_id, today=TODAY).results
    assert body == expected.model_dump(mode="json")
    assert set(body["diff"]) == {"metric", "estimate", "ci_low", "ci_high", "p_value"}
    assert set(body["power"]) == {"uplift_detectable_now", "cases_needed_for_2pct"}
    assert [a["recovered"] for a in body["arms"]] == ["300.00", "900.00"]


@pytest.mark.parametrize(
    ("who", "status"),
    [("strat_a", 200), ("manager", 200), ("auditor", 200), ("col", 403)],
)
def test_who_may_read_experiments(api: TestClient, world: World, who: str, status: int) -> None:
    headers = bearer(world.tokens[who])
    assert api.get(f"/api/v1/experiments/{world.experiment_id}", headers=headers).status_code == (
        status
    )
    listed = api.get("/api/v1/experiments", headers=headers)
    assert listed.status_code == status
    if status == 200:
        assert [e["name"] for e in listed.json()] == ["tone"]
        assert listed.json()[0]["cases"] == {"champion": 3, "challenger": 3}


def test_unknown_missing_and_bad_ids(api: TestClient, world: World) -> None:
    headers = bearer(world.tokens["strat_a"])
    assert api.get("/api/v1/experiments/9999", headers=headers).status_code == 404
    assert api.get("/api/v1/experiments/abc", headers=headers).status_code == 422
    assert api.get(f"/api/v1/experiments/{world.experiment_id}").status_code == 401


def _events(engine: Engine, world: World) -> list[tuple[str, str]]:
    with transaction(engine) as session:
        rows = session.scalars(
            select(Event)
            .where(Event.entity_type == "experiment", Event.entity_id == world.experiment_id)
            .order_by(Event.id)
        )
        return [(e.type, e.actor) for e in rows if e.type != "experiment.cases_joined"]


def test_the_pages_show_the_figures_and_the_buttons_each_role_may_press(
    engine: Engine, world: World, api: TestClient
) -> None:
    path = f"/experiments/{world.experiment_id}"
    login(api, "auditor")
    listing = api.get("/experiments", headers=HTML)
    assert listing.status_code == 200 and f'href="{path}"' in listing.text
    page = api.get(path, headers=HTML)
    assert page.status_code == 200
    assert 'data-field="recovered">¥900.00' in page.text
    assert 'id="stop"' not in page.text and "request-promotion" not in page.text
    charts = json.loads(re.search(r'id="chart-data">(.*?)</script>', page.text, re.S)[1])  # type: ignore[index]
    assert charts["curves"]["days"][0] == "2026-11-02" and len(charts["curves"]["days"]) == 7
    assert charts["curves"]["series"][1]["data"][-1] == 0.2
    api.post("/logout", data={"csrf_token": csrf_of(page.text)}, headers=HTML)

    login(api, "col")
    assert api.get(path, headers=HTML).status_code == 403

    # the strategist asks; the page then tells them a second person approves
    csrf = login(api, "strat_a")
    page = api.get(path, headers=HTML)
    assert 'id="stop"' in page.text and 'id="request-promotion"' in page.text
    asked = api.post(f"{path}/promotion", data={"csrf_token": csrf, "action": "request"},
                     headers=HTML)  # fmt: skip
    assert asked.status_code == 200 and 'id="done"' in asked.text
    assert 'id="four-eyes"' in asked.text and 'id="approve-promotion"' not in asked.text
    refused = api.post(f"{path}/promotion", data={"csrf_token": csrf, "action": "approve"},
                       headers=HTML)  # fmt: skip
    assert refused.status_code == 403
    bad = api.post(f"{path}/promotion", data={"csrf_token": csrf, "action": "x"}, headers=HTML)
    assert bad.status_code == 422
    api.post("/logout", data={"csrf_token": csrf}, headers=HTML)

    csrf = login(api, "manager")
    page = api.get(path, headers=HTML)
    assert 'id="approve-promotion"' in page.text and 'id="stop"' not in page.text
    done = api.post(f"{path}/promotion", data={"csrf_token": csrf, "action": "approve"},
                    headers=HTML)  # fmt: skip
    assert done.status_code == 200 and 'id="experiment-status"' in done.text
    assert _events(engine, world) == [
        ("experiment.started", "strat_a"),
        ("experiment.promotion_requested", "strat_a"),
        ("experiment.promoted", "manager"),
    ]


def test_a_strategist_stops_it_from_the_page(engine: Engine, world: World, api: TestClient) -> None:
    path = f"/experiments/{world.experiment_id}"
    csrf = login(api, "strat_b")
    stopped = api.post(f"{path}/stop", data={"csrf_token": csrf, "reason": "平局"}, headers=HTML)
    assert (
        stopped.status_code == 200 and 'id="stop-reason"' in stopped.text and "平局" in stopped.text
    )
    assert 'id="stop"' not in stopped.text
    assert _events(engine, world)[-1] == ("experiment.stopped", "strat_b")
    no_csrf = api.post(f"{path}/stop", data={"reason": "x"}, headers=HTML)
    assert no_csrf.status_code == 403
