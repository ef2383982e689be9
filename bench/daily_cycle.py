"""Benchmark: the daily cycle on 1,000,000 accounts (SQLite; optionally PostgreSQL).

    python -m bench.daily_cycle [--accounts 1000000] [--dir /tmp/cuishou-bench]
                                [--naive 100000] [--postgres URL] [--json]

1. builds a store FAST by bulk-inserting synthetic (valid but not imported) rows with
   ADBC: creditors, placements, debtors (co-debt: ~1.3 accounts per debtor), accounts
   with a realistic DPD mix, installments on a third, and payments on a fifth;
2. in a fresh child process (so peak RSS is the cycle's own), runs the cycle for the
   snapshot date (first sight: every account new, every case created) and for the
   next day (steady state), and measures the bare floors in the same run: a bulk read
   of the same account columns plus a bulk write (staging ingest + ``UPDATE … FROM``) of
   the same decision columns ("accounts"); everything the cycle reads plus a rewrite of
   the account and case rows ("full", the next day's floor); and for the first day the
   same rows that day writes — cases inserted, accounts linked, history and events —
   with no decisions computed ("first day");
3. runs a naive row-at-a-time ORM version of the DPD step on ``--naive`` accounts
   (load each Account, sum its payments, scalar DPD rule, UPDATE, one commit) — the
   way a typical system ages loans — and reports the ratio per account.

Prints a results table (stderr) and one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select, text, update
from sqlalchemy.orm import Session

from cuishou.accounts.rules import (
    DEFAULT_BUCKETS,
    AgingFacts,
    amount_tier_of,
    bucket_of,
    days_past_due,
    outstanding_fen,
)
from cuishou.engine.io import load_snapshot
from cuishou.engine.runner import run_daily_cycle
from cuishou.kit.ids import id_check_digit
from cuishou.repayment.rules import allocate_frame
from cuishou.store.bulk import AdbcBulk, BulkStore
from cuishou.store.db import make_engine, upgrade
from cuishou.store.tables import Account, Payment

SNAPSHOT = date(2026, 11, 1)
NOW = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
console = Console(stderr=True)


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# ------------------------------------------------------------------ building


def _stamp(store: BulkStore, n: int) -> pl.Series:
    if store.sqlite:
        return pl.Series([NOW.strftime("%Y-%m-%d %H:%M:%S.%f")] * n, dtype=pl.String)
    return pl.Series([NOW] * n, dtype=pl.Datetime("us", "UTC"))


def synthetic_frames(accounts: int, seed: int = 7) -> dict[str, pl.DataFrame]:
    """Debtors, accounts and payments as frames (ids from 1, valid ID numbers)."""
    rng = random.Random(seed)
    debtors = max(1, int(accounts / 1.3))
    births = [date(1960, 1, 1) + timedelta(days=rng.randrange(14_000)) for _ in range(debtors)]
    first17 = [
        f"{110101 + (s // 1000) % 800000:06d}{b:%Y%m%d}{s % 1000:03d}"
        for s, b in zip(range(1, debtors + 1), births, strict=True)
    ]
    id_numbers = [f + id_check_digit(f) for f in first17]
    debtor_frame = pl.DataFrame(
        {
            "id": range(1, debtors + 1),
            "id_number": id_numbers,
            "name": [f"债务人{s}" for s in range(1, debtors + 1)],
            "gender": ["M" if int(n[16]) % 2 else "F" for n in id_numbers],
            "birth_date": births,
            "province": "广东省",
            "city": "深圳市",
            "timezone": "Asia/Shanghai",
        }
    ).unique("id_number", keep="first", maintain_order=True)
    debtor_ids = debtor_frame.get_column("id").to_list()
    # every debtor gets one account; the rest go to random debtors (共债)
    owner = (debtor_ids + rng.choices(debtor_ids, k=max(0, accounts - len(debtor_ids))))[:accounts]
    principal = [round(rng.lognormvariate(9.6, 1.0) * 100) for _ in range(accounts)]
    interest = [int(p * rng.uniform(0.0, 0.15)) for p in principal]
    penalty = [int(p * rng.uniform(0.0, 0.05)) for p in principal]
    due = [p + i + q for p, i, q in zip(principal, interest, penalty, strict=True)]
    centres = rng.choices(
        [1, 15, 45, 75, 100, 135, 165, 250, 600],
        weights=[0.2, 0.2, 0.15, 0.12, 0.1, 0.07, 0.05, 0.06, 0.05],
        k=accounts,
    )
    overdue_since = [SNAPSHOT - timedelta(days=max(1, c + rng.randrange(-10, 10))) for c in centres]
    installment = [max(d // 6, 1) if rng.random() < 0.33 else 0 for d in due]
    products = rng.choices(["credit_card", "consumer_loan", "small_business"], k=accounts)
    account_frame = pl.DataFrame(
        {
            "id": range(1, accounts + 1),
            "creditor_id": 1,
            "placement_id": 1,
            "debtor_id": owner,
            "product_code": products,
            "currency": "CNY",
            "principal_fen": principal,
            "interest_fen": interest,
            "penalty_fen": penalty,
            "fee_fen": 0,
            "credit_fen": 0,
            "snapshot_date": SNAPSHOT,
            "snapshot_due_fen": due,
            "overdue_since": overdue_since,
            "installment_fen": installment,
            "content_hash": "bench",
            "status": "open",
            "dpd": 0,
            "bucket": "M0",
            "amount_tier": "small",
        },
        schema_overrides={"principal_fen": pl.Int64, "snapshot_due_fen": pl.Int64},
    ).with_columns(pl.format("AC{}", pl.col("id").cast(pl.String).str.zfill(9)).alias("account_no"))
    payers = rng.sample(range(1, accounts + 1), k=accounts // 5)
    start = datetime.combine(SNAPSHOT, datetime.min.time(), tzinfo=UTC)
    amounts = [
        due[a - 1] if rng.random() < 0.25 else max(due[a - 1] // rng.randrange(2, 8), 1)
        for a in payers
    ]
    payment_frame = pl.DataFrame(
        {
            "creditor_id": 1,
            "account_id": payers,
            "reference": [f"PAY{i:09d}" for i in range(len(payers))],
            "amount_fen": amounts,
            # 16:00 UTC on the snapshot date + up to 24 h: the next two local days (Beijing)
            "paid_at": [
                start + timedelta(seconds=rng.randrange(16 * 3600, 40 * 3600)) for _ in payers
            ],
            "source": "file",
            "to_fee_fen": 0,
            "to_penalty_fen": 0,
            "to_interest_fen": 0,
            "to_credit_fen": 0,
        },
        schema_overrides={"amount_fen": pl.Int64},
    ).drop("to_fee_fen", "to_penalty_fen", "to_interest_fen", "to_credit_fen")
    return _posted(debtor_frame, account_frame, payment_frame)


def _posted(
    debtors: pl.DataFrame, accounts: pl.DataFrame, payments: pl.DataFrame
) -> dict[str, pl.DataFrame]:
    """The frames as the import and the posting path would leave them: payments allocated
    through the waterfall, balances less what they took, and the ledger — an opening entry
    per account and an entry per payment (ADR 0016)."""
    owed = ["fee_fen", "penalty_fen", "interest_fen", "principal_fen"]
    allocated = allocate_frame(
        payments.join(accounts.select(pl.col("id").alias("account_id"), *owed), on="account_id")
    )
    taken = allocated.group_by("account_id").agg(
        *(pl.col(f"to_{c}").sum() for c in [*owed, "credit_fen"])
    )
    after = (
        accounts.join(taken, left_on="id", right_on="account_id", how="left")
        .with_columns(pl.col(f"to_{c}").fill_null(0) for c in [*owed, "credit_fen"])
        .with_columns(
            *(pl.col(c) - pl.col(f"to_{c}") for c in owed),
            (pl.col("credit_fen") + pl.col("to_credit_fen")).alias("credit_fen"),
        )
        .drop(*(f"to_{c}" for c in [*owed, "credit_fen"]))
    )
    common = [pl.lit("import").alias("source"), pl.lit("bench").alias("actor"),
              pl.lit("").alias("reason")]  # fmt: skip
    opening = accounts.select(
        pl.col("id").alias("account_id"), pl.lit("placement").alias("kind"), *owed,
        "credit_fen", pl.col("snapshot_date").alias("effective_on"),
        pl.lit(None, dtype=pl.String).alias("reference"), *common,
    )  # fmt: skip
    paid = allocated.select(
        "account_id", pl.lit("payment").alias("kind"),
        *(-pl.col(f"to_{c}").alias(c) for c in owed), pl.col("to_credit_fen").alias("credit_fen"),
        pl.col("paid_at").dt.convert_time_zone("Asia/Shanghai").dt.date().alias("effective_on"),
        "reference", *common,
    )  # fmt: skip
    ledger = pl.concat([opening, paid], how="vertical_relaxed").with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("id")
    )
    return {
        "debtors": debtors,
        "accounts": after,
        "payments": allocated.drop(*owed),
        "ledger_entries": ledger,
    }


def build_store(url: str, accounts: int) -> dict[str, float]:
    """A migrated store holding the synthetic portfolio; returns build timings."""
    timings: dict[str, float] = {}
    t = time.perf_counter()
    engine = make_engine(url)
    upgrade(engine)
    frames = synthetic_frames(accounts)
    timings["generate_s"] = time.perf_counter() - t
    store = BulkStore(engine)
    t = time.perf_counter()
    with store.connect() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN")
        AdbcBulk(store.dialect, cursor).execute(
            "INSERT INTO creditors (id, code, name, timezone, created_at) "
            "VALUES (1, 'BENCH', '基准银行', 'Asia/Shanghai', :now)",
            now=NOW,
        )
        AdbcBulk(store.dialect, cursor).execute(
            "INSERT INTO placements (id, creditor_id, batch_code, placed_on, created_at) "
            "VALUES (1, 1, 'BENCH-1', :day, :now)",
            day=SNAPSHOT,
            now=NOW,
        )
        for name, frame in frames.items():
            stamped = frame.with_columns(
                _stamp(store, frame.height).alias(
                    "created_at" if name != "payments" else "posted_at"
                )
            )
            if name == "debtors":
                stamped = stamped.with_columns(_stamp(store, frame.height).alias("updated_at"))
            if name == "accounts":
                stamped = stamped.with_columns(_stamp(store, frame.height).alias("updated_at"))
            if name == "ledger_entries":
                stamped = stamped.rename({"created_at": "at"})
                if store.sqlite:
                    stamped = stamped.with_columns(pl.col("effective_on").dt.strftime("%Y-%m-%d"))
            if name == "payments" and store.sqlite:
                stamped = stamped.with_columns(
                    pl.col("paid_at").dt.strftime("%Y-%m-%d %H:%M:%S.%6f")
                )
            stamped = stamped.with_columns(
                pl.col(c).cast(pl.Int32 if c == "dpd" else pl.Int64)
                for c, dtype in stamped.schema.items()
                if dtype.is_integer()
            )
            cursor.adbc_ingest(name, stamped.to_arrow(), mode="append")
        if not store.sqlite:
            for table in (
                "creditors", "placements", "debtors", "accounts", "payments", "ledger_entries",
            ):  # fmt: skip
                cursor.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT MAX(id) FROM {table}))"
                )
            cursor.execute("ANALYZE")
        cursor.execute("COMMIT")
    timings["bulk_insert_s"] = time.perf_counter() - t
    engine.dispose()
    return timings


# ------------------------------------------------------------------ measuring


def base_columns_sql(store: BulkStore) -> str:
    """The account columns the cycle loads (nullable ones read as the cycle reads them)."""
    case_id = store.dialect.nullable("case_id", "0")
    overdue = store.dialect.nullable("overdue_since", "''")
    cycle = store.dialect.nullable("cycle_as_of", "''")
    return (
        f"SELECT id, creditor_id, debtor_id, {case_id} AS case_id, snapshot_date, "
        f"snapshot_due_fen, {overdue} AS overdue_since, installment_fen, status, dpd, "
        f"bucket, amount_tier, {cycle} AS cycle_as_of FROM accounts"
    )


def bare_read_write(url: str, as_of: date) -> dict[str, float]:
    """The floor, two ways, each a bulk read then a bulk write (staging ingest +
    ``UPDATE … FROM``, one commit) of values just read, so the store is unchanged:

    * ``accounts``: the cycle's account columns only;
    * ``full``: everything the cycle reads (``io.load_snapshot``: accounts, payments,
      previous states, cases, open alerts) and the account and case rows it rewrites.
    """
    engine = make_engine(url)
    store = BulkStore(engine)
    result: dict[str, float] = {}
    with store.connect() as connection, connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute(base_columns_sql(store))
        frame = pl.from_arrow(cursor.fetch_arrow_table())
        assert isinstance(frame, pl.DataFrame)
        result["accounts_read_s"] = time.perf_counter() - t
        t = time.perf_counter()
        cursor.execute("BEGIN")
        _write_back(store, cursor, frame, None)
        cursor.execute("COMMIT")
        result["accounts_write_s"] = time.perf_counter() - t
    t = time.perf_counter()
    snapshot = load_snapshot(engine, as_of)
    result["full_read_s"] = time.perf_counter() - t
    with store.connect() as connection, connection.cursor() as cursor:
        t = time.perf_counter()
        cursor.execute("BEGIN")
        _write_back(store, cursor, snapshot.accounts, snapshot.cases)
        cursor.execute("COMMIT")
        result["full_write_s"] = time.perf_counter() - t
    engine.dispose()
    result["accounts_total_s"] = result["accounts_read_s"] + result["accounts_write_s"]
    result["full_total_s"] = result["full_read_s"] + result["full_write_s"]
    return result


def _write_back(
    store: BulkStore, cursor: Any, accounts: pl.DataFrame, cases: pl.DataFrame | None
) -> None:
    AdbcBulk(store.dialect, cursor).stage(
        "stg_bare", accounts.select("id", "dpd", "bucket", "amount_tier", "status")
    )
    AdbcBulk(store.dialect, cursor).execute(
        "UPDATE accounts SET dpd = s.dpd, bucket = s.bucket, amount_tier = s.amount_tier, "
        "status = s.status, updated_at = :now FROM stg_bare s WHERE accounts.id = s.id",
        now=NOW,
    )
    if cases is not None:
        AdbcBulk(store.dialect, cursor).stage(
            "stg_bare_cases", cases.select("id", "status", "closed_on")
        )
        AdbcBulk(store.dialect, cursor).execute(
            "UPDATE cases SET status = s.status, closed_on = s.closed_on, updated_at = :now "
            "FROM stg_bare_cases s WHERE cases.id = s.id",
            now=NOW,
        )


def first_day_floor(url: str) -> dict[str, float]:
    """The floor for the first day: what that cycle moves, moved by the barest statements.

    A bulk read of everything the cycle reads, then — in one transaction with its commit —
    a bulk insert of one case per debtor, a rewrite of every account row with its case link
    and decision columns, one bucket-history row per account and one event per new case:
    the same rows and columns the first-day cycle writes, with no decisions computed
    (building the frames to write is not timed). On SQLite it runs on a copy of the store
    file, so the store stays as it was; on PostgreSQL it is rolled back (no commit cost).
    """
    engine = make_engine(url)
    store = BulkStore(engine)
    target = url
    if store.sqlite:
        with store.connect() as connection, connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        source = Path(url.removeprefix("sqlite:///"))
        copy = source.with_name("floor-" + source.name)
        for suffix in ("-wal", "-shm"):
            Path(f"{copy}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(source, copy)
        target = f"sqlite:///{copy}"
        engine.dispose()
        engine = make_engine(target)
        store = BulkStore(engine)
    t = time.perf_counter()
    snapshot = load_snapshot(engine, SNAPSHOT)
    read_s = time.perf_counter() - t
    accounts = snapshot.accounts
    keys = accounts.select("creditor_id", "debtor_id").unique().sort("debtor_id")
    cases = keys.with_columns(
        pl.int_range(1, keys.height + 1, dtype=pl.Int64).alias("id"),
        pl.lit("open").alias("status"),
        pl.lit(1, dtype=pl.Int32).alias("accounts"),
        pl.lit(0, dtype=pl.Int64).alias("due_fen"),
        pl.lit(0, dtype=pl.Int32).alias("dpd"),
        pl.lit("M1").alias("bucket"),
        pl.lit("small").alias("amount_tier"),
        pl.lit('{"as_of":"2026-11-01","bucket":"M1","status":"open"}').alias("payload"),
    )
    links = (
        accounts.join(
            cases.select("creditor_id", "debtor_id", pl.col("id").alias("cid")),
            on=["creditor_id", "debtor_id"],
        )
        .select("id", pl.col("cid").alias("case_id"), "dpd", "bucket", "amount_tier", "status")
        .sort("id")
    )
    history = links.select(
        pl.col("id").alias("account_id"),
        "dpd",
        "bucket",
        pl.lit(0, dtype=pl.Int64).alias("due"),
        "status",
        "amount_tier",
    )
    t = time.perf_counter()
    with store.connect() as connection, connection.cursor() as cursor:
        cursor.execute("BEGIN")
        AdbcBulk(store.dialect, cursor).stage("stg_floor_cases", cases)
        AdbcBulk(store.dialect, cursor).execute(
            """INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, accounts,
                due_fen, dpd, bucket, amount_tier, cycle_as_of, created_at, updated_at)
            SELECT id, creditor_id, debtor_id, status, :day, accounts, due_fen, dpd, bucket,
                amount_tier, :day, :now, :now FROM stg_floor_cases""",
            day=SNAPSHOT,
            now=NOW,
        )
        AdbcBulk(store.dialect, cursor).stage("stg_floor_links", links)
        AdbcBulk(store.dialect, cursor).execute(
            """UPDATE accounts SET case_id = s.case_id, dpd = s.dpd, bucket = s.bucket,
                amount_tier = s.amount_tier, status = s.status, cycle_as_of = :day,
                updated_at = :now FROM stg_floor_links s WHERE accounts.id = s.id""",
            day=SNAPSHOT,
            now=NOW,
        )
        AdbcBulk(store.dialect, cursor).stage("stg_floor_history", history)
        AdbcBulk(store.dialect, cursor).execute(
            """INSERT INTO bucket_history (account_id, as_of, dpd, bucket, amount_tier, due_fen,
                status, movement)
            SELECT account_id, :day, dpd, bucket, amount_tier, due, status, 'new'
            FROM stg_floor_history""",
            day=SNAPSHOT,
        )
        AdbcBulk(store.dialect, cursor).execute(
            f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
            SELECT :now, 'bench', 'case.opened', 'case', id, id, {store.dialect.json("payload")}
            FROM stg_floor_cases""",
            now=NOW,
        )
        cursor.execute("COMMIT" if store.sqlite else "ROLLBACK")
    write_s = time.perf_counter() - t
    engine.dispose()
    if store.sqlite:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{target.removeprefix('sqlite:///')}{suffix}").unlink(missing_ok=True)
    return {"read_s": read_s, "write_s": write_s, "total_s": read_s + write_s}


