"""The visit pages in Chromium at the injected clock (Wednesday 2026-11-04, 10:00 Beijing):
a team lead schedules a requested visit — refused inline with CN-14 when one collector goes,
kept with two — and plans the day's route; a scheduled collector fills the 走访记录表 and
uploads a photo only permitted roles can open."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cuishou.auth.service import principal_named
from cuishou.store.db import transaction
from cuishou.store.tables import Contact, Event, User, Visit
from cuishou.visits.schemas import ScheduleIn, VisitRequestIn
from cuishou.visits.service import request_visit, schedule_visit
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import PASSWORD, log_in, new_tab
from tests.factories import make_planned
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    make_case,
    make_contact_point,
    make_team,
    make_user,
)
from tests.web.live import served

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@dataclass
class Site:
    url: str
    engine: Engine
    requested: int  # a visit waiting for the team lead
    today: int  # a visit scheduled this morning, 09:00–11:00, col_a and col_a2


@pytest.fixture
def site(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Site]:
    monkeypatch.setenv("CUISHOU_DATA_DIR", str(tmp_path / "data"))
    with transaction(engine) as session:
        team = make_team(session, name="外访一组")
        col_a = make_user(session, username="col_a", team=team, password=PASSWORD)
        make_user(session, username="col_a2", team=team, password=PASSWORD)
        make_user(session, username="lead_a", role="team_lead", team=team, password=PASSWORD)
        ids = []
        for name, address in (("王小明", "广东省深圳市南山区人民路12号"),
                              ("李娟", "广东省深圳市福田区深南大道1号")):  # fmt: skip
            case = make_case(session, assigned=col_a, team=team, debtor_name=name)
            make_contact_point(session, debtor_id=case.debtor_id, kind="address", value=address)
            ids.append(case.id)
        collector = principal_named(session, "col_a")
        lead = principal_named(session, "lead_a")
        visits = [
            request_visit(session, collector, VisitRequestIn(case_id=i), now=WORKDAY_MORNING).id
            for i in ids
        ]
        schedule_visit(
            session, lead, visits[1],
            ScheduleIn(day=WORKDAY_MORNING.date(), start=time(9), end=time(11),
                       collectors=["col_a", "col_a2"]),
            now=WORKDAY_MORNING,
        )  # fmt: skip
    with served(create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))) as url:
        yield Site(url, engine, visits[0], visits[1])


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


def test_the_team_lead_schedules_two_collectors_after_a_cn14_refusal(page: Any, site: Site) -> None:
    log_in(page, site, "lead_a")
    page.click('nav a[href="/visits"]')
    page.wait_for_url("**/visits")
    row = page.locator(f'#visits-requested tr[data-visit-id="{site.requested}"]')
    assert "深圳市南山区" in row.inner_text() and "人民路" not in row.inner_text()  # masked

    row.locator('input[name=collectors][value="col_a"]').check()
    row.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")

    refused = page.locator(f'#visits-requested tr[data-visit-id="{site.requested}"] .errors')
    assert "CN-14" in refused.inner_text() and "两名" in refused.inner_text()
    row = page.locator(f'#visits-requested tr[data-visit-id="{site.requested}"]')
    row.locator('input[name=collectors][value="col_a"]').check()
    row.locator('input[name=collectors][value="col_a2"]').check()
    row.locator("button[type=submit]").click()
    page.wait_for_url("**/visits")

    scheduled = page.locator(f'#visits-scheduled tr[data-visit-id="{site.requested}"]')
    assert scheduled.locator(".collectors").inner_text() == "col_a, col_a2"
    assert "09:00–11:00" in scheduled.inner_text()
    with transaction(site.engine) as session:
        visit = session.get(Visit, site.requested)
        assert visit is not None and visit.status == "scheduled"
        assert visit.day is not None and visit.day.isoformat() == "2026-11-05"  # tomorrow

    page.goto(f"{site.url}/visits/routes?day=2026-11-04")
    page.click("#plan-routes button")
    page.wait_for_url("**/visits/routes?day=2026-11-04")
    stops = page.locator(".route-stops li")
    assert stops.count() == 1 and stops.first.get_attribute("data-position") == "1"
    assert page.locator("#route-chart canvas").count() == 1  # ECharts drew the map


def test_a_scheduled_collector_records_the_visit_with_a_photo(page: Any, site: Site) -> None:
    log_in(page, site, "col_a2")
    page.goto(f"{site.url}/visits/{site.today}")
    form = page.locator("#record-form")
    form.locator("input[name=check_in_lat]").fill("22.54")
    form.locator("select[name=outcome]").select_option("promise")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state("networkidle")
    assert "latitude and longitude" in page.locator(".errors").inner_text()  # nothing kept

    form = page.locator("#record-form")
    form.locator("input[name=visited_at]").fill("2026-11-04T09:40")
    form.locator("input[name=check_in_lon]").fill("113.93")
    form.locator("input[name=person_0]").fill("李娟")
    form.locator("select[name=relation_0]").select_option("self")
    form.locator("textarea[name=notes]").fill("本人在家，同意月底前还款")
    form.locator("input[name=promise_amount]").fill("2000")
    form.locator("input[name=promise_date]").fill("2026-11-30")
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"**/visits/{site.today}")

    assert page.locator("#visit-status").get_attribute("data-status") == "done"
    assert page.locator("#visit-outcome").inner_text() == ZH["visit_outcome.promise"]
    assert "李*" in page.locator("#visit-record").inner_text()
    page.set_input_files(
        "#upload-form input[type=file]",
        files=[{"name": "门牌.png", "mimeType": "image/png", "buffer": PNG}],
    )
    page.click("#upload-form button")
    page.wait_for_url(f"**/visits/{site.today}*")
    link = page.locator("#visit-files li a").first
    assert link.inner_text() == "门牌.png"
    answer = page.request.get(site.url + str(link.get_attribute("href")))
    assert answer.status == 200 and answer.body() == PNG
    with transaction(site.engine) as session:
        contact = session.scalars(select(Contact).where(Contact.channel == "visit")).one()
        assert contact.outcome == "promise"


def test_a_scheduled_collector_reveals_the_address_and_the_lead_cancels_the_visit(
    page: Any, site: Site, browser: Any
) -> None:
    # given the collector scheduled on today's visit sees it masked, with a reveal button
    log_in(page, site, "col_a")
    page.goto(f"{site.url}/visits/{site.today}")
    assert "深南大道" not in page.locator("#visit-address").inner_text()
    assert page.locator("#cancel-form").count() == 0  # a collector does not cancel
    # when they reveal it, the full address replaces the button, and the look is audited
    page.click("#address-form button")
    revealed = page.locator("#visit-facts .revealed")
    revealed.wait_for()
    assert revealed.inner_text() == "广东省深圳市福田区深南大道1号"
    with transaction(site.engine) as session:
        looks = session.scalars(
            select(Event).where(Event.type == "pii.revealed", Event.actor == "col_a")
        ).all()
        assert [e.payload["field"] for e in looks] == ["visit_address"]
        assert looks[0].payload["granted_by"] == "visit.scheduled_collector"
    # and on a visit not yet scheduled they are offered no reveal
    page.goto(f"{site.url}/visits/{site.requested}")
    assert page.locator("#visit-status").get_attribute("data-status") == "requested"
    assert page.locator("#address-form").count() == 0
    with new_tab(browser) as other:
        log_in(other, site, "lead_a")
        other.goto(f"{site.url}/visits/{site.today}")
        assert other.locator("#address-form").count() == 1  # a team lead may unmask (pii.reveal)
        # when the team lead cancels without a reason, it is refused inline, nothing kept
        other.click("#cancel-form button")
        other.wait_for_load_state("networkidle")
        assert "reason" in other.locator("#visit-cancel .errors").inner_text()
        assert other.locator("#visit-status").get_attribute("data-status") == "scheduled"
        # then with a reason the visit is cancelled, and the page offers no more cancelling
        other.fill("#cancel-form input[name=reason]", "债务人已结清")
        other.click("#cancel-form button")
        other.wait_for_url(f"**/visits/{site.today}")
        assert other.locator("#visit-status").get_attribute("data-status") == "cancelled"
        assert other.locator("#cancel-form").count() == 0
    with transaction(site.engine) as session:
        event = session.scalars(select(Event).where(Event.type == "visit.cancelled")).one()
        assert event.payload == {"from": "scheduled", "reason": "债务人已结清"}
    # and once cancelled, the collector may no longer unmask the address
    page.goto(f"{site.url}/visits/{site.today}")
    assert page.locator("#address-form").count() == 0


def test_the_team_lead_imports_the_strategys_visits_of_the_day(page: Any, site: Site) -> None:
    # given the strategy planned a visit today for a case of the team with an address
    with transaction(site.engine) as session:
        case = make_case(session, assigned=session.scalars(
            select(User).where(User.username == "col_a")).one(), debtor_name="赵六")  # fmt: skip
        point = make_contact_point(
            session, debtor_id=case.debtor_id, kind="address", value="广东省深圳市南山区科技园1号"
        )
        case.team_id = session.scalars(select(User.team_id).where(User.username == "lead_a")).one()
        make_planned(
            session,
            [(WORKDAY_MORNING.date(), case.id, "visit", "planned", point.id)],
            created_at=WORKDAY_MORNING,
        )
        case_id = case.id
    # when the team lead imports today's plan from the scheduling page
    log_in(page, site, "lead_a")
    page.goto(f"{site.url}/visits")
    page.click("#visit-import button")
    page.wait_for_load_state("networkidle")
    # then the case waits among the requests, from the strategy, and the page says so
    assert page.locator("#visit-imported").get_attribute("data-created") == "1"
    row = page.locator("#visits-requested tr", has_text=f"#{case_id}")
    assert row.count() == 1 and ZH["visit_source.strategy"] in row.inner_text()
    # and a second import creates nothing twice
    page.click("#visit-import button")
    page.wait_for_load_state("networkidle")
    assert page.locator("#visit-imported").get_attribute("data-created") == "0"
