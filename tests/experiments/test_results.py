"""An experiment's results against the hand-built world (tests/experiments/world.py), on both
stores: each arm's KPIs since its cases joined, the difference and its interval, the power
figures, the daily curve."""

from __future__ import annotations

import math
from datetime import date

import numpy as np
import pytest
from sqlalchemy import Engine

from cuishou.experiments.service import report, stop_experiment
from cuishou.kpis.service import figures
from cuishou.store.db import transaction
from tests.experiments.world import TODAY, World, _account, build_world, local
from tests.web.factories import make_case


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)


def _two_pass(x: list[int], y: list[int]) -> tuple[float, float]:
    """rate and Var(rate) by the textbook delta method, computed independently here."""
    xs, ys = np.array(x, float), np.array(y, float)
    rate = ys.sum() / xs.sum()
    return rate, float(np.var(ys - rate * xs, ddof=1) / xs.mean() ** 2 / xs.size)


def test_each_arm_counts_from_the_day_its_cases_joined(engine: Engine, world: World) -> None:
    with transaction(engine) as session:
        body = report(session, None, world.experiment_id, today=TODAY).results.model_dump(
            mode="json"
        )
    assert set(body) == {"id", "name", "status", "started", "arms", "diff", "power"}
    assert (body["name"], body["status"], body["started"]) == ("tone", "running", "2026-11-02")
    champion, challenger = body["arms"]
    # champion: due 1,000 + (2,000 − 300 paid before the start) + 1,000 = 3,700;
    # recovered 100 (C1) + 200 (C2 on 11-05; the 300 of 11-01 is before it joined)
    assert champion == {
        "name": "champion", "strategy_version": "default@1", "cases": 3,
        "recovered": "300.00", "recovery_rate": 0.0811,  # 300 / 3,700
        "connect_rate": 0.5,  # C1 connected, C3 no answer
        "promise_rate": 1.0,  # one promise on one right-party contact
        "cost": "0.60",  # two calls × 0.30
        "complaints": 1,  # C3's complaint hold
    }  # fmt: skip
    # challenger: due 1,000 + 3,000 + 500 = 4,500; recovered 500 + 300 + (100 − 100 reversed)
    # + 100 (H3 on 11-05; its 50 of 11-03 and its call are before it joined on 11-04)
    assert challenger == {
        "name": "challenger", "strategy_version": "default@2", "cases": 3,
        "recovered": "900.00", "recovery_rate": 0.2,
        "connect_rate": 1.0,  # H1 promise, H2 complaint: both reached someone
        "promise_rate": 0.5,  # one promise on two right-party contacts
        "cost": "0.65",  # two calls × 0.30 + one SMS × 0.05
        "complaints": 1,  # H2's complaint call
    }  # fmt: skip


def test_the_difference_is_the_delta_method_on_the_cases(engine: Engine, world: World) -> None:
    with transaction(engine) as session:
        rep = report(session, None, world.experiment_id, today=TODAY)
    ra, va = _two_pass([100_000, 170_000, 100_000], [10_000, 20_000, 0])
    rb, vb = _two_pass([100_000, 300_000, 50_000], [50_000, 30_000, 10_000])
    se = math.sqrt(va + vb)
    diff = rep.results.diff
    assert diff.metric == "recovery_rate"
    assert diff.estimate == pytest.approx(rb - ra, abs=1e-6)
    assert diff.ci_low == pytest.approx(rb - ra - 1.959964 * se, abs=1e-5)
    assert diff.ci_high == pytest.approx(rb - ra + 1.959964 * se, abs=1e-5)
    z = (rb - ra) / se
    assert diff.p_value == pytest.approx(math.erfc(z / math.sqrt(2)), abs=1e-4)
    power = rep.results.power
    assert power.uplift_detectable_now == pytest.approx((1.959964 + 0.841621) * se / ra, abs=1e-3)
    # per arm at equal sizes: (z_α/2 + z_β)² (v_A + v_B) / (0.02 R_A)², v = n·Var(R)
    needed = (1.959964 + 0.841621) ** 2 * (3 * va + 3 * vb) / (0.02 * ra) ** 2
    assert power.cases_needed_for_2pct == pytest.approx(math.ceil(needed), rel=1e-4)
    # the guard-rail counts beside them
    assert rep.arms["challenger"].violations == 1 and rep.arms["champion"].violations == 0


