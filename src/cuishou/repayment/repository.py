"""Payment postings in the store, for every path (file, API, manual entry) alike.

Exactly once: a posting inserts its parts with ``INSERT … ON CONFLICT DO NOTHING`` on the
``(creditor, reference, part)`` unique index. The index decides who wins, whatever the path
and however many requests race: the loser inserts nothing and is answered with the winner's
posting (one payment) or refused whole (a file; run it again).

No read-modify-write on balances: the accounts a posting touches are locked before their
balances are read (``SELECT … FOR NO KEY UPDATE`` in id order on PostgreSQL; on SQLite a
first write takes the database's write lock), and balances change only through the ledger
(:mod:`cuishou.ledger`), by relative statements.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.repayment.rules import Balances
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import Account, Case, Creditor, Payment


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


def lock_accounts(session: Session, account_ids: list[int]) -> None:
    """Lock the accounts a posting will change until the transaction ends.

    PostgreSQL: ``SELECT … FOR NO KEY UPDATE`` in id order, so postings to the same accounts
    queue instead of deadlocking (and the payments' foreign-key locks do not conflict with
    it). SQLite locks the whole database for writing: a first write statement takes that
    lock (even one that changes no row) before anything is read, so no posting reads
    balances another is changing.
    """
    bulk = SessionBulk(session)
    if bulk.sqlite:
        bulk.execute("UPDATE accounts SET id = id WHERE 1 = 0")
        return
    ids = bulk.relation(
        "lock_ids", pl.DataFrame({"id": account_ids}), schema={"id": pl.Int64()}, index=("id",)
    )
    bulk.execute(
        f"""SELECT a.id FROM accounts a JOIN {ids.sql} s ON s.id = a.id
        ORDER BY a.id FOR NO KEY UPDATE OF a""",  # noqa: S608 - staged relation
        **ids.params,
    )


def balances_of(session: Session, account_ids: list[int]) -> list[TargetAccount]:
    """The accounts with their balances as committed now (read under the posting's lock)."""
    query = select(*_ACCOUNT_COLUMNS).where(Account.id.in_(account_ids)).order_by(Account.id)
    return [_target(row) for row in session.execute(query)]


BALANCE_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "fee_fen": pl.Int64(),
    "penalty_fen": pl.Int64(),
    "interest_fen": pl.Int64(),
    "principal_fen": pl.Int64(),
}


def balances_frame(session: Session, account_ids: pl.Series) -> pl.DataFrame:
    """Balances of many accounts (read under the posting's lock), as a frame."""
    bulk = SessionBulk(session)
    ids = bulk.relation(
        "balance_ids", pl.DataFrame({"id": account_ids}), schema={"id": pl.Int64()}, index=("id",)
    )
    return bulk.fetch(
        f"""SELECT a.id AS account_id, a.fee_fen, a.penalty_fen, a.interest_fen, a.principal_fen
        FROM accounts a JOIN {ids.sql} s ON s.id = a.id""",  # noqa: S608 - staged relation
        BALANCE_SCHEMA,
        **ids.params,
    )


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


#: one row per part of a posting, the frame :func:`record_postings` writes
PART_SCHEMA: dict[str, pl.DataType] = {
    "reference": pl.String(),
    "part": pl.Int32(),
    "account_id": pl.Int64(),
    "amount_fen": pl.Int64(),
    "paid_at": pl.Datetime("us", "UTC"),
    "channel": pl.String(),
    "to_fee_fen": pl.Int64(),
    "to_penalty_fen": pl.Int64(),
    "to_interest_fen": pl.Int64(),
    "to_principal_fen": pl.Int64(),
    "to_credit_fen": pl.Int64(),
}
#: one row per posting, the frame :func:`record_posted_events` writes
EVENT_SCHEMA: dict[str, pl.DataType] = {
    "payment_id": pl.Int64(),
    "account_id": pl.Int64(),
    "payload": pl.String(),
}


