"""The KPI dashboards in Chromium, one per role, at the injected clock (Wednesday 2026-11-04,
10:00 Beijing): the manager's charts carry the API's figures, the team lead's table and
download, the collector's card on the queue.

The seeded store (``conftest.seed``): col_a's M3 case was paid 500.00 at the clock's "now";
there are no contacts until a test logs one.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from sqlalchemy import select

from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import User
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import Site, log_in
from tests.web.factories import token_for

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]


def api_report(page: Any, site: Site, who: str, **params: str) -> dict:  # type: ignore[type-arg]
    """``GET /api/v1/kpis`` as ``who``, from the same browser context."""
    with transaction(site.engine) as session:
        user = session.scalars(select(User).where(User.username == who)).one()
        token = token_for(session, user=user, now=site.clock.now)
    response = page.request.get(
        f"{site.url}/api/v1/kpis", params=params, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.ok, response.text()
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def option(page: Any, element_id: str) -> dict:  # type: ignore[type-arg]
    """The option ECharts drew the chart in ``#element_id`` with."""
    drawn: dict = page.evaluate(  # type: ignore[type-arg]
        "id => window.echarts.getInstanceByDom(document.getElementById(id)).getOption()",
        element_id,
    )
    return drawn


def test_the_manager_dashboard_draws_the_apis_figures(
    page: Any, site: Site, tmp_path: Path
) -> None:
    log_in(page, site, "manager")
    page.click('nav a[href="/kpis"]')
    page.wait_for_url("**/kpis")
    page.locator('body[data-charts-ready="3"]').wait_for()
    today = site.clock.now.astimezone(CHINA_TZ).date()
    start = today.replace(day=1)
    assert page.locator("input[name=from]").input_value() == start.isoformat()
    assert page.locator("input[name=to]").input_value() == today.isoformat()
    for chart in ("chart-trend", "chart-roll", "chart-gauges"):
        assert page.locator(f"#{chart} canvas").count() >= 1, chart

    report = api_report(page, site, "manager", **{"from": str(start), "to": str(today)}, by="day")
    trend = option(page, "chart-trend")
    assert trend["xAxis"][0]["data"] == [row["key"] for row in report["rows"]]
    drawn = {s["id"]: s["data"] for s in trend["series"]}
    assert drawn["recovery_rate"] == [row["recovery_rate"] for row in report["rows"]]
    assert drawn["connect_rate"] == [row["connect_rate"] for row in report["rows"]]
    assert drawn["recovery_rate"][-1] > 0  # today's 500.00

    roll = option(page, "chart-roll")
    rows, cols = roll["yAxis"][0]["data"], roll["xAxis"][0]["data"]
    cells = {(rows[y], cols[x]): rate for x, y, rate in roll["series"][0]["data"]}
    assert cells == {(r["from_bucket"], r["to_bucket"]): r["rate"] for r in report["roll_rates"]}

    gauges = {s["id"]: s["data"][0]["value"] for s in option(page, "chart-gauges")["series"]}
    progress = report["total"]["progress"]
    assert set(gauges) == set(progress)
    assert gauges["recovery_rate"] == round(progress["recovery_rate"] * 100, 1)

    # the rankings: col_a (500.00) first
    first = page.locator("#table-collectors tbody tr").first
    assert "col_a" in first.inner_text() and "¥500.00" in first.inner_text()
    page.screenshot(path=str(tmp_path / "kpis.png"), full_page=True)


def test_the_team_lead_sees_their_collectors_against_targets_and_downloads_them(
    page: Any, site: Site
) -> None:
    log_in(page, site, "lead_a")
    page.goto(f"{site.url}/team")
    page.click("#team-targets-link")
    page.wait_for_url("**/kpis/team")
    rows = page.locator("#team-targets tbody tr")
    assert [rows.nth(i).get_attribute("data-collector") for i in range(rows.count())] == ["col_a"]
    recovery = rows.first.locator('td[data-metric="recovery_rate"]')
    assert recovery.locator("progress").count() == 1
    assert "col_b" not in page.locator("main").inner_text()  # 催收二组 is not theirs

    with page.expect_download() as info:
        page.click('a[data-export="collectors-xlsx"]')
    sheet = pl.read_excel(io.BytesIO(Path(info.value.path()).read_bytes()), engine="calamine")
    assert sheet.columns[:3] == ["排名", "催收员", "回款金额"]
    assert sheet["催收员"].to_list() == ["col_a"]
    assert sheet["回款金额"].to_list() == [500.0]


def test_a_collector_sees_their_numbers_today_and_this_month_on_the_queue(
    page: Any, site: Site
) -> None:
    log_in(page, site, "col_a")
    card = page.locator("#my-numbers")
    assert card.locator("h2").inner_text() == ZH["kpi.mine"]
    today = card.locator("#my-today")
    assert today.locator('dd[data-field="recovered"]').inner_text() == "¥500.00"
    assert today.locator('dd[data-field="calls"]').inner_text() == "0"
    assert card.locator("#my-month dd[data-field=recovered]").inner_text() == "¥500.00"
    assert card.locator('#my-targets tr[data-metric="recovery_rate"] progress').count() == 1

    # a call logged now counts at once
    case = site.portfolio.col_a_cases[0]
    page.click(f'#queue tr[data-case-id="{case}"] a')
    form = page.locator("#contact-form")
    form.locator("select[name=outcome]").select_option("no_answer")
    form.locator("button[type=submit]").click()
    page.locator("#activity .notice").wait_for()
    page.goto(f"{site.url}/queue")
    assert page.locator('#my-today dd[data-field="calls"]').inner_text() == "1"
    assert page.locator('#my-today dd[data-field="connected"]').inner_text() == "0"
