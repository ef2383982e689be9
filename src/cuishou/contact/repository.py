"""Contact queries (催记)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cuishou.store.bulk import NULLABLE_ID, Bulk
from cuishou.store.tables import Case, Contact, ContactPoint, Creditor, Event, User


def get_contact(session: Session, contact_id: int) -> Contact | None:
    return session.get(Contact, contact_id)


def contact_point(session: Session, contact_point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_point_id)


def add_contact(
    session: Session,
    *,
    case_id: int,
    contact_point_id: int,
    user_id: int,
    channel: str,
    party: str,
    outcome: str,
    notes: str,
    at: datetime,
    callback_at: datetime | None,
    now: datetime,
) -> Contact:
    contact = Contact(
        case_id=case_id,
        contact_point_id=contact_point_id,
        user_id=user_id,
        channel=channel,
        party=party,
        outcome=outcome,
        notes=notes,
        at=at,
        callback_at=callback_at,
        created_at=now,
    )
    session.add(contact)
    session.flush()
    return contact


def mark_point_invalid(session: Session, contact_point_id: int) -> None:
    session.execute(
        update(ContactPoint).where(ContactPoint.id == contact_point_id).values(status="invalid")
    )


def point_with_value(
    session: Session, debtor_id: int, kind: str, value: str
) -> ContactPoint | None:
    """The debtor's point of this kind and value, whoever owns it (a duplicate)."""
    query = select(ContactPoint).where(
        ContactPoint.debtor_id == debtor_id, ContactPoint.kind == kind, ContactPoint.value == value
    )
    return session.scalars(query).first()


def add_point(session: Session, **values: object) -> ContactPoint:
    point = ContactPoint(**values)
    session.add(point)
    session.flush()
    return point


def set_verification(
    session: Session, point_id: int, *, verification: str, status: str, at: datetime
) -> None:
    session.execute(
        update(ContactPoint)
        .where(ContactPoint.id == point_id)
        .values(verification=verification, status=status, verified_at=at)
    )


def debtor_case_ids(session: Session, debtor_id: int) -> list[int]:
    query = select(Case.id).where(Case.debtor_id == debtor_id).order_by(Case.id)
    return list(session.scalars(query))


def point_events(session: Session, point_id: int) -> Sequence[Event]:
    """The point's history (added, verified, invalidated), oldest first."""
    query = (
        select(Event)
        .where(Event.entity_type == "contact_point", Event.entity_id == point_id)
        .order_by(Event.at, Event.id)
    )
    return session.scalars(query).all()


def outcome_sequence(session: Session, case_id: int) -> list[str]:
    """The case's outcomes in time order (ties by id), the newest last."""
    query = (
        select(Contact.outcome).where(Contact.case_id == case_id).order_by(Contact.at, Contact.id)
    )
    return list(session.scalars(query))


def case_contacts(session: Session, case_id: int, *, limit: int) -> Sequence[tuple[Contact, str]]:
    query = (
        select(Contact, User.username)
        .join(User, User.id == Contact.user_id)
        .where(Contact.case_id == case_id)
        .order_by(Contact.at.desc(), Contact.id.desc())
        .limit(limit)
    )
    return [(c, name) for c, name in session.execute(query)]


# ------------------------------------------------------------------ calls in bulk (话单导入)

#: the keys of a result file's calls the lookups below read: account, call id, time
CALL_KEYS_SCHEMA: dict[str, pl.DataType] = {
    "account_no": pl.String(),
    "call_id": pl.String(),
    "at": pl.Datetime("us", "UTC"),
}


def stage_call_keys(bulk: Bulk, keys: pl.DataFrame) -> str:
    return bulk.stage("call_keys", keys, schema=CALL_KEYS_SCHEMA, index=("account_no",))


def accounts_of_calls(bulk: Bulk, staged: str, *, creditor_id: int) -> pl.DataFrame:
    """The creditor's accounts the calls name, with their case (null: not in a case yet)."""
    return bulk.fetch(
        f"""SELECT DISTINCT a.account_no, a.id AS account_id, a.debtor_id,
            {bulk.nullable("a.case_id", "0")} AS case_id,
            {bulk.nullable("cs.status", "''")} AS case_status,
            {bulk.nullable("cs.due_fen", "0")} AS case_due_fen,
            {bulk.nullable("cs.assigned_user_id", "0")} AS assigned_user_id
        FROM {staged} k JOIN accounts a ON a.creditor_id = :creditor_id
            AND a.account_no = k.account_no
        LEFT JOIN cases cs ON cs.id = a.case_id""",  # noqa: S608 - staged table name
        {
            "account_no": pl.String(),
            "account_id": pl.Int64(),
            "debtor_id": pl.Int64(),
            "case_id": NULLABLE_ID,
            "case_status": pl.String(),
            "case_due_fen": pl.Int64(),
            "assigned_user_id": NULLABLE_ID,
        },
        creditor_id=creditor_id,
    )


def phones_of_calls(bulk: Bulk, staged: str, *, creditor_id: int) -> pl.DataFrame:
    """The phone numbers (mobile, landline) of the debtors of the calls' accounts, the
    debtor's own and their named contacts'."""
    return bulk.fetch(
        # the debtors first, then their points by (debtor_id, kind): SQLite planned the
        # join the other way round (every account of the creditor probed), 6x slower
        f"""SELECT p.debtor_id, p.id AS contact_point_id, p.value, p.owner, p.owner_name,
            p.status
        FROM contact_points p
        WHERE p.kind IN ('mobile', 'phone') AND p.debtor_id IN (
            SELECT a.debtor_id FROM accounts a
            WHERE a.creditor_id = :creditor_id
                AND a.account_no IN (SELECT k.account_no FROM {staged} k))""",  # noqa: S608 - staged table name
        {
            "debtor_id": pl.Int64(),
            "contact_point_id": pl.Int64(),
            "value": pl.String(),
            "owner": pl.String(),
            "owner_name": pl.String(),
            "status": pl.String(),
        },
        creditor_id=creditor_id,
    )


