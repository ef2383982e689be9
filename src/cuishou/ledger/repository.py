"""Ledger writes and reads. :func:`post` is the only statement set that changes a balance.

Posting appends the entries and, in the same transaction, moves each account's balance
columns and its case's amount due by the entries' sums — relative updates
(``fee_fen = fee_fen + d.fee``), never a read-modify-write, so concurrent postings and the
daily cycle's write cannot lose each other's changes. The store refuses a balance below zero
(``ck_accounts_balances_not_negative``), so a posting that would overdraw fails whole.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.kit.errors import InvalidInput, NotFound
from cuishou.store.bulk import Bulk, Relation
from cuishou.store.tables import Account, Case, Creditor, LedgerEntry

ENTRY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "kind": pl.String(),
    "fee_fen": pl.Int64(),
    "penalty_fen": pl.Int64(),
    "interest_fen": pl.Int64(),
    "principal_fen": pl.Int64(),
    "credit_fen": pl.Int64(),
    "effective_on": pl.Date(),
    "source": pl.String(),
    "source_id": pl.Int64(),
    "reference": pl.String(),
    "actor": pl.String(),
    "reason": pl.String(),
}
_COLUMNS = ", ".join(ENTRY_SCHEMA)
_OWED = "s.fee_fen + s.penalty_fen + s.interest_fen + s.principal_fen"


def post(bulk: Bulk, entries: pl.DataFrame, *, now: datetime, name: str = "ledger") -> int:
    """Append ``entries`` (:data:`ENTRY_SCHEMA`) and move balances and case dues by them."""
    if entries.height == 0:
        return 0
    rows = bulk.relation(f"stg_{name}", entries, schema=ENTRY_SCHEMA, index=("account_id",))
    _apply(bulk, rows, now=now)
    if not rows.params:
        bulk.drop(rows.sql)
    return entries.height


def post_select(bulk: Bulk, select_sql: str, *, now: datetime, name: str, **params: Any) -> int:
    """Post the entries a query computes in the store at this moment (e.g. writing off what
    accounts still owe *now*, whatever was posted since the caller read them). The query
    yields the columns of :data:`ENTRY_SCHEMA`, in that order."""
    table = f"stg_{name}"
    bulk.execute(f"CREATE TEMPORARY TABLE {table} AS {select_sql}", **params)
    count = int(bulk.fetch(f"SELECT COUNT(*) AS n FROM {table}", {"n": pl.Int64()}).item(0, 0))  # noqa: S608 - fixed name
    if count:
        _apply(bulk, Relation(table, {}), now=now)
    bulk.execute(f"DROP TABLE {table}")
    return count


def _apply(bulk: Bulk, rows: Relation, *, now: datetime) -> None:
    """The three statements of a posting, reading the entries from ``rows``."""
    bulk.execute(
        f"INSERT INTO ledger_entries ({_COLUMNS}, at) SELECT {_COLUMNS}, :now FROM {rows.sql} s",  # noqa: S608 - fixed column names
        now=now,
        **rows.params,
    )
    bulk.execute(
        f"""UPDATE accounts SET fee_fen = accounts.fee_fen + d.fee,
            penalty_fen = accounts.penalty_fen + d.penalty,
            interest_fen = accounts.interest_fen + d.interest,
            principal_fen = accounts.principal_fen + d.principal,
            credit_fen = accounts.credit_fen + d.credit, updated_at = :now
        FROM (SELECT s.account_id, SUM(s.fee_fen) AS fee, SUM(s.penalty_fen) AS penalty,
                SUM(s.interest_fen) AS interest, SUM(s.principal_fen) AS principal,
                SUM(s.credit_fen) AS credit
              FROM {rows.sql} s GROUP BY s.account_id) d
        WHERE accounts.id = d.account_id""",  # noqa: S608 - fixed column names
        now=now,
        **rows.params,
    )
    # the case's amount due follows at once (its case as stored now, read in this statement)
    bulk.execute(
        f"""UPDATE cases SET due_fen = cases.due_fen + d.owed, updated_at = :now
        FROM (SELECT a.case_id, SUM({_OWED}) AS owed
              FROM {rows.sql} s JOIN accounts a ON a.id = s.account_id
              WHERE a.case_id IS NOT NULL GROUP BY a.case_id) d
        WHERE cases.id = d.case_id AND d.owed <> 0""",  # noqa: S608 - fixed column names
        now=now,
        **rows.params,
    )


def record_openings(
    bulk: Bulk,
    account_ids_sql: str,
    *,
    source: str,
    source_id: int | None,
    actor: str,
    reason: str,
    now: datetime,
    **params: Any,
) -> int:
    """The ``placement`` entry of each account ``account_ids_sql`` selects that the ledger
    does not know yet: its balances as created, dated its snapshot date. An account is
    created with its opening balances and this entry in one transaction; from then on only
    :func:`post` changes them."""
    return bulk.execute(
        f"""INSERT INTO ledger_entries ({_COLUMNS}, at)
        SELECT a.id, 'placement', a.fee_fen, a.penalty_fen, a.interest_fen, a.principal_fen,
            a.credit_fen, a.snapshot_date, :source, :source_id, NULL, :actor, :reason, :now
        FROM accounts a WHERE a.id IN ({account_ids_sql})
            AND NOT EXISTS (SELECT 1 FROM ledger_entries l WHERE l.account_id = a.id)""",  # noqa: S608 - the caller's fixed query
        source=source,
        source_id=source_id,
        actor=actor,
        reason=reason,
        now=now,
        **params,
    )


# --------------------------------------------------------------------------- reading


def entries_of_accounts(session: Session, account_ids: list[int]) -> list[LedgerEntry]:
    """The accounts' entries, oldest first."""
    if not account_ids:
        return []
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.account_id.in_(account_ids))
        .order_by(LedgerEntry.effective_on, LedgerEntry.id)
    )
    return list(session.scalars(query))


