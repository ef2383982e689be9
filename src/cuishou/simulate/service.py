"""Simulating collections (仿真): synthetic debtors and collectors living through the system.

:func:`simulate` builds or continues a store. On an empty store it generates a placement
as of the first simulated day and imports it (the generator and the real import), and
creates the collectors and teams it needs (``auth.service``). Then, day by day:

1. the real daily cycle runs (promises are judged there, as in production);
2. unassigned open cases are assigned round-robin (``cases.service.assign_many``) — or,
   with ``SimulationOptions.allocation``, by the real allocation service
   (``allocation.service.apply``: ``optimised`` min-cost flow or the ``greedy`` baseline;
   the whole book re-dealt on the first measured day, then the rules' pool each day) — and
   each collector works their real queue (``cases.service.my_queue``) top down within
   capacity and working hours (:func:`cuishou.simulate.rules.plan_calls`);
3. the debtor model (:mod:`cuishou.simulate.model`) decides how each call ends and who
   pays what;
4. the outcomes go in through the real bulk paths: the day's calls as a dialer result
   file (:func:`record_calls`) and its payments as a payments file (the one posting path).

With a strategy (``SimulationOptions.strategy``) the run puts it in force from the first
day (:func:`cuishou.simulate.repository.install_strategy`), installs the shipped starter
scorecard so the cases have grades, and the cycle scores and plans each day. The workforce
then works the plan: collectors call, in their queue's order (the strategy's call priority
first), only cases with a ``call`` planned today that the gate allows (``planned`` or
``moved``); the plan's IVR calls go out as a robot dialer's result file (source
``simulator_ivr``) and its SMS, e-mails, WeChat messages, letters and visits are logged
through ``contact.service.log_contact`` (:func:`deliver_planned`); agency and legal
candidates are counted. The debtor model answers each channel with its own reach, jump and
cost (``model.yaml`` ``channels``).

With ``warmup_days`` the run first lives that many days dealt round-robin and reports only
the ``days`` after them (the warm-up is the history the allocation's collector effects are
estimated from).

The debtors' hidden traits and their expected payments under "no action" and "full
treatment" go to a Parquet file beside the store (``truth``), and the collectors' skill and
specialty per bucket to another (:func:`collector_truth_path`), never into it.
"""

from __future__ import annotations

import math
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

from cuishou.accounts.rules import DEFAULT_BUCKETS
from cuishou.allocation import service as allocation
from cuishou.allocation.config import AllocationSettings, Vip, load_settings
from cuishou.audit.events import SYSTEM
from cuishou.auth.rules import Principal
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user
from cuishou.cases.service import assign_many, queue_heads, unassign_many
from cuishou.contact.dialer import DialerOptions, import_call_results
from cuishou.contact.rules import OUTCOMES
from cuishou.contact.schemas import CallImportResult, ContactIn
from cuishou.contact.service import log_contact
from cuishou.engine.runner import run_daily_cycle
from cuishou.experiments.rules import in_challenger
from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.kit.clock import CHINA_TZ, business_day_in
from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan
from cuishou.kpis.schemas import KpiRow
from cuishou.kpis.service import figures as kpi_figures
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.scoring.service import install_starter
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
from cuishou.strategy.definition import Strategy

SIM_CREDITOR = "SIMBANK"
MANAGER = "sim_manager"
ACTOR = "simulate"
#: the dialer's name on the simulated calls (``contacts.source``)
DIALER_SOURCE = "simulator"
#: the robot dialer's name on the strategy's IVR calls
IVR_SOURCE = "simulator_ivr"
#: the user the robot dialer, the message gateway and the field team log their contacts as
CHANNELS_USER = "sim_channels"
#: contact actions the plan delivers without a collector (the rest of ``model.yaml`` channels)
MESSAGE_ACTIONS = ("sms", "email", "wechat", "letter", "visit")
#: plan statuses the gate allows today
ALLOWED = ("planned", "moved")
#: actions a strategy plans that contact nobody: counted as candidate lists
CANDIDATE_ACTIONS = ("agency", "legal")
#: contacts older than this are not read for a case's failed run and last reach
HISTORY_DAYS = 30
FAILED = frozenset(code for code, outcome in OUTCOMES.items() if outcome.failed)
#: the store's buckets (M0 … M7+): the axis of the collectors' specialty
BUCKETS = DEFAULT_BUCKETS.names
BUCKET_INDEX = {name: i for i, name in enumerate(BUCKETS)}

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
class StrategyToRun:
    """A strategy the run puts in force: its document and its YAML text."""

    strategy: Strategy
    text: str


