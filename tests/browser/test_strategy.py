"""Strategies in Chromium: a strategist edits a draft, validates it (a gap shown in place),
diffs it against the version in force and submits it; the decision table and each path's
timeline render; a manager approves and activates it (four eyes: not the author)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import Engine

from cuishou.store.db import transaction
from cuishou.strategy.definition import shipped_text
from cuishou.strategy.service import lifecycle
from cuishou.templates.service import install_default_templates
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.browser.conftest import PASSWORD, new_tab
from tests.browser.conftest import log_in as shared_log_in
from tests.strategy.test_lifecycle import person
from tests.web.factories import WORKDAY_MORNING, Clock, make_case, make_user
from tests.web.live import served

pytestmark = pytest.mark.browser


@dataclass
class StrategySite:
    url: str
    engine: Engine
    clock: Clock


@pytest.fixture
def strategy_site(engine: Engine) -> Iterator[StrategySite]:
    clock = Clock(now=WORKDAY_MORNING)
    with transaction(engine) as session:
        for bucket, dpd in (("M2", 45), ("M7+", 200)):
            make_case(session, bucket=bucket, dpd=dpd).risk_grade = "B"
        writer = make_user(session, role="strategist", username="strat_a", password=PASSWORD)
        boss = make_user(session, role="manager", username="manager", password=PASSWORD)
        officer = make_user(session, role="compliance", username="officer")
        install_default_templates(session, person(officer), now=clock.now)
        # the shipped default in force since this morning
        first = lifecycle.submit(session, shipped_text(), actor="", now=clock.now,
                                 principal=person(writer))  # fmt: skip
        lifecycle.approve(session, first.id, actor="", now=clock.now, principal=person(boss))
        lifecycle.activate(session, first.id, actor="", now=clock.now, principal=person(boss))
    with served(create_app(engine, WebSettings(clock=clock))) as url:
        yield StrategySite(url, engine, clock)


@pytest.fixture
def tab(browser: Any, strategy_site: StrategySite) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


def log_in(tab: Any, site: StrategySite, username: str) -> None:
    tab.context.clear_cookies()
    shared_log_in(tab, site, username)


def test_edit_validate_diff_submit_then_another_person_approves(
    tab: Any, strategy_site: StrategySite
) -> None:
    site = strategy_site
    log_in(tab, site, "strat_a")
    tab.click("nav.menu >> text=策略")
    assert tab.locator("#strategy-versions tr[data-state=in_force]").count() == 1
    tab.click("#new-strategy")
    editor = tab.locator("#strategy-body")
    assert "code: default" in editor.input_value()
    # the strategist narrows the grade B row and the catch-all to early buckets: the M7+
    # grade B case is left without a segment
    edited = (
        editor.input_value().replace(
            "when: {risk_grade: [B]}", "when: {risk_grade: [B], bucket: [M1, M2]}"
        )
        + "    when: {bucket: [M1, M2]}\n"
    )
    editor.fill(edited)
    tab.click("#validate")
    gap = tab.locator("#problem-list li[data-kind=gap]")
    gap.wait_for()
    assert "1 个在催案件不符合任何一行" in gap.inner_text()
    assert "账龄 M7+" in gap.inner_text()
    tab.click("#diff")
    line = tab.locator("#diff-lines .diff-line")
    line.first.wait_for()
    assert [line.nth(i).inner_text().split("（")[0] for i in range(line.count())] == [
        "第 8 行已修改", "第 10 行已修改",
    ]  # fmt: skip
    tab.fill("#strategy-note", "只覆盖 M1–M2")
    tab.click("#submit")
    tab.wait_for_load_state("networkidle")
    assert tab.locator("#flash").inner_text() == "已提交，等待另一人审批。"
    assert tab.locator("#strategy-state").inner_text() == "待审批"
    assert tab.locator("#own-draft").is_visible()
    assert tab.locator("#approve").count() == 0  # four eyes: not for the author
    # the decision table as a table, each path as a timeline
    rows = tab.locator("#decision-table tbody tr")
    assert rows.count() == 10
    assert rows.nth(7).locator("td").nth(1).inner_text() == "账龄 M1/M2，风险等级 B"
    assert rows.nth(9).locator("td").nth(1).inner_text() == "账龄 M1/M2"
    assert rows.nth(0).locator("td").nth(1).inner_text() == "标签含 dispute"
    legal = tab.locator("#path-D_LEGAL li[data-day]")
    assert [legal.nth(i).get_attribute("data-day") for i in range(legal.count())] == [
        "0", "7", "21", "30",
    ]  # fmt: skip
    assert "外访申请" in tab.locator("#path-D_LEGAL li[data-day='7']").inner_text()
    draft_url = tab.url.split("?")[0]

    log_in(tab, site, "manager")
    tab.goto(draft_url)
    tab.fill("#review-form input[name=note]", "同意")
    tab.click("#approve")
    tab.wait_for_load_state("networkidle")
    assert tab.locator("#strategy-state").inner_text() == "已批准"
    tab.click("#activate")
    tab.wait_for_load_state("networkidle")
    assert tab.locator("#strategy-state").inner_text() == "生效中"
    history = tab.locator("#history tr")
    assert [history.nth(i).get_attribute("data-type") for i in range(history.count())] == [
        "strategy.submitted", "strategy.approved", "strategy.activated",
    ]  # fmt: skip
    tab.goto(f"{site.url}/strategies")
    states = tab.locator("#strategy-versions tbody tr")
    assert [states.nth(i).get_attribute("data-state") for i in range(states.count())] == [
        "in_force", "retired",
    ]  # fmt: skip
