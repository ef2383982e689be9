"""Benchmark: an agency's monthly commission statement over many payments (SQLite).

    python -m bench.agency_statement [--cases 20000] [--payments 200000] [--dir DIR] [--json]

1. builds a store by bulk insert: ``--cases`` open cases of one creditor, one account each
   (with its opening ledger entry), all placed with agency ``AG1`` on 2026-11-01 for 30 days
   through the real service (:func:`cuishou.agency.service.placing.create_placement`);
2. adds ``--payments`` payment ledger entries spread over November (and 10% in October and
   December, which the statement must leave out) and reverses one in fifty of them;
3. times the November draft (:func:`cuishou.agency.service.commission.statement`), closing it
   (``close_statement``) and the December draft (its clawbacks) — wall and CPU time — and
   checks the draft's collected total against a plain SQL recount of the ledger.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import insert, text

from cuishou.agency.service.commission import close_statement, statement
from cuishou.agency.service.placing import create_placement
from cuishou.kit.money import parse_yuan
from cuishou.store.db import make_engine, transaction, upgrade
from cuishou.store.tables import (
    Account,
    Agency,
    Case,
    Creditor,
    Debtor,
    LedgerEntry,
    Placement,
)

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
PLACED_ON = date(2026, 11, 1)
CHUNK = 20_000


def _chunks(rows: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    return [rows[i : i + CHUNK] for i in range(0, len(rows), CHUNK)]


def build(url: str, cases: int, payments: int, seed: int = 7) -> list[int]:
    """The store; returns the case ids."""
    rng = random.Random(seed)
    engine = make_engine(url)
    upgrade(engine)
    with transaction(engine) as session:
        creditor = Creditor(code="BENCH", name="bench", timezone="Asia/Shanghai", created_at=NOW)
        agency = Agency(code="AG1", name="bench agency", created_at=NOW)
        session.add_all([creditor, agency])
        session.flush()
        batch = Placement(creditor_id=creditor.id, batch_code="B", placed_on=date(2026, 9, 1),
                          created_at=NOW)  # fmt: skip
        session.add(batch)
        session.flush()
        session.execute(insert(Debtor), [
            {"id": i + 1, "id_number": f"B{i:017d}", "name": "x", "gender": "M",
             "birth_date": date(1990, 1, 1), "timezone": "Asia/Shanghai", "created_at": NOW,
             "updated_at": NOW}
            for i in range(cases)
        ])  # fmt: skip
        dues = [rng.randint(100_000, 5_000_000) for _ in range(cases)]
        buckets = ["M4", "M5", "M7+"]
        for part in _chunks([
            {"id": i + 1, "creditor_id": creditor.id, "debtor_id": i + 1, "status": "open",
             "opened_on": date(2026, 9, 1), "accounts": 1, "due_fen": dues[i], "dpd": 120,
             "bucket": buckets[i % 3], "amount_tier": "medium", "created_at": NOW,
             "updated_at": NOW}
            for i in range(cases)
        ]):  # fmt: skip
            session.execute(insert(Case), part)
        for part in _chunks([
            {"id": i + 1, "creditor_id": creditor.id, "placement_id": batch.id,
             "debtor_id": i + 1, "case_id": i + 1, "account_no": f"A{i:09d}",
             "product_code": "consumer_loan", "principal_fen": dues[i], "interest_fen": 0,
             "penalty_fen": 0, "fee_fen": 0, "credit_fen": 0,
             "snapshot_date": date(2026, 9, 1), "snapshot_due_fen": dues[i],
             "content_hash": "bench", "status": "open", "created_at": NOW, "updated_at": NOW}
            for i in range(cases)
        ]):  # fmt: skip
            session.execute(insert(Account), part)
        entries: list[dict[str, Any]] = [
            {"account_id": i + 1, "kind": "placement", "principal_fen": dues[i],
             "effective_on": date(2026, 9, 1), "source": "import", "actor": "bench",
             "at": NOW}
            for i in range(cases)
        ]  # fmt: skip
        start = date(2026, 10, 28)
        for n in range(payments):
            account = rng.randint(1, cases)
            day = start + timedelta(days=rng.randint(0, 38))  # 28 Oct … 4 Dec
            amount = rng.randint(1_000, 50_000)
            entries.append(
                {"account_id": account, "kind": "payment", "principal_fen": -amount,
                 "effective_on": day, "source": "import", "reference": f"P{n}",
                 "actor": "bench", "at": NOW}
            )  # fmt: skip
            if n % 50 == 0:
                entries.append(
                    {"account_id": account, "kind": "reversal", "principal_fen": amount,
                     "effective_on": day + timedelta(days=rng.randint(0, 20)),
                     "source": "api", "reference": f"P{n}", "actor": "bench", "at": NOW}
                )  # fmt: skip
        for part in _chunks(entries):
            session.execute(insert(LedgerEntry), part)
    with transaction(engine) as session:
        create_placement(
            session, agency="AG1", as_of=PLACED_ON, days=30,
            candidates=set(range(1, cases + 1)), actor="bench", now=NOW,
        )  # fmt: skip
    engine.dispose()
    return list(range(1, cases + 1))


RECOUNT = """SELECT COALESCE(SUM(le.credit_fen - le.principal_fen - le.interest_fen
    - le.penalty_fen - le.fee_fen), 0)
FROM ledger_entries le
WHERE le.effective_on BETWEEN '2026-11-01' AND '2026-11-30' AND (
    le.kind = 'payment' OR (le.kind = 'reversal' AND EXISTS (
        SELECT 1 FROM ledger_entries p WHERE p.account_id = le.account_id
        AND p.kind = 'payment' AND p.reference = le.reference
        AND p.effective_on BETWEEN '2026-11-01' AND '2026-11-30')))"""


def timed(label: str, results: dict[str, Any], func: Any) -> Any:
    wall, cpu = time.perf_counter(), time.process_time()
    value = func()
    results[label] = {
        "wall_s": round(time.perf_counter() - wall, 3),
        "cpu_s": round(time.process_time() - cpu, 3),
    }
    return value


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cases", type=int, default=20_000)
    parser.add_argument("--payments", type=int, default=200_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-agency"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    shutil.rmtree(args.dir, ignore_errors=True)
    args.dir.mkdir(parents=True)
    url = f"sqlite:///{args.dir / 'bench.db'}"
    results: dict[str, Any] = {"cases": args.cases, "payments": args.payments}
    timed("build", results, lambda: build(url, args.cases, args.payments))
    engine = make_engine(url)
    with transaction(engine) as session:
        november = timed(
            "november_draft", results, lambda: statement(session, agency="AG1", month="2026-11")
        )
        recount = int(session.execute(text(RECOUNT)).scalar_one())
    with transaction(engine) as session:
        timed("close_november", results, lambda: close_statement(
            session, agency="AG1", month="2026-11", today=date(2026, 12, 1), actor="bench",
            now=NOW))  # fmt: skip
    with transaction(engine) as session:
        december = timed(
            "december_draft", results, lambda: statement(session, agency="AG1", month="2026-12")
        )
    engine.dispose()
    results["november"] = {"lines": len(november.lines), "collected": november.collected,
                           "commission": november.commission}  # fmt: skip
    results["december"] = {"lines": len(december.lines), "collected": december.collected,
                           "clawback": december.clawback}  # fmt: skip
    results["recount_matches"] = parse_yuan(november.collected) == recount
    print(json.dumps(results, indent=None if args.json else 2))
    return 0 if results["recount_matches"] else 1


if __name__ == "__main__":
    sys.exit(main())
