"""Benchmark: posting 1,000,000 payments from a file through the waterfall (target ≤ 60 s
on SQLite) and judging 1,000,000 open promises in the daily cycle (target ≤ 5 s).

    python -m bench.repayment [--payments 1000000] [--promises 1000000]
                              [--store-accounts 1300000] [--dir /tmp/cuishou-bench-repay]

1. builds a store of ``--payments`` accounts by bulk insert (``bench.daily_cycle``'s
   synthetic portfolio), writes a payments CSV with one payment per row on random
   accounts (several per account for a third of them) and, in a child process, imports
   it through the real path (read → validate → quarantine → allocate_frame → set-based
   post), then imports it again (every reference already posted: unchanged);
2. judges ``--promises`` open promises, one per case, against 1.2 payments per case with
   the pure cycle step ``steps.judge_promises`` (median of 3 runs; this is the part the
   cycle adds — its load and write ride on the cycle's one read and one transaction);
3. with ``--store-accounts N``: the whole daily cycle on a store of N accounts, the day
   before with no promises and then with one open promise per case (all judged that day).

Prints a results table (stderr) and one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import statistics
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console

from bench.daily_cycle import SNAPSHOT, build_store
from cuishou.engine import steps
from cuishou.engine.config import DEFAULT_CONFIG
from cuishou.engine.runner import run_daily_cycle
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.store.bulk import BulkStore
from cuishou.store.db import make_engine

console = Console(stderr=True)
AS_OF = date(2026, 11, 20)


def payments_csv(path: Path, accounts: int, rows: int, seed: int = 11) -> Path:
    rng = random.Random(seed)
    account_ids = [rng.randrange(1, accounts + 1) for _ in range(rows)]
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "creditor_code": "BENCH",
            "account_no": [f"AC{a:09d}" for a in account_ids],
            "amount": [f"{rng.randrange(100, 500_000) / 100:.2f}" for _ in range(rows)],
            "paid_at": [
                (start + timedelta(seconds=rng.randrange(0, 15 * 86_400))).strftime(
                    "%Y-%m-%d %H:%M:%S"
                )
                for _ in range(rows)
            ],
            "reference": [f"BP{i:010d}" for i in range(rows)],
            "channel": "银行转账",
        }
    )
    frame.write_csv(path)
    return path


def _measure_import(url: str, csv: str) -> None:
    """Child process: import the payments file twice, print timings as JSON."""
    engine = make_engine(url)
    options = ImportOptions(
        as_of=AS_OF, now=datetime(2026, 11, 20, 2, tzinfo=UTC), creditor_code="BENCH"
    )
    started = time.perf_counter()
    first = run_import(engine, [Path(csv)], options)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = run_import(engine, [Path(csv)], options)
    second_s = time.perf_counter() - started
    print(
        json.dumps(
            {
                "rows": first.rows,
                "posted": first.created,
                "quarantined": first.quarantined,
                "first_import_s": round(first_s, 2),
                "reimport_unchanged": second.unchanged,
                "reimport_s": round(second_s, 2),
                "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            }
        )
    )


def bench_payments(directory: Path, rows: int) -> dict[str, Any]:
    database = directory / "repay-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    console.print(f"building a store of {rows:,} accounts …")
    build = build_store(url, rows)
    csv = payments_csv(directory / "payments.csv", rows, rows)
    console.print(f"importing {rows:,} payments (child process) …")
    child = subprocess.run(
        [sys.executable, "-m", "bench.repayment", "--child-import", url, str(csv)],
        check=True,
        capture_output=True,
        text=True,
    )
    result: dict[str, Any] = json.loads(child.stdout.strip().splitlines()[-1])
    result["build_s"] = round(sum(build.values()), 2)
    return result


def promise_frames(cases: int, seed: int = 5) -> dict[str, pl.DataFrame]:
    rng = random.Random(seed)
    accounts = pl.DataFrame({"id": range(1, cases + 1), "case_id": range(1, cases + 1)})
    payers = [rng.randrange(1, cases + 1) for _ in range(int(cases * 1.2))]
    start = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
    payments = pl.DataFrame(
        {
            "account_id": payers,
            "paid_at": [start + timedelta(seconds=rng.randrange(0, 20 * 86_400)) for _ in payers],
            "amount_fen": [rng.randrange(1_000, 200_000) for _ in payers],
            "tz": "Asia/Shanghai",
        },
        schema_overrides={"paid_at": pl.Datetime("us", "UTC")},
    )
    promises = pl.DataFrame(
        {
            "id": range(1, cases + 1),
            "case_id": range(1, cases + 1),
            "amount_fen": [rng.randrange(10_000, 200_000) for _ in range(cases)],
            "due_date": [SNAPSHOT + timedelta(days=rng.randrange(2, 20)) for _ in range(cases)],
            "created_at": [start - timedelta(hours=rng.randrange(0, 24)) for _ in range(cases)],
            "tz": "Asia/Shanghai",
        },
        schema_overrides={"created_at": pl.Datetime("us", "UTC")},
    )
    return {"accounts": accounts, "payments": payments, "promises": promises}


def bench_promises(cases: int) -> dict[str, Any]:
    frames = promise_frames(cases)
    timings = []
    judged = pl.DataFrame()
    for _ in range(3):
        started = time.perf_counter()
        judged = steps.judge_promises(
            frames["promises"], frames["accounts"], frames["payments"], AS_OF, DEFAULT_CONFIG
        )
        timings.append(time.perf_counter() - started)
    counts = dict(judged.group_by("status").len().iter_rows())
    return {
        "promises": cases,
        "payments": frames["payments"].height,
        "judge_s_median": round(statistics.median(timings), 3),
        "judge_s_runs": [round(t, 3) for t in timings],
        "judged": {str(k): int(v) for k, v in counts.items()},
    }


def bench_promises_in_store(directory: Path, accounts: int) -> dict[str, Any]:
    """The whole daily cycle with one open promise per case, against the same cycle the
    day before with none (the difference is what judging promises costs end to end)."""
    database = directory / "promise-bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    url = f"sqlite:///{database}"
    console.print(f"building a store of {accounts:,} accounts and cycling it …")
    build_store(url, accounts)
    engine = make_engine(url)
    run_daily_cycle(engine, SNAPSHOT, now=datetime(2026, 11, 2, 1, tzinfo=UTC), scoring=False)
    plain = run_daily_cycle(
        engine, SNAPSHOT + timedelta(days=1), now=datetime.now(UTC), scoring=False
    )
    with BulkStore(engine).write() as bulk:
        bulk.execute(
            "INSERT INTO users (id, username, display_name, role, active, created_at) "
            "VALUES (1, 'bench', 'bench', 'collector', 1, :now)",
            now=datetime(2026, 11, 1, tzinfo=UTC),
        )
        bulk.execute(
            "INSERT INTO promises (case_id, contact_id, amount_fen, due_date, status, "
            "created_by, created_at, paid_fen) SELECT id, NULL, 50000 + (id % 7) * 10000, "
            ":due, 'open', 1, :at, 0 FROM cases",
            due=SNAPSHOT + timedelta(days=2),
            at=datetime(2026, 11, 1, 2, tzinfo=UTC),
        )
    judged = run_daily_cycle(
        engine, SNAPSHOT + timedelta(days=6), now=datetime.now(UTC), scoring=False
    )
    steps_of = {s.name: round(s.seconds, 2) for s in judged.steps}
    return {
        "accounts": accounts,
        "cases": judged.cases,
        "promises_judged": judged.promises_judged,
        "cycle_without_promises_s": round(plain.seconds, 2),
        "cycle_with_promises_s": round(judged.seconds, 2),
        "steps_with_promises_s": steps_of,
        "steps_without_promises_s": {s.name: round(s.seconds, 2) for s in plain.steps},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--payments", type=int, default=1_000_000)
    parser.add_argument("--promises", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-repay"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--store-accounts",
        type=int,
        default=0,
        help="also run the whole cycle with one open promise per case on a store of this "
        "many accounts (1,300,000 gives about 1,000,000 cases)",
    )
    parser.add_argument("--child-import", nargs=2, metavar=("URL", "CSV"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child_import:
        _measure_import(*args.child_import)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {"promises": bench_promises(args.promises)}
    if args.store_accounts:
        results["promises_in_store"] = bench_promises_in_store(args.dir, args.store_accounts)
    if args.payments:
        results["payments_file"] = bench_payments(args.dir, args.payments)
    console.print_json(data=results)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
