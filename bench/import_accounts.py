"""Benchmark: importing a 1,000,000-row placement accounts CSV (target ≤ 60 s, ≤ 2 GB on SQLite).

    python -m bench.import_accounts [--accounts 1000000] [--dir /tmp/cuishou-bench-import]
                                    [--postgres URL] [--xlsx ROWS] [--json]

The file is made by the real generator (``cuishou generate``: Chinese headers, co-debt,
third parties) and imported through the real import path (read → validate → quarantine →
one transaction) into a fresh, migrated store. Each import runs in a child process of its
own, so its peak RSS is its own: the first import, then the same file again (the idempotent
path). ``--xlsx ROWS`` also writes the first ROWS accounts as a workbook (openpyxl, as the
generator does) and reads it: the survey of its parts before calamine reads it
(``placement/workbook.py``), then the whole read, each with its time and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
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
from cuishou.placement.limits import DEFAULT_LIMITS
from cuishou.placement.reader import read_source
from cuishou.placement.service import ImportOptions
from cuishou.placement.workbook import survey_xlsx
from cuishou.store.db import make_engine, upgrade

AS_OF = date(2026, 11, 20)
console = Console(stderr=True)


def _peak_mb() -> int:
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)


def _cpu_s() -> float:
    """CPU seconds of this process: a figure the other processes on the box change less."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _measure(url: str, csv: str) -> None:
    """Child process: import the file once, print counts, time and peak RSS as JSON."""
    engine = make_engine(url)
    options = ImportOptions(
        as_of=AS_OF, now=datetime(2026, 11, 20, 2, tzinfo=UTC), creditor_code="DEMOBANK"
    )
    started, cpu = time.perf_counter(), _cpu_s()
    result = run_import(engine, [Path(csv)], options)
    seconds, cpu = time.perf_counter() - started, _cpu_s() - cpu
    print(
        json.dumps(
            {
                "rows": result.rows,
                "accepted": result.accepted,
                "created": result.created,
                "unchanged": result.unchanged,
                "seconds": round(seconds, 2),
                "cpu_s": round(cpu, 1),
                "peak_rss_mb": _peak_mb(),
            }
        )
    )


def _measure_xlsx(path: str, step: str) -> None:
    """Child process: survey the workbook, or read it whole (survey included)."""
    started = time.perf_counter()
    if step == "survey":
        survey_xlsx(Path(path), DEFAULT_LIMITS)
        rows = 0
    else:
        rows = read_source(Path(path)).rows
    print(json.dumps({"rows": rows, "seconds": round(time.perf_counter() - started, 2),
                      "peak_rss_mb": _peak_mb()}))  # fmt: skip


def _child(*args: str) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "bench.import_accounts", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


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
    parser.add_argument("--xlsx", type=int, default=0, help="also read a workbook of ROWS rows")
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--measure-xlsx", nargs=2, help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.measure:
        _measure(*args.measure)
        return
    if args.measure_xlsx:
        _measure_xlsx(*args.measure_xlsx)
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
        load = os.getloadavg()[0]
        first = _child("--measure", resolved, csv)
        again = _child("--measure", resolved, csv)
        results.append(
            {
                "store": label,
                "generate_s": round(generate_s, 2),
                "load_before": round(load, 1),
                "load_after": round(os.getloadavg()[0], 1),
                "rows": first["rows"],
                "accepted": first["accepted"],
                "first_import_s": first["seconds"],
                "first_cpu_s": first["cpu_s"],
                "first_peak_rss_mb": first["peak_rss_mb"],
                "reimport_unchanged": again["unchanged"],
                "reimport_s": again["seconds"],
                "reimport_cpu_s": again["cpu_s"],
                "reimport_peak_rss_mb": again["peak_rss_mb"],
            }
        )
    columns = ("store", "rows", "first_import_s", "first_cpu_s", "first_peak_rss_mb",
               "reimport_s", "reimport_cpu_s", "reimport_peak_rss_mb", "load_before",
               "load_after")  # fmt: skip
    table = Table(title=f"import of {args.accounts:,} accounts (target ≤ 60 s, ≤ 2 GB on SQLite)")
    for column in columns:
        table.add_column(column, justify="right")
    for row in results:
        table.add_row(*(str(row[c]) for c in columns))
    console.print(table)
    if args.xlsx:
        workbook_dir = args.dir / "xlsx"
        small = generate_portfolio(accounts=args.xlsx, seed=1, as_of=AS_OF)
        book = str(write_portfolio(small, workbook_dir, fmt="xlsx")[0])
        survey = _child("--measure-xlsx", book, "survey")
        whole = _child("--measure-xlsx", book, "read")
        results.append({"store": "xlsx", "rows": whole["rows"], "survey_s": survey["seconds"],
                        "survey_peak_rss_mb": survey["peak_rss_mb"], "read_s": whole["seconds"],
                        "read_peak_rss_mb": whole["peak_rss_mb"]})  # fmt: skip
        console.print(
            f"workbook of {args.xlsx:,} rows: survey {survey['seconds']} s "
            f"(peak {survey['peak_rss_mb']} MB); read with the survey {whole['seconds']} s "
            f"(peak {whole['peak_rss_mb']} MB)"
        )
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
