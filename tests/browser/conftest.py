"""Browser tests: the real app under uvicorn on 127.0.0.1, driven in Debian's Chromium.

The app takes its time from an injected clock fixed at :data:`WORKDAY_MORNING` (10:00 in
Beijing), and every date a test types or expects derives from ``site.clock``: the result
is the same at any hour. CI proves it by running these tests again under libfaketime at
23:30 Beijing time (``.ci/run``).

Chromium comes from Debian (``apt-get install chromium``), never from ``playwright
install``: Playwright for Python only drives ``/usr/bin/chromium``. Without it these tests
are skipped with the reason — unless ``CUISHOU_REQUIRE_BROWSER=1`` (CI), which turns a
missing browser into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Account
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import make_payment
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    make_alert,
    make_case,
    make_team,
    make_user,
)
from tests.web.live import served

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
REQUIRE_BROWSER = os.environ.get("CUISHOU_REQUIRE_BROWSER") == "1"
PASSWORD = "browser-test-pw"


def _unavailable(reason: str) -> None:
    if REQUIRE_BROWSER:
        pytest.fail(f"{reason}, but CUISHOU_REQUIRE_BROWSER=1 requires the browser tests")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        _unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:  # pragma: no cover - playwright is a dev dependency
        _unavailable("playwright is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield launched
        launched.close()


@dataclass
class Portfolio:
    """Team A (lead_a; col_a with three cases, col_a2), team B (col_b with one case)."""

    col_a_cases: list[int]
    col_b_case: int
    alert_id: int


def seed(engine: Engine, clock: Clock) -> Portfolio:
    with transaction(engine) as session:
        team_a = make_team(session, name="催收一组")
        team_b = make_team(session, name="催收二组")
        col_a = make_user(session, username="col_a", team=team_a, password=PASSWORD)
        make_user(session, username="col_a2", team=team_a, password=PASSWORD)
        col_b = make_user(session, username="col_b", team=team_b, password=PASSWORD)
        make_user(session, username="lead_a", role="team_lead", team=team_a, password=PASSWORD)
        make_user(session, username="manager", role="manager", password=PASSWORD)
        cases = [
            make_case(
                session, assigned=col_a, team=team_a, bucket=b, dpd=d, due_fen=f, debtor_name=n
            )
            for b, d, f, n in (
                ("M1", 20, 350_000, "王小明"),
                ("M3", 75, 1_820_050, "李娟"),
                ("M2", 40, 990_000, "赵强"),
            )
        ]
        theirs = make_case(session, assigned=col_b, team=team_b, debtor_name="孙丽")
        alert = make_alert(session, case=cases[1])
        account = session.scalars(select(Account).where(Account.case_id == cases[1].id)).one()
        make_payment(session, account=account, amount_fen=50_000, paid_at=clock.now)
        return Portfolio([c.id for c in cases], theirs.id, alert.id)


@dataclass
class Site:
    url: str
    portfolio: Portfolio
    engine: Engine
    #: the app's clock: derive every date from ``clock.now``, never from the wall clock
    clock: Clock


@pytest.fixture
def site(engine: Engine) -> Iterator[Site]:
    """The app served by uvicorn in a thread on a free port, on a seeded store."""
    clock = Clock(now=WORKDAY_MORNING)
    portfolio = seed(engine, clock)
    with served(create_app(engine, WebSettings(clock=clock))) as url:
        yield Site(url, portfolio, engine, clock)


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(10_000)
    tab = context.new_page()
    yield tab
    context.close()


def log_in(page: Any, site: Site, username: str) -> None:
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
