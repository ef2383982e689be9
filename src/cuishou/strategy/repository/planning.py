"""What the daily planning step reads and writes (``case_segments``, ``planned_actions``).

Set-based, through a :class:`~cuishou.store.bulk.Bulk`: a handful of queries read every
open case with what the decision table looks at, and the step's decisions go back in a few
statements (segments changed, the day's plan replaced, an event per segment change).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.store.bulk import Bulk
from cuishou.store.tables import Case, CaseSegment, PlannedAction, StrategyVersion
from cuishou.strategy.rules import BUCKET_MOVES, open_case_frame

ACTOR = "system:strategy"
#: days of planned actions kept before the planning day (one row per case, step and day)
PLAN_KEEP_DAYS = 92
#: the bucket-history movements that put an account in a (new) bucket
PREVIOUS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "segment": pl.String(),
    "since": pl.Date(),
    "version_id": pl.Int64(),
}
POINTS_SCHEMA: dict[str, pl.DataType] = {
    "debtor_id": pl.Int64(),
    "kind": pl.String(),
    "contact_point_id": pl.Int64(),
}
#: a planned action as written (``planned_actions`` less its id)
PLAN_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "version_id": pl.Int64(),
    "segment": pl.String(),
    "step": pl.Int32(),
    "action": pl.String(),
    "channel": pl.String(),
    "template": pl.String(),
    "priority": pl.Int32(),
    "contact_point_id": pl.Int64(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "rule_ids": pl.String(),  # JSON text
    "arm": pl.String(),
}
SEGMENTS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "version_id": pl.Int64(),
    "segment": pl.String(),
    "rule_no": pl.Int32(),
    "since": pl.Date(),
    "from_segment": pl.String(),
}


def open_cases(bulk: Bulk, day: date) -> pl.DataFrame:
    """Every open case with what the decision table reads (``strategy.rules.CASE_SCHEMA``)
    and ``creditor_id``."""
    cases = bulk.fetch(
        f"""SELECT c.id AS case_id, c.debtor_id, c.creditor_id, cr.code AS creditor_code,
            c.bucket, c.dpd, {bulk.nullable("c.risk_grade", "''")} AS risk_grade,
            c.amount_tier, c.due_fen
        FROM cases c JOIN creditors cr ON cr.id = c.creditor_id
        WHERE c.status = 'open'""",  # noqa: S608 - constant fragments only
        {
            "case_id": pl.Int64(), "debtor_id": pl.Int64(), "creditor_id": pl.Int64(),
            "creditor_code": pl.String(), "bucket": pl.String(), "dpd": pl.Int64(),
            "risk_grade": pl.String(), "amount_tier": pl.String(), "due_fen": pl.Int64(),
        },
    )  # fmt: skip
    accounts = bulk.fetch(
        """SELECT a.case_id, a.product_code, a.bucket, p.placed_on
        FROM cases c JOIN accounts a ON a.case_id = c.id
        JOIN placements p ON p.id = a.placement_id
        WHERE c.status = 'open'""",
        {"case_id": pl.Int64(), "product_code": pl.String(), "bucket": pl.String(),
         "placed_on": pl.Date()},
    )  # fmt: skip
    moved = bulk.fetch(
        f"""SELECT a.case_id, a.bucket, MAX(h.as_of) AS since
        FROM cases c JOIN accounts a ON a.case_id = c.id
        JOIN bucket_history h ON h.account_id = a.id
        WHERE c.status = 'open' AND h.as_of <= :day
            AND h.movement IN ({", ".join(f"'{m}'" for m in BUCKET_MOVES)})
        GROUP BY a.id, a.case_id, a.bucket""",  # noqa: S608 - constant fragments only
        {"case_id": pl.Int64(), "bucket": pl.String(), "since": pl.Date()},
        day=day,
    )
    labels = bulk.fetch(
        """SELECT l.case_id, l.code FROM case_labels l
        JOIN cases c ON c.id = l.case_id WHERE c.status = 'open'""",
        {"case_id": pl.Int64(), "code": pl.String()},
    )
    return open_case_frame(cases, accounts, moved, labels, day)


def previous_segments(bulk: Bulk) -> pl.DataFrame:
    return bulk.fetch(
        "SELECT case_id, segment, since, version_id FROM case_segments", PREVIOUS_SCHEMA
    )


def debtor_points(bulk: Bulk, kinds: tuple[str, ...]) -> pl.DataFrame:
    """Each debtor's first active own point of each kind (the one the plan contacts)."""
    wanted = ", ".join(f"'{k}'" for k in kinds if k.isalpha())
    return bulk.fetch(
        f"""SELECT p.debtor_id, p.kind, MIN(p.id) AS contact_point_id
        FROM contact_points p
        WHERE p.owner = 'debtor' AND p.status = 'active' AND p.kind IN ({wanted})
            AND EXISTS (SELECT 1 FROM cases c WHERE c.debtor_id = p.debtor_id
                        AND c.status = 'open')
        GROUP BY p.debtor_id, p.kind""",  # noqa: S608 - letters only
        POINTS_SCHEMA,
    )