@dataclass(frozen=True, slots=True)
class PaymentEffect:
    """A known, real effect for proving the statistics (bench/experiment_aa.py): every
    payment of a case in the challenger arm (``in_challenger(case_id, salt, share_pct)``)
    is ``multiplier`` times what the model decided (never above what the case owes)."""

    salt: str
    share_pct: float
    multiplier: float


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
    strategy: StrategyToRun | None = None
    effect: PaymentEffect | None = None
    #: 分案 by the real allocation service (``optimised``: the min-cost flow, ``greedy``:
    #: the round-robin-by-amount baseline) from the first measured day; ``None``: dealt
    #: round-robin by case id (the simulator's own baseline)
    allocation: str | None = None
    #: days simulated before the measured ``days`` (dealt round-robin, not reported): the
    #: history the allocation's collector effects are estimated from
    warmup_days: int = 0
    #: with ``allocation``: capacity per collector is ⌈movable cases × (1 + slack) ÷
    #: collectors⌉ (open cases the allocation does not exclude, at the first measured day)
    capacity_slack: float = 0.05


#: ``SimulationOptions.allocation`` → ``allocation.yaml`` ``solver.method``
ALLOCATION_METHODS = {"optimised": "min_cost_flow", "greedy": "greedy"}


@dataclass
class Tally:
    """What the simulation sent through the import paths (its figures are the KPIs')."""

    calls: int = 0
    quarantined: int = 0
    violations: int = 0
    payments: int = 0
    recovered_fen: int = 0
    #: contacts by action (``call``, ``ivr``, ``sms`` …) and agency/legal candidates
    contacts: dict[str, int] = field(default_factory=dict)
    candidates: dict[str, int] = field(default_factory=dict)
    cost_fen: int = 0
    #: with a :class:`PaymentEffect`: what the model decided for the treated cases, and
    #: what the effect added to it (the injected effect as it was realised)
    effect_base_fen: int = 0
    effect_added_fen: int = 0

    def add(self, other: Tally) -> None:
        for name in self.__dataclass_fields__:
            mine, theirs = getattr(self, name), getattr(other, name)
            if isinstance(mine, dict):
                for key, number in theirs.items():
                    mine[key] = mine.get(key, 0) + number
            else:
                setattr(self, name, mine + theirs)


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
    strategy: str | None = None
    #: ``case_id, recovered_fen``: what the run posted per case (the payments files) in the
    #: measured days
    recovered_by_case: pl.DataFrame = field(default_factory=pl.DataFrame)
    allocation: str | None = None
    warmup_days: int = 0
    #: with ``allocation``: the capacity per collector and the batches applied
    capacity: int | None = None
    batches: int = 0

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
            "strategy": self.strategy,
            "allocation": self.allocation,
            "warmup_days": self.warmup_days,
            "contacts_by_channel": dict(sorted(self.total.contacts.items())),
            "candidates": dict(sorted(self.total.candidates.items())),
            "contact_cost": format_yuan(self.total.cost_fen),
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
    engine: Engine, count: int, per_team: int, now: datetime, *, channels: bool = False
) -> tuple[Principal, list[Principal], Principal | None]:
    """The simulation's manager and collectors (and with ``channels`` the user its robot
    dialer, message gateway and field team log contacts as), created when missing
    (``auth.service``). They have no password (no hash is spent on one): nobody logs in as
    a simulated person."""
    names = collector_names(count)
    extra = [CHANNELS_USER] if channels else []
    with transaction(engine) as session:
        existing = repo.users_by_name(session, [MANAGER, *names, *extra])
        wanted = (
            [(MANAGER, "manager", None)]
            + [(name, "collector", f"仿真{i // per_team + 1}组") for i, name in enumerate(names)]
            + [(name, "manager", None) for name in extra]
        )
        for username, role, team in wanted:
            if username not in existing:
                add_user(
                    session,
                    UserIn(username=username, role=role, team=team,
                           password=secrets.token_urlsafe(24)),
                    actor=SYSTEM, now=now, login=False,
                )  # fmt: skip
        users = repo.users_by_name(session, [MANAGER, *names, *extra])
        principals = {name: _principal(user) for name, user in users.items()}
    robot = principals[CHANNELS_USER] if channels else None
    return principals[MANAGER], [principals[name] for name in names], robot


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


