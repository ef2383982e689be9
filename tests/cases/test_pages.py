"""The case page's accounts: product names (not codes) and amounts as people read them."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, Creditor, Debtor, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import make_account
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    bearer,
    make_case,
    make_team,
    make_user,
    token_for,
)
from tests.web.pages import HTML, PASSWORD, login


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    clock = Clock(now=WORKDAY_MORNING)  # an injected clock: a weekday morning in Beijing
    with TestClient(create_app(engine, WebSettings(clock=clock)), follow_redirects=True) as c:
        yield c


@pytest.fixture
def case_id(engine: Engine) -> int:
    """A credit card of ¥12,345.67 and a small-business loan with ¥1,234,567.89 interest."""
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        collector = make_user(session, username="col_a", team=team, password=PASSWORD)
        case = make_case(session, assigned=collector, team=team, due_fen=1_234_567)
        card = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        card.product_code = "credit_card"
        creditor = session.get(Creditor, case.creditor_id)
        debtor = session.get(Debtor, case.debtor_id)
        loan = make_account(
            session, creditor=creditor, debtor=debtor, product_code="small_business",
            principal_fen=50_000_000, interest_fen=123_456_789,
        )  # fmt: skip
        loan.case_id = case.id
        found = session.get(Case, case.id)
        assert found is not None
        found.accounts = 2
        return case.id


def _accounts_table(html: str) -> str:
    table = re.search(r'<table class="grid" id="accounts">.*?</table>', html, re.S)
    assert table is not None, "the case page has no accounts table"
    return table.group(0)


def test_accounts_show_product_names_and_grouped_yuan(web: TestClient, case_id: int) -> None:
    login(web, "col_a")
    table = _accounts_table(web.get(f"/cases/{case_id}", headers=HTML).text)

    assert ">信用卡<" in table and ">小微经营贷<" in table
    assert ">credit_card<" not in table and ">small_business<" not in table
    assert ">¥12,345.67<" in table  # the card's principal and what is outstanding
    assert ">¥1,234,567.89<" in table  # the loan's interest
    assert ">¥500,000.00<" in table and ">¥0.00<" in table
    for raw in ("12345.67", "1234567.89", "500000.00"):  # the API's plain decimals
        assert f">{raw}<" not in table


def test_english_pages_show_the_english_names(web: TestClient, case_id: int) -> None:
    login(web, "col_a")
    web.get("/lang/en?next=/queue", headers=HTML)
    table = _accounts_table(web.get(f"/cases/{case_id}", headers=HTML).text)
    assert ">Credit card<" in table and ">Small-business loan<" in table
    assert ">信用卡<" not in table


def test_the_case_file_api_gives_the_product_names(engine: Engine, case_id: int) -> None:
    with transaction(engine) as session:
        user = session.scalars(select(User).where(User.username == "col_a")).one()
        token = token_for(session, user=user)  # at NOW, the fixed test time
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as api:
        body = api.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).json()
    names = {(a["product"], a["product_name_zh"], a["product_name_en"]) for a in body["accounts"]}
    assert names == {
        ("credit_card", "信用卡", "Credit card"),
        ("small_business", "小微经营贷", "Small-business loan"),
    }


def test_the_case_page_shows_the_ledger_the_api_shows(web: TestClient, case_id: int) -> None:
    login(web, "col_a")
    html = web.get(f"/cases/{case_id}", headers=HTML).text
    section = re.search(r'<details id="ledger".*?</details>', html, re.S)
    assert section is not None, "the case page has no ledger section"
    # two accounts opened by their placement entries, summed to what the accounts owe
    assert section.group(0).count('data-kind="placement"') == 2
    assert "账务流水" in section.group(0) and "合计欠款 ¥1,746,913.56" in section.group(0)
