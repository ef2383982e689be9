"""Simulating collections (仿真): synthetic debtors and collectors living through the system.

:func:`simulate` builds or continues a store. On an empty store it generates a placement
as of the first simulated day and imports it (the generator and the real import), and
creates the collectors and teams it needs (``auth.service``). Then, day by day:

1. the real daily cycle runs (promises are judged there, as in production);
2. unassigned open cases are assigned round-robin (``cases.service.assign_many``) and
   each collector works their real queue (``cases.service.my_queue``) top down within
   capacity and working hours (:func:`cuishou.simulate.rules.plan_calls`);
3. the debtor model (:mod:`cuishou.simulate.model`) decides how each call ends and who
   pays what;
4. the outcomes go in through the real bulk paths: the day's calls as a dialer result
   file (:func:`record_calls`) and its payments as a payments file (the one posting path).

The debtors' hidden traits and their expected payments under "no action" and "full
treatment" go to a Parquet file beside the store (``truth``), never into it.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.audit.events import SYSTEM
from cuishou.auth.rules import Principal
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user
from cuishou.cases.service import assign_many, queue_heads
from cuishou.contact.dialer import DialerOptions, import_call_results
from cuishou.contact.rules import OUTCOMES
from cuishou.contact.schemas import CallImportResult
from cuishou.engine.runner import run_daily_cycle
from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.kit.clock import CHINA_TZ, business_day_in
from cuishou.kit.errors import InvalidInput
from cuishou.kpis.schemas import KpiRow
from cuishou.kpis.service import figures as kpi_figures
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.simulate import model
from cuishou.simulate import repository as repo
from cuishou.simulate.config import ModelConfig
from cuishou.simulate.rules import (
    QUEUE_SCHEMA,
    dialer_rows,
    local_moment,
    payment_rows,
    plan_calls,
    simulated_days,
    split_payments,
)
from cuishou.store.bulk import BulkStore
from cuishou.store.db import transaction
from cuishou.store.tables import User

SIM_CREDITOR = "SIMBANK"
MANAGER = "sim_manager"
ACTOR = "simulate"
#: the dialer's name on the simulated calls (``contacts.source``)
DIALER_SOURCE = "simulator"
#: contacts older than this are not read for a case's failed run and last reach
HISTORY_DAYS = 30
FAILED = frozenset(code for code, outcome in OUTCOMES.items() if outcome.failed)

Progress = Callable[[str, int, int], None]
#: the ``--json`` figures taken from the KPI report's total (``GET /api/v1/kpis``)
KPI_FIGURES = (
    "calls", "connected", "right_party", "promises", "complaints", "payments", "recovered",
    "due_at_start", "recovery_rate", "connect_rate", "right_party_rate", "promise_rate",
    "first_contact_promise_rate", "kept_rate", "violations",
)  # fmt: skip
#: the figures of each day in ``per_day`` (the KPI report ``by=day``)
DAY_FIGURES = ("calls", "connected", "right_party", "promises", "payments", "recovered")


@dataclass(frozen=True, slots=True)
class SimulationOptions:
    days: int
    directory: Path
    truth_path: Path
    accounts: int = 10_000
    seed: int = 2026
    first_day: date | None = None
    collectors: int = 10
    creditor: str = SIM_CREDITOR


@dataclass
class Tally:
    """What the simulation sent through the import paths (its figures are the KPIs')."""

    calls: int = 0
    quarantined: int = 0
    violations: int = 0
    payments: int = 0
    recovered_fen: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class SimulationResult:
    first: date
    last: date
    days: int
    seed: int
    accounts_generated: int
    collectors: int
    total: Tally
    kpis: KpiRow
    per_day: list[KpiRow] = field(default_factory=list)
    directory: str = ""
    truth: str = ""
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        """The run's figures: those of ``GET /api/v1/kpis`` for ``from``…``to`` (the KPI
        service computes them: one definition), and what the import paths refused."""
        k = self.kpis
        return {
            "from": self.first.isoformat(),
            "to": self.last.isoformat(),
            "days": self.days,
            "seed": self.seed,
            "accounts_generated": self.accounts_generated,
            "collectors": self.collectors,
            **{name: getattr(k, name) for name in KPI_FIGURES},
            "quarantined": self.total.quarantined,
            "per_day": [
                {"day": row.key, **{name: getattr(row, name) for name in DAY_FIGURES}}
                for row in self.per_day
            ],
            "directory": self.directory,
            "truth": self.truth,
        }


# ------------------------------------------------------------------- the store's people


def collector_names(count: int) -> list[str]:
    return [f"sim_collector_{n:03d}" for n in range(1, count + 1)]


def _ensure_people(
    engine: Engine, count: int, per_team: int, now: datetime
) -> tuple[Principal, list[Principal]]:
    """The simulation's manager and collectors, created when missing (``auth.service``).
    They have no password (no hash is spent on one): nobody logs in as a simulated person."""
    names = collector_names(count)
    with transaction(engine) as session:
        existing = repo.users_by_name(session, [MANAGER, *names])
        wanted = [(MANAGER, "manager", None)] + [
            (name, "collector", f"仿真{i // per_team + 1}组") for i, name in enumerate(names)
        ]
        for username, role, team in wanted:
            if username not in existing:
                add_user(
                    session,
                    UserIn(username=username, role=role, team=team,
                           password=secrets.token_urlsafe(24)),
                    actor=SYSTEM, now=now, login=False,
                )  # fmt: skip
        users = repo.users_by_name(session, [MANAGER, *names])
        principals = {name: _principal(user) for name, user in users.items()}
    return principals[MANAGER], [principals[name] for name in names]


def _principal(user: User) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        agency_id=user.agency_id,
    )


