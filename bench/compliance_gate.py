"""Benchmark: the compliance gate, scalar and engine forms.

    python -m bench.compliance_gate [--decisions 20000] [--candidates 1000000] [--history 12]

* scalar — one decision with the debtor's history in hand (``check``: facts counted from
  ``--history`` past contacts, every check, the next-allowed search when denied): median,
  p95 and p99 over ``--decisions`` random attempts, a quarter of them denied by the hours;
* engine — ``decide_frame`` over ``--candidates`` candidate contacts whose history facts are
  already columns (the daily cycle counts them once, in bulk, with ``history_facts``):
  candidates decided per second; and ``history_facts`` itself on a 100,000-candidate frame
  with the same history per debtor, reported separately.

Targets (issue #4): median ≤ 50 µs per scalar decision; ≥ 1,000,000 candidates per second.
Prints a table (stderr) and one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from rich.console import Console
from rich.table import Table

from cuishou.compliance.pack import load_pack
from cuishou.compliance.rules import (
    CANDIDATE_SCHEMA,
    HISTORY_SCHEMA,
    OUTCOME_KINDS,
    Attempt,
    CaseState,
    PastContact,
    check,
    decide_frame,
    history_facts,
)

console = Console(stderr=True)
START = datetime(2026, 11, 23, 0, 0, tzinfo=UTC)
ZONES = [("Asia/Shanghai",), ("Asia/Shanghai",), ("Asia/Urumqi",), ("Asia/Shanghai", "Asia/Urumqi")]


def random_history(rng: random.Random, at: datetime, size: int) -> list[PastContact]:
    return [
        PastContact(
            at=at - timedelta(seconds=rng.randrange(60, 7 * 24 * 3600)),
            channel=rng.choice(["call", "call", "call", "sms"]),
            contact_point_id=rng.randrange(1, 4),
            party=rng.choice(["debtor", "debtor", "third_party"]),
            outcome=rng.choice(OUTCOME_KINDS),
            by=f"c{rng.randrange(20)}",
        )
        for _ in range(size)
    ]


def random_attempt(rng: random.Random) -> Attempt:
    return Attempt(
        at=START + timedelta(seconds=rng.randrange(0, 3 * 24 * 3600)),
        channel=rng.choice(["call", "call", "call", "sms", "visit"]),
        contact_point_id=rng.randrange(1, 4),
        party=rng.choice(["debtor", "debtor", "debtor", "third_party"]),
        zones=rng.choice(ZONES),
        collectors=rng.choice([1, 2]),
    )


def bench_scalar(decisions: int, history: int) -> dict[str, Any]:
    pack = load_pack("cn")
    rng = random.Random(11)
    cases = []
    for _ in range(decisions):
        attempt = random_attempt(rng)
        cases.append((attempt, random_history(rng, attempt.at, history)))
    state = CaseState()
    timings = []
    denied = 0
    for attempt, past in cases:
        t = time.perf_counter_ns()
        decision = check(pack, attempt, state, past)
        timings.append(time.perf_counter_ns() - t)
        denied += not decision.allowed
    timings.sort()
    return {
        "decisions": decisions,
        "history_per_decision": history,
        "denied_share": denied / decisions,
        "median_us": statistics.median(timings) / 1000,
        "p95_us": timings[int(len(timings) * 0.95)] / 1000,
        "p99_us": timings[int(len(timings) * 0.99)] / 1000,
    }


def candidate_frame(rng: random.Random, n: int) -> pl.DataFrame:
    zones = [list(rng.choice(ZONES)) for _ in range(1000)]
    return pl.DataFrame(
        {
            "candidate_id": range(n),
            "debtor_id": [i % (n // 3 + 1) for i in range(n)],
            "at": [START + timedelta(seconds=rng.randrange(0, 3 * 24 * 3600)) for _ in range(n)],
            "channel": [rng.choice(["call", "call", "sms", "visit"]) for _ in range(n)],
            "contact_point_id": [rng.randrange(1, 4) for _ in range(n)],
            "party": [rng.choice(["debtor", "debtor", "third_party"]) for _ in range(n)],
            "zones": [zones[i % 1000] for i in range(n)],
            "third_party_named": [rng.random() < 0.9 for _ in range(n)],
            "collectors": [rng.choice([1, 2]) for _ in range(n)],
            "suspended": [["complaint"] if rng.random() < 0.01 else [] for _ in range(n)],
            "debtor_numbers_invalid": [rng.random() < 0.05 for _ in range(n)],
            "opted_out": [[] for _ in range(n)],
        },
        schema=CANDIDATE_SCHEMA,
    )


def bench_engine(candidates: int, history: int) -> dict[str, Any]:
    pack = load_pack("cn")
    rng = random.Random(12)
    frame = candidate_frame(rng, candidates)
    facts = frame.with_columns(
        pl.lit(rng.randrange(0, 7), dtype=pl.Int64).alias("unanswered_on_number_today"),
        (pl.col("candidate_id") % 4).cast(pl.Int64).alias("connected_debtor_calls_today"),
        (pl.col("candidate_id") % 3).cast(pl.Int64).alias("third_party_attempts_today"),
        (pl.col("candidate_id") % 5).cast(pl.Int64).alias("trailing_debtor_failures"),
        (pl.col("candidate_id") % 9).cast(pl.Int64).alias("calls_last_7_days"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("oldest_call_last_7_days"),
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("last_conversation_at"),
    )
    decide_frame(pack, facts.head(1000))  # warm-up
    t = time.perf_counter()
    decided = decide_frame(pack, facts)
    seconds = time.perf_counter() - t
    allowed = int(decided.get_column("allowed").sum())
    # history facts on a smaller frame: every candidate's debtor has `history` contacts
    small = candidate_frame(rng, 100_000)
    debtors = small.get_column("debtor_id").unique().to_list()
    past = pl.DataFrame(
        [
            {
                "debtor_id": d,
                "at": START - timedelta(seconds=rng.randrange(60, 7 * 24 * 3600)),
                "channel": rng.choice(["call", "call", "sms"]),
                "contact_point_id": rng.randrange(1, 4),
                "party": rng.choice(["debtor", "third_party"]),
                "outcome": rng.choice(OUTCOME_KINDS),
            }
            for d in debtors
            for _ in range(history)
        ],
        schema=HISTORY_SCHEMA,
    )
    t = time.perf_counter()
    history_facts(small, past)
    facts_seconds = time.perf_counter() - t
    return {
        "candidates": candidates,
        "seconds": seconds,
        "per_second": candidates / seconds,
        "allowed_share": allowed / candidates,
        "history_facts_candidates": small.height,
        "history_facts_rows": past.height,
        "history_facts_seconds": facts_seconds,
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--decisions", type=int, default=20_000)
    parser.add_argument("--candidates", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=12)
    args = parser.parse_args(argv)
    scalar = bench_scalar(args.decisions, args.history)
    engine = bench_engine(args.candidates, args.history)
    table = Table(title="compliance gate")
    table.add_column("form")
    table.add_column("measure")
    table.add_column("value", justify="right")
    table.add_column("target", justify="right")
    table.add_row("scalar", "median per decision", f"{scalar['median_us']:.1f} µs", "≤ 50 µs")
    table.add_row("scalar", "p95 / p99", f"{scalar['p95_us']:.1f} / {scalar['p99_us']:.1f} µs", "")
    table.add_row("scalar", "denied share", f"{scalar['denied_share']:.0%}", "")
    table.add_row("engine", "candidates per second", f"{engine['per_second']:,.0f}", "≥ 1,000,000")
    table.add_row(
        "engine",
        f"history_facts ({engine['history_facts_candidates']:,} cand., "
        f"{engine['history_facts_rows']:,} contacts)",
        f"{engine['history_facts_seconds']:.2f} s",
        "",
    )
    console.print(table)
    sys.stdout.write(json.dumps({"scalar": scalar, "engine": engine}) + "\n")


if __name__ == "__main__":
    main()