def account_for_adjustment(
    session: Session, account_no: str, creditor_code: str | None, scope: CaseScope
) -> Account:
    """The account to adjust: by number (and creditor when the number is ambiguous), within
    the caller's scope; locked for the adjustment."""
    query = select(Account).where(Account.account_no == account_no)
    if creditor_code is not None:
        query = query.join(Creditor, Creditor.id == Account.creditor_id).where(
            Creditor.code == creditor_code
        )
    if scope.kind != "all":
        query = query.where(Account.case_id.in_(select(Case.id).where(case_scope_clause(scope))))
    found = list(session.scalars(query.with_for_update(of=Account)))
    if not found:
        raise NotFound(f"no account {account_no!r}", account_no=account_no)
    if len(found) > 1:
        raise InvalidInput(
            f"account_no: {account_no!r} is used by more than one creditor; give creditor",
            field="creditor",
        )
    return found[0]


def latest_entry(session: Session, account_id: int) -> LedgerEntry:
    query = (
        select(LedgerEntry)
        .where(LedgerEntry.account_id == account_id)
        .order_by(LedgerEntry.id.desc())
        .limit(1)
    )
    return session.scalars(query).one()


def entries_of_case(session: Session, case_id: int) -> list[tuple[LedgerEntry, str]]:
    """The entries of the case's accounts with their account numbers, in the order posted."""
    query = (
        select(LedgerEntry, Account.account_no)
        .join(Account, Account.id == LedgerEntry.account_id)
        .where(Account.case_id == case_id)
        .order_by(LedgerEntry.id)
    )
    return [(entry, str(number)) for entry, number in session.execute(query)]


def entries_of_source(
    session: Session, source: str, source_id: int, kind: str
) -> list[LedgerEntry]:
    query = (
        select(LedgerEntry)
        .where(
            LedgerEntry.source == source,
            LedgerEntry.source_id == source_id,
            LedgerEntry.kind == kind,
        )
        .order_by(LedgerEntry.id)
    )
    return list(session.scalars(query))


def drift(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    """Accounts whose balance columns differ from the sum of their entries (none, if every
    change went through :func:`post`)."""
    sums = (
        select(
            LedgerEntry.account_id,
            func.sum(LedgerEntry.fee_fen).label("fee"),
            func.sum(LedgerEntry.penalty_fen).label("penalty"),
            func.sum(LedgerEntry.interest_fen).label("interest"),
            func.sum(LedgerEntry.principal_fen).label("principal"),
            func.sum(LedgerEntry.credit_fen).label("credit"),
        )
        .group_by(LedgerEntry.account_id)
        .subquery()
    )
    zero = 0
    query = (
        select(
            Account.id,
            Account.account_no,
            Account.fee_fen - func.coalesce(sums.c.fee, zero),
            Account.penalty_fen - func.coalesce(sums.c.penalty, zero),
            Account.interest_fen - func.coalesce(sums.c.interest, zero),
            Account.principal_fen - func.coalesce(sums.c.principal, zero),
            Account.credit_fen - func.coalesce(sums.c.credit, zero),
        )
        .outerjoin(sums, sums.c.account_id == Account.id)
        .where(
            (Account.fee_fen != func.coalesce(sums.c.fee, zero))
            | (Account.penalty_fen != func.coalesce(sums.c.penalty, zero))
            | (Account.interest_fen != func.coalesce(sums.c.interest, zero))
            | (Account.principal_fen != func.coalesce(sums.c.principal, zero))
            | (Account.credit_fen != func.coalesce(sums.c.credit, zero))
        )
        .order_by(Account.id)
        .limit(limit)
    )
    return [
        {
            "account_id": int(row[0]),
            "account_no": str(row[1]),
            "difference": dict(
                zip(
                    ("fee", "penalty", "interest", "principal", "credit"),
                    (int(v) for v in row[2:]),
                    strict=True,
                )
            ),
        }
        for row in session.execute(query)
    ]


def case_due_drift(session: Session, *, limit: int = 100) -> list[dict[str, Any]]:
    """Cases whose amount due differs from what their accounts owe."""

    owed = (
        select(
            Account.case_id,
            func.sum(
                Account.fee_fen + Account.penalty_fen + Account.interest_fen + Account.principal_fen
            ).label("owed"),
        )
        .where(Account.case_id.is_not(None))
        .group_by(Account.case_id)
        .subquery()
    )
    query = (
        select(Case.id, Case.due_fen, owed.c.owed)
        .join(owed, owed.c.case_id == Case.id)
        .where(Case.due_fen != owed.c.owed)
        .order_by(Case.id)
        .limit(limit)
    )
    return [
        {"case_id": int(r[0]), "due_fen": int(r[1]), "owed_fen": int(r[2])}
        for r in session.execute(query)
    ]


def as_frame(entries: list[dict[str, Any]]) -> pl.DataFrame:
    """Entry dicts (keys of :data:`ENTRY_SCHEMA`) as a frame to :func:`post`."""
    return (
        pl.DataFrame(entries, schema=ENTRY_SCHEMA, orient="row")
        if entries
        else pl.DataFrame(schema=ENTRY_SCHEMA)
    )
