"""``cuishou simulate --strategy`` and ``cuishou simulate compare``: a strategy in force is
planned and worked (calls only where the plan has one, the other channels delivered and
recorded), the ground truth stays out of the store, and a comparison under common random
numbers gives exactly equal figures for two identical strategies and a difference for
another."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.experiments.rules import in_challenger
from cuishou.simulate import model
from cuishou.simulate.compare import compare
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import (
    CHANNELS_USER,
    IVR_SOURCE,
    PaymentEffect,
    SimulationOptions,
    SimulationResult,
    StrategyToRun,
    simulate,
)
from cuishou.store.db import make_engine, transaction, upgrade
from cuishou.store.tables import Contact, PlannedAction, StrategyVersion, User
from cuishou.strategy.definition import shipped, shipped_text
from tests.factories import NOW

CONFIG = load_model_config()
FIRST = date(2026, 10, 20)
DEFAULT = StrategyToRun(shipped(), shipped_text())


def _run(engine: Engine, folder: Path, **overrides: Any) -> SimulationResult:
    settings: dict[str, Any] = {
        "days": 3, "accounts": 300, "seed": 7, "collectors": 3, "first_day": FIRST,
        "strategy": DEFAULT,
    }  # fmt: skip
    options = SimulationOptions(
        directory=folder, truth_path=folder / "truth.parquet", **{**settings, **overrides}
    )
    return simulate(engine, options, CONFIG, clock=lambda: NOW)


def test_a_strategy_run_plans_and_delivers_every_channel(engine: Engine, tmp_path: Path) -> None:
    result = _run(engine, tmp_path)
    figures = result.to_json()
    with transaction(engine) as session:
        version = session.scalars(select(StrategyVersion)).one()
        by_channel = dict(
            session.execute(select(Contact.channel, func.count()).group_by(Contact.channel)).all()
        )
        robot_calls = session.scalar(
            select(func.count()).select_from(Contact).where(Contact.source == IVR_SOURCE)
        )
        collector_calls = session.execute(
            select(Contact.case_id, Contact.at).where(Contact.source == "simulator")
        ).all()
        planned_calls = {
            (case_id, day)
            for case_id, day in session.execute(
                select(PlannedAction.case_id, PlannedAction.day).where(
                    PlannedAction.action == "call",
                    PlannedAction.status.in_(["planned", "moved"]),
                )
            )
        }
        channel_user = session.scalars(select(User).where(User.username == CHANNELS_USER)).one()
    # the strategy was put in force by the simulator from the first day
    assert (version.status, version.author, version.effective_from) == (
        "active", "simulator", FIRST,
    )  # fmt: skip
    assert figures["strategy"] == f"default@{version.version}"
    # every channel the plan used was delivered and recorded, as the run counted it
    contacts = figures["contacts_by_channel"]
    assert contacts["sms"] > 0 and contacts["letter"] > 0 and contacts["ivr"] > 0
    assert by_channel["sms"] == contacts["sms"]
    assert by_channel["letter"] == contacts["letter"]
    assert robot_calls == contacts["ivr"]
    assert by_channel["call"] == contacts["call"] + contacts["ivr"]
    assert channel_user.role == "manager"
    # collectors called only cases with a call planned (and allowed) that day
    assert collector_calls
    local = [(case_id, (at.replace(tzinfo=None) + timedelta(hours=8)).date())
             for case_id, at in collector_calls]  # fmt: skip
    assert {(case_id, day) for case_id, day in local} <= planned_calls
    # the costs are the model's per-channel costs
    cost = sum(n * CONFIG.channels.of(action).cost_fen for action, n in contacts.items())
    assert result.total.cost_fen == cost > 0
    # the ground truth is beside the store, never in it, and the strategy does not touch it
    truth = pl.read_parquet(figures["truth"])
    assert truth.height > 0 and "uplift_fen" in truth.columns


def test_identical_strategies_give_identical_figures(tmp_path: Path) -> None:
    result = compare(
        ("default", "default"), days=3, seed=7, accounts=300, collectors=3,
        directory=tmp_path, config=CONFIG, clock=lambda: NOW, first_day=FIRST,
    )  # fmt: skip
    figures = result.to_json()
    one, two = figures["arms"]
    assert one["recovered"] == two["recovered"] and float(one["recovered"]) > 0
    assert one["contacts_by_channel"] == two["contacts_by_channel"]
    assert figures["difference"]["recovered"] == "0.00"
    assert figures["difference"]["cases_changed"] == 0
    a, b = (arm.result.recovered_by_case for arm in result.arms)
    assert a.equals(b)


def test_a_different_strategy_makes_a_measurable_difference(tmp_path: Path) -> None:
    result = compare(
        ("baseline", "default"), days=3, seed=7, accounts=300, collectors=3,
        directory=tmp_path, config=CONFIG, clock=lambda: NOW, first_day=FIRST,
    )  # fmt: skip
    figures = result.to_json()
    baseline, default = figures["arms"]
    assert baseline["strategy"] is None and default["strategy"] == "default@1"
    assert set(baseline["contacts_by_channel"]) == {"call"}
    assert default["contacts_by_channel"]["sms"] > 0
    difference = figures["difference"]
    assert difference["cases_changed"] > 0
    assert difference["recovered"] != "0.00"
    low, high = (float(v) for v in difference["recovered_ci95"])
    assert low <= float(difference["recovered"]) <= high
    # both arms saw the same debtors: the same ground truth
    assert result.arms[0].truth.equals(result.arms[1].truth)


def test_channel_draws_line_up_whoever_else_is_contacted() -> None:
    ids = np.arange(1, 201, dtype=np.int64)
    traits = model.debtor_traits(CONFIG, 7, ids, np.ones(200, dtype=np.int64))
    hour = np.full(200, 10.0)
    for action in ("ivr", "sms", "email", "letter", "visit"):
        everyone = model.channel_outcomes(CONFIG, 7, FIRST, traits, action=action, hour=hour)
        some = np.arange(0, 200, 3)
        part = model.channel_outcomes(
            CONFIG, 7, FIRST, traits.take(some), action=action, hour=hour[some]
        )
        assert (everyone.outcome[some] == part.outcome).all()
        assert np.allclose(everyone.jump[some], part.jump)
        # a contact that did not reach the debtor moves nothing
        assert (everyone.jump[~everyone.reached] == 0).all()
        assert everyone.reached.any()
    # a robot call never takes a promise
    ivr = model.channel_outcomes(CONFIG, 7, FIRST, traits, action="ivr", hour=hour)
    assert model.PROMISE not in set(ivr.outcome.tolist())
    assert model.DEBTOR in set(ivr.outcome.tolist())  # answered: a right-party contact
    # a message, read or not, is recorded as sent: the store never sees the reading
    for action in ("sms", "email", "letter"):
        sent = model.channel_outcomes(CONFIG, 7, FIRST, traits, action=action, hour=hour)
        outcomes = set(sent.outcome.tolist())
        assert model.DEBTOR not in outcomes and "message_sent" in outcomes, action
        assert outcomes <= {"message_sent", model.INVALID, model.COMPLAINT}, action
        assert sent.reached.any()  # some read it, and only the truth knows


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["simulate", "compare", "nosuchpack", "default", "--days", "2"], "nosuchpack"),
        (["simulate", "--json"], "--days"),
        (["simulate", "--days", "2", "--strategy", "nosuchpack"], "nosuchpack"),
    ],
)
def test_bad_arguments_are_clear_errors(
    args: list[str], words: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISHOU_DATABASE_URL", f"sqlite:///{tmp_path / 's.db'}")
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 2
    assert words in result.output and "Traceback" not in result.output


def test_a_payment_effect_raises_the_treated_cases_payments_only(tmp_path: Path) -> None:
    # given one day simulated twice from one seed, the second with a +50% payment effect
    # on half the cases (the bench's known effect)
    effect = PaymentEffect(salt="power-7", share_pct=50, multiplier=1.5)
    runs = []
    for name, chosen in (("plain", None), ("effect", effect)):
        engine = make_engine(f"sqlite:///{tmp_path / name}.db")
        upgrade(engine)
        runs.append(
            _run(engine, tmp_path / name, days=1, accounts=1_000, strategy=None, effect=chosen)
        )
        engine.dispose()
    plain, raised = runs
    joined = plain.recovered_by_case.join(
        raised.recovered_by_case, on="case_id", how="full", coalesce=True, suffix="_fx"
    ).fill_null(0)
    treated = in_challenger(joined["case_id"].to_numpy(), salt="power-7", share_pct=50)
    before = joined["recovered_fen"].to_numpy()
    after = joined["recovered_fen_fx"].to_numpy()
    # then the untreated cases paid exactly the same (common random numbers) …
    assert (before[~treated] == after[~treated]).all()
    # … and the treated ones more (never beyond what they owed), as the run accounts for it
    assert (after[treated] >= before[treated]).all() and (after[treated] > before[treated]).any()
    assert raised.total.effect_base_fen == int(before[treated].sum())
    assert raised.total.effect_added_fen == int((after - before)[treated].sum()) > 0
