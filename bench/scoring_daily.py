"""Benchmark: the daily scoring step on 1,000,000 open cases (SQLite).

    python -m bench.scoring_daily [--cases 1000000] [--days 90] [--contacts-per-day 20000]
                                  [--dir /tmp/cuishou-bench-scoring] [--reuse] [--profile]

1. builds a store (``bench.daily_cycle.build_store`` with 1.3 accounts per case, the real
   daily cycle once for the cases and their first bucket history rows, then
   ``bench.kpis.add_history``: 90 days of contacts, promises, weekly payments and month-end
   bucket history) and adds what the feature step reads that those leave out: a third-party
   contact point on a fifth of the debtors, 2% of the debtor points marked invalid (with
   their ``contact_point.invalidated`` events), dispute and complaint holds on 1% of the
   debtors (a third of them lifted), hardship and reason notes on some contacts;
2. fits a champion scorecard and a champion GBM with ``scoring.models.fit_model`` on a
   50,000-row sample of the store's own feature frame at D with a synthetic ``pay_30d``
   (a logistic function of a few features plus noise, fixed seed), registers both through
   the registry and promotes them;
3. times, at D (the last day of the history), each step separately — the store read
   (``read_frames``), ``build_features``, each model's ``predict`` with its grades, the writes
   (scores, grades, labels with their events, drift) — then ``score_open_cases`` end to end
   with the scorecard as the ``pay_30d`` champion, and again with the GBM as the champion;
   each end-to-end run twice: first on an unscored store, then again the same day (nothing
   changed: the steady-state write floor).

Wall time (``time.perf_counter``) and CPU time (``time.process_time``, this process: Polars
threads add up) are both reported: the box is shared. Targets (issue #12): ≤ 5 s for a
scorecard and ≤ 15 s for the GBM at 1M cases on SQLite. Prints a table (stderr) and JSON.
``--reuse`` times a store an earlier run left in ``--dir``.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import random
import shutil
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import polars as pl
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, update

from bench.daily_cycle import NOW, SNAPSHOT, build_store
from bench.kpis import add_history
from cuishou.engine.runner import run_daily_cycle
from cuishou.scoring import registry
from cuishou.scoring.catalogue import FEATURES
from cuishou.scoring.config import shipped_config
from cuishou.scoring.features import build_features
from cuishou.scoring.grades import grade_expr
from cuishou.scoring.labels import label_changes, label_frame
from cuishou.scoring.models import FittedModel, fit_model
from cuishou.scoring.repository import read_frames
from cuishou.scoring.service import (
    _loaded,
    default_label_pack,
    grade_cutoffs,
    promote,
    score_open_cases,
)
from cuishou.scoring.settings import shipped_settings
from cuishou.store.bulk import BulkStore
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import ModelVersion

console = Console(stderr=True)
T = TypeVar("T")
SAMPLE = 50_000


@contextmanager
def clock(timings: dict[str, dict[str, float]], name: str) -> Iterator[None]:
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timings[name] = {
        "wall_s": round(time.perf_counter() - wall, 2),
        "cpu_s": round(time.process_time() - cpu, 2),
    }
    console.print(f"  {name}: {timings[name]['wall_s']:.2f} s (cpu {timings[name]['cpu_s']:.2f})")


def timed(timings: dict[str, dict[str, float]], name: str, work: Callable[[], T]) -> T:
    with clock(timings, name):
        return work()


# ------------------------------------------------------------------ building


def add_extras(url: str, seed: int = 13) -> dict[str, int]:
    """Third-party points, invalid debtor points with their events, holds, notes."""
    rng = random.Random(seed)
    engine = make_engine(url)
    store = BulkStore(engine)
    stamp = NOW.strftime("%Y-%m-%d %H:%M:%S.%f")
    with store.write() as bulk:
        debtors = bulk.fetch("SELECT DISTINCT debtor_id FROM cases", {"debtor_id": pl.Int64()})
        ids = debtors.get_column("debtor_id").to_list()
        top = bulk.fetch("SELECT MAX(id) AS id FROM contact_points", {"id": pl.Int64()}).item()
        third = sorted(rng.sample(ids, k=len(ids) // 5))
        points = pl.DataFrame({"debtor_id": third}).select(
            (pl.int_range(1, pl.len() + 1) + top).alias("id"), "debtor_id",
            pl.lit("mobile").alias("kind"), pl.format("1390000{}", pl.col("debtor_id")).alias(
                "value"), pl.lit("").alias("label"), pl.lit("third_party").alias("owner"),
            pl.lit("张三").alias("owner_name"), pl.lit("spouse").alias("relation"),
            pl.lit("active").alias("status"), pl.lit("placement").alias("source"),
            pl.lit(stamp).alias("created_at"),
        )  # fmt: skip
        bulk.cursor.adbc_ingest("contact_points", points.to_arrow(), mode="append")
        invalid = sorted(rng.sample(range(1, top + 1), k=top // 50))
        start = datetime.combine(SNAPSHOT, datetime.min.time(), tzinfo=UTC)
        events = pl.DataFrame(
            {
                "at": [start + timedelta(days=rng.randrange(80), hours=3) for _ in invalid],
                "actor": "bench",
                "type": "contact_point.invalidated",
                "entity_type": "contact_point",
                "entity_id": invalid,
                "payload": "{}",
            }
        )
        bulk.cursor.adbc_ingest("events", store.dialect.stageable(events).to_arrow(), mode="append")
        staged = bulk.stage("stg_invalid", pl.DataFrame({"id": invalid}), index=["id"])
        bulk.execute(
            f"UPDATE contact_points SET status = 'invalid' WHERE id IN (SELECT id FROM {staged})"
        )
        held = sorted(rng.sample(ids, k=len(ids) // 100))
        opened = [start + timedelta(days=rng.randrange(85), hours=5) for _ in held]
        holds = pl.DataFrame(
            {
                "debtor_id": held,
                "kind": rng.choices(["dispute", "complaint"], weights=[0.7, 0.3], k=len(held)),
                "reason": "bench",
                "opened_at": opened,
                "opened_by": "bench",
                "lifted_at": [
                    o + timedelta(days=3) if rng.random() < 0.33 else None for o in opened
                ],
            },
            schema_overrides={"lifted_at": pl.Datetime("us", "UTC")},
        )
        bulk.cursor.adbc_ingest(
            "contact_holds", store.dialect.stageable(holds).to_arrow(), mode="append"
        )
        noted = bulk.execute(
            """UPDATE contacts SET notes = CASE WHEN id % 2 = 0 THEN '说最近失业了,下月再还'
                ELSE '对金额有异议' END
            WHERE outcome IN ('refused', 'negotiating') AND id % 3 = 0"""
        )
        bulk.execute("ANALYZE")
    engine.dispose()
    return {"third_party_points": len(third), "invalid_points": len(invalid),
            "holds": len(held), "notes": noted}  # fmt: skip


def build(url: str, cases: int, days: int, contacts_per_day: int) -> dict[str, Any]:
    t = time.perf_counter()
    build_store(url, round(cases * 1.3))
    engine = make_engine(url)
    run_daily_cycle(engine, SNAPSHOT, now=NOW, scoring=False)
    engine.dispose()
    added: dict[str, Any] = add_history(url, days, contacts_per_day)
    added |= add_extras(url)
    added["build_s"] = round(time.perf_counter() - t, 1)
    return added


def synthetic_target(features: pl.DataFrame, seed: int) -> pl.DataFrame:
    """``pay_30d``: a logistic function of a few features plus noise (fixed seed)."""
    rng = random.Random(seed)
    logit = (
        -1.0
        + 0.6 * pl.col("right_party_30d").clip(0, 5)
        - 0.01 * pl.col("dpd").clip(0, 200)
        + 1.2 * pl.col("paid_ratio").fill_null(0).clip(0, 1)
        + 0.4 * pl.col("promises_kept_180d").clip(0, 3)
        - 0.8 * pl.col("dispute_hold").cast(pl.Float64)
    )
    noise = pl.Series([rng.random() for _ in range(features.height)])
    return features.with_columns((noise < 1 / (1 + (-logit).exp())).alias("pay_30d"))


def register(engine: Engine, model: FittedModel, kind: str, as_of: date) -> str:
    name = f"pay_30d-{kind}-bench"
    with transaction(engine) as session:
        registry.add_version(
            session, version=name, target="pay_30d", kind=kind, status="candidate",
            train_from=as_of, train_to=as_of, validation_from=as_of, validation_to=as_of,
            train_rows=model.training_rows, validation_rows=0,
            features=[f.code for f in model.features], metrics={"validation": {}},
            reference={}, artefact=model.to_bytes(), sha256=model.sha256, trained_by="bench",
            trained_at=NOW,
        )  # fmt: skip
    return name


def fit_champions(engine: Engine, as_of: date) -> dict[str, str]:
    """Fit and register a scorecard and a GBM for ``pay_30d`` (once per store)."""
    with transaction(engine) as session:
        known = {v.version for v in registry.list_versions(session, "pay_30d")}
    names = {k: f"pay_30d-{k}-bench" for k in ("scorecard", "gbm")}
    if set(names.values()) <= known:
        return names
    with BulkStore(engine).read() as bulk:
        features = build_features(read_frames(bulk, as_of), as_of, config=shipped_config())
    sample = synthetic_target(features.sample(n=min(SAMPLE, features.height), seed=5), seed=5)
    for kind in ("scorecard", "gbm"):
        t = time.perf_counter()
        model = fit_model(kind, sample, "pay_30d", FEATURES, seed=5)  # type: ignore[arg-type]
        console.print(f"  fitted the {kind} in {time.perf_counter() - t:.1f} s")
        register(engine, model, kind, as_of)
    return names


def crown(engine: Engine, version: str) -> None:
    with transaction(engine) as session:
        chosen = registry.get_version(session, version)
        if chosen.status != "champion":
            session.execute(
                update(ModelVersion)
                .where(ModelVersion.target == "pay_30d", ModelVersion.status == "champion")
                .values(status="retired")
            )
            promote(session, version, actor="bench", now=NOW)


# ------------------------------------------------------------------ measuring


def steps(engine: Engine, as_of: date, names: dict[str, str]) -> dict[str, Any]:
    """Each step of ``score_open_cases`` timed on its own (its writes committed)."""
    timings: dict[str, dict[str, float]] = {}
    config = shipped_config()
    settings = shipped_settings()
    with BulkStore(engine).read_parallel() as bulk:  # as score_open_cases reads
        frames = timed(timings, "read_frames", lambda: read_frames(bulk, as_of))
        before = timed(timings, "current_labels", lambda: registry.current_labels(bulk))
    features = timed(
        timings, "build_features", lambda: build_features(frames, as_of, config=config)
    )
    with transaction(engine) as session:
        loaded = {kind: registry.get_version(session, name) for kind, name in names.items()}
        models = {kind: _loaded(v) for kind, v in loaded.items()}
        cutoffs = {kind: grade_cutoffs(v, settings) for kind, v in loaded.items()}
    scored: dict[str, pl.DataFrame] = {}
    for kind, model in models.items():
        with clock(timings, f"predict_{kind}"):
            predicted = model.predict(features, reasons="json")
            scored[kind] = predicted.with_columns(pl.col("score").round(0).cast(pl.Int64))
            grades = scored[kind].select(
                "case_id", grade_expr("score", cutoffs[kind]).alias("risk_grade")
            )
        timed(timings, f"drift_{kind}", lambda m=model, p=predicted: m.drift(  # type: ignore[misc]
            features, p.get_column("score")))  # fmt: skip
    pack = default_label_pack()
    labels = timed(timings, "labels", lambda: label_frame(features, pack))
    changes = label_changes(before, labels)
    with BulkStore(engine).write() as bulk:
        timed(timings, "write_scores", lambda: registry.write_scores(
            bulk, scored["scorecard"], target="pay_30d", version=names["scorecard"],
            as_of=as_of))  # fmt: skip
        timed(timings, "write_grades", lambda: registry.write_grades(bulk, grades))
        timed(timings, "write_labels", lambda: registry.write_labels(
            bulk, labels, changes, as_of=as_of, now=NOW))  # fmt: skip
    return {"cases": features.height, "labels": labels.height, "label_changes": changes.height,
            **timings}  # fmt: skip


def end_to_end(engine: Engine, as_of: date, names: dict[str, str]) -> dict[str, Any]:
    timings: dict[str, Any] = {}
    for kind in ("scorecard", "gbm"):
        crown(engine, names[kind])
        for run in ("first", "again"):
            if run == "first":  # an unscored store: every row written
                with BulkStore(engine).write() as bulk:
                    bulk.execute("DELETE FROM case_scores")
                    bulk.execute("DELETE FROM case_labels")
                    bulk.execute("UPDATE cases SET risk_grade = NULL")
            summary = timed(
                timings,
                f"score_open_cases_{kind}_{run}",
                lambda: score_open_cases(engine, as_of, now=NOW),
            )
            timings[f"score_open_cases_{kind}_{run}"]["changed"] = {
                "grades": summary.grades_changed,
                "labels_given": summary.labels_given,
                "labels_removed": summary.labels_removed,
            }
    return timings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1_000_000)
    parser.add_argument("--days", type=int, default=90)
    parser.add_argument("--contacts-per-day", type=int, default=20_000)
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-scoring"))
    parser.add_argument("--reuse", action="store_true", help="time the store already in --dir")
    parser.add_argument("--profile", action="store_true", help="cProfile build_features (top 25)")
    parser.add_argument("--steps-only", action="store_true", help="skip the end-to-end runs")
    args = parser.parse_args(argv)
    db = args.dir / "scoring.db"
    url = f"sqlite:///{db}"
    result: dict[str, Any] = {"cases_requested": args.cases}
    if not (args.reuse and db.exists()):
        shutil.rmtree(args.dir, ignore_errors=True)
        args.dir.mkdir(parents=True)
        console.print(f"building {args.cases:,} cases with {args.days} days of history …")
        result["build"] = build(url, args.cases, args.days, args.contacts_per_day)
    as_of = SNAPSHOT + timedelta(days=args.days - 1)
    engine = make_engine(url)
    names = fit_champions(engine, as_of)
    if args.profile:
        with BulkStore(engine).read() as bulk:
            frames = read_frames(bulk, as_of)
        profiler = cProfile.Profile()
        profiler.runcall(build_features, frames, as_of, config=shipped_config())
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    console.print(f"steps at {as_of} …")
    result["steps"] = steps(engine, as_of, names)
    if not args.steps_only:
        console.print("score_open_cases end to end …")
        result["end_to_end"] = end_to_end(engine, as_of, names)
    engine.dispose()
    table = Table(title=f"daily scoring, {result['steps']['cases']:,} open cases (SQLite)")
    for column in ("step", "wall s", "cpu s"):
        table.add_column(column, justify="left" if column == "step" else "right")
    for group in ("steps", "end_to_end"):
        for name, value in result.get(group, {}).items():
            if isinstance(value, dict) and "wall_s" in value:
                table.add_row(name, f"{value['wall_s']:.2f}", f"{value['cpu_s']:.2f}")
    console.print(table)
    result["load"] = [round(x, 2) for x in os.getloadavg()]
    sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
