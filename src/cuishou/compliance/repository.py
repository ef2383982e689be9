"""Compliance queries: the facts the gate needs about one debtor, holds, interest caps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from cuishou.store.bulk import NULLABLE_ID, Bulk
from cuishou.store.tables import (
    Account,
    Case,
    ComplianceOverride,
    Contact,
    ContactHold,
    ContactPoint,
    Creditor,
    CreditorProduct,
    Debtor,
    Product,
    User,
)

HistoryRow = tuple[datetime, str, int, str, str, str]


def contact_point(session: Session, contact_point_id: int) -> ContactPoint | None:
    return session.get(ContactPoint, contact_point_id)


def creditor_pack(session: Session, creditor_id: int) -> str:
    pack = session.scalar(select(Creditor.rule_pack).where(Creditor.id == creditor_id))
    return pack or "cn"


def creditor_by_code(session: Session, code: str) -> Creditor | None:
    return session.scalar(select(Creditor).where(Creditor.code == code).with_for_update())


def debtor_zone(session: Session, debtor_id: int) -> str:
    zone = session.scalar(select(Debtor.timezone).where(Debtor.id == debtor_id))
    return zone or "Asia/Shanghai"


def debtor_history(
    session: Session, debtor_id: int, *, since: datetime, until: datetime
) -> Sequence[HistoryRow]:
    """Every contact with the debtor in ``[since, until)`` on any of their cases, by anyone:
    ``(at, channel, contact_point_id, point owner, outcome, username)``."""
    query = (
        select(
            Contact.at,
            Contact.channel,
            Contact.contact_point_id,
            ContactPoint.owner,
            Contact.outcome,
            User.username,
        )
        .join(Case, Case.id == Contact.case_id)
        .join(ContactPoint, ContactPoint.id == Contact.contact_point_id)
        .join(User, User.id == Contact.user_id)
        .where(Case.debtor_id == debtor_id, Contact.at >= since, Contact.at < until)
        .order_by(Contact.at)
    )
    return [tuple(row) for row in session.execute(query)]  # type: ignore[misc]


def debtor_point_zones(session: Session, debtor_id: int) -> list[str]:
    """The zones recorded on the debtor's own numbers and addresses (where known)."""
    query = select(ContactPoint.timezone).where(
        ContactPoint.debtor_id == debtor_id,
        ContactPoint.owner == "debtor",
        ContactPoint.timezone.is_not(None),
    )
    return sorted({z for z in session.scalars(query) if z})


def debtor_phone_statuses(session: Session, debtor_id: int) -> list[str]:
    """Statuses of the debtor's own phone numbers (to tell whether every one is invalid)."""
    query = select(ContactPoint.status).where(
        ContactPoint.debtor_id == debtor_id,
        ContactPoint.owner == "debtor",
        ContactPoint.kind.in_(("mobile", "phone")),
    )
    return list(session.scalars(query))


def holds_in_force(
    session: Session, debtor_id: int, case_id: int, *, at: datetime
) -> Sequence[ContactHold]:
    """Holds on the debtor (or on this case) opened by ``at`` and not lifted by then."""
    query = select(ContactHold).where(
        ContactHold.debtor_id == debtor_id,
        or_(ContactHold.case_id.is_(None), ContactHold.case_id == case_id),
        ContactHold.opened_at <= at,
        or_(ContactHold.lifted_at.is_(None), ContactHold.lifted_at > at),
    )
    return list(session.scalars(query.order_by(ContactHold.opened_at)))


def case_holds(session: Session, case: Case) -> Sequence[ContactHold]:
    query = select(ContactHold).where(
        ContactHold.debtor_id == case.debtor_id,
        or_(ContactHold.case_id.is_(None), ContactHold.case_id == case.id),
    )
    return list(session.scalars(query.order_by(ContactHold.opened_at, ContactHold.id)))


def add_hold(session: Session, **values: object) -> ContactHold:
    hold = ContactHold(**values)
    session.add(hold)
    session.flush()
    return hold


