"""Benchmark: segmenting and planning 1M cases with the default strategy pack, gate included.

    python -m bench.strategy [--cases 1000000] [--history 2] [--repeats 3]
                             [--zen-rows 20000] [--zen-batch 200000] [--no-zen]

The pure steps of the daily planning step (``strategy.service.planning``), on a synthetic
portfolio of ``--cases`` open cases (grades A–D and ungraded, buckets M1–M7+, labels,
amount tiers, products, yesterday's segments for 70% of them):

* ``table`` — :func:`cuishou.strategy.rules.segment_cases`: the decision table itself;
* ``days`` — :func:`~cuishou.strategy.rules.segment_days`: the day in the segment;
* ``plan`` — :func:`~cuishou.strategy.rules.plan_actions` + :func:`~.apply_caps`;
* ``gate`` — the pure part of the compliance gate's bulk form for the planned contacts
  (``compliance.planned.judge_planned`` without its reads): :func:`plan_windows` and
  :func:`earliest_allowed_frame` against ``--history`` synthetic past contacts per debtor.

Each step's best of ``--repeats`` runs, CPU (``time.process_time``) and wall seconds.
Targets (issue 13): the whole ≤ 3 s of pure step time; the table ≥ 1M cases/s.

Beside it, the anchor: **zen-engine** (GoRules; ``pip install zen-engine`` at bench time, not
a runtime dependency) evaluating the same decision table, translated to a JDM decision
table (:func:`jdm_of`; ``hitPolicy: first``): per row from Python (``--zen-rows`` cases),
through ``evaluate_batch`` (the same cases), and batched inside the engine (a decision
table node in ``loop`` mode over ``--zen-batch`` cases per call, the 1M cases in chunks).
Its segments are checked against ours on every case it decided.

Prints a table (stderr) and one JSON object (stdout).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar

import numpy as np
import polars as pl
from rich.console import Console
from rich.table import Table

from cuishou.compliance.logged import WINDOW
from cuishou.compliance.pack import load_pack
from cuishou.compliance.planned import VISIT_COLLECTORS
from cuishou.compliance.rules import OUTCOME_KINDS, earliest_allowed_frame, plan_windows
from cuishou.strategy.definition import UNGRADED, Range, Strategy, shipped
from cuishou.strategy.rules import apply_caps, plan_actions, segment_cases, segment_days

console = Console(stderr=True)
DAY = date(2026, 11, 23)
VERSION = 1
BUCKETS = ["M1", "M2", "M3", "M4", "M5", "M6", "M7+"]
T = TypeVar("T")


# --------------------------------------------------------------------- synthetic data


def make_cases(n: int, seed: int = 13) -> pl.DataFrame:
    """``n`` open cases with every column the decision table reads."""
    rng = np.random.default_rng(seed)
    dpd = rng.integers(1, 400, n)
    bucket = np.minimum((dpd - 1) // 30, 6)
    grade = rng.choice(["A", "B", "C", "D", ""], n, p=[0.3, 0.3, 0.2, 0.15, 0.05])
    label_pool = [[], [], [], [], [], ["dispute"], ["hardship"], ["evading"],
                  ["hardship", "evading"], ["promise_breaker"]]  # fmt: skip
    labels = [label_pool[i] for i in rng.integers(0, len(label_pool), n)]
    products = [["card"], ["cash_loan"], ["card", "cash_loan"]]
    return pl.DataFrame(
        {
            "case_id": np.arange(1, n + 1, dtype=np.int64),
            "debtor_id": np.arange(1, n + 1, dtype=np.int64),
            "creditor_code": rng.choice(["ZSBANK", "SIMBANK"], n),
            "products": [products[i] for i in rng.integers(0, 3, n)],
            "bucket": np.array(BUCKETS)[bucket],
            "dpd": dpd,
            "risk_grade": grade,
            "labels": labels,
            "amount_tier": rng.choice(["small", "medium", "large"], n),
            "due_fen": rng.integers(10_000, 50_000_000, n),
            "days_since_placement": rng.integers(0, 180, n),
            "days_in_bucket": rng.integers(0, 30, n),
        },
        schema_overrides={"products": pl.List(pl.String), "labels": pl.List(pl.String)},
    ).with_columns(
        pl.when(pl.col("risk_grade") == "").then(None).otherwise(pl.col("risk_grade"))
        .alias("risk_grade")
    )  # fmt: skip


def make_previous(segmented: pl.DataFrame, seed: int = 14) -> pl.DataFrame:
    """Yesterday's segments: 70% of the cases in today's segment since 0–40 days ago."""
    rng = np.random.default_rng(seed)
    n = segmented.height
    kept = rng.random(n) < 0.7
    back = rng.integers(0, 41, n)
    return segmented.select(
        "case_id",
        "segment",
        pl.Series("since", [DAY - timedelta(days=int(b)) for b in back], dtype=pl.Date),
        pl.lit(VERSION, dtype=pl.Int64).alias("version_id"),
    ).filter(pl.Series(kept))


def make_history(debtors: np.ndarray, per_debtor: int, seed: int = 15) -> pl.DataFrame:
    """``per_debtor`` past contacts of each debtor in the 7 days before the day."""
    rng = np.random.default_rng(seed)
    ids = np.repeat(debtors, per_debtor)
    n = ids.shape[0]
    start = datetime.combine(DAY, datetime.min.time(), tzinfo=UTC)
    seconds = rng.integers(3600, 7 * 24 * 3600, n)
    return pl.DataFrame(
        {
            "debtor_id": ids,
            "at": [start - timedelta(seconds=int(s)) for s in seconds],
            "channel": rng.choice(["call", "call", "call", "sms"], n),
            "contact_point_id": ids,
            "party": rng.choice(["debtor", "debtor", "none"], n),
            "outcome": rng.choice(list(OUTCOME_KINDS), n),
        },
        schema_overrides={"at": pl.Datetime("us", "UTC")},
    )


# ------------------------------------------------------------------------- the steps


def timed(func: Callable[[], T], repeats: int) -> tuple[T, float, float]:
    """The result and the best CPU and wall seconds over ``repeats`` runs."""
    best_cpu = best_wall = float("inf")
    result: T
    for _ in range(repeats):
        cpu, wall = time.process_time(), time.perf_counter()
        result = func()
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return result, best_cpu, best_wall


def gate_candidates(actions: pl.DataFrame) -> pl.DataFrame:
    """The planned contacts as ``judge_planned`` hands them to the pure part."""
    contacts = actions.filter(pl.col("channel").is_not_null() & ~pl.col("capped"))
    return contacts.with_row_index("candidate_id").select(
        pl.col("candidate_id").cast(pl.Int64),
        "case_id",
        "debtor_id",
        "channel",
        pl.col("debtor_id").alias("contact_point_id"),
        pl.when(pl.col("debtor_id") % 50 == 0)
        .then(pl.lit(["Asia/Shanghai", "Asia/Urumqi"], dtype=pl.List(pl.String)))
        .otherwise(pl.lit(["Asia/Shanghai"], dtype=pl.List(pl.String)))
        .alias("zones"),
    )


def judge(pack_name: str, contacts: pl.DataFrame, history: pl.DataFrame) -> pl.DataFrame:
    """``plan_windows`` + ``earliest_allowed_frame``, as ``judge_planned`` calls them (no
    holds in force: their lookup is a read)."""
    pack = load_pack(pack_name)
    rows = plan_windows(pack, contacts, DAY)
    candidates = rows.select(
        "candidate_id", "debtor_id", "channel", "contact_point_id",
        pl.lit("debtor").alias("party"), "zones",
        pl.lit(True).alias("third_party_named"),
        pl.when(pl.col("channel") == "visit").then(VISIT_COLLECTORS).otherwise(1)
        .cast(pl.Int32).alias("collectors"),
        pl.lit([], dtype=pl.List(pl.String)).alias("suspended"),
        pl.lit(False).alias("debtor_numbers_invalid"),
        pl.lit([], dtype=pl.List(pl.String)).alias("opted_out"),
        "window_start", "window_end",
    )  # fmt: skip
    return earliest_allowed_frame(pack, candidates, history, window=WINDOW)


def decisions_digest(judged: pl.DataFrame) -> str:
    """SHA-256 (first 16 hex digits) of every decision (``candidate_id, at, rule_ids,
    allowed`` by candidate): equal digests, equal decisions, before and after a change."""
    rows = judged.sort("candidate_id").select(
        "candidate_id", "at", pl.col("rule_ids").list.join("|"), "allowed"
    )
    return hashlib.sha256(rows.write_csv().encode()).hexdigest()[:16]


# ----------------------------------------------------------------------- zen-engine


def _quoted(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v.replace("'", "\\'") + "'" for v in values)


def _range_test(bounds: Range) -> str:
    if bounds.min is not None and bounds.max is not None:
        return f"[{bounds.min}..{bounds.max}]"
    if bounds.min is not None:
        return f">= {bounds.min}"
    return f"<= {bounds.max}"


#: the JDM input column of each condition of a row
ZEN_FIELDS = {
    "bucket": "bucket", "dpd": "dpd", "risk_grade": "risk_grade", "labels_any": "labels",
    "labels_all": "labels", "labels_none": "labels", "amount_tier": "amount_tier",
    "product": "products", "creditor": "creditor_code",
    "days_since_placement": "days_since_placement", "days_in_bucket": "days_in_bucket",
}  # fmt: skip


def _cell(name: str, value: Any) -> str:
    if isinstance(value, Range):
        return _range_test(value)
    if name in ("labels_any", "product"):
        return f"some($, # in [{_quoted(value)}])"
    if name == "labels_all":
        return f"all([{_quoted(value)}], # in $)"
    if name == "labels_none":
        return f"not(some($, # in [{_quoted(value)}]))"
    return _quoted(value)


def jdm_of(strategy: Strategy, *, loop: bool) -> dict[str, Any]:
    """The strategy's decision table as a GoRules JDM graph (input → table → output);
    ``loop``: the table runs over the array ``cases`` inside the engine."""
    columns = sorted({ZEN_FIELDS[name] for r in strategy.rules for name, _ in r.when.conditions()})
    rules = []
    for number, rule in enumerate(strategy.rules, start=1):
        cells: dict[str, list[str]] = {c: [] for c in columns}
        for name, value in rule.when.conditions():
            cells[ZEN_FIELDS[name]].append(_cell(name, value))
        row: dict[str, str] = {"_id": f"r{number}", "out": f"'{rule.segment}'", "no": str(number)}
        for column, tests in cells.items():
            joined = " and ".join(f"({t})" for t in tests)
            row[column] = joined if len(tests) > 1 else "".join(tests)
        rules.append(row)
    content: dict[str, Any] = {
        "hitPolicy": strategy.hit_policy if strategy.hit_policy == "first" else "unique",
        "inputs": [{"id": c, "name": c, "field": c} for c in columns],
        "outputs": [{"id": "out", "name": "segment", "field": "segment"},
                    {"id": "no", "name": "rule_no", "field": "rule_no"}],
        "rules": rules,
    }  # fmt: skip
    if loop:
        content.update(inputField="cases", outputPath="segments", executionMode="loop")
    node = {"id": "in", "type": "inputNode", "name": "request", "position": {"x": 0, "y": 0}}
    out = {"id": "out", "type": "outputNode", "name": "response", "position": {"x": 400, "y": 0}}
    table = {"id": "table", "type": "decisionTableNode", "name": "segments",
             "position": {"x": 200, "y": 0}, "content": content}  # fmt: skip
    return {
        "nodes": [node, table, out],
        "edges": [{"id": "e1", "sourceId": "in", "targetId": "table", "type": "edge"},
                  {"id": "e2", "sourceId": "table", "targetId": "out", "type": "edge"}],
    }  # fmt: skip


def zen_rows(cases: pl.DataFrame) -> list[dict[str, Any]]:
    """The cases as the JSON contexts zen-engine reads (an ungraded case: ``none``)."""
    return cases.with_columns(pl.col("risk_grade").fill_null(UNGRADED)).to_dicts()


def run_zen(strategy: Strategy, cases: pl.DataFrame, *, rows: int, batch: int) -> dict[str, Any]:
    import zen  # a bench-time dependency only

    engine = zen.ZenEngine()
    single = engine.create_decision(json.dumps(jdm_of(strategy, loop=False)))
    looped = engine.create_decision(json.dumps(jdm_of(strategy, loop=True)))
    sample = zen_rows(cases.head(rows))
    figures: dict[str, Any] = {"version": _zen_version()}

    cpu, wall = time.process_time(), time.perf_counter()
    per_row = [single.evaluate(ctx)["result"].get("segment") for ctx in sample]
    figures["per_row"] = _rate(len(sample), time.process_time() - cpu, time.perf_counter() - wall)

    loader = {"table.json": jdm_of(strategy, loop=False)}
    batch_engine = zen.ZenEngine({"loader": lambda key: json.dumps(loader[key])})
    requests = [{"key": "table.json", "context": ctx} for ctx in sample]
    cpu, wall = time.process_time(), time.perf_counter()
    batched = batch_engine.evaluate_batch(requests)
    figures["evaluate_batch"] = _rate(
        len(sample), time.process_time() - cpu, time.perf_counter() - wall
    )
    via_batch = [r["data"]["result"].get("segment") if r.get("success") else None for r in batched]

    everything = zen_rows(cases)
    cpu, wall = time.process_time(), time.perf_counter()
    looped_segments: list[str | None] = []
    for start in range(0, len(everything), batch):
        result = looped.evaluate({"cases": everything[start : start + batch]})["result"]
        looped_segments.extend(s.get("segment") for s in result["segments"])
    figures["loop_node"] = _rate(
        len(everything), time.process_time() - cpu, time.perf_counter() - wall
    )
    ours = segment_cases(strategy, cases)["segment"].to_list()
    figures["agrees_with_ours"] = {
        "per_row": per_row == ours[:rows],
        "evaluate_batch": via_batch == ours[:rows],
        "loop_node": looped_segments == ours,
    }
    return figures


def _zen_version() -> str:
    from importlib.metadata import version

    return version("zen-engine")


def _rate(n: int, cpu: float, wall: float) -> dict[str, Any]:
    return {"rows": n, "cpu_s": round(cpu, 3), "wall_s": round(wall, 3),
            "rows_per_s_cpu": round(n / cpu) if cpu else None}  # fmt: skip


# ------------------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--history", type=int, default=2, help="past contacts per debtor")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--pack", default="cn", help="compliance rule pack")
    parser.add_argument("--zen-rows", type=int, default=20_000)
    parser.add_argument("--zen-batch", type=int, default=200_000)
    parser.add_argument("--no-zen", action="store_true")
    args = parser.parse_args(argv)

    strategy = shipped()
    cases = make_cases(args.cases)
    segmented, table_cpu, table_wall = timed(lambda: segment_cases(strategy, cases), args.repeats)
    previous = make_previous(segmented)
    dated, days_cpu, days_wall = timed(
        lambda: segment_days(segmented, previous, today=DAY, version_id=VERSION), args.repeats
    )
    actions, plan_cpu, plan_wall = timed(
        lambda: apply_caps(plan_actions(strategy, dated)), args.repeats
    )
    contacts = gate_candidates(actions)
    history = make_history(contacts["debtor_id"].unique().to_numpy(), args.history)
    judged, gate_cpu, gate_wall = timed(lambda: judge(args.pack, contacts, history), args.repeats)

    steps = {
        "table": (table_cpu, table_wall),
        "days": (days_cpu, days_wall),
        "plan": (plan_cpu, plan_wall),
        "gate": (gate_cpu, gate_wall),
    }
    total_cpu = sum(c for c, _ in steps.values())
    total_wall = sum(w for _, w in steps.values())
    figures: dict[str, Any] = {
        "cases": args.cases,
        "actions": actions.height,
        "contacts_judged": contacts.height,
        "allowed": int(judged["allowed"].sum()),
        "gate_digest": decisions_digest(judged),
        "history_rows": history.height,
        "steps": {k: {"cpu_s": round(c, 3), "wall_s": round(w, 3)} for k, (c, w) in steps.items()},
        "total_cpu_s": round(total_cpu, 3),
        "total_wall_s": round(total_wall, 3),
        "table_cases_per_s_cpu": round(args.cases / table_cpu) if table_cpu else None,
        "table_cases_per_s_wall": round(args.cases / table_wall) if table_wall else None,
        "load": os.getloadavg(),
        "polars_threads": pl.thread_pool_size(),
    }
    if not args.no_zen:
        figures["zen"] = run_zen(strategy, cases, rows=args.zen_rows, batch=args.zen_batch)

    table = Table(title=f"strategy planning, {args.cases:,} cases (best of {args.repeats})")
    for column in ("step", "CPU s", "wall s"):
        table.add_column(column)
    for name, (cpu, wall) in steps.items():
        table.add_row(name, f"{cpu:.3f}", f"{wall:.3f}")
    table.add_row("total", f"{total_cpu:.3f}", f"{total_wall:.3f}")
    console.print(table)
    console.print(f"gate decisions digest {figures['gate_digest']}")
    if "zen" in figures:
        for mode in ("per_row", "evaluate_batch", "loop_node"):
            z = figures["zen"][mode]
            console.print(
                f"zen-engine {mode}: {z['rows']:,} rows, {z['cpu_s']} s CPU "
                f"({z['rows_per_s_cpu']:,} rows/s)"
            )
    json.dump(figures, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
