"""Scores and segments off the store (评分与分群 in the lake run): what follows the cycle.

On the store, the day's scores, grades, labels and segments are made after the cycle's
write (:func:`cuishou.engine.runner.after_cycle`), from the store as the write left it. A
lake run (:class:`cuishou.engine.lake.LakeCycleIO`, every Spark partition) has no store to
read back: :func:`decide_after` makes the same decisions from the lake's tables and the
day's :class:`~cuishou.engine.io.Decisions`. Nothing here is a rule of its own:

- :func:`post_cycle` composes the state the store would hold after the write (cases opened,
  closed and reopened today, accounts linked to their case, today's bucket history rows,
  promises judged today) — the one place that mirrors ``io._write_decisions`` for the
  readers that follow it (ADR 0035). New cases have no id until ``cuishou lake import``
  reserves one: here they take a provisional negative id, never written, and every output
  row carries its case key ``(creditor_id, debtor_id)`` and the real ``case_id`` or null;
- the scoring domain's own steps score them: ``build_features``, each champion's
  ``predict`` (``scoring.service.champion_scores``), the grade rule (``grade_expr`` by the
  ``day_ruler``) and the label pack (``label_frame``);
- the strategy domain's own steps segment them: ``strategy.rules.open_case_frame`` and
  ``planning.decide_day``.

Whole-portfolio views: a grade ``by: share`` (the shipped setting) cuts the day's
``pay_30d`` scores of every open case. :func:`score_counts` gives a partition's scores as
``(score, n)`` (scores are whole points, so the counts are exact); the driver adds them and
:func:`ruler_from_counts` cuts them by the scoring domain's ``cutoffs_by_share`` — the same
cut-offs as one machine's. Drift (PSI) is a reduce too: each partition counts its scores
and features per reference bin, the driver adds the counts and :func:`drift_of` gives the
PSI. Model alerts stay with the store after ``cuishou lake import``, as do the day's actions
(the compliance gate reads the store) and allocation.

Inputs (``AFTER_TABLES``) are optional in a lake: a lake without models or a strategy (one
written by a data platform) runs the cycle and says there was nothing to score or segment.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
from sqlalchemy import Engine

from cuishou.engine import io
from cuishou.engine.steps import CASE_KEY
from cuishou.kit.errors import InvalidInput
from cuishou.store.bulk import NULLABLE_ID, Bulk

UTC_TIME = pl.Datetime("us", "UTC")
#: the lake's tables for scoring and segmenting (each optional; see the module docstring)
AFTER_TABLES: dict[str, dict[str, pl.DataType]] = {
    # the creditor's zone and code; the debtor's ID number (age, region, co-debts)
    "creditors": {"creditor_id": pl.Int64(), "tz": pl.String(), "code": pl.String()},
    "debtors": {"debtor_id": pl.Int64(), "id_number": pl.String()},
    # each case as stored: what the cycle's frame of it lacks
    "case_facts": {
        "case_id": pl.Int64(), "bucket": pl.String(), "dpd": pl.Int64(),
        "amount_tier": pl.String(), "risk_grade": pl.String(),
    },
    # each account's product, first ledger date, placement entries and placement date
    "account_facts": {
        "account_id": pl.Int64(), "product_code": pl.String(), "first_entry_on": pl.Date(),
        "original_fen": pl.Int64(), "placed_on": pl.Date(),
    },
    # the feature step's facts, uncut by date (the step cuts them to D)
    "payment_history": {
        "account_id": pl.Int64(), "reference": pl.String(), "paid_at": UTC_TIME,
        "amount_fen": pl.Int64(), "reversed_at": UTC_TIME,
    },
    "bucket_history": {
        "account_id": pl.Int64(), "as_of": pl.Date(), "dpd": pl.Int64(), "bucket": pl.String(),
        "movement": pl.String(),
    },
    "contacts": {
        "case_id": pl.Int64(), "at": UTC_TIME, "outcome": pl.String(),
        "point_owner": pl.String(), "notes": pl.String(),
    },
    "promise_history": {
        "promise_id": pl.Int64(), "case_id": pl.Int64(), "created_at": UTC_TIME,
        "amount_fen": pl.Int64(), "status": pl.String(), "judged_on": pl.Date(),
    },
    "holds": {
        "debtor_id": pl.Int64(), "case_id": NULLABLE_ID, "kind": pl.String(),
        "opened_at": UTC_TIME, "lifted_at": UTC_TIME,
    },
    "points": {
        "debtor_id": pl.Int64(), "owner": pl.String(), "created_at": UTC_TIME,
        "invalidated_at": UTC_TIME,
    },
    # the labels and segments cases hold before the day
    "case_labels": {"case_id": pl.Int64(), "code": pl.String()},
    "case_segments": {
        "case_id": pl.Int64(), "segment": pl.String(), "since": pl.Date(),
        "version_id": pl.Int64(),
    },
}  # fmt: skip
#: how each table finds its case key in a partitioned run: by account, by case, by debtor
#: (``creditors`` is small and goes to every partition whole)
BY_ACCOUNT = ("account_facts", "payment_history", "bucket_history")
BY_CASE = ("case_facts", "contacts", "promise_history", "case_labels", "case_segments")
BY_DEBTOR = ("debtors", "holds", "points")
#: the scoring manifest, the models folder and the strategy document in a lake
SCORING_FILE, MODELS_DIR, STRATEGY_FILE = "scoring.json", "models", "strategy.json"

_KEYED: dict[str, pl.DataType] = {
    "creditor_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "case_id": pl.Int64(),
}
#: the decision datasets of a lake run beside the cycle's (``lake.AFTER_DECISIONS``)
OUTPUT_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "scores": {
        **_KEYED, "target": pl.String(), "version": pl.String(), "score": pl.Int64(),
        "risk_grade": pl.String(), "reasons": pl.String(),
    },
    "labels": {**_KEYED, "code": pl.String(), "facts": pl.String()},
    "segments": {
        **_KEYED, "version_id": pl.Int64(), "segment": pl.String(), "rule_no": pl.Int32(),
        "since": pl.Date(), "changed": pl.Boolean(), "from_segment": pl.String(),
        "conflict": pl.Boolean(), "experiment_id": pl.Int64(), "arm": pl.String(),
    },
}  # fmt: skip
NO_MODELS = "the lake holds no models (no scoring.json): nothing scored or graded"
NO_STRATEGY = "the lake holds no strategy in force (no strategy.json): nothing segmented"
OFF_STORE = (
    "decided off the store: drift and model alerts (scoring), the day's actions and the "
    "compliance gate (strategy) follow on the store after `cuishou lake import`"
)


def _empty(schema: Mapping[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=dict(schema))


# ------------------------------------------------------------------ export (the store)


def read_after_tables(bulk: Bulk, *, since: date | None) -> dict[str, pl.DataFrame]:
    """What scoring and segmenting read (``AFTER_TABLES``), in the caller's read transaction
    (``lake export``'s, so they and the cycle's tables are one state of the store).
    ``since``: the last cycle's date (contact notes are kept from 90 days before it)."""
    from cuishou.scoring.features import MEDIUM
    from cuishou.scoring.service import lake_facts
    from cuishou.strategy.service.planning import segments_held

    notes_from = since - timedelta(days=MEDIUM - 1) if since else None
    facts = lake_facts(bulk, notes_from=notes_from)
    tables = {
        "creditors": bulk.fetch(
            "SELECT id AS creditor_id, timezone AS tz, code FROM creditors",
            AFTER_TABLES["creditors"],
        ),
        "debtors": bulk.fetch(
            "SELECT id AS debtor_id, id_number FROM debtors", AFTER_TABLES["debtors"]
        ),
        "case_facts": bulk.fetch(
            f"""SELECT id AS case_id, bucket, dpd, amount_tier,
                {bulk.nullable("risk_grade", "''")} AS risk_grade FROM cases""",  # noqa: S608 - constant fragments only
            AFTER_TABLES["case_facts"],
        ),
        "account_facts": facts["ledger_facts"].join(
            bulk.fetch(
                """SELECT a.id AS account_id, p.placed_on FROM accounts a
                JOIN placements p ON p.id = a.placement_id""",
                {"account_id": pl.Int64(), "placed_on": pl.Date()},
            ),
            on="account_id",
            how="left",
        ),
        **{n: facts[n] for n in ("payment_history", "bucket_history", "contacts")},
        **{n: facts[n] for n in ("promise_history", "holds", "points", "case_labels")},
        "case_segments": segments_held(bulk),
    }
    return {n: _conform(tables[n], schema, n) for n, schema in AFTER_TABLES.items()}