def record_postings(
    session: Session,
    parts: pl.DataFrame,
    *,
    creditor_id: int,
    source: str,
    import_file_id: int | None,
    entered_by: str | None,
    now: datetime,
) -> int:
    """Insert the parts of new postings (with the ids in ``id``, reserved by the caller)
    unless their reference is taken; rows inserted."""
    bulk = SessionBulk(session)
    rows = bulk.relation("payments", parts, schema={"id": pl.Int64(), **PART_SCHEMA})
    inserted = bulk.execute(
        f"""INSERT INTO payments (id, creditor_id, account_id, reference, part, amount_fen,
            paid_at, channel, source, import_file_id, entered_by, to_fee_fen, to_penalty_fen,
            to_interest_fen, to_principal_fen, to_credit_fen, posted_at, reversed_at)
        SELECT s.id, :creditor_id, s.account_id, s.reference, s.part, s.amount_fen, s.paid_at,
            s.channel, :source, :file_id, :entered_by, s.to_fee_fen, s.to_penalty_fen,
            s.to_interest_fen, s.to_principal_fen, s.to_credit_fen, :now, NULL
        FROM {rows.sql} s WHERE 1 = 1
        ON CONFLICT (creditor_id, reference, part) DO NOTHING""",  # noqa: S608 - staged relation
        creditor_id=creditor_id,
        source=source,
        file_id=import_file_id,
        entered_by=entered_by,
        now=now,
        **rows.params,
    )
    return inserted


def record_posted_events(
    session: Session, events: pl.DataFrame, *, actor: str, now: datetime
) -> None:
    """A ``payment.posted`` event per posting (``payment_id`` and ``account_id`` of its part
    0, ``payload`` JSON text), on that payment and its account's case. The payment ids were
    reserved before the insert, so nothing is looked up again by reference (joined back on
    the reference, a million postings spent 12–17 s finding their own payments)."""
    bulk = SessionBulk(session)
    rows = bulk.relation("payment_events", events, schema=EVENT_SCHEMA)
    bulk.execute(
        f"""INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload)
        SELECT :now, :actor, 'payment.posted', 'payment', s.payment_id, a.case_id,
            {bulk.json("s.payload")}
        FROM {rows.sql} s JOIN accounts a ON a.id = s.account_id""",  # noqa: S608 - staged relation
        now=now,
        actor=actor,
        **rows.params,
    )


def posted_references(session: Session, creditor_id: int, references: pl.Series) -> set[str]:
    """Which of ``references`` the creditor has posted already."""
    bulk = SessionBulk(session)
    keys = bulk.relation(
        "references",
        pl.DataFrame({"key": references.unique()}),
        schema={"key": pl.String()},
        index=("key",),
    )
    found = bulk.fetch(
        f"""SELECT DISTINCT p.reference FROM payments p JOIN {keys.sql} k ON k.key = p.reference
        WHERE p.creditor_id = :creditor_id""",  # noqa: S608 - staged relation
        {"reference": pl.String()},
        creditor_id=creditor_id,
        **keys.params,
    )
    return set(found.get_column("reference").to_list())


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


def payment_entries(session: Session, creditor_id: int, reference: str) -> pl.DataFrame:
    """The ledger entries a posting made (kind ``payment``), one per account it reached."""
    bulk = SessionBulk(session)
    return bulk.fetch(
        """SELECT l.account_id, l.fee_fen, l.penalty_fen, l.interest_fen, l.principal_fen,
            l.credit_fen
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        WHERE a.creditor_id = :creditor_id AND l.reference = :reference
            AND l.kind = 'payment'
        ORDER BY l.id""",
        {
            "account_id": pl.Int64(),
            "fee_fen": pl.Int64(),
            "penalty_fen": pl.Int64(),
            "interest_fen": pl.Int64(),
            "principal_fen": pl.Int64(),
            "credit_fen": pl.Int64(),
        },
        creditor_id=creditor_id,
        reference=reference,
    )


def creditor_id_by_code(session: Session, code: str) -> int | None:
    return session.scalar(select(Creditor.id).where(Creditor.code == code))


def set_waterfall(session: Session, creditor_id: int, order: str) -> None:
    session.execute(update(Creditor).where(Creditor.id == creditor_id).values(waterfall=order))
