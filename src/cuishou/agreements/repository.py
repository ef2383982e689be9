"""Agreement queries, always through the case scope."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from cuishou.agreements.rules import Installment
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
    User,
)


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


def case_accounts(session: Session, case_id: int) -> list[AccountFacts]:
    query = (
        select(
            Account.id, Account.account_no, Account.fee_fen, Account.penalty_fen,
            Account.interest_fen, Account.principal_fen, Account.annual_rate,
            Account.contract_date,
        )
        .where(Account.case_id == case_id)
        .order_by(Account.overdue_since.is_(None), Account.overdue_since, Account.id)
    )  # fmt: skip
    return [AccountFacts(*row) for row in session.execute(query)]


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


def decide(session: Session, agreement_id: int, **values: Any) -> int:
    """Set the decision unless someone else decided first; rows changed (0 or 1)."""
    result = session.execute(
        update(Agreement)
        .where(Agreement.id == agreement_id, Agreement.status == "requested")
        .values(**values)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


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