def export_after(engine: Engine, out: Path, *, day: date | None) -> None:
    """Write the champions (the registry's own files, ``models/``) with ``scoring.json``, and
    the strategy in force on ``day`` (default: today) with ``strategy.json``, to the lake at
    ``out`` (:func:`read_after_tables` are written with the cycle's tables)."""
    from cuishou.kit.clock import utc_now
    from cuishou.scoring.service import export_champions
    from cuishou.scoring.settings import shipped_settings
    from cuishou.store.db import transaction
    from cuishou.strategy.service.planning import lake_strategy

    if (out / MODELS_DIR).exists():
        shutil.rmtree(out / MODELS_DIR)  # only today's champions
    with transaction(engine) as session:
        models = export_champions(session, out / MODELS_DIR)
    grades = shipped_settings().grades
    manifest = {"champions": models, "grades": grades.model_dump(mode="json")}
    (out / SCORING_FILE).write_text(json.dumps(manifest, ensure_ascii=False, indent=1))
    strategy = lake_strategy(engine, day or utc_now().date())
    target = out / STRATEGY_FILE
    if strategy is not None:
        target.write_text(json.dumps(strategy, ensure_ascii=False, indent=1))
    elif target.exists():
        target.unlink()


def _conform(frame: pl.DataFrame, schema: Mapping[str, pl.DataType], name: str) -> pl.DataFrame:
    from cuishou.engine.lake import conform

    return conform(frame, schema, name=name)


