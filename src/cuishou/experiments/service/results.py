"""An experiment's results (实验结果): each arm's KPIs since its cases joined, the difference in
recovery rate with its 95% interval (delta method), the power figures and the daily curve.

Every figure is the KPI layer's: :func:`cuishou.kpis.service.period_facts` over the
experiment's days, cut to each case from the day it joined by
:func:`cuishou.kpis.rules.of_members`, counted by :func:`cuishou.kpis.rules.compute` with the
arm as the slice; :mod:`cuishou.experiments.stats` compares."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import polars as pl
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope, Principal
from cuishou.auth.service import require
from cuishou.engine.steps import local_date_expr
from cuishou.experiments import repository as repo
from cuishou.experiments.config import ExperimentSettings, default_settings
from cuishou.experiments.rules import (
    ARMS,
    CHALLENGER,
    CHAMPION,
    GuardFigures,
)
from cuishou.experiments.schemas import (
    ArmOut,
    DiffOut,
    ExperimentOut,
    ExperimentResults,
    PowerOut,
)
from cuishou.experiments.service.lifecycle import experiment_out
from cuishou.experiments.stats import (
    METRIC,
    ArmMoments,
    Diff,
    cases_needed,
    delta_diff,
    detectable_uplift,
)
from cuishou.kit.money import format_yuan
from cuishou.kpis.config import KpiConfig, default_config
from cuishou.kpis.rules import COMPLAINT, UnitCosts, compute, of_members, rounded, with_rates
from cuishou.kpis.service import period_facts
from cuishou.store.tables import Experiment

#: the places reported: rates as the KPIs (4), the difference finer (a 0.3-point gap matters)
DIFF_PLACES = 6


@dataclass(frozen=True, slots=True)
class ArmFigures:
    """One arm's figures since its cases joined (amounts in fen)."""

    name: str
    strategy_version: str
    cases: int
    due_fen: int
    recovered_fen: int
    recovery_rate: float | None
    connect_rate: float | None
    promise_rate: float | None
    cost_fen: int
    complaints: int
    violations: int
    moments: ArmMoments

    @property
    def guard(self) -> GuardFigures:
        return GuardFigures(self.cases, self.complaints, self.violations)


@dataclass(frozen=True, slots=True)
class DayPoint:
    """The arms' cumulative recovery rates on a day and the 95% interval of their difference
    (what the experiment page draws: the curves and the interval narrowing)."""

    day: date
    champion: float | None
    challenger: float | None
    estimate: float | None
    ci_low: float | None
    ci_high: float | None


@dataclass(frozen=True, slots=True)
class ExperimentReport:
    experiment: ExperimentOut
    results: ExperimentResults
    arms: dict[str, ArmFigures]
    diff: Diff | None
    daily: list[DayPoint]


def _end_of(experiment: Experiment, today: date) -> date:
    """The last day measured: today, or the day the experiment stopped."""
    return min(today, experiment.stopped_on) if experiment.stopped_on else today


def _complaining(cohort_contacts: pl.DataFrame, holds: pl.DataFrame,
                 members: pl.DataFrame, end: date) -> pl.DataFrame:  # fmt: skip
    """The cases with a complaint since they joined: a contact logged as a complaint, or a
    complaint hold opened (on the case or its debtor), up to ``end`` (business dates)."""
    zones = [str(z) for z in holds.get_column("tz").unique().drop_nulls().to_list()]
    held = (
        holds.with_columns(local_date_expr(pl.col("at"), pl.col("tz"), zones).alias("day"))
        .join(members.select("case_id", "since"), on="case_id", how="inner")
        .filter((pl.col("day") >= pl.col("since")) & (pl.col("day") <= end))
        .select("case_id")
    )
    said = cohort_contacts.filter(pl.col("outcome") == COMPLAINT).select("case_id")
    return pl.concat([said, held]).unique()


