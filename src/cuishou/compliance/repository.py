"""Compliance queries: the facts the gate needs about one debtor, holds, interest caps."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

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
