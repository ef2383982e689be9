"""The manager's overview takes its KPI figures from the KPI service (one definition)."""

from __future__ import annotations

from sqlalchemy import Engine

from cuishou.kpis import service as kpis
from cuishou.reporting.service import overview
from cuishou.store.db import transaction
from tests.kpis.shop import build_shop, local
from tests.kpis.test_figures import principal


def test_the_overview_shows_todays_kpis_and_this_months_recovery_by_team(engine: Engine) -> None:
    shop = build_shop(engine)
    now = local(3, 12)  # Tuesday 2026-11-03, noon in Beijing
    with transaction(engine) as session:
        data = overview(session, principal(shop.users["manager"]), now=now)
        today = kpis.figures(session, None, now.date(), now.date()).total
    # today: A2's promise call and its promise of 150.00
    assert (data.contacts_today, data.promises_today, data.promised_today) == (1, 1, "150.00")
    assert (today.contacts, today.promises, today.promised) == (1, 1, "150.00")
    # this month so far (11-01 … 11-03): A1 paid 200.00; B1 50.00 on 11-01; nothing later
    teams = {line.team: (line.payments, line.recovered) for line in data.recovery_by_team}
    assert teams == {"一组": (1, "200.00"), "二组": (1, "50.00")}