def _daily(members: pl.DataFrame, due: pl.DataFrame, cash: pl.DataFrame, start: date,
           end: date, confidence: float) -> list[DayPoint]:  # fmt: skip
    """Each day's cumulative figures from the six sums per arm: a case counts from the day
    it joined, its recovered amount grows with its cash; the sums move by increments
    (joining adds ``x`` and ``x²``; a day's cash ``a`` on a case at ``y`` adds ``a``,
    ``(y+a)² − y²`` and ``x·a``), so the whole curve is one pass over joins and cash."""
    f64 = pl.Float64
    cases = members.join(due, on="case_id", how="left").with_columns(
        pl.col("due_fen").fill_null(0).cast(f64).alias("x")
    )
    joins = cases.group_by("arm", pl.col("since").alias("day")).agg(
        pl.len().cast(f64).alias("n"), pl.col("x").sum().alias("sx"),
        (pl.col("x") ** 2).sum().alias("sxx"),
    )  # fmt: skip
    moves = (
        cash.group_by("case_id", "day")
        .agg(pl.col("cash_fen").sum().cast(f64).alias("a"))
        .join(cases.select("case_id", "arm", "x"), on="case_id", how="inner")
        .sort("case_id", "day")
        .with_columns(pl.col("a").cum_sum().over("case_id").alias("y"))
        .with_columns((pl.col("y") - pl.col("a")).alias("before"))
        .group_by("arm", "day")
        .agg(
            pl.col("a").sum().alias("sy"),
            (pl.col("y") ** 2 - pl.col("before") ** 2).sum().alias("syy"),
            (pl.col("x") * pl.col("a")).sum().alias("sxy"),
        )
    )
    days = pl.date_range(start, end, interval="1d", eager=True).alias("day")
    grid = pl.DataFrame({"arm": list(ARMS)}).join(pl.DataFrame(days), how="cross")
    sums = ("n", "sx", "sxx", "sy", "syy", "sxy")
    totals = (
        grid.join(joins, on=["arm", "day"], how="left")
        .join(moves, on=["arm", "day"], how="left")
        .with_columns(pl.col(c).fill_null(0.0) for c in sums)
        .sort("arm", "day")
        .with_columns(pl.col(c).cum_sum().over("arm") for c in sums)
    )
    by_arm = {arm: totals.filter(pl.col("arm") == arm).select("day", *sums).rows() for arm in ARMS}
    points: list[DayPoint] = []
    for a_row, b_row in zip(by_arm[CHAMPION], by_arm[CHALLENGER], strict=True):
        a, b = _reordered(a_row), _reordered(b_row)
        diff = delta_diff(a, b, confidence=confidence)
        points.append(
            DayPoint(
                day=a_row[0],
                champion=rounded(a.rate),
                challenger=rounded(b.rate),
                estimate=_places(diff.estimate if diff else None),
                ci_low=_places(diff.ci_low if diff else None),
                ci_high=_places(diff.ci_high if diff else None),
            )
        )
    return points


def _reordered(row: tuple[Any, ...]) -> ArmMoments:
    """An arm's moments from a row of ``day, n, sx, sxx, sy, syy, sxy``."""
    _day, n, sx, sxx, sy, syy, sxy = row
    return ArmMoments(n=int(n), sx=sx, sy=sy, sxx=sxx, syy=syy, sxy=sxy)


def _places(value: float | None, places: int = DIFF_PLACES) -> float | None:
    return None if value is None else round(value, places)


