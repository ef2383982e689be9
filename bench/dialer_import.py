"""Benchmark: importing a dialer's result file of 1,000,000 calls (target ≤ 60 s on SQLite).

    python -m bench.dialer_import [--calls 1000000] [--accounts 250000] [--collectors 100]
                                  [--dir /tmp/cuishou-bench-dialer]

1. builds a store of ``--accounts`` accounts by bulk insert (``bench.daily_cycle``'s
   synthetic portfolio), runs the daily cycle once (cases), gives every debtor a mobile and
   a named contact person's mobile, and adds ``--collectors`` collectors;
2. writes a calls CSV: ``--calls`` calls on random accounts over the last 3 days, between
   07:30 and 21:30 Beijing time (some outside the hours, some over the daily caps: real
   violations), 1 in 8 to the contact person, the result codes in a realistic mix
   (无人接听, 关机, 接通, PTP with an amount and date …), a few bad rows;
3. in a child process imports it through the real path (read → check → quarantine → gate
   judgement → set-based write), then imports it again (every call unchanged).

Prints a results table (stderr) and one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from bench.daily_cycle import SNAPSHOT, build_store
from cuishou.contact.dialer import DialerOptions, import_call_results
from cuishou.engine.runner import run_daily_cycle
from cuishou.store.bulk import AdbcBulk, BulkStore
from cuishou.store.db import make_engine

console = Console(stderr=True)
#: the import's "now": the evening of the last day of calls (Beijing 22:00)
IMPORT_NOW = datetime(2026, 11, 4, 14, 0, tzinfo=UTC)
DAYS = (date(2026, 11, 2), date(2026, 11, 3), date(2026, 11, 4))
RESULTS = (
    ("无人接听", 40), ("NO_ANSWER", 10), ("关机", 8), ("BUSY", 6), ("空号", 1), ("拒接", 5),
    ("接通", 18), ("ANSWERED", 4), ("PTP", 4), ("拒绝还款", 2), ("协商中", 2),
)  # fmt: skip


def prepare_store(url: str, accounts: int, collectors: int) -> dict[str, float]:
    timings = build_store(url, accounts)
    engine = make_engine(url)
    started = time.perf_counter()
    run_daily_cycle(engine, SNAPSHOT, now=datetime(2026, 11, 2, 0, tzinfo=UTC), scoring=False)
    timings["cycle_s"] = time.perf_counter() - started
    store = BulkStore(engine)
    with store.connect() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN")
        bulk = AdbcBulk(store.dialect, cursor)
        now = bulk.dialect.value(datetime(2026, 11, 2, 0, tzinfo=UTC))
        bulk.execute(
            """INSERT INTO contact_points (debtor_id, kind, value, label, owner, owner_name,
                relation, status, source, created_at)
            SELECT id, 'mobile', '13' || substr('000000000' || id, -9, 9), '', 'debtor', '',
                NULL, 'active', 'placement', :now FROM debtors""",
            now=now,
        )
        bulk.execute(
            """INSERT INTO contact_points (debtor_id, kind, value, label, owner, owner_name,
                relation, status, source, created_at)
            SELECT id, 'mobile', '15' || substr('000000000' || id, -9, 9), '', 'third_party',
                '联系人', 'spouse', 'active', 'placement', :now FROM debtors""",
            now=now,
        )
        for n in range(1, collectors + 1):
            bulk.execute(
                """INSERT INTO users (username, display_name, role, active, created_at)
                VALUES (:name, :name, 'collector', TRUE, :now)""",
                name=f"col{n:03d}",
                now=now,
            )
        cursor.execute("COMMIT")
    engine.dispose()
    return timings


def calls_csv(path: Path, accounts: int, calls: int, collectors: int, seed: int = 7) -> Path:
    rng = random.Random(seed)
    codes = [code for code, weight in RESULTS for _ in range(weight)]
    account_ids = [rng.randrange(1, accounts + 1) for _ in range(calls)]
    starts = []
    for _ in range(calls):
        day = rng.choice(DAYS)
        seconds = rng.randrange(7 * 3600 + 1800, 21 * 3600 + 1800)
        starts.append(
            f"{day.isoformat()} {seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        )
    results = [rng.choice(codes) for _ in range(calls)]
    frame = pl.DataFrame(
        {
            "账号": [f"AC{a:09d}" for a in account_ids],
            "话单号": [f"CALL{n:010d}" for n in range(calls)],
            "被叫号码": [
                ("15" if rng.random() < 0.125 else "13") + f"{0:09d}" for _ in range(calls)
            ],
            "呼叫时间": starts,
            "通话时长": [str(rng.randrange(0, 300)) for _ in range(calls)],
            "呼叫结果": results,
            "坐席": [f"col{rng.randrange(1, collectors + 1):03d}" for _ in range(calls)],
            "承诺金额": ["100.00" if r == "PTP" else "" for r in results],
            "承诺日期": ["2026-11-10" if r == "PTP" else "" for r in results],
        }
    )
    # the number dialled: the debtor of the account (debtor ids follow accounts in the
    # synthetic portfolio, so it is looked up once here) — prefix kept from above
    frame = frame.with_columns(pl.col("被叫号码").str.slice(0, 2).alias("_prefix"))
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.drop("_prefix").write_csv(path)
    return path


def fix_numbers(url: str, path: Path) -> None:
    """Point each call at its account's debtor's numbers (the store knows the debtor)."""
    engine = make_engine(url)
    store = BulkStore(engine)
    with store.read() as bulk:
        owners = bulk.fetch(
            "SELECT account_no, debtor_id FROM accounts",
            {"account_no": pl.String(), "debtor_id": pl.Int64()},
        )
    engine.dispose()
    frame = pl.read_csv(path, infer_schema=False)
    frame = (
        frame.join(owners, left_on="账号", right_on="account_no", how="left", maintain_order="left")
        .with_columns(
            (
                pl.col("被叫号码").str.slice(0, 2)
                + pl.col("debtor_id").cast(pl.String).str.zfill(9)
            ).alias("被叫号码")
        )
        .drop("debtor_id")
    )
    # a few bad rows, as real exports have: an unknown agent, an unknown code, a bad time
    bad = frame.head(30).with_columns(
        pl.Series("话单号", [f"BAD{n}" for n in range(30)]),
        pl.Series("坐席", ["nobody"] * 10 + ["col001"] * 20),
        pl.Series("呼叫结果", ["NO_ANSWER"] * 10 + ["BEEP"] * 10 + ["NO_ANSWER"] * 10),
        pl.Series("呼叫时间", [*frame["呼叫时间"].head(20).to_list(), *["soon"] * 10]),
    )
    pl.concat([frame.slice(30), bad]).write_csv(path)


def _measure_import(url: str, csv: str) -> None:
    """Child process: import the calls file twice, print timings as JSON."""
    engine = make_engine(url)
    options = DialerOptions(now=IMPORT_NOW, creditor_code="BENCH")
    started, cpu = time.perf_counter(), time.process_time()
    first = import_call_results(engine, [Path(csv)], options)
    first_s, first_cpu = time.perf_counter() - started, time.process_time() - cpu
    started, cpu = time.perf_counter(), time.process_time()
    second = import_call_results(engine, [Path(csv)], options)
    second_s, second_cpu = time.perf_counter() - started, time.process_time() - cpu
    print(
        json.dumps(
            {
                "rows": first.rows,
                "created": first.created,
                "quarantined": first.quarantined,
                "violations": first.violations,
                "promises": first.promises,
                "alerts": first.alerts,
                "errors": [e.message for e in first.errors],
                "first_import_s": round(first_s, 2),
                "first_import_cpu_s": round(first_cpu, 2),
                "reimport_unchanged": second.unchanged,
                "reimport_s": round(second_s, 2),
                "reimport_cpu_s": round(second_cpu, 2),
                "load": os.getloadavg(),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def bench(directory: Path, calls: int, accounts: int, collectors: int) -> dict[str, Any]:
    directory.mkdir(parents=True, exist_ok=True)
    database = directory / "dialer-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    console.print(f"building a store of {accounts:,} accounts …")
    build = prepare_store(url, accounts, collectors)
    csv = calls_csv(directory / "calls.csv", accounts, calls, collectors)
    fix_numbers(url, csv)
    console.print(f"importing {calls:,} calls (child process) …")
    child = subprocess.run(
        [sys.executable, "-m", "bench.dialer_import", "--measure", url, str(csv)],
        check=True,
        capture_output=True,
        text=True,
    )
    measured: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    return {"calls": calls, "accounts": accounts, "build": build, **measured}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--accounts", type=int, default=250_000)
    parser.add_argument("--collectors", type=int, default=100)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-dialer"))
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        _measure_import(*args.measure)
        return
    result = bench(args.dir, args.calls, args.accounts, args.collectors)
    console.print(
        f"{result['calls']:,} calls: first import {result['first_import_s']} s "
        f"(CPU {result['first_import_cpu_s']} s) "
        f"({result['created']:,} created, {result['quarantined']} quarantined, "
        f"{result['violations']:,} violations), re-import {result['reimport_s']} s "
        f"({result['reimport_unchanged']:,} unchanged), peak RSS {result['peak_rss_mb']} MB"
    )
    print(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
