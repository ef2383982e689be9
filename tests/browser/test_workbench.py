"""The workbench in Chromium: collector, team lead and manager flows, language, CSRF, scope."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Contact, Promise, User
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import Site, log_in

pytestmark = pytest.mark.browser

ZH, EN = MESSAGES["zh"], MESSAGES["en"]


def test_a_collector_logs_a_contact_with_a_promise_and_sees_it_at_once(
    page: Any, site: Site, tmp_path: Path
) -> None:
    log_in(page, site, "col_a")
    assert page.url.endswith("/queue")
    rows = page.locator("#queue tbody tr")
    assert rows.count() == 3
    # queue order without callbacks or promises: worse bucket first
    assert rows.nth(0).locator(".bucket").inner_text() == "M3"
    assert page.locator("h1").inner_text() == ZH["queue.title"]

    target = site.portfolio.col_a_cases[2]  # the M2 case, last in the queue
    page.click(f'#queue tr[data-case-id="{target}"] a')
    page.wait_for_url(f"**/cases/{target}")
    assert "赵*" in page.content() and "赵强" not in page.content()
    assert page.locator("#total-due").inner_text() == "¥9,900.00"

    today = site.clock.now.astimezone(CHINA_TZ).date()
    form = page.locator("#contact-form")
    form.locator("select[name=outcome]").select_option("promise")
    form.locator("input[name=promise_amount]").fill("1200.50")
    form.locator("input[name=promise_date]").fill(today.isoformat())
    form.locator("textarea[name=notes]").fill("本人承诺今天还款")
    form.locator("button[type=submit]").click()

    page.locator("#activity .notice").wait_for()
    assert ZH["contact.saved"] in page.locator("#activity .notice").first.inner_text()
    timeline = page.locator("#timeline")
    assert timeline.locator('li[data-type="promise.created"]').count() == 1
    assert "¥1,200.50" in timeline.inner_text()
    assert ZH["outcome.promise"] in timeline.locator('li[data-type="contact.logged"]').inner_text()
    assert "¥1,200.50" in page.locator("#promises").inner_text()
    page.screenshot(path=str(tmp_path / "case.png"), full_page=True)

    page.click('a[href="/queue"]')
    page.wait_for_url("**/queue")
    first = page.locator("#queue tbody tr").nth(0)
    assert first.get_attribute("data-case-id") == str(target)  # promise due today comes first
    assert ZH["queue.promise_due"] in first.inner_text()
    with transaction(site.engine) as session:
        promise = session.scalars(select(Promise)).one()
        assert promise.amount_fen == 120_050 and promise.case_id == target


def test_an_invalid_contact_shows_its_error_inline(page: Any, site: Site) -> None:
    log_in(page, site, "col_a")
    case_id = site.portfolio.col_a_cases[0]
    page.goto(f"{site.url}/cases/{case_id}")
    too_late = site.clock.now.astimezone(CHINA_TZ).date() + timedelta(days=60)
    form = page.locator("#contact-form")
    form.locator("select[name=outcome]").select_option("promise")
    form.locator("input[name=promise_amount]").fill("10.00")
    form.locator("input[name=promise_date]").fill(too_late.isoformat())
    form.locator("button[type=submit]").click()
    page.locator("#activity .errors").wait_for()
    assert "30 days" in page.locator("#activity .errors").inner_text()
    assert page.locator("input[name=promise_amount]").input_value() == "10.00"
    with transaction(site.engine) as session:
        assert session.scalars(select(Contact)).first() is None


def test_a_team_lead_reassigns_a_case_and_handles_an_alert(page: Any, site: Site) -> None:
    log_in(page, site, "lead_a")
    assert page.url.endswith("/team")
    assert page.locator('#workload tr[data-collector="col_a"]').count() == 1
    assert page.locator('#workload tr[data-collector="col_b"]').count() == 0
    moved = site.portfolio.col_a_cases[0]
    page.check(f'#team-cases tr[data-case-id="{moved}"] input[type=checkbox]')
    page.select_option("select[name=collector]", "col_a2")
    page.click("#assign-form button[type=submit]")
    page.wait_for_load_state("networkidle")
    assert page.locator(".notice").inner_text() == ZH["team.assigned_done"].format(
        n=1, collector="col_a2"
    )
    assert page.locator(f'#team-cases tr[data-case-id="{moved}"] .assignee').inner_text() == (
        "col_a2"
    )
    with transaction(site.engine) as session:
        case = session.get(Case, moved)
        assert case is not None
        owner = session.scalar(select(User.username).where(User.id == case.assigned_user_id))
        assert owner == "col_a2"

    page.click('a[href="/alerts"]')
    row = page.locator(f'#alerts tr[data-alert-id="{site.portfolio.alert_id}"]')
    assert ZH["alert.three_failed_contacts"] in row.inner_text()
    row.get_by_role("button", name=ZH["alerts.acknowledge"]).click()
    page.wait_for_load_state("networkidle")
    row = page.locator(f'#alerts tr[data-alert-id="{site.portfolio.alert_id}"]')
    assert ZH["alert_status.acknowledged"] in row.inner_text()
    row.get_by_role("button", name=ZH["alerts.resolve"]).click()
    page.wait_for_load_state("networkidle")
    assert page.locator(f'#alerts tr[data-alert-id="{site.portfolio.alert_id}"]').count() == 0
    page.goto(f"{site.url}/alerts?status=resolved")
    assert "lead_a" in page.locator(f'tr[data-alert-id="{site.portfolio.alert_id}"]').inner_text()


def test_the_language_switch_changes_the_labels_and_stays(page: Any, site: Site) -> None:
    log_in(page, site, "col_a")
    assert page.locator("h1").inner_text() == ZH["queue.title"]
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    page.click('a[data-lang="en"]')
    page.wait_for_url("**/queue")
    assert page.locator("h1").inner_text() == EN["queue.title"]
    assert page.locator("html").get_attribute("lang") == "en"
    page.goto(f"{site.url}/cases/{site.portfolio.col_a_cases[0]}")
    assert EN["contact.form_title"] in page.content()
    assert ZH["contact.form_title"] not in page.content()
    options = page.locator("select[name=outcome] option").all_inner_texts()
    assert EN["outcome.no_answer"] in options and ZH["outcome.no_answer"] not in options


def test_a_form_with_a_forged_csrf_token_is_refused(page: Any, site: Site) -> None:
    log_in(page, site, "col_a")
    page.goto(f"{site.url}/cases/{site.portfolio.col_a_cases[0]}")
    # a plain (non-HTMX) submission with a tampered token, as a forged page would send
    page.evaluate(
        """() => {
        const form = document.getElementById('contact-form');
        form.removeAttribute('hx-post');
        form.querySelector('input[name=csrf_token]').value = 'forged';
        document.body.removeAttribute('hx-headers');
        HTMLFormElement.prototype.submit.call(form);
    }"""
    )
    page.wait_for_load_state("networkidle")
    assert page.locator(".error-page").get_attribute("data-status") == "403"
    assert ZH["error.csrf"] in page.content()
    with transaction(site.engine) as session:
        assert session.scalars(select(Contact)).first() is None


def test_a_collector_cannot_open_another_collectors_case(page: Any, site: Site) -> None:
    log_in(page, site, "col_a")
    response = page.goto(f"{site.url}/cases/{site.portfolio.col_b_case}")
    assert response is not None and response.status == 404
    assert ZH["error.404"] in page.content()
    assert "孙" not in page.content()
    assert page.locator("#queue").count() == 0


def test_the_manager_overview_draws_its_charts(page: Any, site: Site, tmp_path: Path) -> None:
    log_in(page, site, "manager")
    assert page.url.endswith("/overview")
    page.wait_for_selector("body[data-charts-ready='3']")
    assert page.locator("#chart-buckets canvas").count() >= 1
    recovery = page.locator("#recovery").inner_text()
    assert re.search(r"催收一组\s+1\s+¥500\.00", recovery)
    assert re.search(r"催收二组\s+0\s+¥0\.00", recovery)
    page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)
