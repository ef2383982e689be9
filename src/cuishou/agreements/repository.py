"""Agreement queries, always through the case scope."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import case, func, select, text, update
from sqlalchemy.orm import Session

from cuishou.agreements.approval import StandingWaiver
from cuishou.agreements.rules import Installment, Waived
from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.kit.errors import NotFound
from cuishou.store.tables import (
    Account,
    Agreement,
    AgreementInstallment,
    Case,
    Creditor,
    Debtor,
    LedgerEntry,
    User,
)

#: a pending request and a running plan: a case has at most one of each (the store's
#: ``uq_agreements_one_active``) and a request while a plan runs must amend it
ACTIVE = ("requested", "approved")


@dataclass(frozen=True, slots=True)
class AccountFacts:
    id: int
    account_no: str
    fee_fen: int
    penalty_fen: int
    interest_fen: int
    principal_fen: int
    annual_rate: Any
    contract_date: Any
    creditor_id: int
    product_code: str


def case_accounts(session: Session, case_id: int) -> list[AccountFacts]:
    query = (
        select(
            Account.id, Account.account_no, Account.fee_fen, Account.penalty_fen,
            Account.interest_fen, Account.principal_fen, Account.annual_rate,
            Account.contract_date, Account.creditor_id, Account.product_code,
        )
        .where(Account.case_id == case_id)
        .order_by(Account.overdue_since.is_(None), Account.overdue_since, Account.id)
    )  # fmt: skip
    return [AccountFacts(**row._asdict()) for row in session.execute(query)]


def add_agreement(session: Session, installments: list[Installment], **values: Any) -> Agreement:
    agreement = Agreement(**values)
    session.add(agreement)
    session.flush()
    for row in installments:
        session.add(
            AgreementInstallment(
                agreement_id=agreement.id, seq=row.seq, due_date=row.due_date,
                amount_fen=row.amount_fen, paid_fen=0, status="due",
            )
        )  # fmt: skip
    session.flush()
    return agreement


def get_agreement(
    session: Session, agreement_id: int, scope: CaseScope, *, for_update: bool = False
) -> Agreement:
    query = (
        select(Agreement)
        .join(Case, Case.id == Agreement.case_id)
        .where(Agreement.id == agreement_id, case_scope_clause(scope))
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update(of=Agreement)
    found = session.scalar(query)
    if found is None:
        raise NotFound(f"agreement {agreement_id} not found", agreement_id=agreement_id)
    return found


def installments_of(session: Session, agreement_id: int) -> list[AgreementInstallment]:
    query = (
        select(AgreementInstallment)
        .where(AgreementInstallment.agreement_id == agreement_id)
        .order_by(AgreementInstallment.seq)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def requested_in_scope(session: Session, scope: CaseScope) -> list[Agreement]:
    query = (
        select(Agreement)
        .join(Case, Case.id == Agreement.case_id)
        .where(Agreement.status == "requested", case_scope_clause(scope))
        .order_by(Agreement.requested_at, Agreement.id)
    )
    return list(session.scalars(query))


def agreements_of_case(session: Session, case_id: int) -> list[Agreement]:
    """The case's agreements, newest first."""
    query = (
        select(Agreement)
        .where(Agreement.case_id == case_id)
        .order_by(Agreement.requested_at.desc(), Agreement.id.desc())
    )
    return list(session.scalars(query))


def username(session: Session, user_id: int | None) -> str | None:
    if user_id is None:
        return None
    return session.scalar(select(User.username).where(User.id == user_id))


def write_lock(session: Session) -> None:
    """SQLite: take the database's write lock now, before anything is read, so what is read
    next cannot change before this transaction commits (a write statement that changes no
    row does it). PostgreSQL locks rows instead (``FOR UPDATE``); nothing to do here."""
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("UPDATE agreements SET id = id WHERE 1 = 0"))


def active_of_case(session: Session, case_id: int) -> list[Agreement]:
    """The case's pending request and running plan (at most one of each), oldest first."""
    query = (
        select(Agreement)
        .where(Agreement.case_id == case_id, Agreement.status.in_(ACTIVE))
        .order_by(Agreement.id)
        .execution_options(populate_existing=True)
    )
    return list(session.scalars(query))


def agreement_of_case(
    session: Session, agreement_id: int, case_id: int, *, for_update: bool = False
) -> Agreement | None:
    query = (
        select(Agreement)
        .where(Agreement.id == agreement_id, Agreement.case_id == case_id)
        .execution_options(populate_existing=True)
    )
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