# ------------------------------------------------------------------ the run's plan (driver)


@dataclass(frozen=True)
class AfterPlan:
    """What a run scores and segments with, read once on the driver: the champions'
    artefacts (bytes, loaded where they run), the grade settings, the strategy document,
    the creditors (zone, code). Plain data: it travels to Spark's workers as is."""

    #: ``(target, version, artefact bytes, meta)`` per champion
    champions: tuple[tuple[str, str, bytes, dict[str, Any]], ...] = ()
    grades: dict[str, Any] | None = None
    strategy: dict[str, Any] | None = None
    creditors: pl.DataFrame = field(default_factory=lambda: _empty(AFTER_TABLES["creditors"]))
    notes: tuple[str, ...] = ()

    @property
    def scoring(self) -> bool:
        return self.grades is not None

    @property
    def segmenting(self) -> bool:
        return self.strategy is not None

    @property
    def active(self) -> bool:
        return self.scoring or self.segmenting

    def settings(self) -> Any:
        from cuishou.scoring.settings import Settings, shipped_settings

        base = shipped_settings()
        if self.grades is None:
            return base
        return Settings.model_validate({**base.model_dump(), "grades": self.grades})

    def needs_reduce(self) -> bool:
        """Grades cut from the day's scores of every open case (``by: share``)."""
        from cuishou.scoring.service import GRADE_TARGET, share_grading

        return share_grading(self.settings()) and any(
            target == GRADE_TARGET for target, *_ in self.champions
        )


def load_plan(root: Path, as_of: date) -> AfterPlan:
    """The plan of a run on the lake at ``root`` for ``as_of`` (read on the driver)."""
    from cuishou.engine.lake import read_table

    notes: list[str] = []
    manifest_file, strategy_file = root / SCORING_FILE, root / STRATEGY_FILE
    champions: list[tuple[str, str, bytes, dict[str, Any]]] = []
    grades = None
    if manifest_file.is_file():
        manifest = json.loads(manifest_file.read_text())
        grades = dict(manifest["grades"])
        for entry in manifest["champions"]:
            name = str(entry["version"])
            artefact = root / MODELS_DIR / f"{name}.json"
            meta_file = root / MODELS_DIR / f"{name}.meta.json"
            if not artefact.is_file() or not meta_file.is_file():
                raise InvalidInput(
                    f"the lake's {SCORING_FILE} names model {name}, but {artefact} or its "
                    ".meta.json is missing; export the lake again"
                )
            meta = json.loads(meta_file.read_text())
            champions.append((str(entry["target"]), name, artefact.read_bytes(), meta))
    else:
        notes.append(NO_MODELS)
    strategy = None
    if strategy_file.is_file():
        strategy = json.loads(strategy_file.read_text())
        if strategy.get("day") != as_of.isoformat():
            notes.append(
                f"the strategy was exported as in force on {strategy.get('day')}; "
                f"run for {as_of.isoformat()}"
            )
    else:
        notes.append(NO_STRATEGY)
    active = grades is not None or strategy is not None
    missing = [
        name
        for name in AFTER_TABLES
        if active and not (root / name).is_dir() and not (root / f"{name}.parquet").is_file()
    ]
    if missing:
        raise InvalidInput(
            f"the lake at {root} holds models or a strategy but not the tables they read: "
            f"{', '.join(missing)}; write them with `cuishou lake export --out DIR`"
        )
    creditors = (
        read_table(root, "creditors", AFTER_TABLES["creditors"])
        if active
        else _empty(AFTER_TABLES["creditors"])
    )
    return AfterPlan(tuple(champions), grades, strategy, creditors, tuple(notes))