def test_the_daily_curve_grows_with_the_cash_and_the_cases_joining(
    engine: Engine, world: World
) -> None:
    with transaction(engine) as session:
        daily = report(session, None, world.experiment_id, today=TODAY).daily
    by_day = {p.day: p for p in daily}
    assert daily[0].day == date(2026, 11, 2) and daily[-1].day == TODAY
    assert (by_day[date(2026, 11, 2)].champion, by_day[date(2026, 11, 2)].challenger) == (0, 0)
    # 11-03: H3 not yet in; challenger 500 / 4,000; champion 100 / 3,700
    assert by_day[date(2026, 11, 3)].challenger == 0.125
    assert by_day[date(2026, 11, 3)].champion == 0.027
    assert by_day[date(2026, 11, 4)].challenger == 0.1778  # H3 joins: 800 / 4,500
    assert by_day[date(2026, 11, 5)].challenger == 0.2222  # 1,000 / 4,500
    assert by_day[date(2026, 11, 6)].challenger == 0.2  # the reversal: 900 / 4,500
    last = daily[-1]
    with transaction(engine) as session:
        results = report(session, None, world.experiment_id, today=TODAY).results
    assert (last.estimate, last.ci_low, last.ci_high) == (
        results.diff.estimate,
        results.diff.ci_low,
        results.diff.ci_high,
    )
    # the interval narrows as money comes in? at least it exists from the first payment on
    assert by_day[date(2026, 11, 2)].ci_low == by_day[date(2026, 11, 2)].ci_high == 0.0


def test_a_stopped_experiment_is_measured_up_to_the_day_it_stopped(
    engine: Engine, world: World
) -> None:
    with transaction(engine) as session:
        stop_experiment(
            session, None, world.experiment_id, reason="enough", actor="strat_a",
            day=date(2026, 11, 4), now=local(4, 18),
        )  # fmt: skip
    with transaction(engine) as session:
        rep = report(session, None, world.experiment_id, today=TODAY)
    assert rep.daily[-1].day == date(2026, 11, 4)
    champion, challenger = rep.results.arms
    assert (champion.recovered, challenger.recovered) == ("100.00", "800.00")
    assert rep.results.status == "stopped"


def test_the_arm_is_a_slice_of_the_kpi_layer(engine: Engine, world: World) -> None:
    """``by=arm`` keys every case by ``experiment/arm`` (its latest experiment) over the whole
    period asked, not from the day it joined; cases in no experiment are ``none``."""
    with transaction(engine) as session:
        _account(session, make_case(session, due_fen=70_000))  # in no experiment
        body = figures(session, None, date(2026, 11, 1), TODAY, "arm").as_json()
    rows = {row["key"]: row for row in body["rows"]}
    assert set(rows) == {"tone/champion", "tone/challenger", "none"}
    champion, challenger = rows["tone/champion"], rows["tone/challenger"]
    assert (champion["book_cases"], challenger["book_cases"], rows["none"]["book_cases"]) == (
        3, 3, 1,
    )  # fmt: skip
    # the whole period: C2's 300 of 11-01 counts here (the experiment's report leaves it out)
    assert champion["recovered"] == "600.00"
    # H3's 50 of 11-03 and its no-answer call count too (it joined on 11-04)
    assert challenger["recovered"] == "950.00"
    assert (champion["calls"], challenger["calls"]) == (2, 3)
    assert body["total"]["recovered"] == "1550.00"