def allocation_settings(method: str, *, capacity: int, run_as: str = MANAGER) -> AllocationSettings:
    """The simulated shop's 分案规则: the shipped ``allocation.yaml`` with every collector's
    capacity ``capacity`` (sized so the book fits with a little slack: both arms give each
    collector about the same load), no VIP rule (the simulated workforce has no senior
    collectors) and ``method`` applied (``min_cost_flow`` or ``greedy``)."""
    shipped = load_settings()
    return shipped.model_copy(
        update={
            "run_as": run_as,
            "capacity": capacity,
            "vip": Vip(from_yuan=None),
            "solver": shipped.solver.model_copy(update={"method": method}),
        }
    )


def _sized_settings(
    engine: Engine, manager: Principal, collectors: int, options: SimulationOptions, day: date
) -> AllocationSettings:
    """The settings of the run, capacity sized on the book at the first measured day: the
    open cases the allocation may move (not those it excludes: a preview says how many)
    × (1 + slack) ÷ collectors, so both arms give every collector about the same load."""
    method = ALLOCATION_METHODS[str(options.allocation)]
    with transaction(engine) as session:
        cases_open = repo.open_case_count(session)
        unsized = allocation_settings(method, capacity=cases_open)
        excluded = sum(allocation.preview(session, manager, day, unsized).excluded.values())
    movable = max(cases_open - excluded, 0)
    return allocation_settings(
        method, capacity=math.ceil(movable * (1 + options.capacity_slack) / collectors)
    )


def _allocate(
    engine: Engine,
    manager: Principal,
    collectors: list[Principal],
    settings: AllocationSettings,
    day: date,
    now: datetime,
    *,
    redeal: bool,
) -> None:
    """分案 through the real allocation service (``allocation.service.apply``, as the daily
    cycle's step does). With ``redeal`` (the first measured day: 月初重新分案) every open
    case first leaves its collector (``cases.service.unassign_many``), so the whole book
    is allocated by the arm's method, not only the cases a rule pools. Cases the
    allocation leaves alone (excluded: a legal hold, a cease hold) are then dealt in turn
    as without allocation, so the workforce still has them."""
    with transaction(engine) as session:
        if redeal:
            unassign_many(session, manager, dict.fromkeys(repo.assigned_open_cases(session)),
                          now=now)  # fmt: skip
        allocation.apply(session, manager, day, settings, now=now)
    _assign_round_robin(engine, manager, collectors, now)


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
    # a collector goes by the calls made on the case (not the robot's, nor messages)
    history = day_facts.history.join(queued, on="case_id", how="semi").filter(
        (pl.col("channel") == "call") & (pl.col("source") != IVR_SOURCE)
    )
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
        "creditor_code", "account_no", "due_fen", "bucket", "promise_open",
    )  # fmt: skip


def record_calls(
    engine: Engine,
    path: Path,
    calls: pl.DataFrame,
    *,
    day: date,
    seed: int,
    now: datetime,
    source: str = DIALER_SOURCE,
) -> CallImportResult:
    """Write the day's dialer result file and import it (外呼话单导入).

    The ONE place the simulation's calls enter the store: the file (the fixed columns of
    ``docs/import-format.md``, :func:`cuishou.simulate.rules.dialer_rows`) goes through
    :func:`cuishou.contact.dialer.import_call_results` as a shop's dialer file would —
    judged (not refused) by the compliance gate, promises taken, alerts raised. A file
    that cannot be read stops the run; rows the import quarantines are reported.
    """
    file = _write_csv(dialer_rows(calls, day=day, seed=seed), path)
    options = DialerOptions(now=now, source=source, actor=ACTOR)
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
    specialty: model.F,
) -> pl.DataFrame:
    """The planned calls with the debtor model's outcome of each (and its jump). The
    collector's skill on a call is their skill × their specialty in the case's bucket
    today (``specialty[collector, bucket]``, buckets in :data:`BUCKETS` order)."""
    called = traits_of(calls["debtor_id"])
    collector = calls["collector_no"].to_numpy()
    bucket = calls["bucket"].replace_strict(BUCKET_INDEX, default=0, return_dtype=pl.Int64)
    call_skill = skill[collector] * specialty[collector, bucket.to_numpy()]
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


