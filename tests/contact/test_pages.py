"""The log-contact form on the case page: a field visit says how many collectors went.

The app's clock is the wall clock here (the cookie jar checks expiry against it), so the
assertions hold at any hour: they look only at CN-14, never at the visiting hours.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Contact, Event
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    debtor_mobile,
    make_case,
    make_contact_point,
    make_team,
    make_user,
)
from tests.web.pages import HTML, HTMX, PASSWORD, login


@dataclass
class Visit:
    case_id: int
    address_id: int
    mobile_id: int


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    clock = Clock(now=WORKDAY_MORNING)  # an injected clock: a weekday morning in Beijing
    with TestClient(create_app(engine, WebSettings(clock=clock)), follow_redirects=True) as c:
        yield c


@pytest.fixture
def visit(engine: Engine) -> Visit:
    with transaction(engine) as session:
        team = make_team(session, name="外访组")
        collector = make_user(session, username="field_a", team=team, password=PASSWORD)
        case = make_case(session, assigned=collector, team=team)
        address = make_contact_point(
            session, debtor_id=case.debtor_id, kind="address", value="北京市朝阳区某某路1号"
        )
        return Visit(case.id, address.id, debtor_mobile(session, case).id)


def _violations(engine: Engine) -> list[list[str]]:
    with transaction(engine) as session:
        events = session.scalars(
            select(Event).where(Event.type == "compliance.violation").order_by(Event.id)
        ).all()
        return [list(e.payload["rules"]) for e in events]


def test_the_form_has_a_collectors_field_shown_for_visits(web: TestClient, visit: Visit) -> None:
    login(web, "field_a")
    page = web.get(f"/cases/{visit.case_id}", headers=HTML)
    assert page.status_code == 200
    assert 'class="visit-only" id="visit-collectors"' in page.text
    assert 'name="collectors" type="number" min="1"' in page.text
    assert MESSAGES["zh"]["contact.collectors"] in page.text
    # the stylesheet shows it only while the channel chosen is a visit
    css = web.get("/static/app.css").text
    assert '#contact-form:has(select[name="channel"] option[value="visit"]:checked)' in css


def test_a_visit_logged_without_the_number_of_collectors_is_refused_inline(
    web: TestClient, engine: Engine, visit: Visit
) -> None:
    csrf = login(web, "field_a")
    form = {
        "csrf_token": csrf,
        "contact_point_id": str(visit.address_id),
        "channel": "visit",
        "outcome": "lost_contact",
    }

    missing = web.post(f"/cases/{visit.case_id}/contacts", data=form, headers=HTMX)

    assert missing.status_code == 422
    assert '<li data-field="collectors">' in missing.text
    assert "a field visit needs the number of collectors going" in missing.text
    with transaction(engine) as session:
        assert session.scalars(select(Contact)).all() == []


def test_a_visit_by_two_is_no_violation_and_a_visit_alone_is(
    web: TestClient, engine: Engine, visit: Visit
) -> None:
    csrf = login(web, "field_a")
    form = {
        "csrf_token": csrf,
        "contact_point_id": str(visit.address_id),
        "channel": "visit",
        "outcome": "lost_contact",
    }

    two = web.post(f"/cases/{visit.case_id}/contacts", data={**form, "collectors": "2"},
                   headers=HTMX)  # fmt: skip
    assert two.status_code == 200, two.text[:500]
    assert all("CN-14" not in rules for rules in _violations(engine))

    alone = web.post(f"/cases/{visit.case_id}/contacts", data={**form, "collectors": "1"},
                     headers=HTMX)  # fmt: skip
    assert alone.status_code == 200
    assert "CN-14" in _violations(engine)[-1]
    with transaction(engine) as session:
        assert [c.channel for c in session.scalars(select(Contact))] == ["visit", "visit"]


def test_a_call_needs_no_number_of_collectors(web: TestClient, visit: Visit) -> None:
    csrf = login(web, "field_a")
    logged = web.post(
        f"/cases/{visit.case_id}/contacts",
        data={"csrf_token": csrf, "contact_point_id": str(visit.mobile_id), "channel": "call",
              "outcome": "no_answer", "collectors": ""},
        headers=HTMX,
    )  # fmt: skip
    assert logged.status_code == 200, logged.text[:500]
    assert 'class="errors"' not in logged.text
