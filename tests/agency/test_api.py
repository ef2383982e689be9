"""Placing and recalling through the API (``POST /api/v1/agency/placements`` and
``…/{id}/recall``): a manager may, an agency user may not; bad bodies are clear errors and
write nothing — on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.store.db import transaction
from cuishou.store.tables import AgencyPlacement, Case, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.agency.world import World, build
from tests.factories import make_planned
from tests.web.factories import WORKDAY_MORNING, Clock, bearer, make_user, token_for

PLACE = "/api/v1/agency/placements"


@pytest.fixture
def shop(engine: Engine) -> tuple[World, dict[str, dict[str, str]]]:
    world = build(engine)
    with transaction(engine) as session:
        manager = make_user(session, role="manager", username="mgr")
        agency = session.get(User, world.agency.user_id)
        assert agency is not None
        headers = {
            name: bearer(token_for(session, user=user, now=WORKDAY_MORNING))
            for name, user in (("manager", manager), ("agency", agency))
        }
    return world, headers


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))) as client:
        yield client


def _case(engine: Engine, case_id: int) -> tuple[int | None, int | None]:
    with transaction(engine) as session:
        row = session.execute(
            select(Case.agency_id, Case.assigned_user_id).where(Case.id == case_id)
        ).one()
    return row[0], row[1]


def _placements(engine: Engine) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(AgencyPlacement)) or 0)


def test_a_manager_places_by_rule_and_recalls_by_hand(
    engine: Engine, client: TestClient, shop: tuple[World, dict[str, dict[str, str]]]
) -> None:
    world, headers = shop
    # when the manager places the M4+ cases owing at least 10,000 yuan with AG1 for 30 days
    body = {"agency": "AG1", "as_of": "2026-11-04", "days": 30,
            "rule": {"buckets": ["M4", "M5"], "amount": {"min": "10000"}}}  # fmt: skip
    placed = client.post(PLACE, json=body, headers=headers["manager"])
    assert placed.status_code == 201, placed.text
    out = placed.json()
    assert (out["agency"], out["cases"], out["ends_on"]) == ("AG1", 2, "2026-12-03")
    # then the cases left their collector for the agency, and the agency sees the placement
    assert _case(engine, world.cases["M4"]) == (world.agency.agency_id, None)
    assert _case(engine, world.cases["M2"])[0] is None
    mine = client.get(PLACE, headers=headers["agency"]).json()
    assert [p["id"] for p in mine] == [out["id"]]
    # when the manager recalls one of them by hand, with a reason
    recalled = client.post(
        f"{PLACE}/{out['id']}/recall",
        json={
            "as_of": "2026-11-04",
            "reason": "债务人投诉催收机构",
            "case_ids": [world.cases["M5"]],
        },
        headers=headers["manager"],
    )
    assert recalled.status_code == 200, recalled.text
    assert recalled.json()["by_reason"] == {"manual": 1}
    assert _case(engine, world.cases["M5"]) == (None, None)
    assert _case(engine, world.cases["M4"])[0] == world.agency.agency_id


def test_an_agency_user_may_neither_place_nor_recall(
    engine: Engine, client: TestClient, shop: tuple[World, dict[str, dict[str, str]]]
) -> None:
    _, headers = shop
    body = {"agency": "AG1", "as_of": "2026-11-04", "rule": {"buckets": ["M4"]}}
    assert client.post(PLACE, json=body, headers=headers["agency"]).status_code == 403
    placed = client.post(PLACE, json=body, headers=headers["manager"]).json()
    recall = {"as_of": "2026-11-04", "reason": "x"}
    answer = client.post(f"{PLACE}/{placed['id']}/recall", json=recall, headers=headers["agency"])
    assert answer.status_code == 403
    assert _placements(engine) == 1


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"agency": "AG1", "as_of": "2026-11-04"}, 422, "exactly one"),
        ({"agency": "AG1", "as_of": "2026-11-04", "rule": {"buckets": ["M4"]},
          "from_strategy": True}, 422, "exactly one"),
        ({"agency": "NOPE", "as_of": "2026-11-04", "rule": {}}, 404, "AG1"),
        ({"agency": "AG1", "as_of": "2026-11-04", "rule": {"buckets": ["M9"]}}, 422, "M9"),
        ({"agency": "AG1", "as_of": "2026-11-04", "rule": {"dpd": {"min": 90, "max": 30}}},
         422, "dpd.min"),
        ({"agency": "AG1", "as_of": "2026-11-04", "rule": {"buckets": ["M2"], "tiers": ["large"]}},
         422, "nothing placed"),
    ],
)  # fmt: skip
def test_a_bad_placement_is_a_clear_error_and_places_nothing(
    engine: Engine,
    client: TestClient,
    shop: tuple[World, dict[str, dict[str, str]]],
    body: dict[str, object],
    status: int,
    says: str,
) -> None:
    _, headers = shop
    answer = client.post(PLACE, json=body, headers=headers["manager"])
    assert answer.status_code == status, answer.text
    assert says in answer.text
    assert _placements(engine) == 0


def test_a_recall_without_a_reason_is_refused(
    engine: Engine, client: TestClient, shop: tuple[World, dict[str, dict[str, str]]]
) -> None:
    world, headers = shop
    body = {"agency": "AG1", "as_of": "2026-11-04", "rule": {"buckets": ["M4"]}}
    placed = client.post(PLACE, json=body, headers=headers["manager"]).json()
    answer = client.post(
        f"{PLACE}/{placed['id']}/recall", json={"as_of": "2026-11-04", "reason": "   "},
        headers=headers["manager"],
    )  # fmt: skip
    assert answer.status_code == 422 and "reason" in answer.text
    assert _case(engine, world.cases["M4"])[0] == world.agency.agency_id
    missing = client.post(
        f"{PLACE}/999999/recall", json={"as_of": "2026-11-04", "reason": "x"},
        headers=headers["manager"],
    )  # fmt: skip
    assert missing.status_code == 404


def test_a_manager_places_the_strategys_kept_candidates(
    engine: Engine, client: TestClient, shop: tuple[World, dict[str, dict[str, str]]]
) -> None:
    # given the strategy in force planned agency placement for M7+ (kept) and M5 (dropped by
    # the gate) on 4 Nov
    world, headers = shop
    with transaction(engine) as session:
        make_planned(session, [
            (date(2026, 11, 4), world.cases[bucket], "agency", status, None)
            for bucket, status in (("M7+", "planned"), ("M5", "dropped"))
        ], created_at=WORKDAY_MORNING)  # fmt: skip
    # when the manager places from the strategy through the API (read in the request's own
    # transaction)
    body = {"agency": "AG2", "as_of": "2026-11-04", "from_strategy": True}
    placed = client.post(PLACE, json=body, headers=headers["manager"])
    # then only the kept candidate is placed
    assert placed.status_code == 201, placed.text
    assert (placed.json()["selection"], placed.json()["cases"]) == ("strategy", 1)
    assert _case(engine, world.cases["M7+"])[0] == world.other_agency.agency_id
    assert _case(engine, world.cases["M5"])[0] is None
