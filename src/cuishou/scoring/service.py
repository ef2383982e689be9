"""Scoring (风险分级与意向预测): train models on the store's own history, promote a champion
per target, and every day score, grade and label every open case and watch each champion
for drift and age.

Training (:func:`train_model`) takes feature snapshots of the open cases every few days of
a window, pairs each with what happened in the 30 days after (``targets``), fits the model
on the snapshots whose outcomes closed before the out-of-time validation window, and keeps
the version — artefact, SHA-256, features, metrics, windows, who — in the registry.
:func:`promote` makes a version its target's champion. :func:`score_open_cases` is the
daily step: one feature frame for the open cases, each champion's scores and top reasons
(``case_scores``), the A–D grade from the ``pay_30d`` champion (``cases.risk_grade``), the
customer labels with their facts (``case_labels``, each change an event), the PSI of each
champion's score and features (``model_drift``), and the alerts about models
(``model_drift`` above 0.25, ``model_retrain_due`` past the configured age) — raised by the
alerts domain.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cuishou.alerts.service import raise_model_alert
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.kit.errors import Conflict, InvalidInput
from cuishou.scoring import registry
from cuishou.scoring.catalogue import FEATURES, KEY_COLUMNS, feature
from cuishou.scoring.config import FeatureConfig, shipped_config
from cuishou.scoring.drift import drifted
from cuishou.scoring.features import build_features
from cuishou.scoring.grades import GradeCutoffs, cutoffs_by_points, cutoffs_by_share, grade_expr
from cuishou.scoring.labels import LabelPack, label_changes, label_frame, load_label_pack
from cuishou.scoring.metrics import evaluate
from cuishou.scoring.models import FittedModel, fit_model, load_model, split_out_of_time
from cuishou.scoring.repository import lake_reads, read_frames
from cuishou.scoring.settings import Settings, Training, shipped_settings
from cuishou.scoring.targets import HORIZON, build_targets
from cuishou.store.bulk import Bulk, BulkStore
from cuishou.store.db import transaction
from cuishou.store.tables import CycleRun, ModelVersion

#: what the models predict: three per case, one per open promise
CASE_TARGETS = ("pay_30d", "cure_30d", "roll_30d")
TARGETS = (*CASE_TARGETS, "keep_promise")
KINDS = ("scorecard", "gbm")
#: the target whose champion grades the cases (风险等级 A–D)
GRADE_TARGET = "pay_30d"
ACTOR = registry.ACTOR


# --------------------------------------------------------------------------- training


@dataclass(frozen=True, slots=True)
class TrainingWindow:
    """Snapshot dates: training from ``train_from`` to ``train_to``, validation from
    ``validation_from`` to ``validation_to`` (each snapshot's outcome is the 30 days after)."""

    train_from: date
    train_to: date
    validation_from: date
    validation_to: date
    dates: tuple[date, ...]


@dataclass(frozen=True, slots=True)
class TrainResult:
    version: str
    target: str
    kind: str
    auc: float
    ks: float
    gini: float
    brier: float
    train_rows: int
    validation_rows: int
    train_from: date
    train_to: date
    validation_from: date
    validation_to: date
    features: list[str]
    seconds: float

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        for key in ("train_from", "train_to", "validation_from", "validation_to"):
            out[key] = out[key].isoformat()
        for key in ("auc", "ks", "gini", "brier"):
            out[key] = round(float(out[key]), 4)
        out["seconds"] = round(self.seconds, 2)
        return out


def cycle_days(session: Session) -> tuple[date, date] | None:
    """The first and last business days the daily cycle has run for (``None``: never)."""
    first, last = session.execute(select(func.min(CycleRun.as_of), func.max(CycleRun.as_of))).one()
    return None if first is None else (first, last)


def training_window(
    cycles: tuple[date, date] | None,
    *,
    start: date | None,
    end: date | None,
    settings: Settings,
) -> TrainingWindow:
    """The snapshot dates of a training run (see ``settings.yaml``): every
    ``snapshot_every_days`` back from ``end`` (default: 30 days before the last cycle, the
    last day whose outcome is known) to ``start`` (never before the first cycle); the last
    ``validation_days`` are the out-of-time validation window."""
    if cycles is None:
        raise InvalidInput("the store has no completed daily cycle: run `cuishou daily` first")
    first_cycle, last_cycle = cycles
    known = last_cycle - timedelta(days=HORIZON)
    end = end or known
    if end > known:
        raise InvalidInput(
            f"--to {end.isoformat()} is too late: outcomes are known only up to "
            f"{known.isoformat()} (30 days before the last cycle, {last_cycle.isoformat()})"
        )
    training = settings.training
    start = max(start or end - timedelta(days=training.window_days - 1), first_cycle)
    if start > end:
        raise InvalidInput(f"--from {start.isoformat()} is after --to {end.isoformat()}")
    dates: list[date] = []
    day = end
    while day >= start:
        dates.append(day)
        day -= timedelta(days=training.snapshot_every_days)
    dates.reverse()
    validation_from = max(start, end - timedelta(days=training.validation_days - 1))
    last_training = validation_from - timedelta(days=HORIZON + 1)
    trained = [d for d in dates if d <= last_training]
    validated = [d for d in dates if d >= validation_from]
    if not trained or not validated:
        raise InvalidInput(
            f"the window {start.isoformat()}…{end.isoformat()} has no snapshot to "
            f"{'train' if not trained else 'validate'} on: training snapshots must end 31 days "
            f"before the validation window ({validation_from.isoformat()}); give a longer "
            f"window (--from) or a store with more history"
        )
    return TrainingWindow(
        train_from=trained[0],
        train_to=trained[-1],
        validation_from=validated[0],
        validation_to=validated[-1],
        dates=tuple(trained + validated),
    )


def snapshot_rows(bulk: Bulk, target: str, day: date, config: FeatureConfig) -> pl.DataFrame:
    """The features of the cases open at ``day`` with the ``target`` outcome of the 30 days
    after (one row per case; for ``keep_promise`` one per promise open at ``day``)."""
    features = build_features(read_frames(bulk, day), day, config=config)
    later = read_frames(bulk, day + timedelta(days=HORIZON))
    cases, promises = build_targets(features, later, day, config=config)
    if target == "keep_promise":
        return promises.select("promise_id", "case_id", target).join(
            features, on="case_id", how="inner"
        )
    return features.join(cases.select("case_id", target), on="case_id", how="inner")


def _check_target(target: str, kind: str) -> None:
    if target not in TARGETS:
        raise InvalidInput(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    if kind not in KINDS:
        raise InvalidInput(f"unknown model kind {kind!r}; expected scorecard or gbm")


def train_model(
    engine: Engine,
    *,
    target: str,
    kind: str,
    actor: str,
    now: datetime,
    start: date | None = None,
    end: date | None = None,
    settings: Settings | None = None,
    config: FeatureConfig | None = None,
    every: int | None = None,
    validation_days: int | None = None,
) -> TrainResult:
    """Train a ``kind`` model for ``target`` on the store's history and register it (a
    candidate: :func:`promote` makes it the champion). ``every`` and ``validation_days``
    override the settings' snapshot spacing and validation window."""
    _check_target(target, kind)
    settings = settings or shipped_settings()
    changes = {"snapshot_every_days": every, "validation_days": validation_days}
    chosen = {k: v for k, v in changes.items() if v is not None}
    if chosen:
        training = Training.model_validate({**settings.training.model_dump(), **chosen})
        settings = settings.model_copy(update={"training": training})
    config = config or shipped_config()
    started = time.perf_counter()
    with transaction(engine) as session:
        window = training_window(cycle_days(session), start=start, end=end, settings=settings)
    with BulkStore(engine).read() as bulk:
        rows = pl.concat(
            [snapshot_rows(bulk, target, day, config) for day in window.dates], how="vertical"
        )
    train, validation = split_out_of_time(
        rows, validation_from=window.validation_from, horizon_days=HORIZON
    )
    if train.height > settings.training.max_rows:
        train = train.sample(n=settings.training.max_rows, seed=settings.training.seed)
    model = fit_model(kind, train, target, FEATURES, seed=settings.training.seed)  # type: ignore[arg-type]
    known = validation.filter(pl.col(target).is_not_null())
    predicted = model.predict(known, keys=("case_id",))
    metrics = evaluate(known.get_column(target).cast(pl.Int8), predicted.get_column("probability"))
    cutoffs = None
    if target == GRADE_TARGET:
        found = cutoffs_by_share(predicted.get_column("score"), settings.grades.share_list)
        cutoffs = {"A": found.a, "B": found.b, "C": found.c}
    artefact = model.to_bytes()
    with transaction(engine) as session:
        name = f"{target}-{kind}-{registry.next_version_number(session, target, kind)}"
        version = registry.add_version(
            session,
            version=name,
            target=target,
            kind=kind,
            status="candidate",
            train_from=window.train_from,
            train_to=window.train_to,
            validation_from=window.validation_from,
            validation_to=window.validation_to,
            train_rows=train.height,
            validation_rows=known.height,
            features=[f.code for f in model.features],
            metrics={"validation": metrics.to_dict(), "snapshots": len(window.dates)},
            reference={"grade_cutoffs": cutoffs} if cutoffs else {},
            artefact=artefact,
            sha256=model.sha256,
            trained_by=actor,
            trained_at=now,
        )
        append_event(
            session,
            at=now,
            actor=actor,
            type="model.trained",
            entity_type="model",
            entity_id=version.id,
            payload={"version": name, "target": target, "kind": kind, "auc": metrics.auc},
        )
    return TrainResult(
        version=name,
        target=target,
        kind=kind,
        auc=metrics.auc,
        ks=metrics.ks,
        gini=metrics.gini,
        brier=metrics.brier,
        train_rows=train.height,
        validation_rows=known.height,
        train_from=window.train_from,
        train_to=window.train_to,
        validation_from=window.validation_from,
        validation_to=window.validation_to,
        features=[f.code for f in model.features],
        seconds=time.perf_counter() - started,
    )


def promote(
    session: Session, version: str, *, actor: str, now: datetime, principal: Principal | None = None
) -> ModelVersion:
    """Make ``version`` the champion of its target (the previous champion is retired), with
    a ``model.promoted`` event. ``principal``: a person (needs ``model.promote``); ``None``:
    the command line."""
    if principal is not None:
        require(principal, "model.promote")
        actor = principal.username
    chosen = registry.get_version(session, version, for_update=True)
    if chosen.status == "champion":
        raise Conflict(f"{version} is already the champion for {chosen.target}")
    previous = registry.retire_champion(session, chosen.target)
    registry.crown(session, version, by=actor, at=now)
    append_event(
        session,
        at=now,
        actor=actor,
        type="model.promoted",
        entity_type="model",
        entity_id=chosen.id,
        payload={"version": version, "target": chosen.target, "previous": previous},
    )
    session.refresh(chosen)
    return chosen


# --------------------------------------------------------------------------- daily scoring


@dataclass
class ScoringSummary:
    """What the daily scoring step did (in ``cuishou daily --json`` as ``scoring``)."""

    cases: int = 0
    scored: dict[str, int] = field(default_factory=dict)
    grades: dict[str, int] = field(default_factory=dict)
    grades_changed: int = 0
    labels: dict[str, int] = field(default_factory=dict)
    labels_given: int = 0
    labels_removed: int = 0
    drift: dict[str, float] = field(default_factory=dict)
    alerts: list[str] = field(default_factory=list)
    seconds: float = 0.0

    def to_json(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["seconds"] = round(self.seconds, 2)
        return out


@functools.cache
def default_label_pack() -> LabelPack:
    return load_label_pack(columns=_feature_kinds())


def _feature_kinds() -> dict[str, Any]:
    return {f.code: f.kind for f in FEATURES}


def _loaded(version: ModelVersion) -> FittedModel:
    model = load_model(version.artefact)
    if model.sha256 != version.sha256:
        raise Conflict(
            f"model {version.version}: its artefact does not match its SHA-256; "
            "it was changed after training — retrain or restore it"
        )
    return model


def grade_cutoffs(version: ModelVersion, settings: Settings) -> GradeCutoffs:
    """The fixed cut-offs of ``by: training_share`` (set from the version's validation
    scores when it was trained) or ``by: points``; ``by: share`` sets them each day from
    the scores of that day's open cases instead (in :func:`score_open_cases`)."""
    return fixed_cutoffs(version.reference, settings)


def fixed_cutoffs(reference: dict[str, Any] | None, settings: Settings) -> GradeCutoffs:
    """:func:`grade_cutoffs` from a version's ``reference`` (as the registry and its
    exported ``.meta.json`` hold it)."""
    stored = (reference or {}).get("grade_cutoffs")
    if settings.grades.by == "training_share" and stored:
        return cutoffs_by_points(stored["A"], stored["B"], stored["C"])
    points = settings.grades.points
    return cutoffs_by_points(points["A"], points["B"], points["C"])


def scored_rows(features: pl.DataFrame, target: str) -> pl.DataFrame:
    """The feature rows a ``target``'s champion scores: every open case, or for
    ``keep_promise`` the cases with an open promise."""
    if target == "keep_promise":
        return features.filter(pl.col("promises_open") > 0)
    return features


def champion_scores(rows: pl.DataFrame, model: FittedModel) -> tuple[pl.DataFrame, pl.Series]:
    """``case_id, probability, score, reasons``: a champion's scores as the store keeps them
    (score in whole points, reasons as JSON text), and the unrounded scores drift compares.
    Pure: the daily step and a lake run (:mod:`cuishou.engine.after`) both score through it."""
    predicted = model.predict(rows, reasons="json")
    rounded = predicted.with_columns(pl.col("score").round(0).cast(pl.Int64))
    return rounded, predicted.get_column("score")


def share_grading(settings: Settings) -> bool:
    """Whether the day's grades are cut from the day's own scores (``by: share``): a
    view of every open case's score (a reduce, when the cases are spread out)."""
    return settings.grades.by == "share"


def day_ruler(fixed: GradeCutoffs, scores: pl.Series, settings: Settings) -> GradeCutoffs:
    """The cut-offs the day grades by: with ``by: share`` those of ``scores`` (today's open
    cases, best to worst, in the configured shares), else ``fixed``
    (:func:`grade_cutoffs`)."""
    if share_grading(settings) and scores.len():
        return cutoffs_by_share(scores, settings.grades.share_list)
    return fixed


def grade_counts(grades: pl.DataFrame) -> dict[str, int]:
    return {
        str(g): int(n) for g, n in grades.group_by("risk_grade").len().sort("risk_grade").rows()
    }


def score_open_cases(
    engine: Engine,
    as_of: date,
    *,
    now: datetime,
    settings: Settings | None = None,
    config: FeatureConfig | None = None,
    pack: LabelPack | None = None,
) -> ScoringSummary:
    """The daily scoring step for ``as_of`` (module docstring). Without a champion the
    cases get labels but no score or grade."""
    settings = settings or shipped_settings()
    config = config or shipped_config()
    pack = pack or default_label_pack()
    started = time.perf_counter()
    summary = ScoringSummary()
    with transaction(engine) as session:
        crowned = [(v, _loaded(v)) for v in registry.champions(session)]
        cutoffs = {v.target: grade_cutoffs(v, settings) for v, _ in crowned}
        versions = {v.target: (v.version, v.trained_at) for v, _ in crowned}
    with BulkStore(engine).read_parallel() as bulk:
        features = build_features(read_frames(bulk, as_of), as_of, config=config)
        before = registry.current_labels(bulk)
    summary.cases = features.height
    scored: dict[str, pl.DataFrame] = {}
    drift: dict[str, dict[str, float]] = {}
    for version, model in crowned:
        rows = scored_rows(features, version.target)
        predicted, raw = champion_scores(rows, model)
        scored[version.target] = predicted
        drift[version.version] = model.drift(rows, raw)
        summary.scored[version.target] = predicted.height
    grades = pl.DataFrame(schema=registry.GRADES_SCHEMA)
    if GRADE_TARGET in scored:
        ruler = day_ruler(cutoffs[GRADE_TARGET], scored[GRADE_TARGET].get_column("score"), settings)
        grades = scored[GRADE_TARGET].select(
            "case_id", grade_expr("score", ruler).alias("risk_grade")
        )
        summary.grades = grade_counts(grades)
    labels = label_frame(features, pack)
    changes = label_changes(before, labels)
    summary.labels = {str(c): int(n) for c, n in labels.group_by("code").len().sort("code").rows()}
    summary.labels_given = changes.filter(pl.col("change") == "given").height
    summary.labels_removed = changes.filter(pl.col("change") == "removed").height
    with BulkStore(engine).write() as bulk:
        for target, frame in scored.items():
            registry.write_scores(
                bulk, frame, target=target, version=versions[target][0], as_of=as_of
            )
        if GRADE_TARGET in scored:
            summary.grades_changed = registry.write_grades(bulk, grades)
        registry.write_labels(bulk, labels, changes, as_of=as_of, now=now)
        for name, values in drift.items():
            frame = pl.DataFrame(
                {"subject": list(values), "psi": [float(v) for v in values.values()]},
                schema={"subject": pl.String(), "psi": pl.Float64()},
            )
            registry.write_drift(bulk, frame, version=name, day=as_of)
    summary.alerts = _model_alerts(engine, drift, versions, as_of, now=now, settings=settings)
    summary.drift = {name: round(values.get("score", 0.0), 4) for name, values in drift.items()}
    summary.seconds = time.perf_counter() - started
    return summary


def _model_alerts(
    engine: Engine,
    drift: dict[str, dict[str, float]],
    versions: dict[str, tuple[str, datetime]],
    as_of: date,
    *,
    now: datetime,
    settings: Settings,
) -> list[str]:
    """Raise ``model_drift`` for a champion with any PSI above the threshold and
    ``model_retrain_due`` for one older than ``max_age_days`` (once while unresolved)."""
    raised: list[str] = []
    with transaction(engine) as session:
        for name, values in drift.items():
            high = {k: round(v, 4) for k, v in values.items() if drifted(v)}
            if high and raise_model_alert(
                session, subject=name, kind="model_drift", today=as_of,
                details={"psi": high}, actor=ACTOR, now=now,
            ):  # fmt: skip
                raised.append(f"model_drift:{name}")
        for name, trained_at in versions.values():
            age = (now - trained_at).days
            if age > settings.max_age_days and raise_model_alert(
                session, subject=name, kind="model_retrain_due", today=as_of,
                details={"age_days": age, "max_age_days": settings.max_age_days},
                actor=ACTOR, now=now,
            ):  # fmt: skip
                raised.append(f"model_retrain_due:{name}")
    return raised


# --------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class Reason:
    code: str
    zh: str
    en: str


@dataclass(frozen=True, slots=True)
class LabelView:
    code: str
    zh: str
    en: str
    facts: dict[str, Any]
    since: date


@dataclass(frozen=True, slots=True)
class CaseScoring:
    """A case's grade, its ``pay_30d`` score and reasons, every target's score, its labels."""

    risk_grade: str | None
    score: int | None
    reasons: list[Reason]
    scores: dict[str, dict[str, Any]]
    labels: list[LabelView]


def reason(code: str) -> Reason:
    try:
        known = feature(code)
    except KeyError:
        return Reason(code, code, code)
    return Reason(code, known.zh, known.en)


def case_scoring(session: Session, case_id: int, risk_grade: str | None) -> CaseScoring:
    """What the case page and ``GET /api/v1/cases/{id}`` show of scoring (the caller has
    checked the case is in scope)."""
    pack = default_label_pack()
    scores = {
        s.target: {
            "version": s.version,
            "score": s.score,
            "probability": round(s.probability, 4),
            "reasons": [reason(c) for c in s.reasons],
            "scored_on": s.scored_on,
        }
        for s in registry.case_scores(session, case_id)
    }
    main = next(
        (s for s in registry.case_scores(session, case_id) if s.target == GRADE_TARGET), None
    )
    labels = []
    for row in registry.case_labels(session, case_id):
        try:
            rule = pack.rule(row.code)
            zh, en = rule.zh, rule.en
        except (KeyError, InvalidInput):
            zh = en = row.code
        labels.append(LabelView(row.code, zh, en, dict(row.facts or {}), row.since))
    return CaseScoring(
        risk_grade=risk_grade,
        score=main.score if main else None,
        reasons=[reason(c) for c in main.reasons] if main else [],
        scores=scores,
        labels=labels,
    )


def feature_columns() -> tuple[str, ...]:
    """Every column of the feature frame (keys then features), for exports."""
    return (*KEY_COLUMNS, *(f.code for f in FEATURES))


def _version_row(v: ModelVersion) -> dict[str, Any]:
    validation = (v.metrics or {}).get("validation", {})
    return {
        "version": v.version,
        "target": v.target,
        "kind": v.kind,
        "status": v.status,
        "auc": float(validation.get("auc", 0.0)),
        "ks": float(validation.get("ks", 0.0)),
        "gini": float(validation.get("gini", 0.0)),
        "brier": float(validation.get("brier", 0.0)),
        "train_rows": v.train_rows,
        "validation_rows": v.validation_rows,
        "train_from": v.train_from.isoformat(),
        "train_to": v.train_to.isoformat(),
        "validation_from": v.validation_from.isoformat(),
        "validation_to": v.validation_to.isoformat(),
        "trained_at": v.trained_at.isoformat(),
        "trained_by": v.trained_by,
        "promoted_at": v.promoted_at.isoformat() if v.promoted_at else None,
        "promoted_by": v.promoted_by,
        "sha256": v.sha256,
    }


def list_versions(
    session: Session, principal: Principal | None, *, target: str | None = None
) -> list[dict[str, Any]]:
    """The registry, newest first (``principal`` ``None``: the command line)."""
    if principal is not None:
        require(principal, "model.read")
    return [_version_row(v) for v in registry.list_versions(session, target)]


def _card_cutoffs(session: Session, version: ModelVersion) -> dict[str, float] | None:
    """The A–D cut-offs the daily cycle grades by when ``version`` is the grade target's
    champion: fixed ones (``training_share``, ``points``), or with ``share`` those of the
    last day it graded (``None``: another target, or never graded by share)."""
    if version.target != GRADE_TARGET:
        return None
    settings = shipped_settings()
    if settings.grades.by != "share":
        found = grade_cutoffs(version, settings)
        return {"A": found.a, "B": found.b, "C": found.c}
    floors = registry.grade_floors(session, version.version)
    if not floors:
        return None
    out: dict[str, float] = {}
    better = float(max(floors.values()))
    for grade in ("A", "B", "C"):  # a grade nobody fell into starts where the better one does
        better = float(floors.get(grade, better))
        out[grade] = better
    return out


def model_card(session: Session, principal: Principal | None, version: str) -> dict[str, Any]:
    """Everything the model card shows: the version, its validation metrics and deciles
    (lift, calibration), its features with their zh/en names, the daily PSI of its score
    and features, its grade cut-offs, and the target's version history."""
    if principal is not None:
        require(principal, "model.read")
    chosen = registry.get_version(session, version)
    drift = registry.drift_history(session, version)
    psi: dict[str, list[dict[str, Any]]] = {}
    for row in drift:
        psi.setdefault(row.subject, []).append({"day": row.day.isoformat(), "psi": row.psi})
    features = []
    for code in chosen.features:
        known = reason(code)
        latest = psi.get(code, [])
        features.append(
            {"code": code, "zh": known.zh, "en": known.en,
             "psi": latest[-1]["psi"] if latest else None}
        )  # fmt: skip
    return {
        **_version_row(chosen),
        "metrics": chosen.metrics,
        "deciles": (chosen.metrics or {}).get("validation", {}).get("deciles", []),
        "features": features,
        "psi": psi,
        "grade_cutoffs": _card_cutoffs(session, chosen),
        "history": [_version_row(v) for v in registry.list_versions(session, chosen.target)],
    }


# --------------------------------------------------------------------------- starter model

#: a scorecard shipped with Cuishou (冷启动模型), trained on a simulated history by
#: ``scripts/train_starter_model.py``: grades from the first day, until the shop has the
#: history to train its own (``cuishou models train``) and promotes it
STARTER_DIRECTORY = Path(__file__).with_name("starter")
STARTER_VERSION = "pay_30d-scorecard-starter"


def starter_files() -> tuple[Path, Path]:
    return (
        STARTER_DIRECTORY / f"{STARTER_VERSION}.json",
        STARTER_DIRECTORY / f"{STARTER_VERSION}.meta.json",
    )


def export_version(session: Session, version: str, directory: Path, name: str) -> None:
    """Write a registered version's artefact and its registry facts as files (the starter)."""
    chosen = registry.get_version(session, version)
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{name}.json").write_bytes(chosen.artefact)
    meta = {
        **_version_row(chosen),
        "version": name,
        "status": "candidate",
        "features": chosen.features,
        "metrics": chosen.metrics,
        "reference": chosen.reference,
        "promoted_at": None,
        "promoted_by": None,
    }
    (directory / f"{name}.meta.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1, sort_keys=True) + "\n", encoding="utf-8"
    )


def install_starter(session: Session, *, actor: str, now: datetime) -> dict[str, Any]:
    """Register the shipped starter scorecard (once) and make it the ``pay_30d`` champion
    when that target has none. Returns what was done."""
    artefact_path, meta_path = starter_files()
    artefact = artefact_path.read_bytes()
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    model = load_model(artefact)
    if model.sha256 != meta["sha256"]:
        raise Conflict(f"the starter model {artefact_path} does not match its SHA-256")
    installed = STARTER_VERSION in {v.version for v in registry.list_versions(session, None)}
    if not installed:
        version = registry.add_version(
            session,
            version=STARTER_VERSION,
            target=meta["target"],
            kind=meta["kind"],
            status="candidate",
            train_from=date.fromisoformat(meta["train_from"]),
            train_to=date.fromisoformat(meta["train_to"]),
            validation_from=date.fromisoformat(meta["validation_from"]),
            validation_to=date.fromisoformat(meta["validation_to"]),
            train_rows=meta["train_rows"],
            validation_rows=meta["validation_rows"],
            features=meta["features"],
            metrics=meta["metrics"],
            reference=meta["reference"],
            artefact=artefact,
            sha256=meta["sha256"],
            trained_by=meta["trained_by"],
            trained_at=datetime.fromisoformat(meta["trained_at"]),
        )
        append_event(
            session,
            at=now,
            actor=actor,
            type="model.installed",
            entity_type="model",
            entity_id=version.id,
            payload={"version": STARTER_VERSION, "sha256": meta["sha256"]},
        )
    crowned = not any(v.target == meta["target"] for v in registry.champions(session))
    if crowned:
        promote(session, STARTER_VERSION, actor=actor, now=now)
    return {"version": STARTER_VERSION, "installed": not installed, "champion": crowned}


# --------------------------------------------------------------------------- for a lake


def lake_facts(bulk: Bulk, *, notes_from: date | None) -> dict[str, pl.DataFrame]:
    """What the feature step reads, uncut by date, for a Parquet lake
    (:func:`cuishou.scoring.repository.lake_reads`)."""
    return {**lake_reads(bulk, notes_from=notes_from), "case_labels": registry.current_labels(bulk)}


def export_champions(session: Session, directory: Path) -> list[dict[str, Any]]:
    """Every target's champion as the registry's own files (:func:`export_version`:
    ``<version>.json`` artefact, ``<version>.meta.json`` facts) under ``directory``; the
    list of ``{version, target, sha256}`` written."""
    written = []
    for version in registry.champions(session):
        export_version(session, version.version, directory, version.version)
        written.append(
            {"version": version.version, "target": version.target, "sha256": version.sha256}
        )
    return written


def load_exported(artefact: bytes, meta: dict[str, Any]) -> FittedModel:
    """A model exported by :func:`export_version`, checked against its SHA-256."""
    model = load_model(artefact)
    if model.sha256 != meta["sha256"]:
        raise Conflict(
            f"model {meta.get('version')}: its artefact does not match its SHA-256; "
            "it was changed after it was exported — export the lake again"
        )
    return model
