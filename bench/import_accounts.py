"""Benchmark: importing a 1,000,000-row placement accounts CSV (target ≤ 60 s on SQLite).

    python -m bench.import_accounts [--accounts 1000000] [--dir /tmp/cuishou-bench-import]
                                    [--postgres URL] [--json]

The file is made by the real generator (``cuishou generate``: Chinese headers, co-debt,
third parties) and imported through the real import path (read → validate → quarantine →
one transaction) into a fresh, migrated store. The import runs in a child process so its
peak RSS is its own. A second import of the same file measures the idempotent path.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, text

from cuishou.generator.portfolio import generate_portfolio, write_portfolio
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.store.db import make_engine, upgrade

AS_OF = date(2026, 11, 20)
console = Console(stderr=True)


def _measure(url: str, csv: str) -> None:
    """Child process: import the file twice, print timings as JSON."""
    engine = make_engine(url)
    options = ImportOptions(
        as_of=AS_OF, now=datetime(2026, 11, 20, 2, tzinfo=UTC), creditor_code="DEMOBANK"
    )
    started = time.perf_counter()
    first = run_import(engine, [Path(csv)], options)
    first_s = time.perf_counter() - started
    started = time.perf_counter()
    second = run_import(engine, [Path(csv)], options)
    second_s = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "rows": first.rows,
                "accepted": first.accepted,
                "created": first.created,
                "first_import_s": round(first_s, 2),
                "reimport_unchanged": second.unchanged,
                "reimport_s": round(second_s, 2),
                "peak_rss_mb": round(peak_mb),
            }
        )
    )


def _fresh_store(url: str | None, directory: Path) -> str:
    if url is None:
        database = directory / "import-bench.db"
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database}{suffix}").unlink(missing_ok=True)
        url = f"sqlite:///{database}"
    else:
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        admin.dispose()
    upgrade(make_engine(url))
    return url


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-import"))
    parser.add_argument("--postgres", help="also import into this PostgreSQL URL (schema reset)")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.measure:
        _measure(*args.measure)
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    portfolio = generate_portfolio(accounts=args.accounts, seed=1, as_of=AS_OF)
    paths = write_portfolio(portfolio, args.dir)
    generate_s = time.perf_counter() - started
    csv = str(paths[0])
    results: list[dict[str, Any]] = []
    stores = [("sqlite", None)] + ([("postgresql", args.postgres)] if args.postgres else [])
    for label, url in stores:
        resolved = _fresh_store(url, args.dir)
        done = subprocess.run(
            [sys.executable, "-m", "bench.import_accounts", "--measure", resolved, csv],
            capture_output=True,
            text=True,
            check=True,
        )
        results.append(
            {"store": label, "generate_s": round(generate_s, 2)} | json.loads(done.stdout)
        )
    table = Table(title=f"import of {args.accounts:,} accounts (target ≤ 60 s on SQLite)")
    for column in ("store", "rows", "accepted", "first_import_s", "reimport_s", "peak_rss_mb"):
        table.add_column(column, justify="right")
    for row in results:
        table.add_row(
            *(
                str(row[c])
                for c in (
                    "store",
                    "rows",
                    "accepted",
                    "first_import_s",
                    "reimport_s",
                    "peak_rss_mb",
                )
            )
        )
    console.print(table)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