def read_inputs(root: Path, plan: AfterPlan) -> dict[str, pl.DataFrame]:
    """The ``AFTER_TABLES`` of the lake at ``root`` (none when the plan needs none)."""
    from cuishou.engine.lake import read_table

    if not plan.active:
        return {}
    return {
        name: read_table(root, name, schema)
        for name, schema in AFTER_TABLES.items()
        if name != "creditors"
    }


@cache
def _model(sha256: str, artefact: bytes, meta_json: str) -> Any:
    from cuishou.scoring.service import load_exported

    return load_exported(artefact, json.loads(meta_json))


@cache
def _strategy(document_json: str) -> Any:
    from cuishou.strategy.service.planning import strategy_from_lake

    return strategy_from_lake(json.loads(document_json))


# ------------------------------------------------------------------ the state after the write


@dataclass(frozen=True)
class PostCycle:
    """The store as the cycle's write would leave it, for the readers that follow.

    ``cases``: every case (``case_id`` provisional < 0 for a new one, ``stored_id`` the real
    id or null) with ``creditor_id, debtor_id, opened_on, status, closed_on, bucket, dpd,
    amount_tier, due_fen, risk_grade``; ``accounts``: every account with ``case_id`` (null:
    not linked), ``bucket`` and its ledger facts; ``history``: bucket history with today's
    rows; ``promises``: every promise with today's judgements."""

    cases: pl.DataFrame
    accounts: pl.DataFrame
    history: pl.DataFrame
    promises: pl.DataFrame


def post_cycle(tables: Mapping[str, pl.DataFrame], decided: io.Decisions, as_of: date) -> PostCycle:
    """The state after the day's write (``io._write_decisions``) from the lake's tables and
    the day's decisions; mirrors it for cases, links, history, promises and the ledger moves
    of plans closed today only."""
    stored = (
        tables["cases"]
        .join(tables["case_facts"], left_on="id", right_on="case_id", how="left")
        .select(
            pl.col("id").alias("stored_id"), *CASE_KEY, "opened_on", "status", "closed_on",
            "bucket", pl.col("dpd").cast(pl.Int64), "amount_tier", "due_fen", "risk_grade",
        )
    )  # fmt: skip
    today = decided.cases.select(
        *CASE_KEY,
        pl.col("case_id").alias("stored_id"),
        "opened_on",
        "status",
        "closed_on",
        "bucket",
        pl.col("dpd").cast(pl.Int64),
        "amount_tier",
        # the write moves an old case's amount by ``due_delta`` and sums a new one's accounts:
        # both come to what its accounts owe now
        pl.col("owed_now").alias("due_fen"),
    )
    new = (
        today.filter(pl.col("stored_id").is_null())
        .sort(CASE_KEY)
        .with_columns(
            pl.lit(None, dtype=pl.String).alias("risk_grade"),
            (-pl.int_range(1, pl.len() + 1, dtype=pl.Int64)).alias("case_id"),
        )
    )
    old = stored.join(
        today.filter(pl.col("stored_id").is_not_null()).drop("stored_id"),
        on=CASE_KEY,
        how="left",
        suffix="_today",
    ).select(
        pl.col("stored_id").alias("case_id"),
        "stored_id",
        *CASE_KEY,
        *(
            pl.coalesce(f"{c}_today", c).alias(c) if c != "closed_on" else _closed()
            for c in ("opened_on", "status", "closed_on", "bucket", "dpd", "amount_tier", "due_fen")
        ),
        "risk_grade",
    )
    cases = pl.concat([old, new.select(old.columns)], how="vertical_relaxed")
    keys = cases.select(*CASE_KEY, pl.col("case_id").alias("_case"))
    updates = decided.account_updates.select(
        pl.col("id"), pl.col("bucket").alias("_bucket"), "link"
    )
    accounts = (
        tables["accounts"]
        .join(updates, on="id", how="left")
        .join(keys, on=CASE_KEY, how="left")
        .select(
            pl.col("id").alias("account_id"),
            *CASE_KEY,
            pl.when(pl.col("case_id").is_not_null() | pl.col("link").fill_null(False))
            .then(pl.col("_case"))
            .alias("case_id"),
            pl.coalesce("_bucket", "bucket").alias("bucket"),
            "snapshot_due_fen",
            "overdue_since",
            "installment_fen",
            "owed_fen",
        )
        .join(tables["account_facts"], on="account_id", how="left")
    )
    moves = _plan_moves(decided, accounts)
    accounts = accounts.join(moves, on="account_id", how="left").with_columns(
        (pl.col("owed_fen") + pl.col("_moved").fill_null(0)).alias("owed_fen")
    )
    by_case = (
        accounts.filter(pl.col("_moved").is_not_null())
        .group_by("case_id")
        .agg(pl.col("_moved").sum().alias("_case_moved"))
    )
    accounts = accounts.drop("_moved")
    cases = (
        cases.join(by_case, on="case_id", how="left")
        .with_columns((pl.col("due_fen") + pl.col("_case_moved").fill_null(0)).alias("due_fen"))
        .drop("_case_moved")
    )
    history = pl.concat(
        [
            tables["bucket_history"].filter(pl.col("as_of") != as_of),
            decided.history.select(
                "account_id",
                pl.lit(as_of).alias("as_of"),
                pl.col("dpd").cast(pl.Int64),
                "bucket",
                "movement",
            ),
        ],
        how="vertical_relaxed",
    )
    judged = decided.promises.select(
        pl.col("id").alias("promise_id"), pl.col("status").alias("_judged")
    )
    promises = (
        tables["promise_history"]
        .join(judged, on="promise_id", how="left")
        .with_columns(
            pl.when(pl.col("_judged").is_not_null() & (pl.col("status") == "open"))
            .then(pl.col("_judged"))
            .otherwise(pl.col("status"))
            .alias("status"),
            pl.when(pl.col("_judged").is_not_null() & (pl.col("status") == "open"))
            .then(pl.lit(as_of))
            .otherwise(pl.col("judged_on"))
            .alias("judged_on"),
        )
        .drop("_judged")
    )
    return PostCycle(cases=cases, accounts=accounts, history=history, promises=promises)


