"""GET /api/v1/kpis: shape, scope by role, bad input, empty periods — on both stores."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.kpis.shop import Shop, build_shop
from tests.web.factories import Clock, bearer

WEEK = {"from": "2026-11-02", "to": "2026-11-08"}


@pytest.fixture
def shop(engine: Engine) -> Shop:
    return build_shop(engine)


@pytest.fixture
def api(engine: Engine, shop: Shop) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as client:
        yield client


def get(api: TestClient, shop: Shop, who: str, **params: str) -> dict:  # type: ignore[type-arg]
    response = api.get("/api/v1/kpis", params=params, headers=bearer(shop.tokens[who]))
    assert response.status_code == 200, response.text
    body: dict = response.json()  # type: ignore[type-arg]
    return body


def test_without_by_only_the_total_with_yuan_strings_and_rates(api: TestClient, shop: Shop) -> None:
    body = get(api, shop, "manager", **WEEK)
    assert set(body) == {"from", "to", "by", "total", "roll_rates"}
    assert (body["from"], body["to"], body["by"]) == ("2026-11-02", "2026-11-08", None)
    total = body["total"]
    assert total["recovered"] == "1000.00" and total["recovery_rate"] == 0.0957
    for name in (
        "calls",
        "connected",
        "connect_rate",
        "right_party",
        "right_party_rate",
        "promises",
        "promise_rate",
        "first_contact_promise_rate",
        "kept_rate",
    ):
        assert name in total  # fmt: skip
    rates = [v for k, v in total.items() if k.endswith("_rate") and v is not None]
    assert rates and all(0 <= v <= 1 for v in rates)


def test_by_collector_rows(api: TestClient, shop: Shop) -> None:
    body = get(api, shop, "auditor", **WEEK, by="collector")
    assert [row["key"] for row in body["rows"]] == ["col_a", "col_b"]
    assert body["total"]["recovered"] == "1000.00"


def test_a_collector_sees_only_themself(api: TestClient, shop: Shop) -> None:
    body = get(api, shop, "col_a", **WEEK, by="collector")
    assert [row["key"] for row in body["rows"]] == ["col_a"]
    assert body["total"]["recovered"] == "500.00" and body["total"]["calls"] == 5


def test_a_team_lead_sees_their_team(api: TestClient, shop: Shop) -> None:
    body = get(api, shop, "lead_a", **WEEK, by="team")
    assert [row["key"] for row in body["rows"]] == ["一组"]


def test_a_role_without_kpis_is_refused(api: TestClient, shop: Shop) -> None:
    response = api.get("/api/v1/kpis", params=WEEK, headers=bearer(shop.tokens["legal"]))
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-11-08", "to": "2026-11-02"}, "from"),
        ({**WEEK, "by": "planet"}, "by"),
        ({"from": "2024-01-01", "to": "2026-11-08"}, "to"),
        ({"from": "yesterday", "to": "2026-11-08"}, "from"),
    ],
)
def test_bad_input_is_a_clear_error(
    api: TestClient, shop: Shop, params: dict[str, str], field: str
) -> None:
    response = api.get("/api/v1/kpis", params=params, headers=bearer(shop.tokens["manager"]))
    assert response.status_code == 422 and "Traceback" not in response.text
    assert field in response.text


def test_an_empty_period_has_zero_counts_and_null_rates(api: TestClient, shop: Shop) -> None:
    body = get(api, shop, "manager", **{"from": "2026-12-01", "to": "2026-12-07"}, by="day")
    total = body["total"]
    assert total["calls"] == total["contacts"] == total["promises"] == 0
    assert total["recovered"] == "0.00"
    for name in (
        "connect_rate",
        "right_party_rate",
        "promise_rate",
        "kept_rate",
        "first_contact_promise_rate",
        "cost_per_yuan",
        "complaints_per_10k",
        "avg_days_to_first_payment",
        "contacts_per_collector_day",
    ):
        assert total[name] is None, name  # fmt: skip
    assert len(body["rows"]) == 7 and all(r["calls"] == 0 for r in body["rows"])