# ----------------------------------------------------------------------- the day's steps


def _assign_round_robin(
    engine: Engine, manager: Principal, collectors: list[Principal], now: datetime
) -> int:
    """分案: unassigned open cases dealt to the collectors in turn, through cases.service
    (one set-based assignment for all collectors: ``assign_many``)."""
    with transaction(engine) as session:
        ids = repo.unassigned_open_cases(session)
        deal = {c.username: ids[n :: len(collectors)] for n, c in enumerate(collectors)}
        assign_many(session, manager, deal, now=now)
    return len(ids)


def _queues(
    session: Session, collectors: list[Principal], *, now: datetime, depth: int
) -> pl.DataFrame:
    """Each collector's real work queue (工作队列), top ``depth`` entries, in the order
    ``cases.service.my_queue`` shows it (one query for all: ``queue_heads``)."""
    number = {collector.username: n for n, collector in enumerate(collectors)}
    rows = queue_heads(session, collectors, now=now, depth=depth)
    return pl.DataFrame(
        [(name, number[name], position, case_id) for name, position, case_id in rows],
        schema={"collector": pl.String, "collector_no": pl.Int64, "position": pl.Int64,
                "case_id": pl.Int64},
        orient="row",
    )  # fmt: skip


def _queue_facts(
    queue: pl.DataFrame, day_facts: repo.DayFacts, *, day: date, zone: ZoneInfo
) -> pl.DataFrame:
    """The queue with what the collector sees of each case (:data:`rules.QUEUE_SCHEMA`)
    and ``creditor_code, account_no, due_fen, promise_open``."""
    queued = queue.select("case_id")
    facts = day_facts.cases.join(queued, on="case_id", how="semi")
    points = day_facts.phones.join(facts.select("debtor_id"), on="debtor_id", how="semi")
    history = day_facts.history.join(queued, on="case_id", how="semi")
    promises = day_facts.promises.join(queued, on="case_id", how="semi")

    own = (
        points.filter(pl.col("owner") == "debtor")
        .group_by("debtor_id", maintain_order=True)
        .first()
        .select("debtor_id", pl.col("point_id").alias("mobile_point_id"),
                pl.col("value").alias("mobile"))
    )  # fmt: skip
    named = points.filter((pl.col("owner") == "third_party") & pl.col("named"))
    rotation = day.toordinal()
    third = (
        named.with_columns(
            pl.int_range(pl.len()).over("debtor_id").alias("_i"),
            pl.len().over("debtor_id").alias("_n"),
        )
        .filter(pl.col("_i") == pl.lit(rotation) % pl.col("_n"))
        .select("debtor_id", pl.col("point_id").alias("third_party_point_id"),
                pl.col("value").alias("third_party"))
    )  # fmt: skip
    reached = (
        history.filter(pl.col("party") == "debtor")
        .group_by("case_id")
        .agg(pl.col("at").max().dt.convert_time_zone(str(zone)).dt.date().alias("last_rpc_on"))
    )
    failed = (
        history.with_columns(
            pl.int_range(pl.len()).over("case_id").alias("_i"),
            pl.col("outcome").is_in(list(FAILED)).alias("_failed"),
        )
        .group_by("case_id")
        .agg(pl.len().alias("_n"), pl.col("_i").filter(~pl.col("_failed")).max().alias("_ok"))
        .select("case_id", (pl.col("_n") - 1 - pl.col("_ok").fill_null(-1)).alias("failed_run"))
    )
    pending = promises.group_by("case_id").agg(
        (pl.col("due_date") > day).any().alias("promise_pending"),
        pl.lit(True).alias("promise_open"),
    )
    frame = (
        queue.join(facts, on="case_id", how="inner")
        .join(own, on="debtor_id", how="left")
        .join(third, on="debtor_id", how="left")
        .join(reached, on="case_id", how="left")
        .join(failed, on="case_id", how="left")
        .join(pending, on="case_id", how="left")
        .with_columns(
            pl.col("failed_run").fill_null(0),
            pl.col("promise_pending").fill_null(False),
            pl.col("promise_open").fill_null(False),
            pl.col("last_rpc_on").cast(pl.Date),
        )
    )
    return frame.select(
        *[pl.col(name).cast(dtype) for name, dtype in QUEUE_SCHEMA.items()],
        "creditor_code", "account_no", "due_fen", "promise_open",
    )  # fmt: skip


