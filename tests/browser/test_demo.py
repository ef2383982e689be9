"""The demo in Chromium: its documented logins see a lived-in month on their pages.

The store is built by :func:`cuishou.demo.run_demo` — the code path of ``cuishou demo`` —
small (600 accounts, 300 of them living a simulated week), with the demo's clock fixed at
10:00 in Beijing on 2026-11-20: the history is 2026-11-13 … 2026-11-19.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from cuishou.demo import DEMO_PASSWORD, DEMO_TEAM, run_demo
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Case, Contact, ModelVersion, Promise, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.browser.conftest import log_in, new_tab
from tests.web.factories import Clock
from tests.web.live import served

pytestmark = pytest.mark.browser

#: the demo's today, 10:00 in Beijing
DEMO_NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
COLLECTOR = "sim_collector_001"


@dataclass
class DemoSite:
    url: str
    engine: Engine
    history: dict[str, Any]


@pytest.fixture(scope="module")
def demo_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoSite]:
    """A small demo store, built once for the module, served by uvicorn on a free port."""
    directory: Path = tmp_path_factory.mktemp("demo")
    result = run_demo(
        accounts=600,
        history_accounts=300,
        days=7,
        seed=2026,
        directory=directory,
        clock=lambda: DEMO_NOW,
    )
    engine = make_engine(result.database)
    try:
        with served(create_app(engine, WebSettings(clock=Clock(now=DEMO_NOW)))) as url:
            yield DemoSite(url, engine, result.history)
    finally:
        engine.dispose()


@pytest.fixture
def tab(browser: Any) -> Iterator[Any]:
    with new_tab(browser, timeout_ms=15_000) as tab:
        yield tab


def _yuan(text: str) -> float:
    return float(re.sub(r"[^0-9.]", "", text) or 0)


def test_a_demo_collector_sees_their_queue_with_the_months_contacts_and_promises(
    tab: Any, demo_site: DemoSite
) -> None:
    # given a case of theirs the simulated month called and took a promise on
    with transaction(demo_site.engine) as session:
        promised = session.scalar(
            select(Case.id)
            .join(User, User.id == Case.assigned_user_id)
            .join(Promise, Promise.case_id == Case.id)
            .where(User.username == COLLECTOR, Case.status == "open")
            .order_by(Case.id)
            .limit(1)
        )
        calls = session.scalar(
            select(func.count())
            .select_from(Contact)
            .join(User, User.id == Contact.user_id)
            .where(User.username == COLLECTOR)
        )
    assert promised is not None and calls
    # when the demo collector logs in with the documented password
    log_in(tab, demo_site, COLLECTOR, password=DEMO_PASSWORD)
    # then their queue is full of their own cases
    assert tab.url.endswith("/queue")
    rows = tab.locator("#queue tbody tr[data-case-id]")
    assert rows.count() > 0
    assert set(tab.locator("#queue tbody tr td:last-child").all_inner_texts()) == {COLLECTOR}
    # and the case shows the month's calls and the promise in its timeline
    tab.goto(f"{demo_site.url}/cases/{promised}")
    assert tab.locator('#timeline li[data-type="contact.logged"]').count() > 0
    assert tab.locator('#timeline li[data-type="promise.created"]').count() > 0
    assert tab.locator("#promises tbody tr").count() > 0
    assert COLLECTOR in tab.locator("#promises").inner_text()


def test_the_demo_team_lead_sees_the_teams_workload_and_alerts(
    tab: Any, demo_site: DemoSite
) -> None:
    log_in(tab, demo_site, "demo_team_lead", password=DEMO_PASSWORD)
    tab.goto(f"{demo_site.url}/team")
    workload = tab.locator("#workload tbody tr[data-collector]")
    assert {workload.nth(i).get_attribute("data-collector") for i in range(workload.count())} == {
        "sim_collector_001",
        "sim_collector_002",
    }
    for i in range(workload.count()):
        assert int(workload.nth(i).locator("td").nth(2).inner_text().replace(",", "")) > 0
        assert DEMO_TEAM in workload.nth(i).inner_text()
    tab.goto(f"{demo_site.url}/alerts")
    assert tab.locator("#alerts tbody tr[data-alert-id]").count() > 0


def test_the_demo_manager_sees_the_months_recovery_in_the_overview(
    tab: Any, demo_site: DemoSite
) -> None:
    log_in(tab, demo_site, "demo_manager", password=DEMO_PASSWORD)
    tab.goto(f"{demo_site.url}/overview")
    team_row = tab.locator("#recovery tbody tr", has_text=DEMO_TEAM)
    assert team_row.count() == 1
    cells = team_row.locator("td")
    payments, recovered = int(cells.nth(1).inner_text()), _yuan(cells.nth(2).inner_text())
    # the month to date (2026-11-01 … 11-20) holds the whole simulated week (and the
    # placement's own payments of 11-01 … 11-12, before the team took it over)
    assert payments >= demo_site.history["payments"] > 0
    assert recovered >= float(demo_site.history["recovered"]) > 0
    cases = tab.locator("#by-bucket tbody td.num").all_inner_texts()[0::2]
    assert sum(int(n.replace(",", "")) for n in cases) > 0


def test_every_open_demo_case_is_graded_scored_and_labelled(demo_site: DemoSite) -> None:
    """After the demo's daily cycle, the starter scorecard has graded (A–D), scored and given
    reasons to every open case, and the labels (客户画像) are on the cases they fit."""
    from cuishou.scoring.service import STARTER_VERSION
    from cuishou.store.tables import CaseLabel, CaseScore

    with transaction(demo_site.engine) as session:
        open_ids = set(session.scalars(select(Case.id).where(Case.status == "open")))
        rows = session.execute(select(Case.id, Case.risk_grade).where(Case.status == "open"))
        graded = {case_id: grade for case_id, grade in rows}
        scores = {
            s.case_id: s
            for s in session.scalars(select(CaseScore).where(CaseScore.target == "pay_30d"))
        }
        labelled = set(session.scalars(select(CaseLabel.case_id)))
    assert open_ids and set(scores) == open_ids
    assert {g for g in graded.values()} <= {"A", "B", "C", "D"} and None not in graded.values()
    assert {s.version for s in scores.values()} == {STARTER_VERSION}
    assert all(len(s.reasons) <= 3 for s in scores.values())
    assert sum(1 for s in scores.values() if s.reasons) > len(open_ids) // 2
    assert labelled and labelled <= open_ids


def test_the_demo_strategist_opens_the_model_registry(tab: Any, demo_site: DemoSite) -> None:
    log_in(tab, demo_site, "demo_strategist", password=DEMO_PASSWORD)
    tab.click('nav a[href="/models"]')
    tab.wait_for_url("**/models")
    assert tab.locator("main h1").inner_text() == "模型库"
    with transaction(demo_site.engine) as session:
        versions = session.scalars(select(ModelVersion.version)).all()
    rows = tab.locator("tr[data-version]")
    # the demo installs the starter scorecard: the strategist sees it, the champion
    assert versions and rows.count() == len(versions)
    assert "pay_30d-scorecard-starter" in tab.locator("main").inner_text()
