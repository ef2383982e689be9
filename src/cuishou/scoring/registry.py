"""The model registry and the scores, grades, labels and drift it writes: queries and writes.

The registry (``model_versions``) is read and written one row at a time through the session;
what the daily cycle writes for every open case (``case_scores``, ``cases.risk_grade``,
``case_labels`` and their events) goes through a :class:`~cuishou.store.bulk.Bulk` in one
write transaction, set-based: the frames are staged and applied with a few statements.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from cuishou.kit.errors import NotFound
from cuishou.store.bulk import Bulk
from cuishou.store.tables import Case, CaseLabel, CaseScore, ModelDrift, ModelVersion

ACTOR = "system:scoring"

SCORES_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "probability": pl.Float64(),
    "score": pl.Int64(),
    "reasons": pl.String(),  # JSON text: the reason codes
}
GRADES_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "risk_grade": pl.String()}
LABELS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "code": pl.String(),
    "facts": pl.String(),  # JSON text
}
LABEL_CHANGES_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "code": pl.String(),
    "change": pl.String(),  # given | removed
    "facts": pl.String(),
}
CURRENT_LABELS_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "code": pl.String()}


# --------------------------------------------------------------------------- registry


def next_version_number(session: Session, target: str, kind: str) -> int:
    prefix = f"{target}-{kind}-"
    names = session.scalars(
        select(ModelVersion.version).where(ModelVersion.version.startswith(prefix))
    ).all()
    numbers = [int(n[len(prefix) :]) for n in names if n[len(prefix) :].isdigit()]
    return max(numbers, default=0) + 1


def add_version(session: Session, **values: Any) -> ModelVersion:
    version = ModelVersion(**values)
    session.add(version)
    session.flush()
    return version


def get_version(session: Session, version: str, *, for_update: bool = False) -> ModelVersion:
    query = select(ModelVersion).where(ModelVersion.version == version)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"model version {version} not found", version=version)
    return found


def list_versions(session: Session, target: str | None = None) -> list[ModelVersion]:
    query = select(ModelVersion).order_by(ModelVersion.trained_at.desc(), ModelVersion.id.desc())
    if target is not None:
        query = query.where(ModelVersion.target == target)
    return list(session.scalars(query))


def champions(session: Session) -> list[ModelVersion]:
    return list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.status == "champion")
            .order_by(ModelVersion.target)
        )
    )


def retire_champion(session: Session, target: str) -> str | None:
    """Make ``target``'s champion (if any) a retired version; its version name."""
    current = session.scalar(
        select(ModelVersion.version).where(
            ModelVersion.target == target, ModelVersion.status == "champion"
        )
    )
    if current is not None:
        session.execute(
            update(ModelVersion).where(ModelVersion.version == current).values(status="retired")
        )
        session.flush()
    return current


def crown(session: Session, version: str, *, by: str, at: datetime) -> None:
    session.execute(
        update(ModelVersion)
        .where(ModelVersion.version == version)
        .values(status="champion", promoted_by=by, promoted_at=at)
    )


def drift_history(session: Session, version: str) -> list[ModelDrift]:
    return list(
        session.scalars(
            select(ModelDrift)
            .where(ModelDrift.version == version)
            .order_by(ModelDrift.day, ModelDrift.subject)
        )
    )


def case_scores(session: Session, case_id: int) -> list[CaseScore]:
    return list(
        session.scalars(
            select(CaseScore).where(CaseScore.case_id == case_id).order_by(CaseScore.target)
        )
    )


def case_labels(session: Session, case_id: int) -> list[CaseLabel]:
    return list(
        session.scalars(
            select(CaseLabel).where(CaseLabel.case_id == case_id).order_by(CaseLabel.code)
        )
    )


def grade_floors(session: Session, version: str) -> dict[str, int]:
    """The lowest score in each grade among the cases ``version`` scored last (the cut-offs
    the last day's grading by share used)."""
    rows = session.execute(
        select(Case.risk_grade, func.min(CaseScore.score))
        .join(Case, Case.id == CaseScore.case_id)
        .where(CaseScore.version == version, Case.risk_grade.is_not(None))
        .group_by(Case.risk_grade)
    ).all()
    return {str(grade): int(low) for grade, low in rows}


