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

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

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

PASSWORD = "browser-test-pw"


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


@contextmanager
def new_tab(browser: Any, *, timeout_ms: int = 10_000) -> Iterator[Any]:
    """A fresh browser context (zh-CN, a desktop window, 10 s timeouts) and its tab."""
    context = browser.new_context(locale="zh-CN", viewport={"width": 1360, "height": 900})
    context.set_default_timeout(timeout_ms)
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def page(browser: Any, site: Site) -> Iterator[Any]:
    with new_tab(browser) as tab:
        yield tab


class Served(Protocol):
    url: str


def log_in(page: Any, site: Served, username: str, *, password: str = PASSWORD) -> None:
    """Log in through the login page (any served site: ``site.url``)."""
    page.goto(f"{site.url}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_load_state("networkidle")
