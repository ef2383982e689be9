"""The KPI dashboards (manager, team lead, collector card) and their downloads, on both stores.

The shop of ``tests/kpis/shop.py`` seen by the pages' clock, ``WORKDAY_MORNING`` (Wednesday
2026-11-04, 10:00 in Beijing): "this month" is 11-01 … 11-04. Worked out by hand:

* cash: B1 50.00 (11-01, col_b), A1 200.00 (11-03, col_a), A2 300.00 and C1 500.00 (11-04)
  → recovered 1,050.00 of a book of 1,000 + 3,000 + 6,000 + 500 = 10,500.00 (10%);
  col_a 500.00 of 4,000.00 (12.5%), col_b 550.00 of 6,500.00;
* calls (all col_a's): A1 three on 11-02 (one connected, promise 200.00), A2 one on 11-03
  (promise 150.00), one on 11-04 (complaint, connected) → 5 calls, 3 connected (60%).
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator

import polars as pl
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.store.db import transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.kpis.shop import Shop, build_shop
from tests.web.factories import WORKDAY_MORNING, Clock, bearer, token_for
from tests.web.pages import HTML

MONTH = {"from": "2026-11-01", "to": "2026-11-04"}


@pytest.fixture
def shop(engine: Engine) -> Shop:
    """The shop, with tokens valid at the pages' clock (the shop's expire before it)."""
    shop = build_shop(engine)
    with transaction(engine) as session:
        for name, user in shop.users.items():
            shop.tokens[name] = token_for(session, user=user, now=WORKDAY_MORNING)
    return shop


@pytest.fixture
def app(engine: Engine, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock(now=WORKDAY_MORNING)))) as client:
        yield client


def as_user(client: TestClient, shop: Shop, who: str) -> TestClient:
    """The page session of ``who`` (a session cookie holds the same kind of token)."""
    client.cookies.set("cuishou_session", shop.tokens[who])
    return client


def api(client: TestClient, shop: Shop, who: str, **params: str) -> dict:  # type: ignore[type-arg]
    response = client.get("/api/v1/kpis", params=params, headers=bearer(shop.tokens[who]))
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def charts_of(html: str) -> dict:  # type: ignore[type-arg]
    found = re.search(r'<script type="application/json" id="chart-data">(.*?)</script>', html, re.S)
    assert found is not None
    data: dict = json.loads(found.group(1))  # type: ignore[type-arg]
    return data


def rows_of(html: str, table_id: str) -> list[list[str]]:
    """The body rows of a table as cell texts (tags stripped)."""
    found = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    assert found is not None, table_id
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    return [
        [
            " ".join(re.sub(r"<[^>]+>", " ", c).split())
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_manager_dashboard_defaults_to_this_month_and_shows_the_apis_figures(
    app: TestClient, shop: Shop
) -> None:
    page = as_user(app, shop, "manager").get("/kpis", headers=HTML)
    assert page.status_code == 200, page.text[:500]
    html = page.text
    # the period picker: this month up to the injected clock's day, in Beijing
    assert 'name="from" value="2026-11-01"' in html and 'name="to" value="2026-11-04"' in html
    assert "¥1,050.00" in html  # recovered this month
    charts = charts_of(html)
    daily = api(app, shop, "manager", **MONTH, by="day")
    assert charts["trend"]["days"] == ["2026-11-01", "2026-11-02", "2026-11-03", "2026-11-04"]
    recovery, connect = charts["trend"]["series"]
    assert recovery["data"] == [row["recovery_rate"] for row in daily["rows"]]
    assert connect["data"] == [row["connect_rate"] for row in daily["rows"]]
    # by hand: 50, 0, 200, 800 of 10,500.00; calls 3 (1 connected), 1 (1), 1 (1)
    assert recovery["data"] == [0.0048, 0.0, 0.019, 0.0762]
    assert connect["data"] == [None, 0.3333, 1.0, 1.0]
    # target gauges: the total's progress against the shipped targets
    gauges = {g["code"]: g for g in charts["gauges"]}
    assert gauges["recovery_rate"]["actual"] == 0.1 and gauges["recovery_rate"]["target"] == 0.15
    assert gauges["recovery_rate"]["progress"] == daily["total"]["progress"]["recovery_rate"]
    assert gauges["connect_rate"]["progress"] == 0.7895  # 0.6 / 0.76
    # the roll-rate heat map: one cell per (from, to) line of the API
    roll = charts["roll"]
    cells = {(roll["from"][y], roll["to"][x]): rate for x, y, rate in roll["cells"]}
    assert cells == {(r["from_bucket"], r["to_bucket"]): r["rate"] for r in daily["roll_rates"]}
    # rankings: col_b (550.00) before col_a (500.00); 二组 before 一组
    collectors = rows_of(html, "table-collectors")
    assert [(r[0], r[1], r[2]) for r in collectors] == [
        ("1", "col_b", "¥550.00"),
        ("2", "col_a", "¥500.00"),
    ]
    assert [r[1] for r in rows_of(html, "table-teams")] == ["二组", "一组"]
    # anomaly badges: the API's flags (a quiet October: one call, on 10-30; 50.00 on 11-01)
    badges = re.findall(r'class="badge anomaly" data-day="([\d-]+)" data-metric="(\w+)"', html)
    assert badges == [(row["key"], m) for row in daily["rows"] for m in row["anomalies"]]
    assert badges == [
        ("2026-11-02", "calls"),
        ("2026-11-03", "recovered"),
        ("2026-11-04", "recovered"),
    ]
    assert "2026-11-02 · 电话量 异常" in html


def test_a_quiet_period_has_no_anomaly_badges(app: TestClient, shop: Shop) -> None:
    # the shop's last week: no day of 11-09 … 11-12 is far from its trailing weeks
    quiet = {"from": "2026-11-09", "to": "2026-11-12"}
    html = as_user(app, shop, "auditor").get("/kpis", params=quiet, headers=HTML).text
    assert not any(row["anomalies"] for row in api(app, shop, "auditor", **quiet, by="day")["rows"])
    assert 'class="badge anomaly"' not in html and "本期无异常" in html


def test_a_period_that_cannot_be_reported_is_a_clear_error(app: TestClient, shop: Shop) -> None:
    page = as_user(app, shop, "manager").get(
        "/kpis", params={"from": "2026-11-05", "to": "2026-11-01"}, headers=HTML
    )
    assert page.status_code == 422
    assert "from must not be after to" in page.text and "Traceback" not in page.text


def test_collectors_and_team_leads_do_not_see_the_managers_dashboard(
    app: TestClient, shop: Shop
) -> None:
    for who in ("col_a", "lead_a"):
        assert as_user(app, shop, who).get("/kpis", headers=HTML).status_code == 403


def test_the_team_lead_sees_their_collectors_against_their_targets(
    app: TestClient, shop: Shop
) -> None:
    page = as_user(app, shop, "lead_a").get("/kpis/team", headers=HTML)
    assert page.status_code == 200, page.text[:500]
    rows = rows_of(page.text, "team-targets")
    assert [r[0] for r in rows] == ["col_a"]  # not col_b of 二组
    assert rows[0][2] == "¥500.00"
    # recovery 12.50% of a 15.00% target → 83.33%; connect 60.00% of 76.00% → 78.95%
    # actual / target and progress, per target in the config's order: recovery 12.50% of
    # 15% → 83.33%; connect 3/5 of 76% → 78.95%; first-contact promises 1/1 of 42%;
    # calls per collector day 5 over 3 days of 85
    assert rows[0][3:] == [
        "12.50% / 15.00% 83.33%",
        "60.00% / 76.00% 78.95%",
        "100.00% / 42.00% 238.10%",
        "1.67 / 85 1.96%",
    ]
    assert 'aria-label="col_a 回款率 完成率"' in page.text
    api_rows = api(app, shop, "lead_a", **MONTH, by="collector")["rows"]
    assert [r["key"] for r in api_rows] == ["col_a"]
    assert api_rows[0]["progress"]["recovery_rate"] == 0.8333


def test_a_collector_cannot_open_the_team_page(app: TestClient, shop: Shop) -> None:
    assert as_user(app, shop, "col_a").get("/kpis/team", headers=HTML).status_code == 403


def test_the_queue_shows_a_collector_their_numbers_today_and_this_month(
    app: TestClient, shop: Shop
) -> None:
    html = as_user(app, shop, "col_a").get("/queue", headers=HTML).text
    card = html[html.index('id="my-numbers"') :]
    today = card[card.index('id="my-today"') : card.index('id="my-month"')]
    month = card[card.index('id="my-month"') : card.index('id="my-targets"')]

    def figures(part: str) -> dict[str, str]:
        return dict(re.findall(r'<dd data-field="(\w+)">([^<]*)</dd>', part))

    # today (11-04): A2's complaint call (connected) and its 300.00 payment
    assert figures(today) == {
        "calls": "1",
        "connected": "1",
        "promises": "0",
        "recovered": "¥300.00",
    }
    assert figures(month) == {
        "calls": "5",
        "connected": "3",
        "promises": "2",
        "recovered": "¥500.00",
    }
    assert "83.33%" in card  # recovery rate 12.5% of the 15% target


def test_managers_and_team_leads_have_no_collector_card(app: TestClient, shop: Shop) -> None:
    assert 'id="my-numbers"' not in as_user(app, shop, "lead_a").get("/queue", headers=HTML).text


ZH_COLLECTORS = ["排名", "催收员", "回款金额", "回款率", "电话量", "接通数", "接通率"]
EN_COLLECTORS = ["Rank", "Collector", "amount recovered", "recovery rate", "Calls", "Connected"]


@pytest.mark.parametrize(("lang", "headers"), [("zh", ZH_COLLECTORS), ("en", EN_COLLECTORS)])
def test_the_rankings_download_as_csv_with_headers_in_the_pages_language(
    app: TestClient, shop: Shop, lang: str, headers: list[str]
) -> None:
    client = as_user(app, shop, "manager")
    client.cookies.set("cuishou_lang", lang)
    response = client.get("/kpis/export.csv", params={"table": "collectors", **MONTH})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert "kpis-collectors-2026-11-01-2026-11-04.csv" in response.headers["content-disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    frame = pl.read_csv(io.StringIO(text.removeprefix("\ufeff")))
    assert frame.columns[: len(headers)] == headers
    assert frame.row(0)[:4] == (1, "col_b", 550.0, 0.0846)
    assert frame.row(1)[:4] == (2, "col_a", 500.0, 0.125)


def test_every_table_downloads_as_a_readable_xlsx(app: TestClient, shop: Shop) -> None:
    client = as_user(app, shop, "manager")
    for name in ("collectors", "teams", "days", "roll"):
        response = client.get("/kpis/export.xlsx", params={"table": name, **MONTH})
        assert response.status_code == 200, response.text[:300]
        frame = pl.read_excel(io.BytesIO(response.content), engine="calamine")
        assert frame.height > 0, name
        if name == "days":
            assert frame.columns[:3] == ["日期", "回款金额", "回款率"]
            assert frame["日期"].to_list() == [
                "2026-11-01",
                "2026-11-02",
                "2026-11-03",
                "2026-11-04",
            ]
            assert frame["回款金额"].to_list() == [50.0, 0.0, 200.0, 800.0]
            assert frame["电话量"].to_list() == [0, 3, 1, 1]
        if name == "teams":
            assert frame["团队"].to_list() == ["二组", "一组"]


def test_downloads_are_scoped_like_the_api(app: TestClient, shop: Shop) -> None:
    client = as_user(app, shop, "lead_a")
    csv = client.get("/kpis/export.csv", params={"table": "collectors", **MONTH})
    assert csv.status_code == 200
    assert "col_a" in csv.text and "col_b" not in csv.text
    # a team lead's page shows no team ranking; a collector downloads nothing
    assert client.get("/kpis/export.csv", params={"table": "teams"}).status_code == 403
    other = as_user(app, shop, "col_a")
    assert other.get("/kpis/export.xlsx", params={"table": "collectors"}).status_code == 403
    assert other.get("/kpis/export.csv", params={"table": "nope"}).status_code == 422
