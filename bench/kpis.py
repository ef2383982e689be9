"""Benchmark: every KPI for 1,000,000 accounts with 90 days of history (SQLite).

    python -m bench.kpis [--accounts 1000000] [--days 90] [--dir /tmp/cuishou-bench-kpis] [--json]
                         [--reuse]

1. builds the daily-cycle benchmark's store (``bench.daily_cycle.build_store``: accounts,
   ledger openings, payments on a fifth) and runs the real daily cycle once (cases, first
   bucket history rows);
2. adds 90 days of history by bulk insert: 100 collectors in 5 teams with the cases dealt
   round-robin (a ``case.assigned`` event each the day before, one case in twenty
   reassigned to the next collector on a day inside the period), ~20 contacts per
   collector per day … in all ``contacts_per_day`` a day
   (calls, SMS, visits; a realistic outcome mix), a promise on a third of right-party
   contacts, payments (with their ledger entries) on 1% of accounts a week, and a bucket
   history row at each month end for a third of the accounts;
3. times :func:`cuishou.kpis.service.figures` on the engine (the batch path) for the whole
   period: the total, ``by=collector``, ``by=bucket`` and ``by=day`` (which also reads the
   4 weeks before for the anomaly flags) — wall and this process's CPU time, and a digest
   of every figure of the four reports (``reports_sha256``) to compare runs by.

Target (issue #11): ≤ 10 s on SQLite for every metric. Prints a table (stderr) and JSON.
``--reuse`` times a store an earlier run left in ``--dir`` instead of building one.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from bench.daily_cycle import NOW, SNAPSHOT, build_store
from cuishou.engine.runner import run_daily_cycle
from cuishou.kpis.service import figures
from cuishou.store.bulk import BulkStore
from cuishou.store.db import make_engine

OUTCOMES = [
    "no_answer",
    "powered_off",
    "connected_debtor",
    "connected_third_party",
    "promise",
    "refused",
    "negotiating",
    "rejected",
    "invalid_number",
    "complaint",
]
WEIGHTS = [0.18, 0.04, 0.35, 0.12, 0.12, 0.05, 0.10, 0.02, 0.01, 0.01]  # fmt: skip
DEBTOR = {"connected_debtor", "promise", "refused", "negotiating", "complaint"}


STATUSES = ["kept", "broken", "partly_kept", "open"]


def party_of(outcome: str) -> str:
    if outcome in DEBTOR:
        return "debtor"
    return "third_party" if outcome == "connected_third_party" else "none"


def _payload(previous: pl.Expr | None, user: pl.Expr) -> pl.Expr:
    """The ``case.assigned`` payload ``cases.service.assign_cases`` writes (as JSON text)."""

    def name(u: pl.Expr) -> pl.Expr:
        return pl.concat_str(pl.lit('"col'), u.cast(pl.String).str.zfill(3), pl.lit('"'))

    return pl.concat_str(
        pl.lit('{"from": '), pl.lit("null") if previous is None else name(previous),
        pl.lit(', "to": '), name(user), pl.lit(', "team_id": '),
        ((user - 1) % 5 + 1).cast(pl.String), pl.lit(', "agency_id": null}'),
    )  # fmt: skip


def assignment_events(
    case_ids: pl.Series, start: datetime, days: int, rng: random.Random
) -> pl.DataFrame:
    """分案 events: every case dealt (``case.assigned``) the day before the period, and one
    in twenty reassigned to the next collector at 08:00 on a day inside it."""
    cases = pl.DataFrame({"case_id": case_ids}).with_columns(
        ((pl.col("case_id") % 100) + 1).alias("owner"),
        (((pl.col("case_id") + 1) % 100) + 1).alias("next_owner"),
    )
    dealt = cases.select(
        pl.lit(start - timedelta(hours=16)).alias("at"), pl.lit("bench").alias("actor"),
        "case_id", _payload(None, pl.col("owner")).alias("payload"),
    )  # fmt: skip
    moved_ids = sorted(rng.sample(case_ids.to_list(), k=case_ids.len() // 20))
    offsets = [timedelta(days=rng.randrange(days), hours=8) for _ in moved_ids]
    moved = (
        cases.filter(pl.col("case_id").is_in(moved_ids))
        .sort("case_id")
        .select(
            pl.Series("at", [start + o for o in offsets]), pl.lit("bench-reassign").alias("actor"),
            "case_id", _payload(pl.col("owner"), pl.col("next_owner")).alias("payload"),
        )
    )  # fmt: skip
    return pl.concat([dealt, moved]).select(
        "at", "actor", pl.lit("case.assigned").alias("type"), pl.lit("case").alias("entity_type"),
        pl.col("case_id").alias("entity_id"), "case_id", "payload",
    )  # fmt: skip


def add_history(url: str, days: int, contacts_per_day: int, seed: int = 11) -> dict[str, int]:
    rng = random.Random(seed)
    engine = make_engine(url)
    store = BulkStore(engine)
    with store.write() as bulk:
        cases = bulk.fetch(
            "SELECT id, debtor_id FROM cases ORDER BY id",
            {"id": pl.Int64(), "debtor_id": pl.Int64()},
        )
        points = cases.select(
            pl.col("id").alias("case_id"), pl.int_range(1, pl.len() + 1).alias("id"),
            "debtor_id",
        )  # fmt: skip
        stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f") if store.sqlite else NOW
        teams = pl.DataFrame({"id": range(1, 6), "name": [f"组{i}" for i in range(1, 6)],
                              "created_at": [stamp] * 5})  # fmt: skip
        users = pl.DataFrame({
            "id": range(1, 101), "username": [f"col{i:03d}" for i in range(1, 101)],
            "display_name": [f"催收员{i}" for i in range(1, 101)], "role": "collector",
            "team_id": [(i % 5) + 1 for i in range(100)], "active": 1 if store.sqlite else True,
            "created_at": [stamp] * 100,
        })  # fmt: skip
        bulk.cursor.adbc_ingest("teams", teams.to_arrow(), mode="append")
        bulk.cursor.adbc_ingest("users", users.to_arrow(), mode="append")
        bulk.execute(
            "UPDATE cases SET assigned_user_id = (id % 100) + 1, team_id = ((id % 100) % 5) + 1"
        )
        start = datetime.combine(SNAPSHOT, datetime.min.time(), tzinfo=UTC)
        moved = assignment_events(cases["id"], start, days, rng)
        bulk.cursor.adbc_ingest("events", store.dialect.stageable(moved).to_arrow(), mode="append")
        bulk.execute(
            """UPDATE cases SET assigned_user_id = ((id + 1) % 100) + 1,
                team_id = (((id + 1) % 100) % 5) + 1
            WHERE id IN (SELECT case_id FROM events WHERE type = 'case.assigned'
                AND actor = 'bench-reassign')"""
        )
        bulk.cursor.adbc_ingest(
            "contact_points",
            points.select("id", "debtor_id", pl.lit("mobile").alias("kind"),
                          pl.format("1380000{}", pl.col("id")).alias("value"),
                          pl.lit("").alias("label"), pl.lit("debtor").alias("owner"),
                          pl.lit("").alias("owner_name"), pl.lit("active").alias("status"),
                          pl.lit("placement").alias("source"),
                          pl.lit(stamp).alias("created_at")).to_arrow(),
            mode="append",
        )  # fmt: skip
        n = days * contacts_per_day
        case_ids = cases["id"].to_list()
        picked = rng.choices(case_ids, k=n)
        ats = [start + timedelta(days=i // contacts_per_day, seconds=rng.randrange(3600, 12 * 3600))
               for i in range(n)]  # fmt: skip
        outcomes = rng.choices(OUTCOMES, weights=WEIGHTS, k=n)
        contacts = pl.DataFrame({
            "id": range(1, n + 1), "case_id": picked, "contact_point_id": picked,
            "user_id": [(c % 100) + 1 for c in picked],
            "channel": rng.choices(["call", "sms", "visit"], weights=[0.9, 0.08, 0.02], k=n),
            "party": [party_of(o) for o in outcomes],
            "outcome": outcomes, "notes": "", "at": ats, "created_at": ats,
        })  # fmt: skip
        rpc = contacts.filter((pl.col("party") == "debtor") & (pl.int_range(pl.len()) % 3 == 0))
        promises = rpc.select(
            pl.int_range(1, pl.len() + 1).alias("id"), "case_id", pl.col("id").alias("contact_id"),
            pl.lit(10_000, dtype=pl.Int64).alias("amount_fen"),
            (pl.col("at").dt.date() + pl.duration(days=7)).alias("due_date"),
            pl.Series(rng.choices(STATUSES, k=rpc.height)).alias("status"),
            pl.col("user_id").alias("created_by"), pl.col("at").alias("created_at"),
            pl.lit(0, dtype=pl.Int64).alias("paid_fen"),
        )  # fmt: skip
        for name, frame in (("contacts", contacts), ("promises", promises)):
            bulk.cursor.adbc_ingest(name, store.dialect.stageable(frame).to_arrow(), mode="append")
        accounts = bulk.fetch(
            "SELECT id, case_id FROM accounts", {"id": pl.Int64(), "case_id": pl.Int64()}
        )
        top = bulk.fetch("SELECT MAX(id) AS id FROM ledger_entries", {"id": pl.Int64()}).item()
        weekly = max(1, accounts.height // 100)
        paid = []
        for week in range(days // 7):
            for account in rng.sample(accounts["id"].to_list(), k=weekly):
                paid.append((account, SNAPSHOT + timedelta(days=week * 7 + rng.randrange(7))))
        ledger = pl.DataFrame({
            "id": range(top + 1, top + 1 + len(paid)), "account_id": [a for a, _ in paid],
            "kind": "payment", "fee_fen": 0, "penalty_fen": 0, "interest_fen": 0,
            "principal_fen": -100, "credit_fen": 0, "effective_on": [d for _, d in paid],
            "source": "import", "reference": [f"KPI{i:09d}" for i in range(len(paid))],
            "actor": "bench", "reason": "", "at": [NOW] * len(paid),
        })  # fmt: skip
        bulk.cursor.adbc_ingest(
            "ledger_entries", store.dialect.stageable(ledger).to_arrow(), mode="append"
        )
        history = []
        for month in range(1, days // 30 + 1):
            day = SNAPSHOT + timedelta(days=30 * month - 1)
            for account in rng.sample(accounts["id"].to_list(), k=accounts.height // 3):
                history.append((account, day, rng.choice(["M1", "M2", "M3", "M0"])))
        frame = pl.DataFrame({
            "account_id": [a for a, _, _ in history], "as_of": [d for _, d, _ in history],
            "dpd": 40, "bucket": [b for _, _, b in history], "amount_tier": "small",
            "due_fen": 0, "status": "open", "movement": "roll_forward", "scheme": "bench",
        })  # fmt: skip
        bulk.cursor.adbc_ingest(
            "bucket_history", store.dialect.stageable(frame).to_arrow(), mode="append"
        )
        if not store.sqlite:
            for table in (
                "teams",
                "users",
                "contact_points",
                "contacts",
                "promises",
                "ledger_entries",
            ):
                bulk.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            bulk.execute("ANALYZE")
        else:
            bulk.execute("ANALYZE")
    engine.dispose()
    return {"contacts": contacts.height, "promises": promises.height, "payments": len(paid),
            "history_rows": len(history)}  # fmt: skip


def digest(reports: dict[str, Any]) -> str:
    """A fingerprint of every figure of the timed reports (their JSON, keys sorted): two runs
    with the same figures have the same digest, whatever their speed."""
    text = json.dumps(reports, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def measure(url: str, days: int) -> dict[str, Any]:
    engine = make_engine(url)
    end = SNAPSHOT + timedelta(days=days - 1)
    timings: dict[str, Any] = {}
    cpu: dict[str, float] = {}
    reports: dict[str, Any] = {}
    for by in (None, "collector", "bucket", "day"):
        t, c = time.perf_counter(), time.process_time()
        report = figures(engine, None, SNAPSHOT, end, by)
        timings[by or "total"] = round(time.perf_counter() - t, 2)
        cpu[by or "total"] = round(time.process_time() - c, 2)
        reports[by or "total"] = report.model_dump(mode="json", by_alias=True)
        if by is None:
            total = report.total
            timings["figures"] = {
                "recovered": total.recovered, "recovery_rate": total.recovery_rate,
                "calls": total.calls, "connect_rate": total.connect_rate,
                "promises": total.promises, "book_cases": total.book_cases,
            }  # fmt: skip
    engine.dispose()
    timings["cpu"] = cpu
    timings["reports_sha256"] = digest(reports)
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--contacts-per-day", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-kpis"))
    parser.add_argument("--json", action="store_true")
    parser.add_argument(
        "--reuse", action="store_true", help="time the store already in --dir (built earlier)"
    )
    args = parser.parse_args(argv)
    url = f"sqlite:///{args.dir / 'kpis.db'}"
    t = time.perf_counter()
    added: dict[str, int] = {}
    if not (args.reuse and (args.dir / "kpis.db").exists()):
        shutil.rmtree(args.dir, ignore_errors=True)
        args.dir.mkdir(parents=True)
        build_store(url, args.accounts)
        engine = make_engine(url)
        run_daily_cycle(engine, SNAPSHOT, now=NOW, scoring=False)
        engine.dispose()
        added = add_history(url, args.days, args.contacts_per_day)
    built = round(time.perf_counter() - t, 1)
    timings = measure(url, args.days)
    result = {"accounts": args.accounts, "days": args.days, "build_s": built, **added, **timings}
    table = Table(title=f"KPIs, {args.accounts:,} accounts, {args.days} days (SQLite)")
    for name in ("total", "collector", "bucket", "day"):
        table.add_column(f"by {name}" if name != "total" else "total", justify="right")
    names = ("total", "collector", "bucket", "day")
    table.add_row(*(f"{timings[n]:.2f} s" for n in names))
    table.add_row(*(f"CPU {timings['cpu'][n]:.2f} s" for n in names))
    Console(stderr=True).print(table)
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
