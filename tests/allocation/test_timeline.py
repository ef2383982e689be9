"""The case timeline shows why allocation gave a case to its collector (explainable)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.allocation import service
from cuishou.allocation.config import AllocationSettings
from cuishou.auth.rules import Principal
from cuishou.store.db import transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.web.factories import WORKDAY_MORNING, Clock, make_case, make_team, make_user
from tests.web.pages import HTML, PASSWORD, login


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    app = create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))
    with TestClient(app, follow_redirects=True) as client:
        yield client


def test_the_case_timeline_says_why_the_case_was_allocated(web: TestClient, engine: Engine) -> None:
    # given one collector and one unassigned case
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        make_user(session, username="col_a", team=team, password=PASSWORD)
        boss = make_user(session, username="manager", role="manager", password=PASSWORD)
        case_id = make_case(session).id
        manager = Principal(user_id=boss.id, username="manager", role="manager",
                            team_id=None, agency_id=None)  # fmt: skip
    # when the manager applies the day's allocation
    with transaction(engine) as session:
        result = service.apply(
            session, manager, date(2026, 11, 1), AllocationSettings(), now=WORKDAY_MORNING
        )
    # then the case page's timeline shows the batch, the collector and the rule that fired
    login(web, "manager")
    page = web.get(f"/cases/{case_id}", headers=HTML)
    assert page.status_code == 200
    zh = MESSAGES["zh"]
    assert zh["event.case.allocated"] in page.text
    assert f"#{result.batch}" in page.text
    assert zh["allocation.reason.unassigned"] in page.text
