"""Experiments in Chromium: the list from the menu, one experiment's charts drawn with its
figures (both arms' cumulative recovery rates, the difference with its 95% interval band),
a promotion asked by one strategist and approved by a manager (four eyes), English labels.

The store is ``tests/experiments/world.py``'s, served at its clock (2026-11-08 10:00 in
Beijing); every figure checked comes from the API's own results.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from cuishou.experiments.service import report
from cuishou.store.db import transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.browser.conftest import log_in, new_tab
from tests.experiments.world import CLOCK, TODAY, World, build_world
from tests.web.factories import Clock
from tests.web.live import served
from tests.web.pages import PASSWORD

pytestmark = [pytest.mark.browser]


@dataclass
class ExperimentSite:
    url: str
    engine: Engine
    world: World


@pytest.fixture
def exp_site(engine: Engine) -> Iterator[ExperimentSite]:
    world = build_world(engine)
    with served(create_app(engine, WebSettings(clock=Clock(now=CLOCK)))) as url:
        yield ExperimentSite(url, engine, world)


@pytest.fixture
def tab(browser: Any, exp_site: ExperimentSite) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


def option(tab: Any, element_id: str) -> dict:  # type: ignore[type-arg]
    drawn: dict = tab.evaluate(  # type: ignore[type-arg]
        "id => window.echarts.getInstanceByDom(document.getElementById(id)).getOption()",
        element_id,
    )
    return drawn


def test_the_experiment_page_draws_the_arms_and_the_interval(
    tab: Any, exp_site: ExperimentSite
) -> None:
    log_in(tab, exp_site, "strat_a", password=PASSWORD)
    tab.click("nav.menu >> text=策略实验")
    tab.wait_for_selector("#experiments")
    tab.click("#experiments >> text=tone")
    tab.wait_for_selector("body[data-charts-ready='2']")
    with transaction(exp_site.engine) as session:
        rep = report(session, None, exp_site.world.experiment_id, today=TODAY)
    curves = option(tab, "chart-curves")
    assert curves["xAxis"][0]["data"][0] == "2026-11-02"
    by_id = {s["id"]: s["data"] for s in curves["series"]}
    assert by_id["champion"] == [p.champion for p in rep.daily]
    assert by_id["challenger"][-1] == rep.results.arms[1].recovery_rate == 0.2
    band = {s["id"]: s["data"] for s in option(tab, "chart-interval")["series"]}
    assert band["estimate"][-1] == rep.results.diff.estimate
    assert band["low"][-1] == rep.results.diff.ci_low
    assert band["band"][-1] == pytest.approx(
        (rep.results.diff.ci_high or 0) - (rep.results.diff.ci_low or 0), abs=1e-6
    )
    arms = tab.locator("#arms tbody tr")
    assert arms.count() == 2
    assert tab.locator("#arms tr[data-arm=challenger] [data-field=recovered]").inner_text() == (
        "¥900.00"
    )
    assert tab.locator("#power [data-field=cases_needed_for_2pct]").inner_text() != "—"


def test_a_promotion_needs_a_second_person(tab: Any, exp_site: ExperimentSite) -> None:
    path = f"{exp_site.url}/experiments/{exp_site.world.experiment_id}"
    log_in(tab, exp_site, "strat_a", password=PASSWORD)
    tab.goto(path)
    tab.click("#request-promotion")
    tab.wait_for_selector("#done")
    assert tab.locator("#four-eyes").count() == 1
    assert tab.locator("#approve-promotion").count() == 0
    tab.click("button:has-text('退出登录')")
    log_in(tab, exp_site, "manager", password=PASSWORD)
    tab.goto(path)
    assert "strat_a" in tab.locator("#requested").inner_text()
    assert tab.locator("#stop").count() == 0  # a manager approves; stopping is the strategist's
    tab.click("#approve-promotion")
    tab.wait_for_selector("#done")
    assert tab.locator("#experiment-status").inner_text() == "已晋升"


def test_english_labels(tab: Any, exp_site: ExperimentSite) -> None:
    log_in(tab, exp_site, "auditor", password=PASSWORD)
    tab.goto(f"{exp_site.url}/lang/en?next=/experiments")
    tab.wait_for_selector("#experiments")
    assert tab.locator("h1").inner_text() == "Champion/challenger experiments"
    assert tab.locator("#experiments [data-field=status]").inner_text() == "Running"
