"""Repayment agreements in Chromium: a collector quotes and requests, the team lead
approves in the inbox, the PDF is offered on the case page."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import Agreement
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import Site, log_in

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]


def test_a_collector_requests_a_plan_and_the_team_lead_approves_it(
    page: Any, site: Site, tmp_path: Path
) -> None:
    log_in(page, site, "col_a")
    case_id = site.portfolio.col_a_cases[0]  # owes 3,500.00
    page.goto(f"{site.url}/cases/{case_id}")
    first_due = site.clock.now.astimezone(CHINA_TZ).date() + timedelta(days=7)
    form = page.locator("#agreement-form")
    form.locator("select[name=kind]").select_option("installments")
    form.locator("input[name=first_due]").fill(first_due.isoformat())
    form.locator("input[name=installments]").fill("3")
    form.locator("input[name=down_payment]").fill("500")
    page.click("#agreement-quote")

    schedule = page.locator("#quote-schedule tbody tr")
    schedule.first.wait_for()
    assert schedule.count() == 4
    amounts = [
        Decimal(schedule.nth(i).locator("td[data-amount]").get_attribute("data-amount") or "")
        for i in range(4)
    ]
    assert amounts == [Decimal("500.00")] + [Decimal("1000.00")] * 3
    assert page.locator("#quote-agreed").inner_text() == "¥3,500.00"
    assert first_due.isoformat() in schedule.first.inner_text()
    page.locator("#agreement").screenshot(path=str(tmp_path / "calculator.png"))
    with transaction(site.engine) as session:
        assert session.scalars(select(Agreement)).first() is None  # a quote saves nothing

    page.click("#agreement-request")
    page.locator("#agreement-notice").wait_for()
    with transaction(site.engine) as session:
        agreement_id = session.scalars(select(Agreement.id)).one()
    assert f"#{agreement_id}" in page.locator("#agreement-notice").inner_text()
    assert page.locator('#timeline li[data-type="agreement.requested"]').count() == 1
    row = page.locator(f'#agreements tr[data-agreement-id="{agreement_id}"]')
    assert ZH["agreement_status.requested"] in row.inner_text()
    assert page.locator('a[href="/agreements/inbox"]').count() == 0  # no inbox for collectors

    page.locator("form[action='/logout'] button").click()
    page.wait_for_url("**/login**")
    log_in(page, site, "lead_a")
    page.click('a[href="/agreements/inbox"]')
    page.wait_for_url("**/agreements/inbox")
    item = page.locator(f'#inbox tr[data-agreement-id="{agreement_id}"]')
    assert "¥3,500.00" in item.inner_text()
    item.locator("textarea[name=reason]").fill("收入稳定，同意分期")
    item.get_by_role("button", name=ZH["inbox.approve"]).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(".notice").inner_text() == ZH["inbox.approved"].format(id=agreement_id)
    assert page.locator(f'#inbox tr[data-agreement-id="{agreement_id}"]').count() == 0
    page.screenshot(path=str(tmp_path / "inbox.png"), full_page=True)

    page.goto(f"{site.url}/cases/{case_id}")
    row = page.locator(f'#agreements tr[data-agreement-id="{agreement_id}"]')
    assert ZH["agreement_status.approved"] in row.inner_text()
    assert row.locator("a.pdf").get_attribute("href") == f"/agreements/{agreement_id}/document"
    assert page.locator('#timeline li[data-type="agreement.approved"]').count() == 1
    with transaction(site.engine) as session:
        agreement = session.scalars(select(Agreement)).one()
        assert agreement.status == "approved" and agreement.document_pdf is not None
