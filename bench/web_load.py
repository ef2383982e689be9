"""Benchmark: 50 simulated collectors working the pages for 60 s (SQLite; optionally PostgreSQL).

    python -m bench.web_load [--accounts 100000] [--collectors 50] [--seconds 60]
                             [--think 1.0] [--dir /tmp/cuishou-bench-web] [--reuse]
                             [--postgres URL] [--sqlite/--no-sqlite] [--json]

1. builds the demo portfolio into a bench store — generate → import → three daily cycles,
   as ``cuishou demo`` does — and adds one team of ``--collectors`` collectors, each with
   200 open cases (``--reuse`` keeps an existing store that already has that many bench
   collectors: build once with ``--collectors 100``, then measure 50 and 100);
2. starts the app with uvicorn in a child process on 127.0.0.1 (one worker, as ``cuishou
   serve`` runs it);
3. logs every collector in through the form (one after another, not measured), then runs
   them concurrently (asyncio + httpx, one session cookie each) in a loop — open the queue
   page, open one of its cases, log a contact through the HTMX form — with a think time
   between actions drawn uniformly from ``[0.5, 1.5] × --think`` seconds (``--think 0``:
   no pause, the saturation case). Every loop is bounded and the run stops by itself
   after ``--seconds``;
4. reports p50/p95/p99 per kind of request, throughput (requests/s) and errors (any
   answer other than the page expected, or a transport error); targets p95 ≤ 150 ms and
   zero errors. The load average before and after tells whether the machine was busy.

Prints a table (stderr) and one JSON object per store (stdout with ``--json``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, func, select, text, update
from sqlalchemy.exc import DBAPIError

from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user
from cuishou.engine.runner import run_daily_cycle
from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.kit.clock import today_local, utc_now
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.store.db import make_engine, transaction, upgrade
from cuishou.store.tables import Account, Case, User
from cuishou.web.app import create_app

console = Console(stderr=True)

CREDITOR = "DEMOBANK"
TEAM = "压测组"
PASSWORD = "bench-web-password"
CASES_EACH = 200
MAX_LOOPS = 100_000
TARGET_P95_MS = 150.0
OUTCOMES = ("no_answer", "connected_debtor", "negotiating", "powered_off", "rejected")
CHANNEL_FOR_KIND = {"mobile": "call", "phone": "call", "address": "visit", "email": "email"}

_CASE_ID = re.compile(r'<tr data-case-id="(\d+)">')
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_POINT = re.compile(r'<option value="(\d+)" data-kind="(\w+)"')


def _bench_collectors(url: str) -> int:
    """How many bench collectors an existing store has (0 when it is not a bench store)."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(
                connection.scalar(
                    select(func.count()).select_from(User).where(User.username.like("bench_col_%"))
                )
                or 0
            )
    except DBAPIError:
        return 0
    finally:
        engine.dispose()


def _fresh_store(
    url: str | None, directory: Path, *, reuse: bool, collectors: int
) -> tuple[str, bool]:
    """(url, needs building). SQLite lives in ``directory``; PostgreSQL's schema is reset.
    With ``reuse``, a store that already has ``collectors`` bench collectors is kept."""
    if url is None:
        database = directory / "web-bench.db"
        url = f"sqlite:///{database}"
        if reuse and database.exists() and _bench_collectors(url) >= collectors:
            return url, False
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
    else:
        if reuse and _bench_collectors(url) >= collectors:
            return url, False
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        admin.dispose()
    return url, True