def get_hold(session: Session, hold_id: int) -> ContactHold | None:
    return session.get(ContactHold, hold_id, with_for_update=True)


def lift_hold(session: Session, hold_id: int, *, at: datetime, by: str) -> bool:
    """Lift an open hold in one statement; ``False`` when it was already lifted."""
    result = session.execute(
        update(ContactHold)
        .where(ContactHold.id == hold_id, ContactHold.lifted_at.is_(None))
        .values(lifted_at=at, lifted_by=by)
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def overrides_covering(
    session: Session, case_id: int, contact_point_id: int, channel: str, *, at: datetime
) -> Sequence[ComplianceOverride]:
    query = select(ComplianceOverride).where(
        ComplianceOverride.case_id == case_id,
        ComplianceOverride.contact_point_id == contact_point_id,
        ComplianceOverride.channel == channel,
        ComplianceOverride.window_start <= at,
        ComplianceOverride.window_end > at,
    )
    return list(session.scalars(query))


def add_override(session: Session, **values: object) -> ComplianceOverride:
    override = ComplianceOverride(**values)
    session.add(override)
    session.flush()
    return override


# ------------------------------------------------------------------ interest caps


def creditor_caps(session: Session, creditor_ids: Collection[int]) -> dict[int, str]:
    """Creditor id → its interest cap setting (as stored)."""
    rows = session.execute(
        select(Creditor.id, Creditor.interest_cap).where(Creditor.id.in_(list(creditor_ids)))
    )
    return {creditor_id: cap for creditor_id, cap in rows}


def product_caps(session: Session, creditor_ids: Collection[int]) -> dict[tuple[int, str], str]:
    """(creditor id, product code) → the cap that overrides the creditor's for that product."""
    rows = session.execute(
        select(CreditorProduct.creditor_id, CreditorProduct.product_code,
               CreditorProduct.interest_cap)
        .where(CreditorProduct.creditor_id.in_(list(creditor_ids)),
               CreditorProduct.interest_cap.is_not(None))
    )  # fmt: skip
    return {(creditor_id, code): cap for creditor_id, code, cap in rows if cap is not None}


def case_account_terms(session: Session, case_id: int) -> Sequence[Account]:
    """A case's accounts (in id order), for judging their interest."""
    return session.scalars(
        select(Account).where(Account.case_id == case_id).order_by(Account.id)
    ).all()


def product_known(session: Session, code: str) -> bool:
    return session.get(Product, code) is not None


def creditor_product(
    session: Session, creditor_id: int, product_code: str
) -> CreditorProduct | None:
    return session.scalar(
        select(CreditorProduct)
        .where(
            CreditorProduct.creditor_id == creditor_id,
            CreditorProduct.product_code == product_code,
        )
        .with_for_update()
    )


def add_creditor_product(session: Session, **values: object) -> CreditorProduct:
    row = CreditorProduct(**values)
    session.add(row)
    session.flush()
    return row


# ------------------------------------------------------------------ facts of many debtors

#: staged debtors whose logged contacts are judged at once: ``debtor_id``, and the
#: history window ``[since, until)`` to read for them
DEBTOR_WINDOW_SCHEMA: dict[str, pl.DataType] = {
    "debtor_id": pl.Int64(),
    "since": pl.Datetime("us", "UTC"),
    "until": pl.Datetime("us", "UTC"),
}


def stage_debtor_windows(bulk: Bulk, windows: pl.DataFrame) -> str:
    """Stage the debtors (and history windows) the queries below read."""
    return bulk.stage("gate_debtors", windows, schema=DEBTOR_WINDOW_SCHEMA, index=("debtor_id",))


def debtors_zones(bulk: Bulk, staged: str) -> pl.DataFrame:
    """``debtor_id, home`` (the debtor's zone) and ``zone`` (one row per zone of their own
    numbers and addresses, null when none is recorded)."""
    return bulk.fetch(
        f"""SELECT d.id AS debtor_id, d.timezone AS home, p.timezone AS zone
        FROM {staged} s JOIN debtors d ON d.id = s.debtor_id
        LEFT JOIN contact_points p ON p.debtor_id = d.id AND p.owner = 'debtor'
            AND p.timezone IS NOT NULL""",  # noqa: S608 - staged table name
        {"debtor_id": pl.Int64(), "home": pl.String(), "zone": pl.String()},
    )


def debtors_phones(bulk: Bulk, staged: str) -> pl.DataFrame:
    """The debtors' own phone numbers: ``debtor_id, contact_point_id, status``."""
    return bulk.fetch(
        f"""SELECT p.debtor_id, p.id AS contact_point_id, p.status
        FROM {staged} s JOIN contact_points p ON p.debtor_id = s.debtor_id
        WHERE p.owner = 'debtor' AND p.kind IN ('mobile', 'phone')""",  # noqa: S608 - staged table name
        {"debtor_id": pl.Int64(), "contact_point_id": pl.Int64(), "status": pl.String()},
    )


def debtors_history(bulk: Bulk, staged: str) -> pl.DataFrame:
    """Every stored contact with the debtors in their windows, on any case, by anyone:
    ``debtor_id, at, channel, contact_point_id, owner, outcome`` (as :func:`debtor_history`)."""
    return bulk.fetch(
        # CROSS JOIN keeps SQLite's join order (the staged debtors first, then their cases
        # and contacts by index): without statistics on the staged table it scanned every
        # contact (4.8 s instead of 1.1 s at 100,000 accounts after 30 simulated days)
        f"""SELECT cs.debtor_id, c.at, c.channel, c.contact_point_id, p.owner, c.outcome
        FROM {staged} s CROSS JOIN cases cs CROSS JOIN contacts c
        JOIN contact_points p ON p.id = c.contact_point_id
        WHERE cs.debtor_id = s.debtor_id AND c.case_id = cs.id
            AND c.at >= s.since AND c.at < s.until""",  # noqa: S608 - staged table name
        {
            "debtor_id": pl.Int64(),
            "at": pl.Datetime("us", "UTC"),
            "channel": pl.String(),
            "contact_point_id": pl.Int64(),
            "owner": pl.String(),
            "outcome": pl.String(),
        },
    )


def debtors_holds(bulk: Bulk, staged: str) -> pl.DataFrame:
    """The debtors' holds that overlap their windows (``lifted_at`` null: in force)."""
    return bulk.fetch(
        f"""SELECT h.debtor_id, {bulk.nullable("h.case_id", "0")} AS case_id, h.kind,
            h.channel, h.opened_at, {bulk.nullable("h.lifted_at", "''")} AS lifted_at
        FROM {staged} s JOIN contact_holds h ON h.debtor_id = s.debtor_id
        WHERE h.opened_at < s.until""",  # noqa: S608 - staged table name
        {
            "debtor_id": pl.Int64(),
            "case_id": NULLABLE_ID,
            "kind": pl.String(),
            "channel": pl.String(),
            "opened_at": pl.Datetime("us", "UTC"),
            "lifted_at": pl.Datetime("us", "UTC"),
        },
    )


def debtors_overrides(bulk: Bulk, staged: str) -> pl.DataFrame:
    """Overrides on the debtors' cases that overlap their windows (``rules`` JSON text)."""
    frame = bulk.fetch(
        f"""SELECT o.case_id, o.contact_point_id, o.channel, o.window_start, o.window_end,
            {"o.rules" if bulk.sqlite else "CAST(o.rules AS TEXT)"} AS rules
        FROM {staged} s JOIN cases cs ON cs.debtor_id = s.debtor_id
        JOIN compliance_overrides o ON o.case_id = cs.id
        WHERE o.window_end > s.since AND o.window_start < s.until""",  # noqa: S608 - staged table name
        {
            "case_id": pl.Int64(),
            "contact_point_id": pl.Int64(),
            "channel": pl.String(),
            "window_start": pl.Datetime("us", "UTC"),
            "window_end": pl.Datetime("us", "UTC"),
            "rules": pl.String(),
        },
    )
    return frame
