"""The scoring service end to end on a simulated history: train on the store's own past with an
out-of-time window, register, promote, and after the daily cycle score, grade and label every
open case; drift and age alerts; a tampered artefact refused; the starter scorecard."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, update

from cuishou.engine.runner import run_daily_cycle
from cuishou.kit.errors import Conflict, InvalidInput
from cuishou.scoring.models import load_model
from cuishou.scoring.service import (
    STARTER_VERSION,
    grade_cutoffs,
    install_starter,
    promote,
    score_open_cases,
    train_model,
    training_window,
)
from cuishou.scoring.settings import Grades, shipped_settings
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import SimulationOptions, simulate
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Alert,
    Case,
    CaseLabel,
    CaseScore,
    Event,
    ModelDrift,
    ModelVersion,
)

FIRST = date(2026, 6, 1)
DAYS = 66
NOW = datetime(2026, 9, 1, 2, 0, tzinfo=UTC)


def _simulated(engine: Engine, tmp_path: Path) -> date:
    """A 300-account placement simulated for 66 days from 2026-06-01; the last day."""
    result = simulate(
        engine,
        SimulationOptions(
            days=DAYS,
            directory=tmp_path / "files",
            truth_path=tmp_path / "truth.parquet",
            accounts=300,
            seed=7,
            first_day=FIRST,
            collectors=2,
        ),
        load_model_config(),
        clock=lambda: NOW,
    )
    return result.last


def test_train_promote_and_score_every_open_case(engine: Engine, tmp_path: Path) -> None:
    last = _simulated(engine, tmp_path)
    trained = train_model(
        engine, target="pay_30d", kind="scorecard", actor="analyst", now=NOW,
        every=2, validation_days=4,
    )  # fmt: skip
    # the outcome of the last validation snapshot is known: 30 days before the last cycle
    assert trained.validation_to <= last - timedelta(days=30)
    # no training snapshot's 30-day outcome reaches into the validation window
    assert trained.train_to + timedelta(days=30) < trained.validation_from
    assert trained.train_rows > 150 and trained.validation_rows > 150
    assert 0.55 < trained.auc <= 1.0 and 0 < trained.ks < 1
    assert set(trained.to_json()) >= {
        "version", "target", "kind", "auc", "ks", "train_rows", "validation_rows",
    }  # fmt: skip
    gbm = train_model(
        engine, target="pay_30d", kind="gbm", actor="analyst", now=NOW, every=2,
        validation_days=4,
    )  # fmt: skip
    assert (trained.version, gbm.version) == ("pay_30d-scorecard-1", "pay_30d-gbm-1")
    with transaction(engine) as session:
        stored = session.scalar(select(ModelVersion).where(ModelVersion.version == trained.version))
        assert stored is not None and stored.status == "candidate"
        assert load_model(stored.artefact).sha256 == stored.sha256
        assert stored.trained_by == "analyst" and stored.features == trained.features
        cutoffs = stored.reference["grade_cutoffs"]
        assert cutoffs["A"] >= cutoffs["B"] >= cutoffs["C"]
        promote(session, trained.version, actor="analyst", now=NOW)
        with pytest.raises(Conflict, match="already the champion"):
            promote(session, trained.version, actor="analyst", now=NOW)
    with transaction(engine) as session:
        events = session.scalars(
            select(Event.type).where(Event.entity_type == "model").order_by(Event.id)
        ).all()
        assert events == ["model.trained", "model.trained", "model.promoted"]

    today = last + timedelta(days=1)
    cycle = run_daily_cycle(engine, today, now=NOW)
    summary = cycle.scoring
    assert summary is not None
    with transaction(engine) as session:
        open_cases = session.scalar(
            select(func.count()).select_from(Case).where(Case.status == "open")
        )
        scored = session.scalar(
            select(func.count()).select_from(CaseScore).where(CaseScore.target == "pay_30d")
        )
        graded = session.scalar(
            select(func.count()).select_from(Case).where(Case.risk_grade.is_not(None))
        )
        assert open_cases == summary["cases"] == scored == graded == summary["scored"]["pay_30d"]
        assert sum(summary["grades"].values()) == open_cases
        assert summary["grades_changed"] == open_cases  # none had a grade before
        # by share (the default): today's open cases, best first, 20/30/30/20 (ties go up)
        grades = summary["grades"]
        cumulative = [sum(grades.get(g, 0) for g in "ABCD"[: k + 1]) for k in range(3)]
        for have, share in zip(cumulative, (0.2, 0.5, 0.8), strict=True):
            assert have >= round(open_cases * share)
        stored_ruler = grade_cutoffs(
            ModelVersion(reference={"grade_cutoffs": cutoffs}),
            shipped_settings().model_copy(update={"grades": Grades(by="training_share")}),
        )
        assert (stored_ruler.a, stored_ruler.b, stored_ruler.c) == (
            cutoffs["A"], cutoffs["B"], cutoffs["C"],
        )  # fmt: skip
        assert set(summary["grades"]) <= {"A", "B", "C", "D"} and len(summary["grades"]) >= 3
        reasons = session.scalars(select(CaseScore.reasons)).all()
        assert all(len(r) <= 3 for r in reasons) and any(reasons)
        labelled = session.scalar(select(func.count()).select_from(CaseLabel))
        given = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "case.label_given")
        )
        assert labelled == given == summary["labels_given"] > 0
        psi = session.scalars(
            select(ModelDrift.subject).where(ModelDrift.version == trained.version)
        ).all()
        assert "score" in psi and "dpd" in psi

    # a new champion: the old one is retired and the next day's scores are the new one's
    with transaction(engine) as session:
        promote(session, gbm.version, actor="analyst", now=NOW)
        retired = session.scalar(
            select(ModelVersion.status).where(ModelVersion.version == trained.version)
        )
        assert retired == "retired"
    again = score_open_cases(engine, today, now=NOW)
    assert again.labels_given == 0 and again.labels_removed == 0  # nothing changed
    with transaction(engine) as session:
        versions = set(session.scalars(select(CaseScore.version)).all())
        assert versions == {gbm.version}

    # past its configured age, the champion raises a retrain reminder for the strategist
    later = NOW + timedelta(days=shipped_settings().max_age_days + 1)
    aged = score_open_cases(engine, today, now=later)
    assert f"model_retrain_due:{gbm.version}" in aged.alerts
    with transaction(engine) as session:
        alert = session.scalar(select(Alert).where(Alert.kind == "model_retrain_due"))
        assert alert is not None and alert.case_id is None and alert.subject == gbm.version

    # an artefact changed after training is refused, not scored with
    with transaction(engine) as session:
        session.execute(
            update(ModelVersion).where(ModelVersion.version == gbm.version).values(sha256="0" * 64)
        )
    with pytest.raises(Conflict, match="does not match its SHA-256"):
        score_open_cases(engine, today, now=NOW)


def test_the_training_window_is_out_of_time_and_explains_itself() -> None:
    settings = shipped_settings()
    cycles = (date(2026, 1, 1), date(2026, 8, 31))
    window = training_window(cycles, start=None, end=None, settings=settings)
    assert window.validation_to == date(2026, 8, 1)  # 30 days before the last cycle
    assert window.validation_from >= date(2026, 8, 1) - timedelta(days=27)
    assert window.train_to + timedelta(days=30) < window.validation_from
    # a snapshot every 7 days back from the last; the ones inside the gap are left out
    assert all((window.validation_to - d).days % 7 == 0 for d in window.dates)
    assert window.dates[0] == window.train_from and len(window.dates) > 10
    with pytest.raises(InvalidInput, match="no completed daily cycle"):
        training_window(None, start=None, end=None, settings=settings)
    with pytest.raises(InvalidInput, match="too late"):
        training_window(cycles, start=None, end=date(2026, 8, 15), settings=settings)
    with pytest.raises(InvalidInput, match="longer window"):
        training_window((date(2026, 7, 1), date(2026, 8, 31)), start=None, end=None,
                        settings=settings)  # fmt: skip


def test_the_starter_scorecard_installs_once_and_never_unseats_a_champion(
    engine: Engine,
) -> None:
    with transaction(engine) as session:
        first = install_starter(session, actor="demo", now=NOW)
        again = install_starter(session, actor="demo", now=NOW)
        assert first == {"version": STARTER_VERSION, "installed": True, "champion": True}
        assert again == {"version": STARTER_VERSION, "installed": False, "champion": False}
        stored = session.scalar(select(ModelVersion).where(ModelVersion.version == STARTER_VERSION))
        assert stored is not None and stored.status == "champion" and stored.target == "pay_30d"
        assert load_model(stored.artefact).sha256 == stored.sha256
        meta = json.loads(
            (Path(__file__).parents[2] / "src/cuishou/scoring/starter"
             / f"{STARTER_VERSION}.meta.json").read_text(encoding="utf-8")
        )  # fmt: skip
        assert stored.metrics == meta["metrics"] and meta["auc"] > 0.6