def _plan_moves(decided: io.Decisions, accounts: pl.DataFrame) -> pl.DataFrame:
    """``account_id, _moved``: what the write posts to the ledger at D for the plans it
    closes (``io._write_plans``): a completed plan writes off what each of its case's
    accounts owes (when it owes), a broken one that says so puts its waiver back. Both move
    the account's balance and its case's amount due."""
    plans = decided.plans
    completed = plans.filter(pl.col("status") == "completed").select("case_id")
    written_off = (
        accounts.join(completed, on="case_id", how="semi")
        .filter(pl.col("owed_fen") > 0)
        .select("account_id", (-pl.col("owed_fen")).alias("_moved"))
    )
    broken = plans.filter((pl.col("status") == "broken") & pl.col("reinstate_on_break"))
    reinstated = decided.waivers.join(broken.select("agreement_id"), on="agreement_id").select(
        "account_id",
        (-pl.sum_horizontal("fee_fen", "penalty_fen", "interest_fen", "principal_fen")).alias(
            "_moved"
        ),
    )
    return (
        pl.concat([written_off, reinstated], how="vertical_relaxed")
        .group_by("account_id")
        .agg(pl.col("_moved").sum().cast(pl.Int64))
    )


def _closed() -> pl.Expr:
    # a case decided today takes today's closed_on (null when open), else the stored one
    return (
        pl.when(pl.col("status_today").is_not_null())
        .then(pl.col("closed_on_today"))
        .otherwise(pl.col("closed_on"))
        .alias("closed_on")
    )


def _feature_frames(
    tables: Mapping[str, pl.DataFrame], state: PostCycle, creditors: pl.DataFrame, as_of: date
) -> Any:
    """The feature step's frames at ``as_of`` from the state after the write (what
    ``scoring.repository.read_frames`` reads on the store)."""
    from cuishou.scoring.features import FeatureFrames

    cases = (
        state.cases.filter(pl.col("opened_on") <= as_of)
        .join(creditors.select("creditor_id", "tz"), on="creditor_id", how="left")
        .join(tables["debtors"], on="debtor_id", how="left")
    )
    future = (
        tables["ledger"]
        .filter(pl.col("effective_on") > as_of)
        .group_by("account_id")
        .agg(pl.col("amount_fen").sum().alias("_future"))
    )
    accounts = (
        state.accounts.filter(
            pl.col("case_id").is_not_null()
            & pl.col("first_entry_on").is_not_null()
            & (pl.col("first_entry_on") <= as_of)
        )
        .join(future, on="account_id", how="left")
        .with_columns(
            # what it owes by the ledger up to D: its balance less the entries after D
            (pl.col("owed_fen") - pl.col("_future").fill_null(0)).alias("owed_fen"),
            pl.col("first_entry_on").alias("placed_on"),
        )
    )
    # the lake's facts keep stored case ids: a provisional id only for cases new today
    return FeatureFrames.of(
        cases=cases,
        accounts=accounts,
        payments=tables["payment_history"],
        history=state.history,
        contacts=tables["contacts"],
        promises=state.promises,
        holds=tables["holds"],
        points=tables["points"],
    )


# ------------------------------------------------------------------ the decisions