def measure_cycle(url: str) -> dict[str, Any]:
    """Child-process body: baseline, cycle day 1 (first sight), cycle day 2 (steady)."""
    first_floor = first_day_floor(url)
    before = bare_read_write(url, SNAPSHOT)
    engine = make_engine(url)
    runs = {}
    for label, day in (("first_day", SNAPSHOT), ("next_day", SNAPSHOT + timedelta(days=1))):
        t = time.perf_counter()
        result = run_daily_cycle(engine, day, now=NOW, scoring=False)
        runs[label] = {"wall_s": time.perf_counter() - t, **result.to_json()}
    engine.dispose()
    after = bare_read_write(url, SNAPSHOT + timedelta(days=1))
    baseline: dict[str, Any] = {"before": before, "after": after}
    for key in before:
        baseline[key] = (before[key] + after[key]) / 2
    baseline["first_day_total_s"] = first_floor["total_s"]
    baseline["first_day"] = first_floor
    return {"baseline": baseline, "runs": runs, "peak_rss_mb": peak_rss_mb()}


def naive_orm_dpd(url: str, accounts: int, as_of: date) -> dict[str, float]:
    """A typical system's DPD job: one Account at a time through the ORM, one UPDATE each."""
    engine = create_engine(url) if url.startswith("postgresql") else make_engine(url)
    t = time.perf_counter()
    with Session(engine) as session:
        for account_id in range(1, accounts + 1):
            account = session.get(Account, account_id)
            if account is None:
                continue
            paid = sum(
                p.amount_fen
                for p in session.scalars(
                    select(Payment).where(
                        Payment.account_id == account_id, Payment.reversed_at.is_(None)
                    )
                )
                if p.paid_at.astimezone(UTC).date() <= as_of
            )
            facts = AgingFacts(
                snapshot_due_fen=account.snapshot_due_fen,
                overdue_since=account.overdue_since,
                installment_fen=account.installment_fen,
                paid_fen=paid,
            )
            dpd = days_past_due(facts, as_of)
            session.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(
                    dpd=dpd,
                    bucket=bucket_of(dpd, DEFAULT_BUCKETS),
                    amount_tier=amount_tier_of(outstanding_fen(facts)),
                )
            )
            session.expunge(account)
        session.rollback()  # measured work done; keep the store as the cycle left it
    seconds = time.perf_counter() - t
    engine.dispose()
    return {"accounts": accounts, "seconds": seconds, "per_account_ms": seconds / accounts * 1000}


