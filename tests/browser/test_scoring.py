"""Scoring in Chromium: the model card's ECharts charts drawn with the card's figures, promoting
from the card, and the queue's grade and label filters changing the rows.

The store is ``tests/scoring/scored.py``'s (six scored cases of col_a, one of them disputed,
one unreachable; col_b's case in another team), served at the injected clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Case, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.browser.conftest import PASSWORD, log_in, new_tab
from tests.scoring.scored import Scored, make_strategist, register, score_cases
from tests.web.factories import WORKDAY_MORNING, Clock, make_team, make_user, token_for
from tests.web.live import served

pytestmark = [pytest.mark.browser, pytest.mark.filterwarnings("ignore::Warning:optbinning")]


@dataclass
class ScoringSite:
    url: str
    engine: Engine
    scored: Scored
    clock: Clock


@pytest.fixture
def scoring_site(engine: Engine) -> Iterator[ScoringSite]:
    with transaction(engine) as session:
        team_a = make_team(session, name="催收一组")
        team_b = make_team(session, name="催收二组")
        col_a = make_user(session, username="col_a", team=team_a, password=PASSWORD)
        col_b = make_user(session, username="col_b", team=team_b, password=PASSWORD)
        make_strategist(session, password=PASSWORD)
    scored = score_cases(engine, col_a=col_a, team_a=team_a, col_b=col_b, team_b=team_b)
    clock = Clock(now=WORKDAY_MORNING)
    with served(create_app(engine, WebSettings(clock=clock))) as url:
        yield ScoringSite(url, engine, scored, clock)


@pytest.fixture
def tab(browser: Any, scoring_site: ScoringSite) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


def option(tab: Any, element_id: str) -> dict:  # type: ignore[type-arg]
    """The option ECharts drew the chart in ``#element_id`` with."""
    drawn: dict = tab.evaluate(  # type: ignore[type-arg]
        "id => window.echarts.getInstanceByDom(document.getElementById(id)).getOption()",
        element_id,
    )
    return drawn


def api_card(tab: Any, site: ScoringSite, version: str) -> dict:  # type: ignore[type-arg]
    with transaction(site.engine) as session:
        user = session.scalars(select(User).where(User.username == "strategist")).one()
        token = token_for(session, user=user, now=site.clock.now)
    response = tab.request.get(
        f"{site.url}/api/v1/models/{version}", headers={"Authorization": f"Bearer {token}"}
    )
    assert response.ok, response.text()
    card: dict = response.json()  # type: ignore[type-arg]
    return card


def test_the_model_card_draws_lift_calibration_and_psi_from_the_cards_figures(
    tab: Any, scoring_site: ScoringSite, tmp_path: Path
) -> None:
    site, version = scoring_site, scoring_site.scored.version
    log_in(tab, site, "strategist")
    tab.click('nav a[href="/models"]')
    tab.wait_for_url("**/models")
    champion = tab.locator(f'tr[data-version="{version}"]')
    assert champion.get_attribute("data-status") == "champion"
    champion.locator(f'a[href="/models/{version}"]').click()
    tab.wait_for_url(f"**/models/{version}")
    tab.locator('body[data-charts-ready="3"]').wait_for()
    for chart in ("chart-lift", "chart-calibration", "chart-psi"):
        assert tab.locator(f"#{chart} canvas").count() >= 1, chart

    card = api_card(tab, site, version)
    lift = option(tab, "chart-lift")
    assert lift["xAxis"][0]["data"] == [d["decile"] for d in card["deciles"]]
    drawn = {s["id"]: s["data"] for s in lift["series"]}
    assert drawn["lift"] == [round(d["lift"], 4) for d in card["deciles"]]
    assert drawn["capture"] == [round(d["cumulative_capture"], 4) for d in card["deciles"]]
    assert drawn["lift"][0] > 1 > drawn["lift"][-1]  # the best decile pays more than average

    calibration = {s["id"]: s["data"] for s in option(tab, "chart-calibration")["series"]}
    assert calibration["observed"] == [round(d["observed_rate"], 4) for d in card["deciles"]]
    assert calibration["predicted"] == [round(d["mean_predicted"], 4) for d in card["deciles"]]

    psi = option(tab, "chart-psi")
    assert psi["xAxis"][0]["data"] == [p["day"] for p in card["psi"]["score"]]
    lines = {s["id"]: s for s in psi["series"]}
    assert set(lines) == set(card["psi"])
    for subject, points in card["psi"].items():
        assert lines[subject]["data"] == [round(p["psi"], 4) for p in points], subject
    assert lines["score"]["markLine"]["data"][0]["yAxis"] == 0.25
    tab.screenshot(path=str(tmp_path / "model_card.png"), full_page=True)


def test_the_strategist_promotes_a_challenger_from_its_card(
    tab: Any, scoring_site: ScoringSite
) -> None:
    site = scoring_site
    with transaction(site.engine) as session:
        challenger = register(session, number=2)
    log_in(tab, site, "strategist")
    tab.goto(f"{site.url}/models/{challenger}")
    assert tab.locator("#model-status").inner_text() == "候选"
    tab.click("#promote")
    tab.wait_for_url(f"**/models/{challenger}?promoted=1")
    assert tab.locator("#promoted").is_visible()
    assert tab.locator("#model-status").inner_text() == "★ 冠军"
    assert tab.locator("#promote").count() == 0
    history = tab.locator(f'#history tr[data-version="{site.scored.version}"]')
    assert history.get_attribute("data-status") == "retired"


def test_the_queue_filters_by_grade_and_by_label(
    tab: Any, scoring_site: ScoringSite, tmp_path: Path
) -> None:
    site, scored = scoring_site, scoring_site.scored
    with transaction(site.engine) as session:
        grades = {
            cid: grade
            for cid, grade in session.execute(
                select(Case.id, Case.risk_grade).where(Case.id.in_(list(scored.cases)))
            )
        }
    log_in(tab, site, "col_a")
    rows = tab.locator("#queue tbody tr[data-case-id]")

    def shown() -> dict[int, str]:
        return {
            int(rows.nth(i).get_attribute("data-case-id")): rows.nth(i)
            .locator("[data-grade]")
            .get_attribute("data-grade")
            for i in range(rows.count())
        }

    assert shown() == grades
    worst = max(grades.values())
    tab.select_option("select[name=grade]", worst)
    tab.click("form.filters button[type=submit]")
    tab.wait_for_url(f"**/queue?*grade={worst}*")
    assert shown() == {cid: g for cid, g in grades.items() if g == worst}
    assert len(shown()) < len(grades)

    tab.select_option("select[name=grade]", "")
    tab.select_option("select[name=label]", "dispute")
    tab.click("form.filters button[type=submit]")
    tab.wait_for_url("**/queue?*label=dispute*")
    assert list(shown()) == [scored.disputed]
    tab.click(f'#queue a[href="/cases/{scored.disputed}"]')
    tab.wait_for_url(f"**/cases/{scored.disputed}")
    assert tab.locator('#labels [data-label="dispute"] .label-tag').inner_text() == "争议拒付型"
    assert tab.locator("#risk [data-grade]").first.inner_text() == grades[scored.disputed]
    tab.screenshot(path=str(tmp_path / "case.png"), full_page=True)