def measure(
    session: Session,
    experiment: Experiment,
    *,
    today: date,
    costs: UnitCosts | None = None,
    confidence: float = 0.95,
) -> tuple[dict[str, ArmFigures], list[DayPoint]]:
    """Each arm's figures from the day its cases joined to ``today`` (or the day the
    experiment stopped), and the daily curve — all from one read of the KPI facts."""
    costs = costs or default_config().costs
    start, end = experiment.started_on, _end_of(experiment, today)
    members = repo.members(session, experiment.id)
    labels = repo.version_labels(session, {experiment.champion_id, experiment.challenger_id})
    version_of = {CHAMPION: experiment.champion_id, CHALLENGER: experiment.challenger_id}
    if end < start:
        members = members.clear()
        end = start
    facts = period_facts(session, CaseScope("all"), start, end, owners=False)
    cohort = of_members(facts, members)
    counts = {
        row["key"]: row
        for row in with_rates(compute(cohort, by="arm", start=start, end=end, costs=costs),
                              costs).iter_rows(named=True)
    }  # fmt: skip
    due = cohort.accounts.group_by("case_id").agg(pl.col("due_start_fen").sum().alias("due_fen"))
    recovered = cohort.cash.group_by("case_id").agg(pl.col("cash_fen").sum().alias("y"))
    per_case = (
        members.join(due, on="case_id", how="left")
        .join(recovered, on="case_id", how="left")
        .with_columns(pl.col("due_fen").fill_null(0), pl.col("y").fill_null(0))
    )
    holds = repo.complaint_holds(session, experiment.id, start, end)
    complained = _complaining(cohort.contacts, holds, members, end).join(
        members.select("case_id", "arm"), on="case_id", how="inner"
    )
    arms: dict[str, ArmFigures] = {}
    for arm in ARMS:
        mine = per_case.filter(pl.col("arm") == arm)
        row = counts.get(arm, {})
        arms[arm] = ArmFigures(
            name=arm,
            strategy_version=labels.get(version_of[arm], str(version_of[arm])),
            cases=mine.height,
            due_fen=int(mine["due_fen"].sum() or 0),
            recovered_fen=int(row.get("recovered_fen") or 0),
            recovery_rate=rounded(row.get("recovery_rate")),
            connect_rate=rounded(row.get("connect_rate")),
            promise_rate=rounded(row.get("promise_rate")),
            cost_fen=int(row.get("contact_cost_fen") or 0),
            complaints=int(complained.filter(pl.col("arm") == arm).height),
            violations=int(row.get("violations") or 0),
            moments=ArmMoments.of(mine["due_fen"].to_numpy(), mine["y"].to_numpy()),
        )
    daily = _daily(members, due, cohort.cash, start, end, confidence)
    return arms, daily


def report(
    session: Session,
    principal: Principal | None,
    experiment_id: int,
    *,
    today: date,
    config: KpiConfig | None = None,
    settings: ExperimentSettings | None = None,
) -> ExperimentReport:
    """An experiment's settings, both arms' figures, the difference with its 95% interval
    (delta method), the power figures and the daily curve."""
    if principal is not None:
        require(principal, "experiment.read")
    settings = settings or default_settings()
    stats = settings.statistics
    experiment = repo.get(session, experiment_id)
    arms, daily = measure(
        session, experiment, today=today, costs=(config or default_config()).costs,
        confidence=stats.confidence,
    )  # fmt: skip
    a, b = arms[CHAMPION].moments, arms[CHALLENGER].moments
    diff = delta_diff(a, b, confidence=stats.confidence)
    alpha = 1 - stats.confidence
    results = ExperimentResults(
        id=experiment.id,
        name=experiment.name,
        status=experiment.status,
        started=experiment.started_on,
        arms=[
            ArmOut(
                name=f.name,
                strategy_version=f.strategy_version,
                cases=f.cases,
                recovered=format_yuan(f.recovered_fen),
                recovery_rate=f.recovery_rate,
                connect_rate=f.connect_rate,
                promise_rate=f.promise_rate,
                cost=format_yuan(f.cost_fen),
                complaints=f.complaints,
            )
            for f in arms.values()
        ],
        diff=DiffOut(
            metric=METRIC,
            estimate=_places(diff.estimate if diff else None),
            ci_low=_places(diff.ci_low if diff else None),
            ci_high=_places(diff.ci_high if diff else None),
            p_value=rounded(diff.p_value if diff else None),
        ),
        power=PowerOut(
            uplift_detectable_now=rounded(detectable_uplift(a, b, alpha=alpha, power=stats.power)),
            cases_needed_for_2pct=cases_needed(
                a, b, uplift=stats.uplift, alpha=alpha, power=stats.power
            ),
        ),
    )
    return ExperimentReport(
        experiment=experiment_out(session, experiment),
        results=results,
        arms=arms,
        diff=diff,
        daily=daily,
    )


def results(
    session: Session, principal: Principal | None, experiment_id: int, *, today: date
) -> ExperimentResults:
    """``GET /api/v1/experiments/{id}``."""
    return report(session, principal, experiment_id, today=today).results
