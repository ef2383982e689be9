"""Message queries: the day's candidates, the outbox rows, claims, jobs."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from cuishou.store.bulk import Bulk
from cuishou.store.tables import Case, ContactPoint, Creditor, Debtor, Message, MessageJob

#: one candidate message before rendering
CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "creditor_id": pl.Int64(),
    "contact_point_id": pl.Int64(),
    "channel": pl.String(),
    "template_code": pl.String(),
    "debtor_name": pl.String(),
    "creditor_name": pl.String(),
    "due_fen": pl.Int64(),
    "window_start": pl.Datetime("us", "UTC"),
}

#: what :func:`insert_messages` stages
STAGED_SCHEMA: dict[str, pl.DataType] = {
    "key": pl.String(),
    "day": pl.Date(),
    "case_id": pl.Int64(),
    "contact_point_id": pl.Int64(),
    "channel": pl.String(),
    "template_code": pl.String(),
    "template_version": pl.Int64(),
    "body": pl.String(),
    "params": pl.String(),
    "status": pl.String(),
    "next_attempt_at": pl.Datetime("us", "UTC"),
    "rule_ids": pl.String(),
    "next_allowed_at": pl.Datetime("us", "UTC"),
    "error": pl.String(),
}


def planned_candidates(bulk: Bulk, day: date, channels: Sequence[str]) -> pl.DataFrame:
    """The day's planned messages the strategy's gate let through (``planned``/``moved``),
    with what rendering needs. A WeChat message goes to the debtor's WeChat id (openid),
    not to the mobile the plan names."""
    names = ", ".join(f"'{c}'" for c in channels if c.isalpha())
    if not names:
        return pl.DataFrame(schema=CANDIDATE_SCHEMA)
    return bulk.fetch(
        f"""SELECT p.case_id, c.debtor_id, c.creditor_id,
               CASE WHEN p.action = 'wechat' THEN (
                   SELECT MIN(w.id) FROM contact_points w WHERE w.debtor_id = c.debtor_id
                   AND w.kind = 'wechat' AND w.status = 'active' AND w.owner = 'debtor')
               ELSE p.contact_point_id END AS contact_point_id,
               p.action AS channel, p.template AS template_code, d.name AS debtor_name,
               cr.name AS creditor_name, c.due_fen, p.window_start
        FROM planned_actions p
        JOIN cases c ON c.id = p.case_id
        JOIN debtors d ON d.id = c.debtor_id
        JOIN creditors cr ON cr.id = c.creditor_id
        WHERE p.day = :day AND p.action IN ({names}) AND p.status IN ('planned', 'moved')
          AND p.template IS NOT NULL AND p.contact_point_id IS NOT NULL AND c.status = 'open'
        ORDER BY p.case_id, p.step""",  # noqa: S608 - channel names checked alphabetic
        CANDIDATE_SCHEMA,
        day=day,
    )


def selected_candidates(session: Session, pairs: Sequence[tuple[int, int]]) -> dict[int, Any]:
    """Case facts for a manual selection: case id → (debtor, creditor, names, due)."""
    ids = sorted({case_id for case_id, _ in pairs})
    if not ids:
        return {}
    rows = session.execute(
        select(Case.id, Case.debtor_id, Case.creditor_id, Debtor.name, Creditor.name, Case.due_fen)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.id.in_(ids), Case.status == "open")
    )
    return {row[0]: tuple(row) for row in rows}


def case_facts(session: Session, case_id: int) -> tuple[str, str, str, int]:
    """(debtor name, creditor name, creditor zone, amount due) of a case."""
    row = session.execute(
        select(Debtor.name, Creditor.name, Creditor.timezone, Case.due_fen)
        .join(Case, Case.debtor_id == Debtor.id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.id == case_id)
    ).one()
    return str(row[0]), str(row[1]), str(row[2] or "Asia/Shanghai"), int(row[3])


def keys_of_day(bulk: Bulk, day: date) -> pl.DataFrame:
    """The keys of the messages already made for ``day`` (a re-run skips them)."""
    return bulk.fetch("SELECT key FROM messages WHERE day = :day", {"key": pl.String()}, day=day)


def insert_messages(bulk: Bulk, frame: pl.DataFrame, *, source: str, by: str, now: datetime) -> int:
    """Insert new messages; a key already there is left alone (idempotent). Returns how
    many rows were new."""
    if frame.height == 0:
        return 0
    staged = bulk.stage("stg_messages", frame, schema=STAGED_SCHEMA)
    columns = [c for c in STAGED_SCHEMA if c not in ("params", "rule_ids")]
    changed = bulk.execute(
        f"""INSERT INTO messages ({", ".join(columns)}, params, rule_ids, attempts, source,
                created_by, created_at, updated_at)
        SELECT {", ".join(f"s.{c}" for c in columns)}, {bulk.json("s.params")},
               {bulk.json("s.rule_ids")}, 0, :source, :by, :now, :now
        FROM {staged} s
        WHERE 1 = 1
        ON CONFLICT (key) DO NOTHING""",  # noqa: S608 - staged table name, constant columns
        source=source,
        by=by,
        now=now,
    )
    bulk.drop(staged)
    return changed


def by_key(session: Session, key: str) -> Message | None:
    return session.scalar(select(Message).where(Message.key == key))


def get(session: Session, message_id: int) -> Message | None:
    return session.get(Message, message_id)


def add(session: Session, **values: Any) -> Message:
    message = Message(**values)
    session.add(message)
    session.flush()
    return message


def due(session: Session, *, day: date, channels: Sequence[str], now: datetime) -> list[Message]:
    """Messages of ``day`` a run may send now: queued (from their window's start), failed
    whose backoff has passed, blocked whose next allowed time has come; grouped per
    recipient (contact point), oldest first."""
    query = select(Message).where(
        Message.day == day,
        Message.channel.in_(list(channels)),
        or_(
            and_(
                Message.status == "queued",
                or_(Message.next_attempt_at.is_(None), Message.next_attempt_at <= now),
            ),
            and_(
                Message.status == "failed",
                Message.next_attempt_at.is_not(None),
                Message.next_attempt_at <= now,
            ),
            and_(
                Message.status == "blocked",
                Message.next_allowed_at.is_not(None),
                Message.next_allowed_at <= now,
            ),
        ),
    )
    return list(session.scalars(query.order_by(Message.contact_point_id, Message.id)))


def next_retry_at(session: Session, *, day: date, channels: Sequence[str]) -> datetime | None:
    """The earliest time a failed or waiting message of ``day`` may be tried again."""
    query = select(Message.next_attempt_at).where(
        Message.day == day,
        Message.channel.in_(list(channels)),
        Message.status.in_(("failed", "queued")),
        Message.next_attempt_at.is_not(None),
    )
    times = [t for t in session.scalars(query.order_by(Message.next_attempt_at).limit(1))]
    return times[0] if times else None


def claim(session: Session, message_id: int, *, now: datetime) -> bool:
    """Take a message for sending (one statement: two runs never both take it)."""
    result = session.execute(
        update(Message)
        .where(Message.id == message_id, Message.status.in_(("queued", "failed", "blocked")))
        .values(status="sending", attempts=Message.attempts + 1, updated_at=now)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def set_values(session: Session, message_id: int, **values: Any) -> None:
    session.execute(update(Message).where(Message.id == message_id).values(**values))


def orphan_claims(session: Session, *, before: datetime, now: datetime) -> list[int]:
    """Claims a dead run left (``sending`` from before this run): ``unknown`` now."""
    ids = list(
        session.scalars(
            select(Message.id).where(Message.status == "sending", Message.updated_at < before)
        )
    )
    if ids:
        session.execute(
            update(Message)
            .where(Message.id.in_(ids))
            .values(status="unknown", updated_at=now, error="run ended before the result")
        )
    return ids


def point(session: Session, point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, point_id)


def by_provider(session: Session, *, out_id: str, provider_id: str) -> Message | None:
    if out_id:
        found = by_key(session, out_id)
        if found is not None:
            return found
    if provider_id:
        return session.scalar(select(Message).where(Message.provider_id == provider_id))
    return None


def last_sms_to(session: Session, number: str) -> Message | None:
    """The newest SMS handed to the gateway for ``number`` (a reply's message)."""
    query = (
        select(Message)
        .join(ContactPoint, ContactPoint.id == Message.contact_point_id)
        .where(
            ContactPoint.value == number,
            Message.channel == "sms",
            Message.status.in_(("sent", "delivered", "unknown")),
        )
        .order_by(Message.sent_at.desc(), Message.id.desc())
        .limit(1)
    )
    return session.scalar(query)


def dead_letters(session: Session, *, limit: int) -> list[Message]:
    query = select(Message).where(Message.status.in_(("dead", "unknown")))
    return list(session.scalars(query.order_by(Message.updated_at.desc()).limit(limit)))


def counts(session: Session, day: date) -> dict[str, int]:
    from sqlalchemy import func

    rows = session.execute(
        select(Message.status, func.count()).where(Message.day == day).group_by(Message.status)
    )
    return {str(status): int(n) for status, n in rows}


def add_job(session: Session, **values: Any) -> MessageJob:
    job = MessageJob(**values)
    session.add(job)
    session.flush()
    return job


def update_job(session: Session, job_id: int, **values: Any) -> None:
    session.execute(update(MessageJob).where(MessageJob.id == job_id).values(**values))


def jobs(session: Session, *, limit: int) -> list[MessageJob]:
    query = select(MessageJob).order_by(MessageJob.started_at.desc(), MessageJob.id.desc())
    return list(session.scalars(query.limit(limit)))
