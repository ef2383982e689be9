"""``cuishou simulate --json`` and ``GET /api/v1/kpis`` agree on the simulated period."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import MANAGER, SimulationOptions, simulate
from cuishou.store.db import transaction
from cuishou.store.tables import User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW
from tests.web.factories import Clock, bearer, token_for

FIGURES = (
    "calls", "connected", "right_party", "promises", "payments", "recovered", "recovery_rate",
    "due_at_start", "connect_rate", "first_contact_promise_rate", "complaints", "violations",
)  # fmt: skip


def test_the_simulation_reports_what_the_kpi_api_reports(engine: Engine, tmp_path: Path) -> None:
    # given a small simulation of three days
    options = SimulationOptions(
        days=3, accounts=200, seed=5, collectors=2, directory=tmp_path,
        truth_path=tmp_path / "truth.parquet",
    )  # fmt: skip
    figures = simulate(engine, options, load_model_config(), clock=lambda: NOW).to_json()
    with transaction(engine) as session:
        manager = session.scalars(select(User).where(User.username == MANAGER)).one()
        token = token_for(session, user=manager)

    # when the manager asks the KPI API for the same period, by day too
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as api:
        response = api.get(
            "/api/v1/kpis",
            params={"from": figures["from"], "to": figures["to"], "by": "day"},
            headers=bearer(token),
        )
    assert response.status_code == 200, response.text
    body = response.json()

    # then every figure is the API's, the whole period's and each day's
    total = body["total"]
    assert {name: figures[name] for name in FIGURES} == {name: total[name] for name in FIGURES}
    assert figures["calls"] > 0 and figures["payments"] > 0 and figures["promises"] > 0
    assert [day["day"] for day in figures["per_day"]] == [row["key"] for row in body["rows"]]
    for day, row in zip(figures["per_day"], body["rows"], strict=True):
        figures_of_day = {k: v for k, v in day.items() if k != "day"}
        assert figures_of_day == {k: row[k] for k in figures_of_day}