def build_store(url: str, *, accounts: int, collectors: int, directory: Path, as_of: date) -> None:
    """The demo portfolio (generate → import → daily cycles) plus the bench team."""
    engine = make_engine(url)
    try:
        upgrade(engine)
        started = time.perf_counter()
        portfolio = generate_portfolio(
            accounts=accounts, seed=2026, as_of=as_of, creditor=CREDITOR, bad_rows=0.002
        )
        paths = write_portfolio(portfolio, directory)
        run_import(engine, paths, ImportOptions(as_of=as_of, now=utc_now(), creditor_code=CREDITOR))
        for offset in (2, 1, 0):
            run_daily_cycle(engine, as_of - timedelta(days=offset), now=utc_now())
        with transaction(engine) as session:
            names = [f"bench_col_{i:02d}" for i in range(collectors)]
            for name in names:
                add_user(
                    session,
                    UserIn(username=name, role="collector", password=PASSWORD, team=TEAM),
                    actor="bench",
                    now=utc_now(),
                )
            users = list(session.scalars(select(User).where(User.username.in_(names))))
            open_ids = list(
                session.scalars(
                    select(Case.id)
                    .where(Case.status == "open")
                    .order_by(Case.due_fen.desc(), Case.id)
                    .limit(CASES_EACH * len(users))
                )
            )
            for i, user in enumerate(users):
                mine = open_ids[i :: len(users)]
                session.execute(
                    update(Case)
                    .where(Case.id.in_(mine))
                    .values(assigned_user_id=user.id, team_id=user.team_id)
                )
            total = session.scalar(select(func.count()).select_from(Account))
        console.print(
            f"built {url}: {total:,} accounts, {len(users)} collectors × ≤{CASES_EACH} cases "
            f"in {time.perf_counter() - started:.1f} s"
        )
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _serve(url: str, port: int) -> None:
    """Child process: the app under uvicorn, one worker (as ``cuishou serve``)."""
    uvicorn.run(create_app(make_engine(url)), host="127.0.0.1", port=port, log_level="warning")


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)

    def record(self, kind: str, seconds: float, ok: bool, detail: str = "") -> None:
        self.latencies.setdefault(kind, []).append(seconds)
        if not ok:
            self.errors[kind] = self.errors.get(kind, 0) + 1
            if len(self.examples) < 5:
                self.examples.append(f"{kind}: {detail}")


async def _timed(stats: Stats, kind: str, call: Any, expect: int = 200) -> httpx.Response | None:
    started = time.perf_counter()
    try:
        response: httpx.Response = await call
    except httpx.HTTPError as exc:
        stats.record(kind, time.perf_counter() - started, False, repr(exc))
        return None
    ok = response.status_code == expect
    stats.record(kind, time.perf_counter() - started, ok, f"HTTP {response.status_code}")
    return response if ok else None


async def _login(client: httpx.AsyncClient, name: str) -> bool:
    """Log in through the form (not measured: argon2 is meant to be slow)."""
    form = await client.get("/login")
    token = _CSRF.search(form.text)
    login = await client.post(
        "/login",
        data={"username": name, "password": PASSWORD, "csrf_token": token[1] if token else ""},
    )
    return login.status_code == 303


async def _collector(
    client: httpx.AsyncClient, deadline: float, think: float, stats: Stats, seed: int
) -> None:
    rng = random.Random(seed)

    async def pause() -> None:
        if think > 0:
            await asyncio.sleep(think * rng.uniform(0.5, 1.5))

    await pause()
    for _ in range(MAX_LOOPS):
        if time.monotonic() >= deadline:
            return
        queue = await _timed(stats, "queue", client.get(f"/queue?p={rng.randint(1, 4)}"))
        ids = _CASE_ID.findall(queue.text) if queue is not None else []
        if not ids:
            continue
        await pause()
        case_id = rng.choice(ids)
        case = await _timed(stats, "case", client.get(f"/cases/{case_id}"))
        if case is None:
            continue
        csrf = _CSRF.search(case.text)
        points = _POINT.findall(case.text)
        if csrf is None or not points:
            stats.record("case", 0.0, False, "no contact form")
            continue
        point_id, kind = rng.choice(points)
        await pause()
        if time.monotonic() >= deadline:
            return
        await _timed(
            stats,
            "contact",
            client.post(
                f"/cases/{case_id}/contacts",
                data={
                    "csrf_token": csrf[1],
                    "contact_point_id": point_id,
                    "channel": CHANNEL_FOR_KIND.get(kind, "call"),
                    "outcome": rng.choice(OUTCOMES),
                    "collectors": "2",  # a visit must say how many went; others ignore it
                    "notes": "bench",
                },
                headers={"HX-Request": "true"},
            ),
        )
        await pause()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000


