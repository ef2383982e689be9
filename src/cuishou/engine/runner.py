"""The daily delinquency cycle (日终账龄跑批) for one business date: load → steps → write.

:func:`run_daily_cycle` composes the pure steps of :mod:`cuishou.engine.steps`
between one bulk load and one bulk write (:mod:`cuishou.engine.io`), timing each
step and reporting progress through an optional callback. Re-running the same date
gives the same decisions and adds no duplicate history, alerts or case events; a
date earlier than the latest completed run is refused before anything is written.

An empty store (or one whose accounts are all dated after ``as_of``) is not an
error: the result has zero counts, ``note`` says to import a placement first, and
nothing is written — not even a ``cycle_runs`` row, so a later import can still be
cycled from any date.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import Engine

from cuishou.alerts.rules import raisable
from cuishou.engine import io, steps
from cuishou.engine.config import DEFAULT_CONFIG, CycleConfig
from cuishou.kit.clock import utc_now
from cuishou.store.db import transaction

#: Called before each step starts: (step name, step number from 1, number of steps).
Progress = Callable[[str, int, int], None]

STEP_NAMES = (
    "load", "agreements", "balances", "aging", "movements", "cases", "promises", "alerts", "write",
)  # fmt: skip
NO_ACCOUNTS = "no accounts in force on this date; import a placement first"


@dataclass(frozen=True, slots=True)
class StepTiming:
    name: str
    rows: int
    seconds: float


@dataclass(frozen=True, slots=True)
class CycleResult:
    """What one run of the daily cycle decided (the ``cuishou daily --json`` object)."""

    as_of: date
    accounts: int
    cases: int
    buckets: dict[str, int]
    movements: dict[str, int]
    cases_opened: int
    cases_closed: int
    cases_reopened: int
    alerts_raised: dict[str, int]
    promises_judged: dict[str, int]
    agreements_judged: dict[str, int]
    excluded_not_yet_placed: int
    history_rows: int
    accounts_written: int
    scheme: str = ""
    rescheme: int = 0
    rerun: bool = False
    steps: list[StepTiming] = field(default_factory=list)
    seconds: float = 0.0
    note: str | None = None
    #: what the scoring step did after the cycle (``scoring.service.ScoringSummary``)
    scoring: dict[str, Any] | None = None
    #: what the strategy's planning step did (``strategy.service.planning.PlanningSummary``)
    strategy: dict[str, Any] | None = None
    #: what the day's allocation did (``allocation.schemas.AllocationOut``), when it ran
    allocation: dict[str, Any] | None = None
    #: what the agency recall did before planning (``agency.schemas.RecallOut``)
    agency: dict[str, Any] | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "as_of": self.as_of.isoformat(),
            "accounts": self.accounts,
            "cases": self.cases,
            "buckets": dict(self.buckets),
            "movements": dict(self.movements),
            "cases_opened": self.cases_opened,
            "cases_closed": self.cases_closed,
            "cases_reopened": self.cases_reopened,
            "alerts_raised": dict(self.alerts_raised),
            "promises_judged": dict(self.promises_judged),
            "agreements_judged": dict(self.agreements_judged),
            "excluded_not_yet_placed": self.excluded_not_yet_placed,
            "history_rows": self.history_rows,
            "accounts_written": self.accounts_written,
            "scheme": self.scheme,
            "rescheme": self.rescheme,
            "rerun": self.rerun,
            "steps": [
                {"name": s.name, "rows": s.rows, "seconds": round(s.seconds, 4)} for s in self.steps
            ],
            "seconds": round(self.seconds, 4),
            "note": self.note,
            "scoring": self.scoring,
            "strategy": self.strategy,
            **({} if self.allocation is None else {"allocation": self.allocation}),
            "agency": self.agency,
        }


class _Clock:
    """Times named steps and reports progress."""

    def __init__(self, progress: Progress | None) -> None:
        self.progress = progress
        self.timings: list[StepTiming] = []
        self.started = time.perf_counter()
        self._t = 0.0
        self._name = ""

    def start(self, name: str) -> None:
        if self.progress is not None:
            self.progress(name, STEP_NAMES.index(name) + 1, len(STEP_NAMES))
        self._name = name
        self._t = time.perf_counter()

    def stop(self, rows: int) -> None:
        self.timings.append(StepTiming(self._name, rows, time.perf_counter() - self._t))

    @property
    def total(self) -> float:
        return time.perf_counter() - self.started


def _alert_counts(alerts: pl.DataFrame) -> dict[str, int]:
    counts = dict.fromkeys(
        (steps.ENTERED_ALERT_BUCKET, steps.LEGAL_REVIEW, steps.BROKEN_PROMISE), 0
    )
    for kind, n in alerts.group_by("kind").len().iter_rows():
        counts[str(kind)] = int(n)
    return counts


def run_daily_cycle(
    engine: Engine,
    as_of: date,
    config: CycleConfig = DEFAULT_CONFIG,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
    scoring: bool = True,
    strategy: bool = True,
    allocation: bool | None = None,
    agency: bool = True,
) -> CycleResult:
    """Run the cycle for ``as_of`` on the store and write its decisions in one transaction;
    then (``scoring``) score, grade and label the open cases as they now stand
    (:func:`cuishou.scoring.service.score_open_cases`, its own transaction); then
    (``strategy``) segment them and plan the day's actions under the strategy in force
    (:func:`cuishou.strategy.service.planning.plan_open_cases`, its own transaction). Before
    planning (``agency``) placed cases due back are recalled (退案,
    :func:`cuishou.agency.service.recall.recall_due`, its own transaction). Last, when the
    allocation settings enable it (or ``allocation`` says so), the day's allocation
    (案件分配, :func:`cuishou.allocation.service.allocate_in_cycle`, its own transaction)."""
    result = run_cycle(io.StoreCycleIO(engine), as_of, config, now=now, progress=progress)
    if result.note is not None:
        return result
    return after_cycle(
        engine,
        result,
        now=now,
        scoring=scoring,
        strategy=strategy,
        allocation=allocation,
        agency=agency,
    )


def after_cycle(
    engine: Engine,
    result: CycleResult,
    *,
    now: datetime | None = None,
    scoring: bool = True,
    strategy: bool = True,
    allocation: bool | None = None,
    agency: bool = True,
) -> CycleResult:
    """What follows the cycle's write on the store (scoring, recall, planning, allocation;
    see :func:`run_daily_cycle`). ``cuishou lake import`` calls it after writing decisions
    made elsewhere (Spark), so a day decided off the store ends as a day decided on it."""
    as_of = result.as_of
    moment = now or utc_now()
    if scoring:
        from cuishou.scoring.service import score_open_cases  # Polars models load only here

        result = replace(result, scoring=score_open_cases(engine, as_of, now=moment).to_json())
    if agency:
        from cuishou.agency.service.recall import recall_due  # 退案: before the day is planned

        with transaction(engine) as session:
            recalled = recall_due(session, as_of, now=moment).model_dump(mode="json")
        result = replace(result, agency=recalled)
    if strategy:
        from cuishou.experiments.service import check_guardrails
        from cuishou.strategy.service.planning import plan_open_cases

        # a challenger that broke a guard rail is stopped before it plans another day
        with transaction(engine) as session:
            stops = check_guardrails(session, as_of, moment)
        planned = plan_open_cases(engine, as_of, now=moment).to_json()
        planned["guardrail_stops"] = [
            {"experiment": stop.name, "reasons": list(stop.reasons)} for stop in stops
        ]
        result = replace(result, strategy=planned)
    # after the strategy step: the day's allocation (案件分配), when the allocation settings
    # enable it (``allocation=None``) or when asked; its own transaction
    from cuishou.allocation.service import allocate_in_cycle

    allocated = allocate_in_cycle(engine, as_of, now=moment, force=allocation)
    if allocated is not None:
        result = replace(result, allocation=allocated)
    return result


def run_cycle(
    cycle_io: io.CycleIO,
    as_of: date,
    config: CycleConfig = DEFAULT_CONFIG,
    *,
    now: datetime | None = None,
    progress: Progress | None = None,
) -> CycleResult:
    """Run the cycle for ``as_of``: load through ``cycle_io``, the pure steps, write back."""
    started_at = now or utc_now()
    clock = _Clock(progress)

    clock.start("load")
    snapshot = cycle_io.load_snapshot(as_of)
    clock.stop(snapshot.rows)

    decisions = decide(snapshot, as_of, config, clock)
    summary = dict(decisions.summary)

    clock.start("write")
    note = None
    if decisions.accounts_in_force:
        written = cycle_io.write_decisions(
            decisions, as_of=as_of, now=now or utc_now(), started_at=started_at
        )
        summary["alerts_raised"] = dict(written["alerts_raised"])
        summary["rerun"] = bool(written["rerun"])
    else:
        note = NO_ACCOUNTS
    clock.stop(decisions.rows)

    return CycleResult(
        as_of=as_of,
        steps=list(clock.timings),
        seconds=clock.total,
        note=note,
        **summary,
    )


def decide(
    snapshot: io.Snapshot,
    as_of: date,
    config: CycleConfig = DEFAULT_CONFIG,
    clock: _Clock | None = None,
) -> io.Decisions:
    """The pure steps of the cycle, composed: a snapshot in, the day's decisions out.

    Every step is local to a debtor within one creditor (a case), so the decisions for a
    snapshot holding whole cases only are those cases' decisions: the Spark runner
    (:mod:`cuishou.engine.spark`) calls this once per partition of whole cases. The
    ``summary`` counts add up across such partitions (``scheme`` and ``rerun`` aside)."""
    clock = clock or _Clock(None)
    placed = steps.in_force(snapshot.accounts, as_of)
    excluded = snapshot.accounts.height - placed.height

    clock.start("agreements")
    installments, plans = steps.agreement_decisions(
        snapshot.agreements, snapshot.installments, snapshot.payments, placed, as_of
    )
    clock.stop(snapshot.agreements.height)

    clock.start("balances")
    paid = steps.owed_as_of(placed, snapshot.future, plans, snapshot.waivers)
    clock.stop(placed.height)

    clock.start("aging")
    aged = steps.age(paid, as_of, config)
    clock.stop(aged.height)

    clock.start("movements")
    moved = steps.movements(aged, snapshot.previous, config)
    history = steps.history_rows(moved, config)
    updates = steps.account_updates(moved, as_of)
    clock.stop(history.height)

    clock.start("cases")
    rollup = steps.case_rollup(moved, snapshot.cases, as_of, config)
    clock.stop(rollup.height)

    clock.start("promises")
    judged = steps.judge_promises(snapshot.promises, placed, snapshot.payments, as_of, config)
    clock.stop(snapshot.promises.height)

    clock.start("alerts")
    candidates = pl.concat(
        [steps.case_alerts(rollup, config), steps.broken_promise_alerts(judged, rollup)]
    )
    # the alerts domain's rule: not while one of the kind is unresolved, not twice a day
    alerts = raisable(candidates, snapshot.existing_alerts, as_of, key=steps.CASE_KEY)
    clock.stop(alerts.height)

    changes = rollup.get_column("change")
    opened_today = rollup.filter(pl.col("opened_on") == as_of).height
    summary: dict[str, Any] = {
        "accounts": placed.height,
        "cases": rollup.height,
        "buckets": steps.bucket_counts(moved, config),
        "movements": steps.movement_counts(moved),
        "cases_opened": opened_today,
        "cases_closed": rollup.filter(pl.col("closed_on") == as_of).height,
        "cases_reopened": int((changes == "reopened").sum()),
        "alerts_raised": _alert_counts(alerts),
        "promises_judged": {
            status: judged.filter(pl.col("status") == status).height
            for status in ("kept", "partly_kept", "broken")
        },
        "agreements_judged": {
            status: plans.filter(pl.col("status") == status).height
            for status in ("completed", "broken")
        },
        "excluded_not_yet_placed": excluded,
        "history_rows": history.height,
        "accounts_written": updates.height,
        "scheme": config.buckets.version,
        "rescheme": int(moved.get_column("rescheme").sum()),
        "rerun": snapshot.rerun,
    }
    return io.Decisions(
        account_updates=updates,
        history=history,
        cases=rollup,
        alerts=alerts,
        accounts_in_force=placed.height,
        summary=summary,
        promises=judged,
        installments=installments,
        plans=plans,
        waivers=snapshot.waivers,
    )