_OWED = (
    LedgerEntry.fee_fen + LedgerEntry.penalty_fen + LedgerEntry.interest_fen
    + LedgerEntry.principal_fen
)  # fmt: skip
_WAIVER_KINDS = ("waiver", "reinstatement")


def standing_waivers(session: Session, case_id: int) -> list[StandingWaiver]:
    """What each agreement of the case still waives by the ledger: its ``waiver`` entries
    less its ``reinstatement`` entries (fen, positive), with the day its waiver was taken."""
    query = (
        select(
            LedgerEntry.source_id,
            func.min(case((LedgerEntry.kind == "waiver", LedgerEntry.effective_on))),
            -func.sum(_OWED),
        )
        .join(Agreement, Agreement.id == LedgerEntry.source_id)
        .where(
            LedgerEntry.source == "agreement",
            LedgerEntry.kind.in_(_WAIVER_KINDS),
            Agreement.case_id == case_id,
        )
        .group_by(LedgerEntry.source_id)
        .order_by(LedgerEntry.source_id)
    )
    return [
        StandingWaiver(int(agreement_id), _as_date(waived_on), int(standing))
        for agreement_id, waived_on, standing in session.execute(query)
        if waived_on is not None
    ]


def _as_date(value: Any) -> date:
    """A date from an aggregate (SQLite returns MIN() of a date column as text)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def standing_by_account(session: Session, agreement_id: int) -> dict[int, Waived]:
    """What an agreement still waives on each account (positive amounts, by component)."""
    query = (
        select(
            LedgerEntry.account_id,
            -func.sum(LedgerEntry.fee_fen),
            -func.sum(LedgerEntry.penalty_fen),
            -func.sum(LedgerEntry.interest_fen),
            -func.sum(LedgerEntry.principal_fen),
        )
        .where(
            LedgerEntry.source == "agreement",
            LedgerEntry.source_id == agreement_id,
            LedgerEntry.kind.in_(_WAIVER_KINDS),
        )
        .group_by(LedgerEntry.account_id)
        .order_by(LedgerEntry.account_id)
    )
    found = {}
    for account_id, fee, penalty, interest, principal in session.execute(query):
        waived = Waived(int(fee), int(penalty), int(interest), int(principal))
        if waived.total:
            found[int(account_id)] = waived
    return found


def paid_towards(session: Session, agreement_id: int) -> int:
    """What the daily cycle last counted as paid towards the plan's installments."""
    query = select(func.coalesce(func.sum(AgreementInstallment.paid_fen), 0)).where(
        AgreementInstallment.agreement_id == agreement_id
    )
    return int(session.scalar(query) or 0)


def close_running(session: Session, agreement_id: int, *, status: str, closed_on: date) -> int:
    """End a running plan (``superseded``) unless it ended meanwhile; rows changed (0 or 1)."""
    result = session.execute(
        update(Agreement)
        .where(Agreement.id == agreement_id, Agreement.status == "approved")
        .values(status=status, closed_on=closed_on)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def decide(session: Session, agreement_id: int, **values: Any) -> int:
    """Set the decision unless someone else decided first; rows changed (0 or 1)."""
    result = session.execute(
        update(Agreement)
        .where(Agreement.id == agreement_id, Agreement.status == "requested")
        .values(**values)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def superseded_by(session: Session, agreement_ids: list[int]) -> dict[int, int]:
    """For each of ``agreement_ids`` that an approved amendment replaced, the amendment."""
    if not agreement_ids:
        return {}
    query = select(Agreement.amends_id, Agreement.id).where(
        Agreement.amends_id.in_(agreement_ids),
        Agreement.status.not_in(("requested", "rejected", "withdrawn")),
    )
    return {int(old): int(new) for old, new in session.execute(query) if old is not None}


def parties(session: Session, case_id: int) -> tuple[str, str, str]:
    """(creditor name, debtor name, debtor ID number) for the agreement document."""
    row = session.execute(
        select(Creditor.name, Debtor.name, Debtor.id_number)
        .join(Case, Case.creditor_id == Creditor.id)
        .join(Debtor, Debtor.id == Case.debtor_id)
        .where(Case.id == case_id)
    ).one()
    return str(row[0]), str(row[1]), str(row[2])


def creditor_of_case(session: Session, case_id: int) -> int:
    found = session.scalar(select(Case.creditor_id).where(Case.id == case_id))
    if found is None:
        raise NotFound(f"case {case_id} not found", case_id=case_id)
    return int(found)