def record_calls(
    engine: Engine, path: Path, calls: pl.DataFrame, *, day: date, seed: int, now: datetime
) -> CallImportResult:
    """Write the day's dialer result file and import it (外呼话单导入).

    The ONE place the simulation's calls enter the store: the file (the fixed columns of
    ``docs/import-format.md``, :func:`cuishou.simulate.rules.dialer_rows`) goes through
    :func:`cuishou.contact.dialer.import_call_results` as a shop's dialer file would —
    judged (not refused) by the compliance gate, promises taken, alerts raised. A file
    that cannot be read stops the run; rows the import quarantines are reported.
    """
    file = _write_csv(dialer_rows(calls, day=day, seed=seed), path)
    options = DialerOptions(now=now, source=DIALER_SOURCE, actor=ACTOR)
    result = import_call_results(engine, [file], options)
    if result.errors:
        raise InvalidInput(f"the simulated dialer file {file} was not imported: {result.errors}")
    return result


def _write_csv(frame: pl.DataFrame, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path)
    return path


def _decide_calls(
    config: ModelConfig,
    seed: int,
    day: date,
    zone: ZoneInfo,
    calls: pl.DataFrame,
    traits_of: Callable[[pl.Series], model.Traits],
    skill: model.F,
) -> pl.DataFrame:
    """The planned calls with the debtor model's outcome of each (and its jump)."""
    called = traits_of(calls["debtor_id"])
    call_skill = skill[calls["collector_no"].to_numpy()]
    got = model.call_outcomes(
        config, seed, day, called,
        attempt=calls["attempt"].to_numpy(),
        third_party=calls["third_party_call"].to_numpy(),
        hour=calls["minute"].to_numpy() / 60.0,
        skill=call_skill,
        owed_fen=calls["due_fen"].to_numpy(),
        may_promise=~calls["promise_open"].to_numpy(),
    )  # fmt: skip
    midnight = pl.lit(datetime.combine(day, datetime.min.time()))
    return calls.with_columns(
        pl.Series("outcome", got.outcome.tolist(), dtype=pl.String),
        pl.Series("duration", got.duration, dtype=pl.Int64),
        pl.Series("promise_fen", got.promise_fen, dtype=pl.Int64),
        pl.Series("promise_days", got.promise_days, dtype=pl.Int64),
        pl.Series("jump", model.contact_jump(called, call_skill), dtype=pl.Float64),
        pl.lit(day).alias("day"),
        (midnight + pl.duration(seconds=(pl.col("minute") * 60).round(0).cast(pl.Int64)))
        .dt.replace_time_zone(str(zone))
        .alias("at"),
    )


