"""The agency pages and API: an agency user sees its own placements and statements, the
manager sees all of them and the league table — on both stores."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.agency.service.commission import close_statement
from cuishou.agency.service.placing import create_placement
from cuishou.store.db import transaction
from cuishou.store.tables import Account, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.agency.world import MANAGER, PLACED_ON, World, at, build
from tests.factories import make_payment
from tests.web.factories import WORKDAY_MORNING, Clock, bearer, make_user, token_for

ZH = MESSAGES["zh"]


@pytest.fixture
def shop(engine: Engine) -> tuple[World, dict[str, str], dict[str, int]]:
    """AG1 holds M4 (paid 3,000 yuan on 3 Nov), AG2 holds M5; October closed for AG2."""
    world = build(engine)
    placements: dict[str, int] = {}
    with transaction(engine) as session:
        for agency, bucket in (("AG1", "M4"), ("AG2", "M5")):
            placements[agency] = create_placement(
                session, agency=agency, as_of=PLACED_ON, days=30,
                candidates={world.cases[bucket]}, actor="boss", now=at(PLACED_ON),
            ).id  # fmt: skip
        account = session.scalars(select(Account).where(Account.case_id == world.cases["M4"])).one()
        make_payment(session, account=account, amount_fen=300_000, paid_at=at(date(2026, 11, 3)))
        close_statement(session, agency="AG2", month="2026-10", today=date(2026, 11, 2),
                        actor="boss", now=at(date(2026, 11, 2)), principal=MANAGER)  # fmt: skip
        manager = make_user(session, role="manager", username="mgr")
        users = {
            "manager": manager,
            "agency": session.get(User, world.agency.user_id),
            "collector": session.get(User, world.collector.user_id),
        }
        tokens = {
            name: token_for(session, user=user, now=WORKDAY_MORNING)
            for name, user in users.items()
            if user is not None
        }
    return world, tokens, placements


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))) as client:
        yield client


def _page(client: TestClient, token: str, path: str) -> tuple[int, str]:
    client.cookies.set("cuishou_session", token)
    response = client.get(path)
    return response.status_code, response.text


def test_the_manager_sees_every_placement_statement_and_the_league(
    client: TestClient, shop: tuple[World, dict[str, str], dict[str, int]]
) -> None:
    _, tokens, placements = shop
    status, html = _page(client, tokens["manager"], "/agency")
    assert status == 200
    assert ZH["nav.agency"] in html and ZH["agency.league"] in html
    assert all(f'data-placement="{i}"' in html for i in placements.values())
    assert 'data-statement="AG2-2026-10"' in html
    assert 'data-league="AG1"' in html and 'data-league="AG2"' in html
    status, html = _page(client, tokens["manager"], "/agency/statements/AG1/2026-11")
    assert status == 200 and 'data-status="draft"' in html and "540.00" in html


def test_an_agency_user_sees_its_own_only(
    client: TestClient, shop: tuple[World, dict[str, str], dict[str, int]]
) -> None:
    _, tokens, placements = shop
    status, html = _page(client, tokens["agency"], "/agency")
    assert status == 200
    assert f'data-placement="{placements["AG1"]}"' in html
    assert f'data-placement="{placements["AG2"]}"' not in html
    assert 'data-statement="AG2-2026-10"' not in html
    assert 'data-league="AG1"' in html and 'data-league="AG2"' not in html
    assert 'href="/agency/statements/AG1/2026-11"' in html
    status, _ = _page(client, tokens["agency"], f"/agency/placements/{placements['AG2']}")
    assert status == 404
    status, _ = _page(client, tokens["agency"], "/agency/statements/AG2/2026-10")
    assert status == 403
    status, html = _page(client, tokens["agency"], f"/agency/placements/{placements['AG1']}")
    assert status == 200 and 'id="placed-cases"' in html


def test_a_collector_may_not_open_the_agency_pages(
    client: TestClient, shop: tuple[World, dict[str, str], dict[str, int]]
) -> None:
    _, tokens, _ = shop
    status, _ = _page(client, tokens["collector"], "/agency")
    assert status == 403
    assert ZH["nav.agency"] not in _page(client, tokens["collector"], "/queue")[1]


def test_the_api_gives_the_same_scoped_figures(
    client: TestClient, shop: tuple[World, dict[str, str], dict[str, int]]
) -> None:
    _, tokens, placements = shop
    own = client.get("/api/v1/agency/placements", headers=bearer(tokens["agency"]))
    assert own.status_code == 200 and [p["id"] for p in own.json()] == [placements["AG1"]]
    statement = client.get(
        "/api/v1/agency/statements/AG1/2026-11", headers=bearer(tokens["agency"])
    )
    assert statement.status_code == 200
    assert (statement.json()["collected"], statement.json()["commission"]) == ("3000.00", "540.00")
    league = client.get(
        "/api/v1/agency/league", params={"from": "2026-11-01", "to": "2026-11-04"},
        headers=bearer(tokens["manager"]),
    )  # fmt: skip
    assert league.status_code == 200
    assert [r["agency"] for r in league.json()["rows"]] == ["AG1", "AG2"]
    bad = client.get("/api/v1/agency/statements/AG1/2026-13", headers=bearer(tokens["manager"]))
    assert bad.status_code == 422 and "not a month" in bad.json()["message"]


def test_the_case_timeline_shows_the_placement_and_the_recall(
    client: TestClient, engine: Engine, shop: tuple[World, dict[str, str], dict[str, int]]
) -> None:
    from cuishou.agency.service.recall import recall_manual

    world, tokens, placements = shop
    with transaction(engine) as session:
        recall_manual(session, placements["AG1"], as_of=date(2026, 11, 3), reason="债权方撤案",
                      actor="boss", now=at(date(2026, 11, 3)))  # fmt: skip
    status, html = _page(client, tokens["manager"], f"/cases/{world.cases['M4']}")
    assert status == 200
    assert 'data-type="case.placed"' in html and ZH["event.case.placed"] in html
    assert "AG1 · 2026-11-01 — 2026-11-30" in html
    assert ZH["event.case.recalled"] in html and f"AG1 · {ZH['recall.manual']} · 债权方撤案" in html