@dataclass(frozen=True)
class After:
    """A run's scores, labels and segments (``OUTPUT_SCHEMAS``) and their summaries (the
    ``scoring`` and ``strategy`` keys of the run), and the grade target's score counts."""

    frames: dict[str, pl.DataFrame]
    scoring: dict[str, Any]
    strategy: dict[str, Any]
    #: per champion version, its drift counts per subject (:func:`drift_of` sums them)
    drift_counts: dict[str, dict[str, list[int]]] = field(default_factory=dict)


def _features(
    tables: Mapping[str, pl.DataFrame], decided: io.Decisions, as_of: date, plan: AfterPlan
) -> tuple[PostCycle, pl.DataFrame]:
    from cuishou.scoring.config import shipped_config
    from cuishou.scoring.features import build_features

    state = post_cycle(tables, decided, as_of)
    frames = _feature_frames(tables, state, plan.creditors, as_of)
    return state, build_features(frames, as_of, config=shipped_config())


def _champion(plan: AfterPlan, target: str) -> Any:
    for chosen, _, artefact, meta in plan.champions:
        if chosen == target:
            return _model(str(meta["sha256"]), artefact, json.dumps(meta, sort_keys=True))
    raise KeyError(target)  # pragma: no cover - the plan lists every champion it scores with


def _scored(
    features: pl.DataFrame, plan: AfterPlan
) -> dict[str, tuple[str, pl.DataFrame, dict[str, list[int]]]]:
    """Per target: the champion's version, its scores and its drift counts."""
    from cuishou.scoring.service import champion_scores, scored_rows

    scored = {}
    for target, version, _, _ in plan.champions:
        model = _champion(plan, target)
        rows = scored_rows(features, target)
        scores, raw = champion_scores(rows, model)
        scored[target] = (version, scores, model.drift_counts(rows, raw))
    return scored


def drift_of(parts: list[dict[str, dict[str, list[int]]]], plan: AfterPlan) -> dict[str, float]:
    """Each champion's score PSI (``scoring.drift`` of the summary, as the store's step
    reports it) from the parts' drift counts added up (the drift reduce)."""
    out: dict[str, float] = {}
    for target, version, _, _ in plan.champions:
        summed: dict[str, list[int]] = {}
        for part in parts:
            for subject, counts in part.get(version, {}).items():
                held = summed.setdefault(subject, [0] * len(counts))
                summed[subject] = [a + int(b) for a, b in zip(held, counts, strict=True)]
        if "score" in summed and any(summed["score"]):
            psi = _champion(plan, target).drift_of_counts({"score": summed["score"]})
            out[version] = round(psi["score"], 4)
    return out


def score_counts(
    tables: Mapping[str, pl.DataFrame], decided: io.Decisions, as_of: date, plan: AfterPlan
) -> pl.DataFrame:
    """``score, n``: the grade target's scores of this part's open cases (the map side of
    the grade-by-share reduce)."""
    from cuishou.scoring.service import GRADE_TARGET

    schema = {"score": pl.Int64(), "n": pl.Int64()}
    if not plan.needs_reduce():
        return _empty(schema)
    _, features = _features(tables, decided, as_of, plan)
    scored = _scored(features, plan)
    if GRADE_TARGET not in scored:
        return _empty(schema)
    return _counts(scored[GRADE_TARGET][1].get_column("score"))


def _counts(scores: pl.Series) -> pl.DataFrame:
    return (
        scores.drop_nulls()
        .value_counts(name="n")
        .select(pl.col("score").cast(pl.Int64), pl.col("n").cast(pl.Int64))
    )


def ruler_from_counts(counts: pl.DataFrame, plan: AfterPlan) -> Any:
    """The day's cut-offs from every part's ``score, n`` (the reduce): the scoring domain's
    ``cutoffs_by_share`` over the same scores one machine would cut (``None``: no score)."""
    from cuishou.scoring.grades import cutoffs_by_share

    total = counts.group_by("score").agg(pl.col("n").sum()).sort("score")
    if total.height == 0:
        return None
    scores = np.repeat(total.get_column("score").to_numpy(), total.get_column("n").to_numpy())
    return cutoffs_by_share(pl.Series("score", scores), plan.settings().grades.share_list)