# ------------------------------------------------------------------ driver


def bench_store(label: str, url: str, accounts: int, naive: int) -> dict[str, Any]:
    console.print(f"[bold]{label}[/]: building {accounts:,} accounts …")
    build = build_store(url, accounts)
    console.print(f"  built in {sum(build.values()):.1f}s; running the cycle in a child process …")
    child = subprocess.run(
        [sys.executable, "-m", "bench.daily_cycle", "--measure", url],
        check=True,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)},
    )
    measured = json.loads(child.stdout)
    result: dict[str, Any] = {"store": label, "accounts": accounts, "build": build, **measured}
    if naive:
        console.print(f"  naive ORM DPD step on {naive:,} accounts …")
        result["naive_orm"] = naive_orm_dpd(url, naive, SNAPSHOT + timedelta(days=1))
    return result


def report(results: list[dict[str, Any]]) -> None:
    table = Table(title="daily cycle benchmark (seconds)")
    for column in (
        "store", "run", "accounts", "cycle", "bare accts r+w", "ratio", "bare same-rows r+w",
        "ratio", "peak RSS MB",
    ):  # fmt: skip
        table.add_column(column, justify="left" if column == "store" else "right")
    for r in results:
        accounts_floor = r["baseline"]["accounts_total_s"]
        for label, run in r["runs"].items():
            # what the run moves: first day inserts cases, history, events and links every
            # account; the next day rewrites account and case rows (the "full" floor)
            floor = r["baseline"]["first_day_total_s" if label == "first_day" else "full_total_s"]
            run["floor_s"] = floor
            run["floor_ratio"] = run["seconds"] / floor
            table.add_row(
                r["store"],
                label,
                f"{run['accounts']:,}",
                f"{run['seconds']:.2f}",
                f"{accounts_floor:.2f}",
                f"{run['seconds'] / accounts_floor:.2f}×",
                f"{floor:.2f}",
                f"{run['floor_ratio']:.2f}×",
                f"{r['peak_rss_mb']:.0f}",
            )
    console.print(table)
    steps = Table(title="steps (seconds)")
    for column in ("store", "step", "rows (next day)", "first day", "next day"):
        steps.add_column(column, justify="left" if column in ("store", "step") else "right")
    for r in results:
        first = r["runs"]["first_day"]["steps"]
        for a, b in zip(first, r["runs"]["next_day"]["steps"], strict=True):
            steps.add_row(
                r["store"],
                b["name"],
                f"{b['rows']:,}",
                f"{a['seconds']:.2f}",
                f"{b['seconds']:.2f}",
            )
    console.print(steps)
    for r in results:
        if "naive_orm" in r:
            n = r["naive_orm"]
            per_account_cycle = r["runs"]["next_day"]["seconds"] / r["accounts"]
            r["naive_ratio"] = n["seconds"] / n["accounts"] / per_account_cycle
            console.print(
                f"{r['store']}: naive ORM DPD step {n['seconds']:.1f}s for {n['accounts']:,} "
                f"accounts ({n['per_account_ms']:.3f} ms/account, "
                f"≈{n['seconds'] * r['accounts'] / n['accounts'] / 60:.0f} min for "
                f"{r['accounts']:,}) — {r['naive_ratio']:.0f}× slower per account than the "
                "whole bulk cycle"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", type=int, default=1_000_000)
    parser.add_argument("--naive", type=int, default=100_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench"))
    parser.add_argument("--postgres", help="also run on this PostgreSQL URL (its schema is reset)")
    parser.add_argument("--measure", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        sys.stdout.write(json.dumps(measure_cycle(args.measure)) + "\n")
        return
    args.dir.mkdir(parents=True, exist_ok=True)
    db = args.dir / "bench.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    results = [bench_store("sqlite", f"sqlite:///{db}", args.accounts, args.naive)]
    if args.postgres:
        admin = create_engine(args.postgres, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text("DROP SCHEMA IF EXISTS bench CASCADE"))
            connection.execute(text("CREATE SCHEMA bench"))
        admin.dispose()
        sep = "&" if "?" in args.postgres else "?"
        url = f"{args.postgres}{sep}options=-csearch_path%3Dbench"
        results.append(bench_store("postgresql", url, args.accounts, 0))
    report(results)
    sys.stdout.write(json.dumps(results, default=str) + "\n")


if __name__ == "__main__":
    main()
