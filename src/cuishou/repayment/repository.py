"""Payment postings in the store: claim a reference once, lock, write balances relatively.

Exactly once: a posting first claims its ``(creditor, reference)`` with an
``INSERT … ON CONFLICT DO NOTHING`` of its part-0 row. The unique index decides who
wins, whatever the path (file, API, manual entry) and however many requests race: the
loser inserts nothing and is answered with the winner's posting.

No read-modify-write on balances: the accounts a posting touches are locked before
their balances are read (``SELECT … FOR NO KEY UPDATE`` in id order on PostgreSQL; on
SQLite a first write takes the database's write lock), and balances change only by
relative single statements (``fee_fen = fee_fen - :fee``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, bindparam, case, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.repayment.rules import Allocation, Balances
from cuishou.store.tables import Account, Case, Creditor, Payment
from cuishou.store.types import UTCDateTime


@dataclass(frozen=True, slots=True)
class TargetAccount:
    """An account a payment may be posted to, with what it owes now."""

    id: int
    creditor_id: int
    case_id: int | None
    account_no: str
    snapshot_date: date
    balances: Balances


_ACCOUNT_COLUMNS = (
    Account.id,
    Account.creditor_id,
    Account.case_id,
    Account.account_no,
    Account.snapshot_date,
    Account.fee_fen,
    Account.penalty_fen,
    Account.interest_fen,
    Account.principal_fen,
)


def _target(row: Any) -> TargetAccount:
    return TargetAccount(
        id=row[0],
        creditor_id=row[1],
        case_id=row[2],
        account_no=row[3],
        snapshot_date=row[4],
        balances=Balances(fee=row[5], penalty=row[6], interest=row[7], principal=row[8]),
    )


def _in_scope(scope: CaseScope) -> Any:
    """Accounts whose case is within scope; an account not yet in a case only for ``all``."""
    if scope.kind == "all":
        return Account.id.is_not(None)
    return Account.case_id.in_(select(Case.id).where(case_scope_clause(scope)))


def accounts_by_number(
    session: Session, account_no: str, creditor_code: str | None, scope: CaseScope
) -> list[TargetAccount]:
    query = select(*_ACCOUNT_COLUMNS).where(Account.account_no == account_no, _in_scope(scope))
    if creditor_code is not None:
        query = query.join(Creditor, Creditor.id == Account.creditor_id).where(
            Creditor.code == creditor_code
        )
    return [_target(row) for row in session.execute(query.order_by(Account.id))]


def waterfall_of(session: Session, creditor_id: int) -> str:
    found = session.scalar(select(Creditor.waterfall).where(Creditor.id == creditor_id))
    return found or "fee,penalty,interest,principal"


def creditor_code(session: Session, creditor_id: int) -> str:
    return session.scalar(select(Creditor.code).where(Creditor.id == creditor_id)) or ""


def lock_accounts(session: Session, account_ids: list[int], *, now: datetime) -> None:
    """Lock the accounts a posting will change until the transaction ends.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` in id order, so postings to the same
    accounts queue instead of deadlocking (and the payments' foreign-key locks do not
    conflict with it). SQLite locks the whole database for writing: a first write takes
    that lock before anything is read, so no posting reads balances another is changing.
    """
    if session.get_bind().dialect.name == "sqlite":
        session.execute(update(Account).where(Account.id.in_(account_ids)).values(updated_at=now))
        return
    query = (
        select(Account.id)
        .where(Account.id.in_(account_ids))
        .order_by(Account.id)
        .with_for_update(of=Account, key_share=True)
    )
    session.execute(query).all()


def balances_of(session: Session, account_ids: list[int]) -> list[TargetAccount]:
    """The accounts with their balances as committed now (read under the posting's lock)."""
    query = select(*_ACCOUNT_COLUMNS).where(Account.id.in_(account_ids)).order_by(Account.id)
    return [_target(row) for row in session.execute(query)]


def case_account_ids_oldest_first(session: Session, case_id: int) -> list[int]:
    """A case's accounts, oldest first: the earliest overdue date, then contract, then id."""
    query = (
        select(Account.id)
        .where(Account.case_id == case_id)
        .order_by(
            Account.overdue_since.is_(None),
            Account.overdue_since,
            Account.contract_date.is_(None),
            Account.contract_date,
            Account.id,
        )
    )
    return list(session.scalars(query))


def claim_reference(
    session: Session,
    *,
    creditor_id: int,
    reference: str,
    account_id: int,
    amount_fen: int,
    paid_at: datetime,
    channel: str | None,
    source: str,
    entered_by: str,
    now: datetime,
) -> int | None:
    """Insert the posting's part-0 row unless the reference is already posted; its id or None."""
    values = {
        "creditor_id": creditor_id,
        "account_id": account_id,
        "reference": reference,
        "part": 0,
        "amount_fen": amount_fen,
        "paid_at": paid_at,
        "channel": channel,
        "source": source,
        "import_file_id": None,
        "entered_by": entered_by,
        "to_fee_fen": 0,
        "to_penalty_fen": 0,
        "to_interest_fen": 0,
        "to_principal_fen": 0,
        "to_credit_fen": 0,
        "posted_at": now,
        "reversed_at": None,
    }
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(Payment)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["creditor_id", "reference", "part"])
        .returning(Payment.id)
    )
    return session.scalar(statement)


def write_part(
    session: Session,
    *,
    part0_id: int,
    part: int,
    account_id: int,
    amount_fen: int,
    allocation: Allocation,
) -> None:
    """Record part ``part`` of a posting: part 0 is updated in place, others are copied from it."""
    shares = {
        "to_fee_fen": allocation.fee,
        "to_penalty_fen": allocation.penalty,
        "to_interest_fen": allocation.interest,
        "to_principal_fen": allocation.principal,
        "to_credit_fen": allocation.credit,
    }
    if part == 0:
        session.execute(
            update(Payment)
            .where(Payment.id == part0_id)
            .values(account_id=account_id, amount_fen=amount_fen, **shares)
        )
        return
    first = session.execute(select(Payment).where(Payment.id == part0_id)).scalar_one()
    session.add(
        Payment(
            creditor_id=first.creditor_id,
            account_id=account_id,
            reference=first.reference,
            part=part,
            amount_fen=amount_fen,
            paid_at=first.paid_at,
            channel=first.channel,
            source=first.source,
            import_file_id=None,
            entered_by=first.entered_by,
            posted_at=first.posted_at,
            reversed_at=None,
            **shares,
        )
    )
    session.flush()


def take_from_balances(
    session: Session, account_id: int, allocation: Allocation, *, now: datetime
) -> None:
    """One relative statement: what the allocation paid comes off, the credit goes on."""
    session.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(
            fee_fen=Account.fee_fen - allocation.fee,
            penalty_fen=Account.penalty_fen - allocation.penalty,
            interest_fen=Account.interest_fen - allocation.interest,
            principal_fen=Account.principal_fen - allocation.principal,
            credit_fen=Account.credit_fen + allocation.credit,
            updated_at=now,
        )
    )


def adjust_case_due(session: Session, case_id: int, delta_fen: int, *, now: datetime) -> None:
    """The case's total due moves by ``delta_fen`` at once (never below zero); the daily
    cycle recomputes it from the accounts."""
    moved = Case.due_fen + delta_fen
    session.execute(
        update(Case)
        .where(Case.id == case_id)
        .values(due_fen=case((moved < 0, 0), else_=moved), updated_at=now)
    )


@dataclass(frozen=True, slots=True)
class PostingPart:
    payment: Payment
    account_no: str
    case_id: int | None


def posting(session: Session, creditor_id: int, reference: str) -> list[PostingPart]:
    """Every part of the posting of ``reference`` (part 0 first)."""
    query = (
        select(Payment, Account.account_no, Account.case_id)
        .join(Account, Account.id == Payment.account_id)
        .where(Payment.creditor_id == creditor_id, Payment.reference == reference)
        .order_by(Payment.part)
        .execution_options(populate_existing=True)
    )
    return [PostingPart(p, no, case_id) for p, no, case_id in session.execute(query)]


def payment_in_scope(session: Session, payment_id: int, scope: CaseScope) -> Payment | None:
    query = (
        select(Payment)
        .join(Account, Account.id == Payment.account_id)
        .where(Payment.id == payment_id, _in_scope(scope))
        .execution_options(populate_existing=True)
    )
    return session.scalar(query)


def mark_reversed(
    session: Session,
    *,
    creditor_id: int,
    reference: str,
    reason: str,
    by: str,
    now: datetime,
) -> int:
    """Mark every part of a posting reversed, unless it already is; how many rows changed."""
    result = session.execute(
        update(Payment)
        .where(
            and_(
                Payment.creditor_id == creditor_id,
                Payment.reference == reference,
                Payment.reversed_at.is_(None),
            )
        )
        .values(reversed_at=now, reversed_by=by, reversal_reason=reason)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def restore_balances(session: Session, *, creditor_id: int, reference: str, now: datetime) -> None:
    """Give back what each part took, in one relative statement over all its accounts."""
    session.execute(
        text(
            "UPDATE accounts SET fee_fen = accounts.fee_fen + p.to_fee_fen, "
            "penalty_fen = accounts.penalty_fen + p.to_penalty_fen, "
            "interest_fen = accounts.interest_fen + p.to_interest_fen, "
            "principal_fen = accounts.principal_fen + p.to_principal_fen, "
            "credit_fen = accounts.credit_fen - p.to_credit_fen, updated_at = :now "
            "FROM payments p WHERE p.account_id = accounts.id "
            "AND p.creditor_id = :creditor_id AND p.reference = :reference"
        ).bindparams(
            bindparam("now", value=now, type_=UTCDateTime()),
            creditor_id=creditor_id,
            reference=reference,
        ),
    )


def creditor_id_by_code(session: Session, code: str) -> int | None:
    return session.scalar(select(Creditor.id).where(Creditor.code == code))


def set_waterfall(session: Session, creditor_id: int, order: str) -> None:
    session.execute(update(Creditor).where(Creditor.id == creditor_id).values(waterfall=order))