def decide_after(
    tables: Mapping[str, pl.DataFrame],
    decided: io.Decisions,
    as_of: date,
    plan: AfterPlan,
    *,
    ruler: Any = None,
) -> After:
    """The day's scores, grades, labels and segments for ``tables`` (whole cases and whole
    debtors: one machine's lake, or one Spark partition) and the day's ``decided``.

    ``ruler``: the day's grade cut-offs when grades are cut by share across parts (the
    driver's :func:`ruler_from_counts`); ``None`` cuts them from these cases' own scores,
    right when ``tables`` hold the whole portfolio."""
    from cuishou.scoring.grades import grade_expr
    from cuishou.scoring.labels import label_changes, label_frame
    from cuishou.scoring.service import (
        GRADE_TARGET,
        ScoringSummary,
        day_ruler,
        default_label_pack,
        fixed_cutoffs,
        grade_counts,
    )

    frames = {name: _empty(schema) for name, schema in OUTPUT_SCHEMAS.items()}
    scoring: dict[str, Any] = {**ScoringSummary().to_json(), "note": None}
    strategy: dict[str, Any] = {"strategy": None, "note": None}
    if not plan.active:
        scoring["note"] = NO_MODELS
        strategy["note"] = NO_STRATEGY
        return After(frames, scoring, strategy)
    started = time.perf_counter()
    state, features = _features(tables, decided, as_of, plan)
    ids = state.cases.select("case_id", *CASE_KEY, pl.col("stored_id"))
    grades = None
    labels = _empty({"case_id": pl.Int64(), "code": pl.String(), "facts": pl.String()})
    if plan.scoring:
        settings = plan.settings()
        summary = ScoringSummary(cases=features.height)
        parts = []
        drift_counts = {}
        for target, (version, scored, counts) in _scored(features, plan).items():
            drift_counts[version] = counts
            summary.scored[target] = scored.height
            grade = pl.lit(None, dtype=pl.String)
            if target == GRADE_TARGET:
                meta = next(m for t, _, _, m in plan.champions if t == target)
                chosen = ruler or day_ruler(
                    fixed_cutoffs(meta.get("reference"), settings),
                    scored.get_column("score"),
                    settings,
                )
                grade = grade_expr("score", chosen)
                grades = scored.select("case_id", grade.alias("risk_grade"))
                summary.grades = grade_counts(grades)
            parts.append(
                scored.select(
                    "case_id", pl.lit(target).alias("target"), pl.lit(version).alias("version"),
                    "score", grade.alias("risk_grade"), "reasons",
                )
            )  # fmt: skip
        if parts:
            frames["scores"] = _keyed(pl.concat(parts), ids, "scores")
        labels = label_frame(features, default_label_pack())
        changes = label_changes(tables["case_labels"], labels)  # as the store: every held label
        summary.labels = {
            str(c): int(n) for c, n in labels.group_by("code").len().sort("code").rows()
        }
        summary.labels_given = changes.filter(pl.col("change") == "given").height
        summary.labels_removed = changes.filter(pl.col("change") == "removed").height
        frames["labels"] = _keyed(labels, ids, "labels")
        if grades is not None:
            summary.grades_changed = _grades_changed(state.cases, grades)
        summary.seconds = time.perf_counter() - started
        scoring = {**summary.to_json(), "note": OFF_STORE}
    else:
        scoring["note"] = NO_MODELS
    if plan.strategy is not None:
        frames["segments"], strategy = _segments(
            tables, state, plan, grades, labels if plan.scoring else None, as_of
        )
    else:
        strategy["note"] = NO_STRATEGY
    return After(frames, scoring, strategy, drift_counts if plan.scoring else {})


def _grades_changed(cases: pl.DataFrame, grades: pl.DataFrame) -> int:
    """Cases whose stored grade today's grading changes (as ``write_grades`` counts)."""
    stored = cases.filter(pl.col("stored_id").is_not_null()).select(
        "case_id", pl.col("risk_grade").alias("_old")
    )
    joined = grades.join(stored, on="case_id", how="left")
    return joined.filter(
        pl.col("_old").is_null() | (pl.col("_old") == "") | (pl.col("_old") != pl.col("risk_grade"))
    ).height


def _keyed(frame: pl.DataFrame, ids: pl.DataFrame, name: str) -> pl.DataFrame:
    """``frame`` by provisional case id → the case key and the stored id (null: new)."""
    schema = OUTPUT_SCHEMAS[name]
    joined = frame.join(ids, on="case_id", how="inner").with_columns(
        pl.col("stored_id").alias("case_id")
    )
    return joined.select(pl.col(c).cast(t) for c, t in schema.items())


