"""Allocation in Chromium: a team lead opens 案件分配 from the menu, sees who would get the
team's unassigned cases (workload before and after), applies, and undoes the batch."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from cuishou.store.db import transaction
from cuishou.store.tables import Case, Team
from tests.browser.conftest import Site, log_in
from tests.web.factories import make_case

pytestmark = [pytest.mark.browser]


def test_a_team_lead_previews_applies_and_undoes_an_allocation(page: Any, site: Site) -> None:
    with transaction(site.engine) as session:
        team = session.scalars(select(Team).where(Team.name == "催收一组")).one()
        fresh = [make_case(session, team=team).id for _ in range(2)]
    log_in(page, site, "lead_a")
    page.click("nav.menu >> text=案件分配")
    page.wait_for_selector("#allocation-workload")
    assert page.locator("[data-assigned]").get_attribute("data-assigned") == "2"
    before = page.locator('tr[data-collector="col_a"] td').nth(2).inner_text()
    assert before == "3"  # col_a's three cases; col_a2 has none
    assert page.locator('tr[data-collector="col_b"]').count() == 0  # another team
    page.click("#allocation-apply")
    page.wait_for_selector("#allocation-done")
    with transaction(site.engine) as session:
        owners = set(session.scalars(select(Case.assigned_user_id).where(Case.id.in_(fresh))))
    assert None not in owners
    page.click('#allocation-batches tr[data-status="applied"] button')
    page.wait_for_selector('#allocation-batches tr[data-status="undone"]')
    with transaction(site.engine) as session:
        owners = set(session.scalars(select(Case.assigned_user_id).where(Case.id.in_(fresh))))
    assert owners == {None}