def _local_minute(column: str, zone: ZoneInfo) -> pl.Expr:
    """Minutes after local midnight of an aware UTC column."""
    local = pl.col(column).dt.convert_time_zone(str(zone))
    return (local.dt.hour().cast(pl.Int64) * 60 + local.dt.minute().cast(pl.Int64)).cast(pl.Float64)


def deliver_planned(
    engine: Engine,
    config: ModelConfig,
    options: SimulationOptions,
    day: date,
    zone: ZoneInfo,
    plan: pl.DataFrame,
    facts: repo.DayFacts,
    traits_of: Callable[[pl.Series], model.Traits],
    robot: Principal,
    tally: Tally,
) -> pl.DataFrame:
    """Deliver the day's planned contacts that need no collector, each at the first instant
    the gate allows it (``window_start``), and count the candidate lists. Returns
    ``case_id, jump`` (the debtors reached and the jump it gives them).

    IVR calls go through the dialer result import as a robot dialer's file (source
    :data:`IVR_SOURCE`); SMS, e-mail, WeChat, letters and visits are logged one by one through
    ``contact.service.log_contact`` (the workbench's path: the gate judges, alerts, events),
    as :data:`CHANNELS_USER`: the dialer import takes calls only, and no bulk path for
    messages exists yet (the channel issue sends them).
    """
    for action in CANDIDATE_ACTIONS:
        count = plan.filter((pl.col("action") == action) & (pl.col("status") == "planned")).height
        if count:
            tally.candidates[action] = tally.candidates.get(action, 0) + count
    allowed = (
        plan.filter(pl.col("status").is_in(ALLOWED) & pl.col("window_start").is_not_null())
        .join(facts.cases, on="case_id", how="inner")
        .with_columns(_local_minute("window_start", zone).alias("minute"))
        .sort("case_id", "action")
    )
    jumps: list[pl.DataFrame] = []
    now = local_moment(day, 22 * 60 + 50, zone)

    ivr = allowed.filter(pl.col("action") == "ivr").join(
        facts.phones.select(pl.col("point_id").alias("contact_point_id"), pl.col("value")),
        on="contact_point_id",
        how="inner",
    )
    if ivr.height:
        got = model.channel_outcomes(
            config, options.seed, day, traits_of(ivr["debtor_id"]), action="ivr",
            hour=ivr["minute"].to_numpy() / 60.0,
        )  # fmt: skip
        rows = ivr.with_columns(
            pl.int_range(pl.len()).alias("slot"),
            pl.lit(CHANNELS_USER).alias("collector"),
            pl.col("value").alias("number"),
            pl.Series("outcome", got.outcome.tolist(), dtype=pl.String),
            pl.Series("duration", np.where(got.reached, 45, 20), dtype=pl.Int64),
            pl.lit(0, dtype=pl.Int64).alias("promise_fen"),
            pl.lit(0, dtype=pl.Int64).alias("promise_days"),
        )
        dialled = record_calls(
            engine,
            options.directory / "calls" / f"ivr-{day.isoformat()}.csv",
            rows,
            day=day,
            seed=options.seed,
            now=now,
            source=IVR_SOURCE,
        )
        tally.quarantined += dialled.quarantined
        tally.violations += dialled.violations
        _count(tally, config, "ivr", ivr.height)
        jumps.append(rows.select("case_id", pl.Series("jump", got.jump)))

    messages = allowed.filter(pl.col("action").is_in(MESSAGE_ACTIONS))
    if messages.height:
        with transaction(engine) as session:
            for action in MESSAGE_ACTIONS:
                part = messages.filter(pl.col("action") == action)
                if part.height == 0:
                    continue
                got = model.channel_outcomes(
                    config, options.seed, day, traits_of(part["debtor_id"]), action=action,
                    hour=part["minute"].to_numpy() / 60.0,
                )  # fmt: skip
                for row, outcome in zip(
                    part.select("case_id", "contact_point_id", "window_start").iter_rows(),
                    got.outcome.tolist(),
                    strict=True,
                ):
                    case_id, point_id, at = row
                    log_contact(
                        session,
                        robot,
                        case_id,
                        ContactIn(
                            contact_point_id=point_id,
                            channel=action,
                            outcome=outcome,
                            at=at,
                            collectors=2 if action == "visit" else None,
                        ),
                        now=now,
                    )
                _count(tally, config, action, part.height)
                jumps.append(part.select("case_id", pl.Series("jump", got.jump)))
    if not jumps:
        return pl.DataFrame(schema={"case_id": pl.Int64, "jump": pl.Float64})
    return pl.concat(jumps).filter(pl.col("jump") > 0)


