"""Compliance on the pages: the gate on the case page, the report with its CSV, the QA queue."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Case, Event, QaItem
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
from tests.web.pages import HTML, HTMX, PASSWORD, csrf_of, login

ZH = MESSAGES["zh"]


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    clock = Clock(now=WORKDAY_MORNING)
    with TestClient(create_app(engine, WebSettings(clock=clock)), follow_redirects=True) as c:
        yield c


@pytest.fixture
def case_ids(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        col = make_user(session, username="col_a", team=team, password=PASSWORD)
        make_user(session, username="compliance", role="compliance", password=PASSWORD)
        make_user(session, username="auditor", role="auditor", password=PASSWORD)
        case = make_case(session, assigned=col, team=team)
        return case.id, debtor_mobile(session, case).id


def test_a_collector_checks_the_gate_from_the_case_page(
    web: TestClient, engine: Engine, case_ids: tuple[int, int]
) -> None:
    case_id, point = case_ids
    login(web, "col_a")
    page = web.get(f"/cases/{case_id}", headers=HTML)
    assert ZH["gate.check"] in page.text
    answer = web.post(
        f"/cases/{case_id}/gate",
        data={"csrf_token": csrf_of(page.text), "contact_point_id": point, "channel": "call"},
        headers=HTMX,
    )
    assert answer.status_code == 200
    assert ZH["gate.allowed"] in answer.text or ZH["gate.denied"] in answer.text
    with transaction(engine) as session:
        checked = session.scalars(select(Event).where(Event.type == "compliance.checked")).one()
        assert checked.actor == "col_a" and checked.case_id == case_id
    # without the CSRF token nothing is asked
    refused = web.post(f"/cases/{case_id}/gate", data={"contact_point_id": point}, headers=HTMX)
    assert refused.status_code == 403


def test_notes_with_banned_content_reach_the_qa_page_and_are_reviewed(
    web: TestClient, engine: Engine, case_ids: tuple[int, int]
) -> None:
    case_id, point = case_ids
    csrf = login(web, "col_a")
    logged = web.post(
        f"/cases/{case_id}/contacts",
        data={"csrf_token": csrf, "contact_point_id": point, "channel": "call",
              "outcome": "refused", "notes": "跟客户说了“你不还钱我们就通知你单位领导”"},
        headers=HTMX,
    )  # fmt: skip
    assert logged.status_code == 200, logged.text[:300]
    # a collector has no QA menu and cannot open the page
    assert web.get("/qa", headers=HTML).status_code == 403
    web.cookies.clear()
    csrf = login(web, "compliance")
    qa = web.get("/qa", headers=HTML)
    assert qa.status_code == 200 and ZH["finding.exposure"] in qa.text
    with transaction(engine) as session:
        item_id = session.scalars(select(QaItem.id)).one()
    done = web.post(
        f"/qa/{item_id}/review",
        data={"csrf_token": csrf_of(qa.text), "verdict": "confirmed", "note": "已约谈"},
        headers=HTML,
    )
    assert done.status_code == 200 and ZH["common.empty"] in done.text
    # the report page shows the finding and exports it
    report = web.get("/compliance", headers=HTML)
    assert report.status_code == 200 and ZH["compliance.title"] in report.text
    assert ZH["finding.exposure"] in report.text and "col_a" in report.text
    csv = web.get("/compliance/report.csv", headers=HTML)
    assert csv.headers["content-type"].startswith("text/csv")
    assert "findings_by_collector,,col_a,,exposure,1" in csv.text


def test_the_report_page_is_for_compliance_roles_only(
    web: TestClient, case_ids: tuple[int, int]
) -> None:
    login(web, "col_a")
    assert web.get("/compliance", headers=HTML).status_code == 403
    web.cookies.clear()
    login(web, "auditor")
    assert (
        web.get("/compliance?date_from=2026-01-01&date_to=2026-01-31", headers=HTML).status_code
        == 200
    )
    bad = web.get("/compliance?date_from=2026-02-01&date_to=2026-01-01", headers=HTML)
    assert bad.status_code == 422


def test_a_field_visit_is_checked_with_the_number_of_collectors_going(
    web: TestClient, engine: Engine, case_ids: tuple[int, int]
) -> None:
    case_id, _ = case_ids
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        address = make_contact_point(session, debtor_id=case.debtor_id, kind="address",
                                     value="北京市朝阳区某路1号")  # fmt: skip
        address_id = address.id
    login(web, "col_a")
    page = web.get(f"/cases/{case_id}", headers=HTML)
    form = {"csrf_token": csrf_of(page.text), "contact_point_id": address_id, "channel": "visit"}
    alone = web.post(f"/cases/{case_id}/gate", data={**form, "collectors": "1"}, headers=HTMX)
    assert "CN-14" in alone.text
    two = web.post(f"/cases/{case_id}/gate", data={**form, "collectors": "2"}, headers=HTMX)
    assert "CN-14" not in two.text
