"""Users through the API: admins create, team leads see their own team."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Agency, Event, Team
from tests.web.factories import bearer
from tests.web.world import build_world


def test_admin_creates_a_user_with_a_new_team_and_agency(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    response = client.post(
        "/api/v1/users",
        json={
            "username": "zhao",
            "role": "collector",
            "password": "long-enough",
            "team": "三组",
            "agency": "AGZ",
        },
        headers=bearer(world.tokens["admin"]),
    )
    assert response.status_code == 201, response.text
    assert response.json() | {"id": 0} == {
        "id": 0,
        "username": "zhao",
        "display_name": "zhao",
        "role": "collector",
        "team": "三组",
        "agency": "AGZ",
        "active": True,
    }
    assert "password" not in response.text
    with transaction(engine) as session:
        team = session.scalar(select(Team).where(Team.name == "三组"))
        agency = session.scalar(select(Agency).where(Agency.code == "AGZ"))
        event = session.scalar(select(Event).where(Event.type == "user.created"))
    assert team is not None and agency is not None and team.agency_id == agency.id
    assert event is not None and event.actor == "admin"


def test_user_problems_are_clear(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    headers = bearer(world.tokens["admin"])

    def create(**body: str) -> tuple[int, str]:
        response = client.post("/api/v1/users", json=body, headers=headers)
        return response.status_code, response.json()["message"]

    assert create(username="x1", role="boss", password="long-enough")[0] == 422
    assert "team" in create(username="x2", role="team_lead", password="long-enough")[1]
    assert "agency" in create(username="x3", role="agency", password="long-enough")[1]
    assert "8 characters" in create(username="x4", role="collector", password="short")[1]
    assert create(username="col_a", role="collector", password="long-enough")[0] == 409
    assert create(username="Col_A", role="collector", password="long-enough") == (
        409,
        "user 'Col_A' already exists as 'col_a' (usernames ignore case)",
    )
    assert create(username="x5", role="collector", password="p" * 1025)[0] == 422


def test_a_team_lead_lists_only_their_team(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    by_lead = client.get("/api/v1/users", headers=bearer(world.tokens["lead_a"])).json()
    by_admin = client.get("/api/v1/users", headers=bearer(world.tokens["admin"])).json()
    assert {u["username"] for u in by_lead["items"]} == {"col_a", "col_a2", "lead_a"}
    assert len(by_admin["items"]) == len(world.users)