def _pay(
    engine: Engine,
    config: ModelConfig,
    options: SimulationOptions,
    day: date,
    zone: ZoneInfo,
    traits_of: Callable[[pl.Series], model.Traits],
    facts: repo.DayFacts,
    excitation: pl.DataFrame,
    tally: Tally,
) -> pl.DataFrame:
    """The day's payments: decided by the model, posted by importing a payments file.
    Returns ``case_id, paid`` (whether the case paid today)."""
    accounts, promises = facts.accounts, facts.promises
    cases = (
        accounts.group_by("case_id")
        .agg(pl.col("debtor_id").first(), pl.col("creditor_code").first(), pl.col("owed_fen").sum())
        .sort("case_id")
    )
    due_today = (
        promises.filter(pl.col("due_date") == day).group_by("case_id").agg(pl.col("left_fen").sum())
    )
    cases = (
        cases.join(due_today, on="case_id", how="left")
        .join(excitation, on="case_id", how="left")
        .with_columns(pl.col("left_fen").fill_null(0), pl.col("excitation").fill_null(0.0))
    )
    debtors = traits_of(cases["debtor_id"])
    paid = model.payments_of_day(
        config, options.seed, day, debtors,
        owed_fen=cases["owed_fen"].to_numpy(),
        excitation=cases["excitation"].to_numpy(),
        promise_fen=cases["left_fen"].to_numpy(),
    )  # fmt: skip
    hours = config.payments.hours
    minute = 60.0 * (
        hours.low
        + model.uniforms(options.seed, debtors.debtor_id, day, "pay", 9) * (hours.high - hours.low)
    )
    payers = cases.with_columns(
        pl.Series("amount_fen", paid, dtype=pl.Int64), pl.Series("minute", minute)
    ).filter(pl.col("amount_fen") > 0)
    parts = split_payments(
        payers.select("case_id", "amount_fen"),
        accounts.select("case_id", "account_no", "owed_fen", "order"),
    ).join(payers.select("case_id", "creditor_code", "minute"), on="case_id")
    if parts.height:
        file = _write_csv(
            payment_rows(parts, day=day, seed=options.seed),
            options.directory / "payments" / f"payments-{day.isoformat()}.csv",
        )
        result = run_import(
            engine,
            [file],
            ImportOptions(as_of=day, now=local_moment(day, 23 * 60 + 30, zone), actor=ACTOR),
        )
        posted = sum(f.created + f.unchanged for f in result.files)
        if result.errors or posted != parts.height:
            raise InvalidInput(
                f"the simulated payments file {file} did not post as written: "
                f"{posted} of {parts.height} rows ({result.errors})"
            )
        tally.payments += parts.height
        tally.recovered_fen += int(parts["amount_fen"].sum())
    return payers.select("case_id", pl.lit(True).alias("paid"))