def label_counts(session: Session) -> dict[str, int]:
    rows = session.execute(select(CaseLabel.code, func.count()).group_by(CaseLabel.code)).all()
    return {str(code): int(n) for code, n in rows}


# --------------------------------------------------------------------------- bulk writes


def _differences(
    new: pl.DataFrame, stored: pl.DataFrame, differs: pl.Expr
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows of ``new`` (one per ``case_id``) that ``stored`` lacks or that ``differs``
    (over ``new``'s columns and ``stored``'s, named ``_old_…``), and the ``case_id`` of the
    stored rows ``new`` lacks. Both sorted by case: when they hold the same cases (a steady
    day) the rows are compared side by side, else matched by a join."""
    new = new.sort("case_id")
    stored = stored.sort("case_id")
    old = stored.rename({c: f"_old_{c}" for c in stored.columns if c != "case_id"})
    if new.get_column("case_id").equals(stored.get_column("case_id")):
        compared = pl.concat([new, old.drop("case_id")], how="horizontal")
        return compared.filter(differs).select(new.columns), stored.clear().select("case_id")
    compared = new.join(old, on="case_id", how="left")
    missing = pl.col(old.columns[1]).is_null()  # every stored column is NOT NULL
    changed = compared.filter(missing | differs).select(new.columns)
    return changed, stored.join(new, on="case_id", how="anti").select("case_id")


#: what a case's stored score is compared on (a case whose four are unchanged keeps its row)
_STORED_SCORES: dict[str, pl.DataType] = {**SCORES_SCHEMA, "version": pl.String()}


def write_scores(
    bulk: Bulk, scores: pl.DataFrame, *, target: str, version: str, as_of: date
) -> int:
    """Make ``target``'s scores equal ``scores`` (one row per open case scored today): a case
    whose version, probability, score and reasons are what it already has keeps its row
    (``scored_on`` stays the day it got that score); new or changed ones are written with
    ``scored_on`` today; cases not scored today (closed since) lose their score for this
    target. Returns the number of rows written (changed ones).

    The stored scores are read and compared in Polars, and only the differences are staged
    and written: a steady day changes few scores, and reading a million rows costs less
    than staging and indexing them to compare in SQL."""
    scores = scores.select(pl.col(c).cast(t) for c, t in SCORES_SCHEMA.items())
    stored = bulk.fetch(
        """SELECT case_id, probability, score, CAST(reasons AS TEXT) AS reasons, version
        FROM case_scores WHERE target = :target""",
        _STORED_SCORES,
        target=target,
    )
    changed, gone = _differences(
        scores,
        stored,
        (pl.col("_old_version") != version)
        | (pl.col("_old_probability") != pl.col("probability"))
        | (pl.col("_old_score") != pl.col("score"))
        | (pl.col("_old_reasons") != pl.col("reasons")),
    )
    if gone.height:
        dropped = bulk.stage("stg_scores_gone", gone, index=["case_id"])
        bulk.execute(
            f"""DELETE FROM case_scores WHERE target = :target
            AND case_id IN (SELECT case_id FROM {dropped})""",  # noqa: S608
            target=target,
        )
    if not changed.height:
        return 0
    staged = bulk.stage("stg_scores", changed, schema=SCORES_SCHEMA, index=["case_id"])
    bulk.execute(
        f"""INSERT INTO case_scores (case_id, target, version, probability, score, reasons,
            scored_on)
        SELECT s.case_id, :target, :version, s.probability, s.score, {bulk.json("s.reasons")},
            :as_of
        FROM {staged} s WHERE true
        ON CONFLICT (case_id, target) DO UPDATE SET version = excluded.version,
            probability = excluded.probability, score = excluded.score,
            reasons = excluded.reasons, scored_on = excluded.scored_on""",  # noqa: S608
        target=target,
        version=version,
        as_of=as_of,
    )
    return changed.height


def write_grades(bulk: Bulk, grades: pl.DataFrame) -> int:
    """Set ``cases.risk_grade`` where it changed; open cases without a grade today (no
    champion scored them) keep none. Returns the number of cases whose grade changed.
    Compared in Polars with the stored grades; only the changes are staged and written."""
    grades = grades.select(pl.col(c).cast(t) for c, t in GRADES_SCHEMA.items())
    stored = bulk.fetch(
        "SELECT id AS case_id, risk_grade FROM cases WHERE risk_grade IS NOT NULL",
        GRADES_SCHEMA,
    )
    changed, ungraded = _differences(
        grades, stored, pl.col("_old_risk_grade") != pl.col("risk_grade")
    )
    if changed.height:
        staged = bulk.stage("stg_grades", changed, index=["case_id"])
        bulk.execute(
            f"""UPDATE cases SET risk_grade = s.risk_grade FROM {staged} s
            WHERE cases.id = s.case_id"""  # noqa: S608
        )
    if ungraded.height:
        dropped = bulk.stage("stg_grades_gone", ungraded, index=["case_id"])
        bulk.execute(
            f"""UPDATE cases SET risk_grade = NULL
            WHERE id IN (SELECT case_id FROM {dropped})"""  # noqa: S608
        )
    return changed.height


def current_labels(bulk: Bulk) -> pl.DataFrame:
    return bulk.fetch("SELECT case_id, code FROM case_labels", CURRENT_LABELS_SCHEMA)


def write_labels(
    bulk: Bulk, labels: pl.DataFrame, changes: pl.DataFrame, *, as_of: date, now: datetime
) -> None:
    """Make ``case_labels`` equal ``labels`` (every label every open case carries today,
    with its facts): labels newly given are inserted ``since`` today, removed ones deleted,
    the facts of the others rewritten where they changed; each change (``changes``) is a
    ``case.label_given`` or ``case.label_removed`` event with the facts."""
    staged = bulk.stage("stg_labels", labels, schema=LABELS_SCHEMA, index=["case_id", "code"])
    moved = bulk.stage("stg_label_changes", changes, schema=LABEL_CHANGES_SCHEMA)
    bulk.execute(
        f"""DELETE FROM case_labels WHERE NOT EXISTS (SELECT 1 FROM {staged} s
            WHERE s.case_id = case_labels.case_id AND s.code = case_labels.code)"""  # noqa: S608
    )
    bulk.execute(
        f"""UPDATE case_labels SET facts = {bulk.json("s.facts")} FROM {staged} s
        WHERE case_labels.case_id = s.case_id AND case_labels.code = s.code
            AND CAST(case_labels.facts AS TEXT) <> s.facts"""  # noqa: S608
    )
    bulk.execute(
        f"""INSERT INTO case_labels (case_id, code, facts, since)
        SELECT s.case_id, s.code, {bulk.json("s.facts")}, :as_of FROM {moved} s
        WHERE s.change = 'given'""",  # noqa: S608
        as_of=as_of,
    )
    payload = (
        "json_object('code', s.code, 'facts', json(s.facts))"
        if bulk.sqlite
        else "json_build_object('code', s.code, 'facts', CAST(s.facts AS JSON))"
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.label_' || s.change, 'case', s.case_id, s.case_id,
            {payload}
        FROM {moved} s""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
    )


def write_drift(bulk: Bulk, drift: pl.DataFrame, *, version: str, day: date) -> None:
    """``drift``: ``subject, psi`` for ``version`` on ``day`` (a re-run replaces the day)."""
    staged = bulk.stage("stg_drift", drift, schema={"subject": pl.String(), "psi": pl.Float64()})
    bulk.execute(
        "DELETE FROM model_drift WHERE version = :version AND day = :day", version=version, day=day
    )
    bulk.execute(
        f"""INSERT INTO model_drift (version, day, subject, psi)
        SELECT :version, :day, s.subject, s.psi FROM {staged} s""",  # noqa: S608
        version=version,
        day=day,
    )