def write_segments(
    bulk: Bulk, segments: pl.DataFrame, *, day: date, now: datetime
) -> dict[str, int]:
    """Make ``case_segments`` hold ``segments`` (every open case that has one today):
    rows of cases no longer segmented are deleted, changed ones rewritten, and each change
    is a ``case.segment_changed`` event (from, to, version, row)."""
    kept = bulk.stage("stg_segmented", segments.select("case_id"), index=["case_id"])
    removed = bulk.execute(
        f"""DELETE FROM case_segments WHERE NOT EXISTS (SELECT 1 FROM {kept} s
            WHERE s.case_id = case_segments.case_id)"""  # noqa: S608 - staged table name
    )
    bulk.drop(kept)
    moved = segments.filter(pl.col("changed"))
    if moved.height == 0:
        return {"changed": 0, "removed": removed}
    staged = bulk.stage("stg_segments", moved, schema=SEGMENTS_SCHEMA, index=["case_id"])
    bulk.execute(
        f"""DELETE FROM case_segments WHERE EXISTS (SELECT 1 FROM {staged} s
            WHERE s.case_id = case_segments.case_id)"""  # noqa: S608 - staged table name
    )
    bulk.execute(
        f"""INSERT INTO case_segments (case_id, version_id, segment, rule_no, since, updated_on)
        SELECT s.case_id, s.version_id, s.segment, s.rule_no, s.since, :day
        FROM {staged} s""",  # noqa: S608 - staged table name
        day=day,
    )
    payload = (
        "json_object('from', s.from_segment, 'to', s.segment, 'version_id', s.version_id, "
        "'row', s.rule_no)"
        if bulk.sqlite
        else "json_build_object('from', s.from_segment, 'to', s.segment, "
        "'version_id', s.version_id, 'row', s.rule_no)"
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.segment_changed', 'case', s.case_id, s.case_id, {payload}
        FROM {staged} s""",  # noqa: S608 - constant fragments only
        now=now,
        actor=ACTOR,
    )
    bulk.drop(staged)
    return {"changed": moved.height, "removed": removed}


def write_plan(bulk: Bulk, plan: pl.DataFrame, *, day: date) -> int:
    """Replace the day's plan with ``plan`` (:data:`PLAN_SCHEMA`): a re-run gives one plan.
    Plans older than :data:`PLAN_KEEP_DAYS` before ``day`` are deleted (what was done is in
    the contacts; a plan is kept for a quarter, to answer "why was this case sent that")."""
    bulk.execute("DELETE FROM planned_actions WHERE day = :day", day=day)
    bulk.execute(
        "DELETE FROM planned_actions WHERE day < :cutoff",
        cutoff=day - timedelta(days=PLAN_KEEP_DAYS),
    )
    if plan.height == 0:
        return 0
    staged = bulk.stage("stg_plan", plan, schema=PLAN_SCHEMA)
    columns = [c for c in PLAN_SCHEMA if c != "rule_ids"]
    bulk.execute(
        f"""INSERT INTO planned_actions (day, {", ".join(columns)}, rule_ids)
        SELECT :day, {", ".join(f"s.{c}" for c in columns)}, {bulk.json("s.rule_ids")}
        FROM {staged} s""",  # noqa: S608 - staged table name, constant columns
        day=day,
    )
    bulk.drop(staged)
    return plan.height


def open_creditor_ids(session: Session) -> list[int]:
    """The creditors with open cases."""
    query = select(Case.creditor_id).where(Case.status == "open").distinct()
    return sorted(int(v) for v in session.scalars(query))


# --------------------------------------------------------------------------- one case


def case_segment(session: Session, case_id: int) -> tuple[CaseSegment, StrategyVersion] | None:
    """The case's segment row and the version it is under (``None``: not segmented)."""
    row = session.execute(
        select(CaseSegment, StrategyVersion)
        .join(StrategyVersion, StrategyVersion.id == CaseSegment.version_id)
        .where(CaseSegment.case_id == case_id)
    ).first()
    return None if row is None else (row[0], row[1])


def case_actions(session: Session, case_id: int) -> list[PlannedAction]:
    """The case's planned actions of the latest day it has a plan for, in path order."""
    latest = (
        select(func.max(PlannedAction.day)).where(PlannedAction.case_id == case_id)
    ).scalar_subquery()
    return list(
        session.scalars(
            select(PlannedAction)
            .where(PlannedAction.case_id == case_id, PlannedAction.day == latest)
            .order_by(PlannedAction.step, PlannedAction.id)
        )
    )


# --------------------------------------------------------------------------- lists

LIST_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "action": pl.String(),
    "segment": pl.String(),
    "template": pl.String(),
    "priority": pl.Int64(),
    "status": pl.String(),
    "contact_point_id": pl.Int64(),
    "point_kind": pl.String(),
    "point_value": pl.String(),
    "window_start": pl.Datetime("us", "UTC"),
    "window_end": pl.Datetime("us", "UTC"),
    "home_zone": pl.String(),
    "collector": pl.String(),
    "due_fen": pl.Int64(),
    "dpd": pl.Int64(),
    "bucket": pl.String(),
    "rule_ids": pl.String(),
}