def _count(tally: Tally, config: ModelConfig, action: str, number: int) -> None:
    tally.contacts[action] = tally.contacts.get(action, 0) + number
    tally.cost_fen += number * config.channels.of(action).cost_fen


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
    if options.effect is not None:
        effect = options.effect
        owed = cases["owed_fen"].to_numpy()
        treated = in_challenger(
            cases["case_id"].to_numpy(), salt=effect.salt, share_pct=effect.share_pct
        )
        raised = np.minimum(np.rint(paid * effect.multiplier).astype(np.int64), owed)
        tally.effect_base_fen += int(paid[treated].sum())
        tally.effect_added_fen += int((raised - paid)[treated].sum())
        paid = np.where(treated, raised, paid)
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
    return payers.select("case_id", pl.lit(True).alias("paid"), "amount_fen")


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


def collector_truth_path(truth_path: Path) -> Path:
    """Where the collectors' hidden truth goes: beside the debtors' (``….collectors.parquet``)."""
    return truth_path.with_name(f"{truth_path.stem}.collectors.parquet")


def collector_truth(count: int, skill: model.F, specialty: model.F) -> pl.DataFrame:
    """The collectors' hidden truth: ``collector, skill`` and ``specialty_<bucket>`` per
    bucket (their skill on that bucket's cases is skill × specialty)."""
    return pl.DataFrame(
        {
            "collector": collector_names(count),
            "skill": skill,
            **{f"specialty_{name}": specialty[:, j] for j, name in enumerate(BUCKETS)},
        }
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
    if options.allocation is not None and options.allocation not in ALLOCATION_METHODS:
        raise InvalidInput(
            f"allocation must be one of {', '.join(ALLOCATION_METHODS)}, "
            f"got {options.allocation!r}",
            field="allocation",
        )
    if options.days < 1:
        raise InvalidInput(f"--days must be at least 1, got {options.days}", field="days")
    if not 0 <= options.warmup_days <= 180:
        raise InvalidInput("--warmup-days must be from 0 to 180", field="warmup_days")
    if not 0 <= options.capacity_slack <= 1:
        raise InvalidInput("the capacity slack must be from 0 to 1", field="capacity_slack")
    zone = CHINA_TZ
    today = business_day_in(clock(), str(zone))
    days = simulated_days(
        days=options.warmup_days + options.days, first=options.first_day, today=today
    )
    # the warm-up days are lived but not reported: the period is the measured days
    measured = days[options.warmup_days :]
    first, last = measured[0], measured[-1]
    steps = len(days) + 2

    def report(label: str, number: int) -> None:
        if progress is not None:
            progress(label, number, steps)

    generated = 0
    eve, arrival = placement_arrival(days[0], zone)
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
    planning = options.strategy is not None
    manager, collectors, robot = _ensure_people(
        engine, options.collectors, workforce.collectors_per_team, arrival, channels=planning
    )
    label: str | None = None
    if options.strategy is not None:
        # the strategy in force from the first day, graded by the shipped starter scorecard
        with transaction(engine) as session:
            version = repo.install_strategy(
                session, options.strategy.strategy, options.strategy.text,
                effective_from=days[0], now=arrival,
            )  # fmt: skip
            label = f"{version.code}@{version.version}"
            install_starter(session, actor=ACTOR, now=arrival)
    numbers = np.arange(1, options.collectors + 1)
    skill = model.collector_skill(config, options.seed, numbers)
    specialty = model.collector_specialty(config, options.seed, numbers, BUCKETS)
    settings: AllocationSettings | None = None
    batches = 0

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
    posted: list[pl.DataFrame] = []
    for number, day in enumerate(days, start=1):
        report(f"simulating {day.isoformat()}", number)
        # with a strategy the cycle scores (grades for the table) and plans the day
        run_daily_cycle(
            engine, day, now=local_moment(day, 6 * 60, zone), scoring=planning, strategy=planning
        )
        dealt_at = local_moment(day, 8 * 60, zone)
        if options.allocation is None or day < first:
            _assign_round_robin(engine, manager, collectors, dealt_at)
        else:
            if settings is None:
                settings = _sized_settings(engine, manager, len(collectors), options, day)
            _allocate(engine, manager, collectors, settings, day, dealt_at, redeal=day == first)
            batches += 1

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
            plan = repo.planned_today(bulk, day) if planning else None
        if day == first:
            truth_frame = _truth_frame(
                config, options.seed, facts.accounts, traits_of, first, len(measured)
            )
        tally = Tally()
        channel_jumps = pl.DataFrame(schema={"case_id": pl.Int64, "jump": pl.Float64})
        if plan is not None and robot is not None:
            # the robot dialer, the gateway and the field team go first (from 08:00) …
            channel_jumps = deliver_planned(
                engine, config, options, day, zone, plan, facts, traits_of, robot, tally
            )
            # … and the collectors call only the cases the plan has a call for today
            wanted = plan.filter(
                (pl.col("action") == "call") & pl.col("status").is_in(ALLOWED)
            ).select("case_id")
            queue = queue.join(wanted.unique(), on="case_id", how="semi").sort(
                "collector_no", "position"
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
        calls = _decide_calls(config, options.seed, day, zone, calls, traits_of, skill, specialty)
        tally.calls = calls.height
        _count(tally, config, "call", calls.height)
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
            pl.concat(
                [
                    calls.filter(pl.col("outcome").is_in(list(model.RIGHT_PARTY))).select(
                        "case_id", "jump"
                    ),
                    channel_jumps,
                ]
            )
            .group_by("case_id")
            .agg(pl.col("jump").sum())
        )

        # the debtors pay, and the day's contacts and payments excite tomorrow
        paid = _pay(engine, config, options, day, zone, traits_of, facts, excitation, tally)
        excitation = _excite(config, excitation, jumps, paid.select("case_id", "paid"))
        if day >= first:
            posted.append(paid.select("case_id", "amount_fen"))
            total.add(tally)

    truth_frame.write_parquet(options.truth_path)
    collector_truth(options.collectors, skill, specialty).write_parquet(
        collector_truth_path(options.truth_path)
    )
    # the run's figures are the KPIs of the period: one definition (docs/kpis.md)
    report(f"KPIs of {first.isoformat()} … {last.isoformat()}", steps)
    kpis = kpi_figures(engine, None, first, last, by="day")
    return SimulationResult(
        first=first,
        last=last,
        days=len(measured),
        seed=options.seed,
        accounts_generated=generated,
        collectors=options.collectors,
        total=total,
        kpis=kpis.total,
        per_day=kpis.rows or [],
        directory=str(options.directory),
        truth=str(options.truth_path),
        seconds=round(time.perf_counter() - started, 2),
        strategy=label,
        allocation=options.allocation,
        warmup_days=options.warmup_days,
        capacity=None if settings is None else settings.capacity,
        batches=batches,
        recovered_by_case=pl.concat(posted)
        .group_by("case_id")
        .agg(pl.col("amount_fen").sum().alias("recovered_fen"))
        .sort("case_id"),
    )
