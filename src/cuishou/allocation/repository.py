"""Allocation queries: the facts the rules read (open in-house cases, collectors, scores,
contacts, holds, history) and the batch and move rows. Joins are explicit; bulk reads and
writes go through :class:`~cuishou.store.bulk.SessionBulk`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any

import polars as pl
from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.allocation.rules import CASE_SCHEMA
from cuishou.kit.clock import CHINA_TZ
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import AllocationBatch, Team, User

UTC_TIME = pl.Datetime("us", "UTC")


def collectors(session: Session, *, team_id: int | None) -> list[tuple[int, str, str | None]]:
    """Active in-house collectors (user id, username, team name), of one team if given."""
    query = (
        select(User.id, User.username, Team.name)
        .outerjoin(Team, Team.id == User.team_id)
        .where(User.role == "collector", User.active.is_(True), User.agency_id.is_(None))
        .order_by(User.username)
    )
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return [(int(i), str(u), t) for i, u, t in session.execute(query).all()]


def _scope(team_id: int | None) -> str:
    return "" if team_id is None else " AND c.team_id = :team_id"


def case_facts(
    session: Session,
    *,
    team_id: int | None,
    labels: Sequence[str],
    hold_kinds: Sequence[str],
    alert_kinds: Sequence[str],
) -> pl.DataFrame:
    """One row per open in-house case (``agency_id`` null) in scope, as
    :data:`~cuishou.allocation.rules.CASE_SCHEMA` plus ``team_id``: its collector and
    whether they are active, bucket, tier, amount due, product (of its largest account),
    region (province), language (方言), the champion's ``pay_30d`` probability, when it was
    last touched (right-party contact or assignment, local date), the bucket and collector
    of its last allocation move, and why it is excluded (legal hold, contact hold, label),
    if it is."""
    bulk = SessionBulk(session)
    scope = _scope(team_id)
    params: dict[str, Any] = {} if team_id is None else {"team_id": team_id}
    base = bulk.fetch(
        f"""SELECT c.id, c.debtor_id, c.assigned_user_id, u.active, c.bucket, c.amount_tier,
            c.due_fen, d.province, d.language, s.probability, c.team_id
        FROM cases c
        JOIN debtors d ON d.id = c.debtor_id
        LEFT JOIN users u ON u.id = c.assigned_user_id
        LEFT JOIN case_scores s ON s.case_id = c.id AND s.target = 'pay_30d'
            AND s.version IN (SELECT version FROM model_versions
                              WHERE status = 'champion' AND target = 'pay_30d')
        WHERE c.status = 'open' AND c.agency_id IS NULL{scope}""",  # noqa: S608 - fixed text
        {
            "case_id": pl.Int64(),
            "debtor_id": pl.Int64(),
            "assigned_user_id": pl.Int64(),
            "assignee_active": pl.Boolean(),
            "bucket": pl.String(),
            "amount_tier": pl.String(),
            "due_fen": pl.Int64(),
            "region": pl.String(),
            "language": pl.String(),
            "probability": pl.Float64(),
            "team_id": pl.Int64(),
        },
        **params,
    )
    open_cases = (
        "SELECT c.id FROM cases c WHERE c.status = 'open' AND c.agency_id IS NULL"  # noqa: S608
        + scope
    )
    products = bulk.fetch(
        f"""SELECT a.case_id, a.product_code, a.principal_fen + a.interest_fen
                + a.penalty_fen + a.fee_fen
        FROM accounts a WHERE a.case_id IN ({open_cases})""",  # noqa: S608 - fixed text
        {"case_id": pl.Int64(), "product": pl.String(), "owed": pl.Int64()},
        **params,
    )
    product = (
        products.sort(["case_id", "owed", "product"], descending=[False, True, False])
        .unique("case_id", keep="first")
        .select("case_id", "product")
    )
    touched = bulk.fetch(
        f"""SELECT t.case_id, MAX(t.at) FROM (
            SELECT ct.case_id, ct.at FROM contacts ct
                WHERE ct.party = 'debtor' AND ct.case_id IN ({open_cases})
            UNION ALL
            SELECT e.case_id, e.at FROM events e
                WHERE e.type = 'case.assigned' AND e.case_id IN ({open_cases})
        ) t GROUP BY t.case_id""",  # noqa: S608 - fixed text
        {"case_id": pl.Int64(), "at": UTC_TIME},
        **params,
    ).select(
        "case_id",
        last_touch_on=pl.col("at").dt.convert_time_zone(str(CHINA_TZ)).dt.date(),
    )
    last_move = bulk.fetch(
        f"""SELECT m.case_id, m.from_user_id, m.bucket FROM allocation_moves m
        JOIN allocation_batches b ON b.id = m.batch_id AND b.status = 'applied'
        WHERE m.id IN (SELECT MAX(m2.id) FROM allocation_moves m2
                       JOIN allocation_batches b2 ON b2.id = m2.batch_id
                       WHERE b2.status = 'applied' GROUP BY m2.case_id)
          AND m.case_id IN ({open_cases})""",  # noqa: S608 - fixed text
        {"case_id": pl.Int64(), "left_user_id": pl.Int64(), "bucket_at_move": pl.String()},
        **params,
    )
    excluded = _exclusions(bulk, open_cases, params, labels, hold_kinds, alert_kinds)
    return (
        base.join(product, on="case_id", how="left")
        .join(touched, on="case_id", how="left")
        .join(last_move, on="case_id", how="left")
        .join(excluded, on="case_id", how="left")
        .select(*CASE_SCHEMA, "team_id")
        .sort("case_id")
    )


def _exclusions(
    bulk: SessionBulk,
    open_cases: str,
    params: dict[str, Any],
    labels: Sequence[str],
    hold_kinds: Sequence[str],
    alert_kinds: Sequence[str],
) -> pl.DataFrame:
    """Why a case is excluded: ``legal_hold`` (an open alert of ``alert_kinds``),
    ``hold:<kind>`` (an open contact hold), ``label:<code>`` — the first that applies."""
    parts: list[str] = []
    values: dict[str, Any] = dict(params)
    if alert_kinds:
        names = _in_list("alert", alert_kinds, values)
        parts.append(
            f"""SELECT al.case_id, 'legal_hold' FROM alerts al WHERE al.status = 'open'
            AND al.kind IN ({names}) AND al.case_id IN ({open_cases})"""  # noqa: S608
        )
    if hold_kinds:
        names = _in_list("hold", hold_kinds, values)
        parts.append(
            f"""SELECT c.id, 'hold:' || h.kind FROM contact_holds h
            JOIN cases c ON (h.case_id = c.id OR (h.case_id IS NULL AND h.debtor_id = c.debtor_id))
            WHERE h.lifted_at IS NULL AND h.kind IN ({names})
              AND c.id IN ({open_cases})"""  # noqa: S608
        )
    if labels:
        names = _in_list("label", labels, values)
        parts.append(
            f"""SELECT l.case_id, 'label:' || l.code FROM case_labels l
            WHERE l.code IN ({names}) AND l.case_id IN ({open_cases})"""  # noqa: S608
        )
    schema = {"case_id": pl.Int64(), "excluded": pl.String()}
    if not parts:
        return pl.DataFrame(schema=schema)
    rows = SessionBulk.fetch(bulk, " UNION ALL ".join(parts), schema, **values)
    return rows.sort("case_id", "excluded").unique("case_id", keep="first")


def _in_list(prefix: str, items: Sequence[str], values: dict[str, Any]) -> str:
    names = []
    for i, item in enumerate(sorted(items)):
        values[f"{prefix}{i}"] = item
        names.append(f":{prefix}{i}")
    return ", ".join(names)


def history(session: Session, *, since: datetime) -> pl.DataFrame:
    """Per collector and bucket: cases worked since ``since`` (a contact logged) and how many
    of those had a payment since then (``user_id``, ``bucket``, ``worked``, ``paid``),
    counted in the store."""
    return SessionBulk(session).fetch(
        """SELECT w.user_id, w.bucket, COUNT(*),
            SUM(CASE WHEN EXISTS (
                SELECT 1 FROM accounts a JOIN payments p ON p.account_id = a.id
                WHERE a.case_id = w.case_id AND p.paid_at >= :since AND p.reversed_at IS NULL
            ) THEN 1 ELSE 0 END)
        FROM (SELECT DISTINCT ct.user_id, ct.case_id, c.bucket FROM contacts ct
              JOIN cases c ON c.id = ct.case_id WHERE ct.at >= :since) w
        GROUP BY w.user_id, w.bucket ORDER BY w.user_id, w.bucket""",
        {"user_id": pl.Int64(), "bucket": pl.String(), "worked": pl.Int64(), "paid": pl.Int64()},
        since=since,
    )


def add_batch(
    session: Session, *, as_of: date, actor: str, now: datetime, summary: dict[str, Any]
) -> AllocationBatch:
    batch = AllocationBatch(
        as_of=as_of, actor=actor, created_at=now, status="applied", summary=summary
    )
    session.add(batch)
    session.flush()
    return batch


MOVE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "from_user_id": pl.Int64(),
    "from_team_id": pl.Int64(),
    "to_user_id": pl.Int64(),
    "reason": pl.String(),
    "bucket": pl.String(),
    "gain_fen": pl.Int64(),
    "payload": pl.String(),
}


def record_moves(
    session: Session, moves: pl.DataFrame, *, batch_id: int, actor: str, now: datetime
) -> None:
    """The batch's moves (:data:`MOVE_SCHEMA`) as rows and a ``case.allocated`` event each
    (its ``payload``: batch, rule, expected recovery) for the case timeline — set-based."""
    bulk = SessionBulk(session)
    staged = bulk.stage("allocation_moves", moves, schema=MOVE_SCHEMA, index=["case_id"])
    bulk.execute(
        f"""INSERT INTO allocation_moves (batch_id, case_id, from_user_id, from_team_id,
            to_user_id, reason, bucket, gain_fen)
        SELECT :batch, s.case_id, s.from_user_id, s.from_team_id, s.to_user_id, s.reason,
            s.bucket, s.gain_fen FROM {staged} s ORDER BY s.case_id""",  # noqa: S608
        batch=batch_id,
    )
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'case.allocated', 'case', s.case_id, s.case_id,
            {bulk.json("s.payload")}
        FROM {staged} s ORDER BY s.case_id""",  # noqa: S608 - staged table name
        now=now,
        actor=actor,
    )


