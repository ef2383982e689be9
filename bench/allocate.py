"""Benchmark: the daily allocation (案件分配) of 1,000,000 open cases to 200 collectors in
20 teams, end to end on SQLite.

    python -m bench.allocate [--cases 1000000] [--collectors 200] [--teams 20]
                             [--dir /tmp/cuishou-bench-allocate] [--reuse]

1. builds a store with SQL (not timed): 1M debtors in 31 provinces, 1M open unassigned
   in-house cases with one account each (4 products, buckets M1–M7+, amount due
   log-normal around 8,000 yuan), a ``pay_30d`` champion's score on 70% of them (the rest
   use the bucket prior), 200 collectors in 20 teams (teams 1–8 work M1–M3, 9–14 M3–M6,
   15–20 everything; two seniors per team take VIP cases) and 90 days of history —
   300,000 contacts with a payment on some of the cases, where the paying rate depends on
   collector × bucket (so collector effects interact with segments and the optimiser has
   something to find);
2. times ``allocation.service.apply`` as a manager, end to end — the store read, the
   effects, the min-cost flow and its bound, the greedy baseline, the assignment through
   ``cases.service.assign_many``, the batch's 1M moves and events — and the commit.

Wall (``time.perf_counter``) and CPU (``time.process_time``) are both reported: the box is
shared. Targets (issue #14): ≤ 60 s end to end; objective ≥ 99.5% of the LP bound.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path

import numpy as np

from cuishou.allocation import service
from cuishou.allocation.config import AllocationSettings, SkillSpec
from cuishou.auth.service import principal_named
from cuishou.store.db import make_engine, transaction, upgrade

AS_OF = date(2026, 11, 1)
NOW = datetime(2026, 11, 1, 1, 0, tzinfo=UTC)
TS = "2026-10-01 02:00:00.000000"
BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
PRODUCTS = ["consumer_loan", "credit_card", "small_business", "auto_loan"]
PROVINCES = [f"省{i:02d}" for i in range(31)]


def build(path: Path, *, cases: int, collectors: int, teams: int, seed: int = 7) -> None:
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    rng = np.random.default_rng(seed)
    db = sqlite3.connect(path)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=OFF")
    db.execute(
        "INSERT INTO creditors (id, code, name, timezone, rule_pack, waterfall, interest_cap,"
        f" created_at) VALUES (1, 'BANK', '银行', 'Asia/Shanghai', 'cn', 'standard', 'none',"
        f" '{TS}')"
    )
    db.execute(
        "INSERT INTO placements (id, creditor_id, batch_code, placed_on, created_at)"
        f" VALUES (1, 1, 'P1', '2026-09-01', '{TS}')"
    )
    bucket = rng.choice(len(BUCKETS), cases, p=[0.3, 0.2, 0.15, 0.1, 0.08, 0.07, 0.1])
    due = np.clip(rng.lognormal(np.log(800_000), 1.0, cases), 10_000, 200_000_000).astype(int)
    tier = np.where(due >= 5_000_000, "large", np.where(due >= 1_000_000, "medium", "small"))
    product = rng.choice(len(PRODUCTS), cases, p=[0.5, 0.3, 0.1, 0.1])
    province = rng.integers(0, len(PROVINCES), cases)
    ids = np.arange(1, cases + 1)
    db.executemany(
        "INSERT INTO debtors (id, id_number, name, gender, birth_date, province, timezone,"
        " created_at, updated_at) VALUES (?, ?, '张三', 'M', '1990-01-01', ?, 'Asia/Shanghai',"
        f" '{TS}', '{TS}')",
        ((int(i), f"{i:018d}", PROVINCES[p]) for i, p in zip(ids, province, strict=True)),
    )
    dpd = np.array([15, 45, 75, 105, 135, 165, 240])[bucket]
    db.executemany(
        "INSERT INTO cases (id, creditor_id, debtor_id, status, opened_on, accounts, due_fen,"
        " dpd, bucket, amount_tier, created_at, updated_at) VALUES (?, 1, ?, 'open',"
        f" '2026-09-01', 1, ?, ?, ?, ?, '{TS}', '{TS}')",
        (
            (int(i), int(i), int(d), int(p), BUCKETS[b], t)
            for i, d, p, b, t in zip(ids, due, dpd, bucket, tier, strict=True)
        ),
    )
    db.executemany(
        "INSERT INTO accounts (id, creditor_id, placement_id, debtor_id, case_id, account_no,"
        " product_code, currency, principal_fen, interest_fen, penalty_fen, fee_fen,"
        " credit_fen, snapshot_date, snapshot_due_fen, installment_fen, content_hash, status,"
        " dpd, bucket, amount_tier, created_at, updated_at) VALUES (?, 1, 1, ?, ?, ?, ?,"
        " 'CNY', ?, 0, 0, 0, 0, '2026-11-01', ?, 0, 'x', 'open', ?, ?, ?,"
        f" '{TS}', '{TS}')",
        (
            (int(i), int(i), int(i), f"A{i}", PRODUCTS[p], int(d), int(d), int(g), BUCKETS[b], t)
            for i, p, d, g, b, t in zip(ids, product, due, dpd, bucket, tier, strict=True)
        ),
    )
    db.execute(
        "INSERT INTO model_versions (id, version, target, kind, status, train_from, train_to,"
        " validation_from, validation_to, train_rows, validation_rows, features, metrics,"
        " reference, artefact, sha256, trained_by, trained_at) VALUES (1, 'pay30-v1',"
        " 'pay_30d', 'scorecard', 'champion', '2026-01-01', '2026-06-30', '2026-07-01',"
        f" '2026-08-31', 1, 1, '[]', '{{}}', '{{}}', x'00', 'x', 'bench', '{TS}')"
    )
    scored = ids[rng.random(cases) < 0.7]
    base = np.array([0.35, 0.2, 0.12, 0.08, 0.06, 0.05, 0.03])
    prob = np.clip(base[bucket] * rng.lognormal(0, 0.5, cases), 0.001, 0.95)
    db.executemany(
        "INSERT INTO case_scores (case_id, target, version, probability, score, reasons,"
        " scored_on) VALUES (?, 'pay_30d', 'pay30-v1', ?, 600, '[]', '2026-10-31')",
        ((int(i), float(prob[i - 1])) for i in scored),
    )
    for t in range(1, teams + 1):
        db.execute(f"INSERT INTO teams (id, name, created_at) VALUES ({t}, 'T{t:02d}', '{TS}')")
    for u in range(1, collectors + 1):
        db.execute(
            "INSERT INTO users (id, username, display_name, role, team_id, active, created_at)"
            f" VALUES ({u}, 'c{u:03d}', 'c{u:03d}', 'collector', {(u - 1) % teams + 1}, 1,"
            f" '{TS}')"
        )
    db.execute(
        "INSERT INTO users (id, username, display_name, role, active, created_at) VALUES"
        f" ({collectors + 1}, 'boss', 'boss', 'manager', 1, '{TS}')"
    )
    # history: 300k contacts over the lookback; collector × bucket paying rates interact
    n = 300_000
    who = rng.integers(1, collectors + 1, n)
    case = rng.integers(1, cases + 1, n)
    skill = rng.lognormal(0, 0.35, (collectors + 1, len(BUCKETS)))
    rate = np.clip(base[bucket[case - 1]] * skill[who, bucket[case - 1]] * 1.5, 0, 0.95)
    paid = rng.random(n) < rate
    db.executemany(
        "INSERT INTO contact_points (id, debtor_id, kind, value, label, owner, owner_name,"
        f" status, source, created_at) VALUES (?, ?, 'mobile', '13800000000', '', 'debtor',"
        f" '', 'active', 'placement', '{TS}')",
        ((int(c), int(c)) for c in np.unique(case)),
    )
    db.executemany(
        "INSERT INTO contacts (case_id, contact_point_id, user_id, channel, party, outcome,"
        " notes, at, created_at, source) VALUES (?, ?, ?, 'call', 'third_party',"
        f" 'connected_third_party', '', '2026-10-15 02:00:00.000000', '{TS}', 'workbench')",
        ((int(c), int(c), int(w)) for c, w in zip(case, who, strict=True)),
    )
    db.executemany(
        "INSERT INTO payments (creditor_id, account_id, reference, part, amount_fen, paid_at,"
        " source, to_fee_fen, to_penalty_fen, to_interest_fen, to_principal_fen, to_credit_fen,"
        " posted_at) VALUES (1, ?, ?, 0, 10000, '2026-10-20 02:00:00.000000', 'file', 0, 0, 0,"
        " 10000, 0, '2026-10-20 02:00:00.000000')",
        ((int(c), f"R{k}") for k, c in enumerate(np.unique(case[paid]))),
    )
    db.commit()
    db.execute("ANALYZE")
    db.close()


def settings_for(teams: int, collectors: int) -> AllocationSettings:
    specs: dict[str, SkillSpec] = {}
    for t in range(1, teams + 1):
        if t <= teams * 2 // 5:
            buckets = frozenset(BUCKETS[:3])
        elif t <= teams * 7 // 10:
            buckets = frozenset(BUCKETS[2:6])
        else:
            buckets = None
        specs[f"T{t:02d}"] = SkillSpec(buckets=buckets)
    seniors = {f"c{u:03d}": SkillSpec(senior=True) for u in range(1, 2 * teams + 1)}
    return AllocationSettings(
        capacity=5_200, teams=specs, collectors=seniors, vip={"from_yuan": 50_000}
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--collectors", type=int, default=200)
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-allocate"))
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args(argv)
    store = args.dir / "store.db"
    fresh = args.dir / "fresh.db"
    if not (args.reuse and fresh.exists()):
        shutil.rmtree(args.dir, ignore_errors=True)
        args.dir.mkdir(parents=True)
        started = time.perf_counter()
        build(fresh, cases=args.cases, collectors=args.collectors, teams=args.teams)
        print(f"built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
    shutil.copyfile(fresh, store)
    engine = make_engine(f"sqlite:///{store}")
    settings = settings_for(args.teams, args.collectors)
    wall, cpu = time.perf_counter(), time.process_time()
    with transaction(engine) as session:
        manager = principal_named(session, "boss")
        result = service.apply(session, manager, AS_OF, settings, now=NOW)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    engine.dispose()
    report = {
        "cases": args.cases,
        "collectors": args.collectors,
        "teams": args.teams,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "assigned": result.assigned,
        "unassigned_left": result.unassigned_left.model_dump(exclude={"case_ids"}),
        "objective": result.objective,
        "bound": result.bound,
        "greedy_objective": result.greedy_objective,
        "optimality": result.optimality,
        "over_greedy": round(float(result.objective) / float(result.greedy_objective) - 1, 4),
    }
    print(json.dumps(report, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
