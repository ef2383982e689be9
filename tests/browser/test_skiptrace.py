"""Contact points on the case page in Chromium (失联修复): add one, review it, see a refusal."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cuishou.store.db import transaction
from cuishou.store.tables import ContactPoint, Event
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import Site, log_in

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]


def test_a_collector_adds_a_point_and_reviews_it_invalid_on_the_case_page(
    page: Any, site: Site
) -> None:
    log_in(page, site, "col_a")
    case_id = site.portfolio.col_a_cases[0]
    page.goto(f"{site.url}/cases/{case_id}")
    rows = page.locator("#contact-points tbody tr")
    before = rows.count()

    form = page.locator("form.point-add")
    form.locator("select[name=kind]").select_option("mobile")
    form.locator("input[name=value]").fill("+86 137 0000 2222")
    form.locator("select[name=source]").select_option("public_record")
    form.locator("button[type=submit]").click()

    page.wait_for_url(f"**/cases/{case_id}*")
    assert rows.count() == before + 1
    added = rows.filter(has_text="137****2222")
    assert ZH["verification.new"] in added.inner_text()
    assert "13700002222" not in page.content()  # masked

    review = added.locator("form.point-verify")
    review.locator("select[name=status]").select_option("invalid")
    review.locator("input[name=reason]").fill("空号")
    review.locator("button[type=submit]").click()

    page.wait_for_url(f"**/cases/{case_id}*")
    reviewed = page.locator("#contact-points tbody tr").filter(has_text="137****2222")
    assert ZH["verification.invalid"] in reviewed.inner_text()
    assert ZH["point.invalid"] in reviewed.inner_text()
    with transaction(site.engine) as session:
        point = session.scalars(
            select(ContactPoint).where(ContactPoint.value == "13700002222")
        ).one()
        assert (point.status, point.verification, point.source) == (
            "invalid",
            "invalid",
            "public_record",
        )
        types = session.scalars(
            select(Event.type).where(
                Event.entity_type == "contact_point", Event.entity_id == point.id
            )
        ).all()
    assert sorted(types) == ["contact_point.added", "contact_point.invalidated"]


def test_a_bad_or_duplicate_point_is_refused_inline_and_the_form_keeps_its_values(
    page: Any, site: Site
) -> None:
    log_in(page, site, "col_a")
    case_id = site.portfolio.col_a_cases[0]
    page.goto(f"{site.url}/cases/{case_id}")
    form = page.locator("form.point-add")
    form.locator("input[name=value]").fill("1381234")
    form.locator("button[type=submit]").click()
    page.locator(".errors").wait_for()
    assert "11-digit" in page.locator(".errors").inner_text()
    assert page.locator("form.point-add input[name=value]").input_value() == "1381234"

    invalid_review = page.locator("form.point-verify").first
    invalid_review.locator("select[name=status]").select_option("invalid")
    invalid_review.locator("button[type=submit]").click()  # no reason
    page.locator(".errors").wait_for()
    assert "reason" in page.locator(".errors").inner_text()
    with transaction(site.engine) as session:
        assert (
            session.scalars(select(Event).where(Event.entity_type == "contact_point")).all() == []
        )
