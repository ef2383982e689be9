"""``cuishou demo``: a fresh demo store with a generated portfolio, imported and aged.

The command itself (options, summary tables, serving) is in :mod:`cuishou.demo_cli`.

It never touches the store named by ``CUISHOU_DATABASE_URL``: the demo database lives in
its own directory (``demo-data/`` by default) and is rebuilt from scratch on every run.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import Engine, func, insert, select, update

from cuishou.audit.events import SYSTEM
from cuishou.auth.rules import ROLES
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user
from cuishou.engine.runner import CycleResult, run_daily_cycle
from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.kit.clock import utc_now
from cuishou.kit.errors import InvalidInput
from cuishou.placement.cli import run_import
from cuishou.placement.schemas import ImportResult
from cuishou.placement.service import ImportOptions
from cuishou.store.db import make_engine, transaction, upgrade
from cuishou.store.tables import Alert, Case, Event, User

DEMO_CREDITOR = "DEMOBANK"
#: The cycle runs for the last few days so that roll movements and alerts show up.
CYCLE_DAYS = 3
#: every demo user logs in with this password (a demo store only)
DEMO_PASSWORD = "cuishou-demo"
DEMO_TEAM = "演示一组"
DEMO_AGENCY = "DEMOAGENCY"
#: open cases given to the demo collector and placed with the demo agency
DEMO_CASES_EACH = 200


@dataclass
class DemoResult:
    database: str
    directory: str
    accounts_generated: int
    imported: dict[str, Any]
    cycles: list[dict[str, Any]] = field(default_factory=list)
    open_cases: int = 0
    open_alerts: dict[str, int] = field(default_factory=dict)
    logins: list[dict[str, str]] = field(default_factory=list)
    seconds: float = 0.0


def _fresh_database(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "cuishou-demo.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    return database


def run_demo(
    *, accounts: int, seed: int, as_of: date, directory: Path, progress: Progress | None = None
) -> DemoResult:
    """Generate → import → run the daily cycle for the last ``CYCLE_DAYS`` days."""
    if accounts < 1:
        raise InvalidInput("--accounts must be at least 1", field="accounts")
    started = time.perf_counter()
    total_steps = 4 + CYCLE_DAYS
    task = progress.add_task("demo", total=total_steps) if progress else None

    def step(label: str) -> None:
        if progress is not None and task is not None:
            progress.update(task, description=label)

    def done() -> None:
        if progress is not None and task is not None:
            progress.advance(task)

    step("creating the demo store")
    database = _fresh_database(directory)
    engine = make_engine(f"sqlite:///{database}")
    upgrade(engine)
    done()

    step(f"generating {accounts:,} accounts")
    portfolio = generate_portfolio(
        accounts=accounts, seed=seed, as_of=as_of, creditor=DEMO_CREDITOR, bad_rows=0.002
    )
    paths = write_portfolio(portfolio, directory)
    done()

    step("importing the placement")
    options = ImportOptions(as_of=as_of, now=utc_now(), creditor_code=DEMO_CREDITOR)
    imported: ImportResult = run_import(engine, paths, options)
    done()

    cycles: list[CycleResult] = []
    for offset in range(CYCLE_DAYS - 1, -1, -1):
        day = as_of - timedelta(days=offset)
        step(f"daily cycle for {day.isoformat()}")
        cycles.append(run_daily_cycle(engine, day, now=utc_now()))
        done()

    step("creating demo users")
    logins = _demo_users(engine)
    done()

    with transaction(engine) as session:
        open_cases = session.scalar(
            select(func.count()).select_from(Case).where(Case.status == "open")
        )
        alert_rows = session.execute(
            select(Alert.kind, func.count()).where(Alert.status == "open").group_by(Alert.kind)
        ).all()
    engine.dispose()
    return DemoResult(
        database=f"sqlite:///{database}",
        directory=str(directory),
        accounts_generated=portfolio.accounts.height,
        imported=imported.model_dump(),
        cycles=[c.to_json() for c in cycles],
        open_cases=int(open_cases or 0),
        open_alerts={str(kind): int(n) for kind, n in alert_rows},
        logins=logins,
        seconds=round(time.perf_counter() - started, 2),
    )


def _demo_users(engine: Engine) -> list[dict[str, str]]:
    """One user per role; the demo collector and agency each get open cases to work."""
    now = utc_now()
    logins = []
    with transaction(engine) as session:
        for role in ROLES:
            username = f"demo_{role}"
            add_user(
                session,
                UserIn(
                    username=username,
                    role=role,
                    password=DEMO_PASSWORD,
                    team=DEMO_TEAM if role in ("collector", "team_lead") else None,
                    agency=DEMO_AGENCY if role == "agency" else None,
                ),
                actor=SYSTEM,
                now=now,
            )
            logins.append({"username": username, "role": role, "password": DEMO_PASSWORD})
        collector = session.scalars(select(User).where(User.username == "demo_collector")).one()
        agency_id = session.scalar(select(User.agency_id).where(User.username == "demo_agency"))
        open_ids = list(
            session.scalars(
                select(Case.id)
                .where(Case.status == "open")
                .order_by(Case.due_fen.desc(), Case.id)
                .limit(2 * DEMO_CASES_EACH)
            )
        )
        mine, placed = open_ids[0::2], open_ids[1::2]
        if mine:
            session.execute(
                update(Case)
                .where(Case.id.in_(mine))
                .values(assigned_user_id=collector.id, team_id=collector.team_id, updated_at=now)
            )
        if placed:
            session.execute(
                update(Case).where(Case.id.in_(placed)).values(agency_id=agency_id, updated_at=now)
            )
        rows = [
            {
                "at": now,
                "actor": SYSTEM,
                "type": "case.assigned",
                "entity_type": "case",
                "entity_id": case_id,
                "case_id": case_id,
                "payload": payload,
            }
            for ids, payload in (
                (mine, {"from": None, "to": collector.username, "team_id": collector.team_id}),
                (placed, {"from": None, "to": None, "agency_id": agency_id}),
            )
            for case_id in ids
        ]
        if rows:
            session.execute(insert(Event), rows)
    return logins
