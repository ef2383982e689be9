"""``cuishou demo``: a fresh demo store with a lived-in month (演示库：一个月的催收历史).

The command itself (options, summary tables, serving) is in :mod:`cuishou.demo_cli`.

The demo is built the way a shop's store grows, through the real paths only:

1. the demo's people are created (``auth.service``): the collection team 演示一组 — its
   collectors are the simulator's workforce (``sim_collector_001`` …), with logins — its
   team lead, a manager and one user of every other role;
2. :func:`cuishou.simulate.service.simulate` lives the last ``days`` days before today
   (the app's clock) on a placement of ``history_accounts`` accounts (``DEMOBANK``): daily
   cycles, the team working its real queues, dialer and payments files imported;
3. the rest of the book (``accounts - history_accounts``) arrives last night as a new
   placement of a second creditor (``DEMOCFC``, with a few spoiled rows to show
   quarantine), not yet allocated; today's daily cycle runs over the whole book;
4. before that cycle, the default strategy is put in force from today (its templates
   screened and activated by ``demo_compliance``; submitted by ``demo_strategist``,
   approved and activated by ``demo_manager``: four eyes);
5. a few of the new cases are placed with the demo agency (``agency`` placement, 90 days);
6. the manager runs today's allocation (案件分配, ``allocation.service.apply``): the team's
   collectors keep their cases (large ones move to a senior collector) and the second team,
   演示二组 (new hires, no history), takes new cases up to the demo's capacity; what is left
   is listed with its reason.

Why not simulate the whole book: a month of 100,000 accounts takes many minutes (see
``bench/README.md`` "Demo"); the demo must be up in about a minute.

It never touches the store named by ``CUISHOU_DATABASE_URL``: the demo database lives in
its own directory (``demo-data/`` by default) and is rebuilt from scratch on every run.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine, func, select

from cuishou.agency.service.placing import create_placement
from cuishou.allocation.config import SkillSpec, default_settings
from cuishou.allocation.service import apply
from cuishou.audit.events import SYSTEM
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user, principal_named
from cuishou.engine.runner import run_daily_cycle
from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.kit.clock import CHINA_TZ, business_day_in
from cuishou.kit.errors import InvalidInput
from cuishou.placement.cli import run_import
from cuishou.placement.schemas import ImportResult
from cuishou.placement.service import ImportOptions
from cuishou.scoring.service import install_starter
from cuishou.simulate.config import load_model_config
from cuishou.simulate.rules import simulated_days
from cuishou.simulate.service import (
    SimulationOptions,
    collector_names,
    placement_arrival,
    simulate,
)
from cuishou.store.db import make_engine, transaction, upgrade
from cuishou.store.tables import Alert, Case
from cuishou.strategy.service.lifecycle import (
    activate,
    approve,
    default_text,
    submit,
)
from cuishou.templates.service import install_default_templates

#: the creditor whose placement the demo team has worked for a month
DEMO_CREDITOR = "DEMOBANK"
#: the creditor whose new placement arrived last night (not yet allocated)
NEW_CREDITOR = "DEMOCFC"
#: simulated days before today, and the accounts that live them (the rest arrive new)
HISTORY_DAYS = 30
HISTORY_ACCOUNTS = 2_000
#: the demo team's collectors: the simulated workforce. 2,000 accounts are ≈ 1,400 cases,
#: ≈ 700 a collector: the load the simulator is calibrated at (docs/simulator.md), so the
#: month lands near seed 003's figures (接通率 76%, 首次承诺率 42%, 月回款率 15%)
DEMO_COLLECTORS = 2
#: every demo user logs in with this password (a demo store only)
DEMO_PASSWORD = "cuishou-demo"
DEMO_TEAM = "演示一组"
#: the second team: collectors who start today (no history), filled by today's allocation
NEW_TEAM = "演示二组"
NEW_TEAM_COLLECTORS = 6
#: open in-house cases per collector in the demo's allocation (the shipped default is 500)
DEMO_CAPACITY = 2_000
#: senior collectors (资深): VIP and large cases (from 50,000 yuan) go only to them
DEMO_SENIORS = ("sim_collector_001", "demo_collector_01")
DEMO_AGENCY = "DEMOAGENCY"
#: open cases of the new placement placed with the demo agency
DEMO_AGENCY_CASES = 200
#: the roles with a ``demo_<role>`` login besides the team's collectors
OTHER_ROLES = (
    "team_lead",
    "manager",
    "compliance",
    "legal",
    "admin",
    "auditor",
    "agency",
    "strategist",
)
#: how many fixed steps the progress bar has besides the simulated days
_STEPS = 7


@dataclass
class DemoResult:
    database: str
    directory: str
    today: str
    team: str
    history_creditor: str
    new_creditor: str
    accounts_generated: int
    history: dict[str, Any]
    imported: dict[str, Any]
    cycles: list[dict[str, Any]] = field(default_factory=list)
    open_cases: int = 0
    assigned_cases: int = 0
    #: today's allocation (``allocation.schemas.AllocationOut``, the by-collector and left
    #: lists shortened)
    allocation: dict[str, Any] = field(default_factory=dict)
    open_alerts: dict[str, int] = field(default_factory=dict)
    logins: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _fresh_database(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "cuishou-demo.db"
    for suffix in ("", "-wal", "-shm", ".truth.parquet"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(f"{database}.simulate", ignore_errors=True)
    return database


def run_demo(
    *,
    accounts: int,
    seed: int,
    directory: Path,
    clock: Callable[[], datetime],
    history_accounts: int | None = None,
    days: int | None = None,
    progress: Progress | None = None,
) -> DemoResult:
    """People → a simulated month → last night's new placement → today's daily cycle.

    ``clock`` is the app's clock: today is its business day in Beijing, and the history
    is the ``days`` days before it (default :data:`HISTORY_DAYS`), lived by
    ``history_accounts`` accounts (default :data:`HISTORY_ACCOUNTS`, at most ``accounts``)."""
    if accounts < 1:
        raise InvalidInput("--accounts must be at least 1", field="accounts")
    days = HISTORY_DAYS if days is None else days
    if history_accounts is None:
        history_accounts = min(HISTORY_ACCOUNTS, accounts)
    if not 1 <= history_accounts <= accounts:
        raise InvalidInput(
            f"--history-accounts must be from 1 to --accounts ({accounts:,}), "
            f"got {history_accounts:,}",
            field="history_accounts",
        )
    started = time.perf_counter()
    today = business_day_in(clock(), str(CHINA_TZ))
    history_days = simulated_days(days=days, first=None, today=today)
    _, month_ago = placement_arrival(history_days[0], CHINA_TZ)
    eve, last_night = placement_arrival(today, CHINA_TZ)
    new_accounts = accounts - history_accounts
    task = progress.add_task("demo", total=_STEPS + days + 2) if progress else None
    done_steps = 0

    def step(label: str, advance: int = 1) -> None:
        nonlocal done_steps
        done_steps += advance
        if progress is not None and task is not None:
            progress.update(task, description=label, completed=done_steps)

    step("creating the demo store and its people", 0)
    database = _fresh_database(directory)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    try:
        logins = _demo_people(engine, now=month_ago)
        step("simulating the last month")

        base = done_steps

        def simulated(label: str, number: int, _steps: int) -> None:
            if progress is not None and task is not None:
                progress.update(task, description=f"history: {label}", completed=base + number)

        history = simulate(
            engine,
            SimulationOptions(
                days=days,
                directory=Path(f"{database}.simulate"),
                truth_path=Path(f"{database}.truth.parquet"),
                accounts=history_accounts,
                seed=seed,
                collectors=DEMO_COLLECTORS,
                creditor=DEMO_CREDITOR,
            ),
            load_model_config(),
            clock=clock,
            progress=simulated,
        )
        done_steps = base + days + 2

        imported = ImportResult(files=[])
        if new_accounts:
            step(f"generating the new placement ({new_accounts:,} accounts)", 0)
            portfolio = generate_portfolio(
                accounts=new_accounts, seed=seed + 1, as_of=eve, creditor=NEW_CREDITOR,
                bad_rows=0.002,
            )  # fmt: skip
            paths = write_portfolio(portfolio, directory)
            step("importing the new placement")
            imported = run_import(
                engine, paths, ImportOptions(as_of=eve, now=last_night, creditor_code=NEW_CREDITOR)
            )
        # the shipped starter scorecard grades the cases until the shop trains its own
        with transaction(engine) as session:
            install_starter(session, actor="demo", now=clock())
        _install_strategy(engine, now=clock())
        step(f"daily cycle for {today.isoformat()}")
        cycle = run_daily_cycle(engine, today, now=clock())
        step("placing cases with the demo agency")
        _place_with_agency(engine, as_of=today, now=clock())
        step("today's allocation")
        logins += _hire_new_team(engine, now=clock())
        allocation = _allocate(engine, as_of=today, now=clock())

        with transaction(engine) as session:
            open_cases = session.scalar(
                select(func.count()).select_from(Case).where(Case.status == "open")
            )
            assigned = session.scalar(
                select(func.count())
                .select_from(Case)
                .where(Case.status == "open", Case.assigned_user_id.is_not(None))
            )
            alert_rows = session.execute(
                select(Alert.kind, func.count()).where(Alert.status == "open").group_by(Alert.kind)
            ).all()
    finally:
        engine.dispose()
    step("done")
    return DemoResult(
        database=f"sqlite:///{database}",
        directory=str(directory),
        today=today.isoformat(),
        team=DEMO_TEAM,
        history_creditor=DEMO_CREDITOR,
        new_creditor=NEW_CREDITOR,
        accounts_generated=history.accounts_generated + new_accounts,
        history=history.to_json(),
        imported=imported.model_dump(),
        cycles=[cycle.to_json()],
        open_cases=int(open_cases or 0),
        assigned_cases=int(assigned or 0),
        allocation=allocation,
        open_alerts={str(kind): int(n) for kind, n in alert_rows},
        logins=logins,
        seconds=round(time.perf_counter() - started, 2),
    )


def _demo_people(engine: Engine, *, now: datetime) -> list[dict[str, str]]:
    """The team 演示一组 — its collectors are the simulator's workforce (created here, with
    a login, so the simulation finds and uses them), its team lead — and one ``demo_<role>``
    user of every other role. All exist from the start of the simulated month."""
    people = [(name, "collector", DEMO_TEAM) for name in collector_names(DEMO_COLLECTORS)]
    people += [(f"demo_{role}", role, DEMO_TEAM) for role in OTHER_ROLES]
    return _add_people(engine, people, now=now)


def _hire_new_team(engine: Engine, *, now: datetime) -> list[dict[str, str]]:
    """演示二组: collectors who start today, with no history (today's allocation fills them)."""
    people = [
        (f"demo_collector_{n:02d}", "collector", NEW_TEAM)
        for n in range(1, NEW_TEAM_COLLECTORS + 1)
    ]
    return _add_people(engine, people, now=now)


def _add_people(
    engine: Engine, people: list[tuple[str, str, str]], *, now: datetime
) -> list[dict[str, str]]:
    with transaction(engine) as session:
        for username, role, team in people:
            add_user(
                session,
                UserIn(
                    username=username,
                    role=role,
                    password=DEMO_PASSWORD,
                    team=team if role in ("collector", "team_lead") else None,
                    agency=DEMO_AGENCY if role == "agency" else None,
                ),
                actor=SYSTEM,
                now=now,
            )
    return [
        {"username": username, "role": role, "password": DEMO_PASSWORD}
        for username, role, _ in people
    ]


def _install_strategy(engine: Engine, *, now: datetime) -> None:
    """The default strategy in force from today, the way a shop puts one in force: the
    default templates it names saved, screened and activated by compliance; the strategy
    submitted by the strategy manager, approved (four eyes) and activated by the manager."""
    with transaction(engine) as session:
        officer = principal_named(session, "demo_compliance")
        writer = principal_named(session, "demo_strategist")
        approver = principal_named(session, "demo_manager")
        install_default_templates(session, officer, now=now)
        draft = submit(session, default_text(), actor=writer.username, now=now,
                       principal=writer, note="默认分级催收策略")  # fmt: skip
        approve(session, draft.id, actor=approver.username, now=now, principal=approver)
        activate(session, draft.id, actor=approver.username, now=now, principal=approver)


def _place_with_agency(engine: Engine, *, as_of: date, now: datetime) -> None:
    """委外: the largest unassigned open cases (the new placement's) are placed with the demo
    agency for 90 days by the manager — the agency domain's placement, as on the command line."""
    with transaction(engine) as session:
        manager = principal_named(session, "demo_manager")
        largest = list(
            session.scalars(
                select(Case.id)
                .where(Case.status == "open", Case.assigned_user_id.is_(None))
                .order_by(Case.due_fen.desc(), Case.id)
                .limit(DEMO_AGENCY_CASES)
            )
        )
        if largest:
            create_placement(
                session, agency=DEMO_AGENCY, as_of=as_of, days=90, candidates=largest,
                actor=manager.username, now=now, principal=manager,
            )  # fmt: skip


def _allocate(engine: Engine, *, as_of: date, now: datetime) -> dict[str, Any]:
    """案件分配: the manager applies today's allocation over the in-house book, at
    :data:`DEMO_CAPACITY` cases a collector; the summary without its long lists."""
    seniors = {name: SkillSpec(senior=True) for name in DEMO_SENIORS}
    settings = default_settings().model_copy(
        update={"capacity": DEMO_CAPACITY, "collectors": seniors}
    )
    with transaction(engine) as session:
        manager = principal_named(session, "demo_manager")
        out = apply(session, manager, as_of, settings, now=now).model_dump(mode="json")
    out["unassigned_left"].pop("case_ids", None)
    return out


def demo_clock(as_of: date | None, wall: Callable[[], datetime]) -> Callable[[], datetime]:
    """The demo's clock: ``wall`` (the real one), or 08:00 in Beijing on ``--as-of``."""
    if as_of is None:
        return wall
    moment = datetime(as_of.year, as_of.month, as_of.day, 8, 0, tzinfo=CHINA_TZ)
    return lambda: moment