def imported_call_ids(bulk: Bulk, staged: str, *, source: str) -> pl.Series:
    """The calls' ids already stored for ``source``."""
    found = bulk.fetch(
        f"""SELECT c.external_id AS call_id FROM {staged} k
        JOIN contacts c ON c.source = :source AND c.external_id = k.call_id""",  # noqa: S608 - staged table name
        {"call_id": pl.String()},
        source=source,
    )
    return found.get_column("call_id")


def case_tails(bulk: Bulk, staged: str, *, creditor_id: int, not_failed: list[str]) -> pl.DataFrame:
    """The stored contacts of the calls' cases that a failed run ending at a call may reach
    back to: from the case's last not-failed contact before its first call in the file (all
    of them when there is none): ``case_id, id, at, outcome``."""
    codes = ", ".join(f"'{code}'" for code in not_failed)
    return bulk.fetch(
        f"""WITH firsts AS (
            SELECT a.case_id, MIN(k.at) AS first_at FROM {staged} k
            JOIN accounts a ON a.creditor_id = :creditor_id AND a.account_no = k.account_no
            WHERE a.case_id IS NOT NULL GROUP BY a.case_id),
        anchors AS (
            SELECT f.case_id, (SELECT MAX(c.at) FROM contacts c WHERE c.case_id = f.case_id
                AND c.at < f.first_at AND c.outcome IN ({codes})) AS anchor
            FROM firsts f)
        SELECT c.case_id, c.id, c.at, c.outcome FROM anchors x
        JOIN contacts c ON c.case_id = x.case_id
        WHERE x.anchor IS NULL OR c.at >= x.anchor""",  # noqa: S608 - staged table name, fixed codes
        {"case_id": pl.Int64(), "id": pl.Int64(), "at": pl.Datetime("us", "UTC"),
         "outcome": pl.String()},
        creditor_id=creditor_id,
    )  # fmt: skip


def users_by_name(session: Session) -> pl.DataFrame:
    """Every user: ``key`` (the username in lower case), ``user_id, username, role, active``."""
    rows = session.execute(select(User.id, User.username, User.role, User.active)).all()
    return pl.DataFrame(
        [(name.lower(), uid, name, role, bool(active)) for uid, name, role, active in rows],
        schema={"key": pl.String, "user_id": pl.Int64, "username": pl.String,
                "role": pl.String, "active": pl.Boolean},
        orient="row",
    )  # fmt: skip


#: a new contact as :func:`insert_contacts` writes it (ids reserved beforehand)
CONTACT_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "case_id": pl.Int64(),
    "contact_point_id": pl.Int64(),
    "user_id": pl.Int64(),
    "channel": pl.String(),
    "party": pl.String(),
    "outcome": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "external_id": pl.String(),
    "duration_seconds": pl.Int64(),
}


def insert_contacts(bulk: Bulk, contacts: pl.DataFrame, *, source: str, now: datetime) -> int:
    """Insert new contacts with their reserved ids; a call id already stored for
    ``source`` inserts nothing (the unique index decides)."""
    staged = bulk.stage("new_contacts", contacts, schema=CONTACT_SCHEMA)
    return bulk.execute(
        f"""INSERT INTO contacts (id, case_id, contact_point_id, user_id, channel, party,
            outcome, notes, at, callback_at, created_at, source, external_id, duration_seconds)
        SELECT s.id, s.case_id, s.contact_point_id, s.user_id, s.channel, s.party, s.outcome,
            '', s.at, NULL, :now, :source, s.external_id, s.duration_seconds
        FROM {staged} s WHERE 1 = 1
        ON CONFLICT (source, external_id) DO NOTHING""",  # noqa: S608 - staged table name
        now=now,
        source=source,
    )


EVENT_SCHEMA: dict[str, pl.DataType] = {
    "actor": pl.String(),
    "type": pl.String(),
    "entity_type": pl.String(),
    "entity_id": pl.Int64(),
    "case_id": pl.Int64(),
    "payload": pl.String(),
}


def insert_events(bulk: Bulk, events: pl.DataFrame, *, now: datetime) -> None:
    """Append events (payload JSON text), all at ``now``."""
    if events.height == 0:
        return
    staged = bulk.stage("new_events", events, schema=EVENT_SCHEMA)
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, s.actor, s.type, s.entity_type, s.entity_id, s.case_id,
            {bulk.json("s.payload")}
        FROM {staged} s""",  # noqa: S608 - staged table name
        now=now,
    )


def mark_points_invalid(bulk: Bulk, point_ids: pl.Series) -> None:
    if point_ids.len() == 0:
        return
    rows = bulk.relation(
        "invalid_points", pl.DataFrame({"id": point_ids}), schema={"id": pl.Int64()}
    )
    bulk.execute(
        f"""UPDATE contact_points SET status = 'invalid'
        WHERE id IN (SELECT s.id FROM {rows.sql} s)""",  # noqa: S608 - staged relation
        **rows.params,
    )


def creditor_by_code(session: Session, code: str) -> Creditor | None:
    return session.scalar(select(Creditor).where(Creditor.code == code))