def plan_list(
    bulk: Bulk, day: date, *, actions: tuple[str, ...], statuses: tuple[str, ...]
) -> pl.DataFrame:
    """The day's planned actions of some kinds and statuses with the contact point, the
    debtor's home zone and the case's collector (:data:`LIST_SCHEMA`), in priority order."""
    listed = ", ".join(f"'{a}'" for a in actions if a.isalpha())
    kept = ", ".join(f"'{s}'" for s in statuses if s.replace("_", "").isalpha())
    return bulk.fetch(
        f"""SELECT pa.case_id, pa.action, pa.segment, {bulk.nullable("pa.template", "''")}
                AS template, {bulk.nullable("pa.priority", "0")} AS priority, pa.status,
            {bulk.nullable("pa.contact_point_id", "0")} AS contact_point_id,
            {bulk.nullable("p.kind", "''")} AS point_kind,
            {bulk.nullable("p.value", "''")} AS point_value,
            {bulk.nullable("pa.window_start", "''")} AS window_start,
            {bulk.nullable("pa.window_end", "''")} AS window_end,
            d.timezone AS home_zone, {bulk.nullable("u.username", "''")} AS collector,
            c.due_fen, c.dpd, c.bucket,
            {"pa.rule_ids" if bulk.sqlite else "CAST(pa.rule_ids AS TEXT)"} AS rule_ids
        FROM planned_actions pa
        JOIN cases c ON c.id = pa.case_id
        JOIN debtors d ON d.id = c.debtor_id
        LEFT JOIN contact_points p ON p.id = pa.contact_point_id
        LEFT JOIN users u ON u.id = c.assigned_user_id
        WHERE pa.day = :day AND pa.action IN ({listed}) AND pa.status IN ({kept})
        ORDER BY {bulk.nullable("pa.priority", "99")}, c.due_fen DESC, pa.case_id, pa.step""",  # noqa: S608
        LIST_SCHEMA,
        day=day,
    ).with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
        for c in ("template", "point_kind", "point_value", "collector")
    ).with_columns(
        pl.when(pl.col(c) == 0).then(None).otherwise(pl.col(c)).alias(c)
        for c in ("priority", "contact_point_id")
    )  # fmt: skip