def _excite(
    config: ModelConfig, excitation: pl.DataFrame, jumps: pl.DataFrame, paid: pl.DataFrame
) -> pl.DataFrame:
    """Tomorrow's excitation per case (cases at rest are dropped)."""
    frame = (
        excitation.join(jumps, on="case_id", how="full", coalesce=True)
        .join(paid, on="case_id", how="full", coalesce=True)
        .with_columns(
            pl.col("excitation").fill_null(0.0),
            pl.col("jump").fill_null(0.0),
            pl.col("paid").fill_null(False),
        )
        .sort("case_id")
    )
    after = model.excite(
        config,
        frame["excitation"].to_numpy(),
        jumps=frame["jump"].to_numpy(),
        paid=frame["paid"].to_numpy(),
    )
    return frame.select("case_id", pl.Series("excitation", after, dtype=pl.Float64)).filter(
        pl.col("excitation") > 1e-6
    )


def _truth_frame(
    config: ModelConfig,
    seed: int,
    accounts: pl.DataFrame,
    traits_of: Callable[[pl.Series], model.Traits],
    first: date,
    days: int,
) -> pl.DataFrame:
    """Ground truth per open case: the debtor's traits, what the case owes at the start,
    and its expected payment under "no action" and "full treatment" over the period."""
    cases = (
        accounts.group_by("case_id")
        .agg(pl.col("debtor_id").first(), pl.col("owed_fen").sum())
        .sort("case_id")
    )
    debtors = traits_of(cases["debtor_id"])
    expected = model.expected_payments(
        config, seed, debtors, cases["owed_fen"].to_numpy(), first=first, days=days
    )
    return cases.select(
        "case_id",
        "debtor_id",
        pl.col("owed_fen").alias("owed_at_start_fen"),
        *[
            pl.Series(name, getattr(debtors, name))
            for name in model.TRAIT_NAMES
            if name != "debtor_id"
        ],
        pl.Series("expected_no_action_fen", expected.no_action_fen),
        pl.Series("expected_full_treatment_fen", expected.full_treatment_fen),
    ).with_columns(
        (pl.col("expected_full_treatment_fen") - pl.col("expected_no_action_fen")).alias(
            "uplift_fen"
        )
    )


# --------------------------------------------------------------------------- the run


def placement_arrival(first: date, zone: ZoneInfo) -> tuple[date, datetime]:
    """The generated placement's date and the moment it is imported.

    Its DPD mix holds on the eve of the first simulated day and it arrives at the end of
    that eve (23:59 local), after the last payment it carries: the generator dates them
    08:00–23:00 local up to its ``as_of``, so none is in the future when it is posted.
    """
    eve = first - timedelta(days=1)
    return eve, local_moment(eve, 23 * 60 + 59, zone)