def batch(session: Session, batch_id: int, *, for_update: bool = False) -> AllocationBatch | None:
    query = select(AllocationBatch).where(AllocationBatch.id == batch_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def batch_moves(session: Session, batch_id: int, *, since: datetime) -> pl.DataFrame:
    """The batch's moves with the case's collector now, who it came from (and whether they
    are still active), and whether the case was worked after ``since`` (a contact, a
    promise, a later assignment)."""
    bulk = SessionBulk(session)
    return bulk.fetch(
        """SELECT m.case_id, m.from_user_id, m.from_team_id, m.to_user_id, u.username,
            u.active, c.assigned_user_id,
            CASE WHEN EXISTS (SELECT 1 FROM contacts ct
                              WHERE ct.case_id = m.case_id AND ct.at > :since)
                 THEN 'contact'
                 WHEN EXISTS (SELECT 1 FROM promises p
                              WHERE p.case_id = m.case_id AND p.created_at > :since)
                 THEN 'promise'
                 WHEN EXISTS (SELECT 1 FROM events e WHERE e.case_id = m.case_id
                              AND e.type = 'case.assigned' AND e.at > :since)
                 THEN 'reassigned'
                 ELSE NULL END
        FROM allocation_moves m
        JOIN cases c ON c.id = m.case_id
        LEFT JOIN users u ON u.id = m.from_user_id
        WHERE m.batch_id = :batch ORDER BY m.case_id""",
        {
            "case_id": pl.Int64(),
            "from_user_id": pl.Int64(),
            "from_team_id": pl.Int64(),
            "to_user_id": pl.Int64(),
            "from_username": pl.String(),
            "from_active": pl.Boolean(),
            "assigned_user_id": pl.Int64(),
            "worked": pl.String(),
        },
        since=since,
        batch=batch_id,
    )


def recent_batches(session: Session, *, limit: int = 20) -> list[AllocationBatch]:
    query = select(AllocationBatch).order_by(AllocationBatch.id.desc()).limit(limit)
    return list(session.scalars(query))


def lookback_start(as_of: date, days: int) -> datetime:
    """The start (UTC) of the local business day ``days`` before ``as_of``."""
    start = datetime.combine(as_of - timedelta(days=days), datetime.min.time(), CHINA_TZ)
    return start.astimezone(CHINA_TZ)
