"""The allocation page: a team lead previews their team's allocation (workload before and
after), applies it and undoes the batch; a collector may not open it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import AllocationBatch, Case
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.web.factories import WORKDAY_MORNING, Clock, make_case, make_team, make_user
from tests.web.pages import HTML, PASSWORD, csrf_of, login


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))
    with TestClient(app, follow_redirects=True) as client:
        yield client


def test_a_team_lead_previews_applies_and_undoes(web: TestClient, engine: Engine) -> None:
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        make_user(session, username="col_a", team=team, password=PASSWORD)
        make_user(session, username="lead_a", role="team_lead", team=team, password=PASSWORD)
        cases = [make_case(session, team=team).id for _ in range(2)]
    login(web, "col_a")
    assert web.get("/allocation", headers=HTML).status_code == 403
    web.cookies.clear()
    login(web, "lead_a")
    page = web.get("/allocation?as_of=2026-11-01", headers=HTML)
    assert page.status_code == 200
    assert 'data-collector="col_a"' in page.text and 'data-assigned="2"' in page.text
    applied = web.post(
        "/allocation", data={"as_of": "2026-11-01", "csrf_token": csrf_of(page.text)}, headers=HTML
    )
    assert applied.status_code == 200
    assert MESSAGES["zh"]["allocation.done.applied"] in applied.text
    with transaction(engine) as session:
        batch = session.scalar(select(AllocationBatch))
        assert batch is not None and batch.actor == "lead_a"
        owners = set(session.scalars(select(Case.assigned_user_id).where(Case.id.in_(cases))))
        assert None not in owners
    undone = web.post(
        f"/allocation/{batch.id}/undo", data={"csrf_token": csrf_of(applied.text)}, headers=HTML
    )
    assert undone.status_code == 200 and 'data-status="undone"' in undone.text
    with transaction(engine) as session:
        owners = set(session.scalars(select(Case.assigned_user_id).where(Case.id.in_(cases))))
        assert owners == {None}