def simulate(
    engine: Engine,
    options: SimulationOptions,
    config: ModelConfig,
    *,
    clock: Callable[[], datetime],
    progress: Progress | None = None,
) -> SimulationResult:
    """Simulate ``options.days`` business days on the store (see the module docstring)."""
    started = time.perf_counter()
    if not 1 <= options.collectors <= 10_000:
        raise InvalidInput("--collectors must be from 1 to 10,000", field="collectors")
    zone = CHINA_TZ
    today = business_day_in(clock(), str(zone))
    days = simulated_days(days=options.days, first=options.first_day, today=today)
    first, last = days[0], days[-1]
    steps = len(days) + 2

    def report(label: str, number: int) -> None:
        if progress is not None:
            progress(label, number, steps)

    generated = 0
    eve, arrival = placement_arrival(first, zone)
    with transaction(engine) as session:
        empty = repo.account_count(session) == 0
    if empty:
        report(f"generating and importing {options.accounts:,} accounts", 0)
        portfolio = generate_portfolio(
            accounts=options.accounts, seed=options.seed, as_of=eve, creditor=options.creditor
        )
        paths = write_portfolio(portfolio, options.directory / "placement")
        imported = run_import(
            engine,
            paths,
            ImportOptions(as_of=eve, now=arrival, creditor_code=options.creditor, actor=ACTOR),
        )
        if imported.errors or any(f.quarantined for f in imported.files):
            raise InvalidInput(f"the generated placement did not import cleanly: {imported}")
        generated = portfolio.accounts.height
    workforce = config.workforce
    manager, collectors = _ensure_people(
        engine, options.collectors, workforce.collectors_per_team, arrival
    )
    skill = model.collector_skill(config, options.seed, np.arange(1, options.collectors + 1))

    with transaction(engine) as session:
        profiles = repo.debtor_profiles(session)
    debtor_ids = profiles["debtor_id"].to_numpy()
    rank = np.clip(np.ceil(profiles["dpd0"].to_numpy() / 30.0), 1, 7).astype(np.int64)
    traits = model.debtor_traits(config, options.seed, debtor_ids, rank)

    def traits_of(ids: pl.Series) -> model.Traits:
        return traits.take(np.searchsorted(debtor_ids, ids.to_numpy()))

    excitation = pl.DataFrame(schema={"case_id": pl.Int64, "excitation": pl.Float64})
    total = Tally()
    truth_frame = pl.DataFrame()
    for number, day in enumerate(days, start=1):
        report(f"simulating {day.isoformat()}", number)
        run_daily_cycle(engine, day, now=local_moment(day, 6 * 60, zone), scoring=False)
        _assign_round_robin(engine, manager, collectors, local_moment(day, 8 * 60, zone))

        # the workforce works its queues, knowing what the store says today (one read)
        with transaction(engine) as session:
            queue = _queues(
                session,
                collectors,
                now=local_moment(day, workforce.start_minute, zone),
                depth=workforce.queue_depth * workforce.calls_per_day,
            )
        since = local_moment(day - timedelta(days=HISTORY_DAYS), 0, zone)
        with BulkStore(engine).read() as bulk:
            facts = repo.day_facts(bulk, since=since)
        if day == first:
            truth_frame = _truth_frame(
                config, options.seed, facts.accounts, traits_of, first, len(days)
            )
        calls = plan_calls(
            _queue_facts(queue, facts, day=day, zone=zone),
            day=day,
            calls_per_day=workforce.calls_per_day,
            start_minute=workforce.start_minute,
            end_minute=workforce.end_minute,
            rest_days=workforce.rest_days,
            third_party_after_failed=workforce.third_party_after_failed,
        )
        calls = _decide_calls(config, options.seed, day, zone, calls, traits_of, skill)
        tally = Tally(calls=calls.height)
        if calls.height:
            dialled = record_calls(
                engine,
                options.directory / "calls" / f"calls-{day.isoformat()}.csv",
                calls,
                day=day,
                seed=options.seed,
                now=local_moment(day, 23 * 60, zone),
            )
            tally.quarantined += dialled.quarantined
            tally.violations += dialled.violations
        jumps = (
            calls.filter(pl.col("outcome").is_in(list(model.RIGHT_PARTY)))
            .group_by("case_id")
            .agg(pl.col("jump").sum())
        )

        # the debtors pay, and the day's contacts and payments excite tomorrow
        paid = _pay(engine, config, options, day, zone, traits_of, facts, excitation, tally)
        excitation = _excite(config, excitation, jumps, paid)
        total.add(tally)

    truth_frame.write_parquet(options.truth_path)
    # the run's figures are the KPIs of the period: one definition (docs/kpis.md)
    report(f"KPIs of {first.isoformat()} … {last.isoformat()}", steps)
    kpis = kpi_figures(engine, None, first, last, by="day")
    return SimulationResult(
        first=first,
        last=last,
        days=len(days),
        seed=options.seed,
        accounts_generated=generated,
        collectors=options.collectors,
        total=total,
        kpis=kpis.total,
        per_day=kpis.rows or [],
        directory=str(options.directory),
        truth=str(options.truth_path),
        seconds=round(time.perf_counter() - started, 2),
    )