def _segments(
    tables: Mapping[str, pl.DataFrame],
    state: PostCycle,
    plan: AfterPlan,
    grades: pl.DataFrame | None,
    labels: pl.DataFrame | None,
    as_of: date,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """The strategy's segments of the open cases (``planning.decide_day``), from the state
    after the write and the day's grades and labels (those stored, without models)."""
    from cuishou.strategy.rules import BUCKET_MOVES, open_case_frame
    from cuishou.strategy.service.planning import PlanningSummary, decide_day

    assert plan.strategy is not None
    started = time.perf_counter()
    version = _strategy(json.dumps(plan.strategy, sort_keys=True))
    cases = state.cases.filter(pl.col("status") == "open")
    if grades is not None:  # write_grades: today's grade, or none for a case not graded
        cases = cases.drop("risk_grade").join(grades, on="case_id", how="left")
    cases = cases.join(
        plan.creditors.select("creditor_id", pl.col("code").alias("creditor_code")),
        on="creditor_id",
        how="left",
    ).select(
        "case_id", "debtor_id", "creditor_id", "creditor_code", "bucket", "dpd",
        "risk_grade", "amount_tier", "due_fen",
    )  # fmt: skip
    accounts = state.accounts.join(cases.select("case_id"), on="case_id", how="semi")
    # each account's last move into a bucket, with the bucket it is in now (as the store's
    # read groups them: ``repository.planning.open_cases``)
    moved = (
        state.history.filter(
            pl.col("movement").is_in(list(BUCKET_MOVES)) & (pl.col("as_of") <= as_of)
        )
        .select("account_id", "as_of")
        .join(accounts.select("account_id", "case_id", "bucket"), on="account_id")
        .group_by("account_id", "case_id", "bucket")
        .agg(pl.col("as_of").max().alias("since"))
        .select("case_id", "bucket", "since")
    )
    held = labels if labels is not None else tables["case_labels"]
    frame = open_case_frame(
        cases,
        accounts.select("case_id", "product_code", "bucket", "placed_on"),
        moved,
        held.select("case_id", "code").join(cases.select("case_id"), on="case_id", how="semi"),
        as_of,
    )
    previous = tables["case_segments"]
    existing = frame.filter(pl.col("case_id") > 0)
    fresh = frame.filter(pl.col("case_id") < 0)
    decided = [decide_day(version, existing, previous, day=as_of)]
    if fresh.height:
        # a case new today has no id until the import reserves one, and an experiment's arm
        # is the hash of that id: new cases are segmented by the champion, arm pending
        decided.append(decide_day(replace(version, trials=()), fresh, previous, day=as_of))
    segments = pl.concat([d[0] for d in decided])
    arms = pl.concat([d[2] for d in decided])
    kept = segments.filter(pl.col("segment").is_not_null()).join(
        arms.select("case_id", "experiment_id", "arm"), on="case_id", how="left"
    )
    summary = PlanningSummary(strategy=version.label)
    summary.cases = frame.height
    summary.unsegmented = segments.filter(pl.col("segment").is_null()).height
    summary.conflicts = int(segments.get_column("conflict").sum())
    summary.segments = _count(kept, "segment")
    summary.segments_changed = kept.filter(pl.col("changed")).height
    summary.arms = _count(arms, "arm")
    summary.note = OFF_STORE
    summary.seconds = summary.step_seconds = time.perf_counter() - started
    ids = state.cases.select("case_id", *CASE_KEY, "stored_id")
    return _keyed(kept, ids, "segments"), summary.to_json()


def _count(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(n) for k, n in frame.group_by(column).len().sort(column).rows()}


# ------------------------------------------------------------------ summaries (the reduce)

_SCORING_SUMS = ("cases", "grades_changed", "labels_given", "labels_removed")
_SCORING_MAPS = ("scored", "grades", "labels")
_STRATEGY_SUMS = ("cases", "unsegmented", "conflicts", "segments_changed")
_STRATEGY_MAPS = ("segments", "arms")


def merge_summaries(parts: list[dict[str, Any]], key: str) -> dict[str, Any] | None:
    """The parts' ``scoring`` or ``strategy`` summaries added up (``None``: no part)."""
    sums, maps = (_SCORING_SUMS, _SCORING_MAPS) if key == "scoring" else (
        _STRATEGY_SUMS, _STRATEGY_MAPS)  # fmt: skip
    found = [p for p in parts if p is not None]
    if not found:
        return None
    total = dict(found[0])
    for name in sums:
        if name in total:
            total[name] = sum(int(p.get(name) or 0) for p in found)
    for name in maps:
        if name in total:
            merged: dict[str, int] = {}
            for part in found:
                for k, v in (part.get(name) or {}).items():
                    merged[k] = merged.get(k, 0) + int(v)
            total[name] = dict(sorted(merged.items()))
    for name in ("seconds", "step_seconds"):  # the partitions' own time, added up
        if name in total:
            total[name] = round(sum(float(p.get(name) or 0.0) for p in found), 3)
    return total
