"""The agency pages in Chromium at the injected clock (Wednesday 2026-11-04, 10:00 Beijing):
the manager finds every placement and the league table through the menu; an agency user sees
its own placement and this month's draft statement only."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cuishou.agency.service.placing import create_placement
from cuishou.store.db import transaction
from cuishou.store.tables import Account
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.agency.world import PLACED_ON, at
from tests.browser.conftest import PASSWORD, log_in, new_tab
from tests.factories import make_payment
from tests.web.factories import WORKDAY_MORNING, Clock, make_agency, make_case, make_user
from tests.web.live import served

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]


@dataclass
class Site:
    url: str
    placements: dict[str, int]


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    with transaction(engine) as session:
        ag1, ag2 = make_agency(session, code="AG1"), make_agency(session, code="AG2")
        make_user(session, username="manager", role="manager", password=PASSWORD)
        make_user(session, username="ag1_user", role="agency", agency=ag1, password=PASSWORD)
        m4 = make_case(session, bucket="M4", dpd=100, due_fen=2_000_000)
        m5 = make_case(session, bucket="M5", dpd=130, due_fen=5_000_000, debtor_name="李娜")
        placements = {
            code: create_placement(
                session, agency=code, as_of=PLACED_ON, days=30, candidates={case.id},
                actor="manager", now=at(PLACED_ON),
            ).id
            for code, case in (("AG1", m4), ("AG2", m5))
        }  # fmt: skip
        del ag2
        account = session.scalars(select(Account).where(Account.case_id == m4.id)).one()
        make_payment(session, account=account, amount_fen=300_000, paid_at=at(date(2026, 11, 3)))
    with served(create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))) as url:
        yield Site(url, placements)


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


def test_the_manager_finds_every_placement_and_the_league(page: Any, site: Site) -> None:
    log_in(page, site, "manager")
    page.click('nav a[href="/agency"]')
    page.wait_for_url("**/agency")
    for placement_id in site.placements.values():
        assert page.locator(f'tr[data-placement="{placement_id}"]').count() == 1
    league = page.locator("#league tbody tr")
    assert league.count() == 2
    # AG1 recovered 3,000.00 of 20,000.00 (15%): first
    assert league.nth(0).get_attribute("data-league") == "AG1"
    assert "15.00%" in league.nth(0).inner_text()
    page.click(f'tr[data-placement="{site.placements["AG2"]}"] a')
    page.wait_for_url(f"**/agency/placements/{site.placements['AG2']}")
    assert page.locator("#placed-cases tbody tr").count() == 1


def test_an_agency_user_sees_its_own_placement_and_draft_statement(page: Any, site: Site) -> None:
    log_in(page, site, "ag1_user")
    page.click('nav a[href="/agency"]')
    page.wait_for_url("**/agency")
    assert page.locator(f'tr[data-placement="{site.placements["AG1"]}"]').count() == 1
    assert page.locator(f'tr[data-placement="{site.placements["AG2"]}"]').count() == 0
    assert page.locator('tr[data-league="AG2"]').count() == 0
    page.click("#this-month")
    page.wait_for_url("**/agency/statements/AG1/2026-11")
    assert page.locator("#statement-status").get_attribute("data-status") == "draft"
    assert page.locator("#commission").inner_text().strip().endswith("540.00")
    assert page.locator('#statement-lines tr[data-kind="payment"]').count() == 1