async def _load(base: str, *, collectors: int, seconds: float, think: float) -> dict[str, Any]:
    stats = Stats()
    sessions = []
    for i in range(collectors):  # one after another: logins are not measured
        async with httpx.AsyncClient(base_url=base, timeout=30.0) as login_client:
            if not await _login(login_client, f"bench_col_{i:02d}"):
                stats.record("login", 0.0, False, f"bench_col_{i:02d} could not log in")
            sessions.append(login_client.cookies)
    # the working clients open their connections when the clock starts: a connection left
    # idle through the logins could be closed by the server's keep-alive timeout (5 s) just
    # as it is reused, which would count as an error of the server
    clients = [
        httpx.AsyncClient(
            base_url=base, timeout=30.0, headers={"Accept": "text/html"}, cookies=cookies
        )
        for cookies in sessions
    ]
    try:
        started = time.monotonic()
        deadline = started + seconds
        await asyncio.gather(
            *(
                _collector(client, deadline, think, stats, seed=i)
                for i, client in enumerate(clients)
            )
        )
        elapsed = time.monotonic() - started
    finally:
        for client in clients:
            await client.aclose()
    kinds = {}
    for kind, values in sorted(stats.latencies.items()):
        kinds[kind] = {
            "requests": len(values),
            "errors": stats.errors.get(kind, 0),
            "p50_ms": round(_percentile(values, 0.50), 1),
            "p95_ms": round(_percentile(values, 0.95), 1),
            "p99_ms": round(_percentile(values, 0.99), 1),
            "max_ms": round(max(values) * 1000, 1),
        }
    requests = sum(k["requests"] for k in kinds.values())
    return {
        "seconds": round(elapsed, 1),
        "requests": requests,
        "throughput_rps": round(requests / elapsed, 1),
        "errors": sum(stats.errors.values()),
        "error_examples": stats.examples,
        "kinds": kinds,
    }


def run_store(label: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "bench.web_load", "--serve", url, str(port)],
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                httpx.get(f"{base}/login", timeout=1.0)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        load_before = os.getloadavg()
        result = asyncio.run(
            _load(base, collectors=args.collectors, seconds=args.seconds, think=args.think)
        )
        load_after = os.getloadavg()
    finally:
        server.terminate()
        server.wait(timeout=30)
    return {
        "store": label,
        "collectors": args.collectors,
        "think_s": args.think,
        "loadavg_before": [round(x, 2) for x in load_before],
        "loadavg_after": [round(x, 2) for x in load_after],
        "cpus": os.cpu_count(),
        **result,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=100_000)
    parser.add_argument("--collectors", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--think", type=float, default=1.0, help="mean pause between actions")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-web"))
    parser.add_argument(
        "--reuse", action="store_true", help="keep an existing store with enough collectors"
    )
    parser.add_argument("--postgres", help="also measure this PostgreSQL URL (schema reset)")
    parser.add_argument(
        "--sqlite",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="measure SQLite (--no-sqlite: only the --postgres store)",
    )
    parser.add_argument("--serve", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.serve:
        _serve(args.serve[0], int(args.serve[1]))
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    results = []
    stores = ([("sqlite", None)] if args.sqlite else []) + (
        [("postgresql", args.postgres)] if args.postgres else []
    )
    for label, wanted in stores:
        url, build = _fresh_store(wanted, args.dir, reuse=args.reuse, collectors=args.collectors)
        if build:
            build_store(
                url,
                accounts=args.accounts,
                collectors=args.collectors,
                directory=args.dir,
                as_of=today_local(),
            )
        results.append(run_store(label, url, args))
    table = Table(
        title=(
            f"{args.collectors} collectors, {args.seconds:.0f} s, think {args.think} s "
            f"(target p95 ≤ {TARGET_P95_MS:.0f} ms, 0 errors)"
        )
    )
    for column in ("store", "kind", "requests", "p50 ms", "p95 ms", "p99 ms", "errors"):
        table.add_column(column, justify="right")
    for row in results:
        for kind, k in row["kinds"].items():
            table.add_row(
                row["store"],
                kind,
                str(k["requests"]),
                str(k["p50_ms"]),
                str(k["p95_ms"]),
                str(k["p99_ms"]),
                str(k["errors"]),
            )
        table.add_row(
            row["store"],
            "all",
            f"{row['requests']} ({row['throughput_rps']}/s)",
            "",
            "",
            "",
            str(row["errors"]),
        )
    console.print(table)
    for row in results:
        console.print(
            f"{row['store']}: load average {row['loadavg_before']} → {row['loadavg_after']} "
            f"on {row['cpus']} CPUs; errors: {row['error_examples'] or 'none'}"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
