"""Ledger use cases: post entries (the one way a balance changes), read them, check them.

Every path that changes what is owed — a payment from a file or the API, a reversal, a
waiver, a reinstatement, a write-off, the creditor's refreshed figures, a manual adjustment,
the daily cycle's agreement decisions — builds entries and posts them here, inside its own
transaction. The entries' signs are checked against their kind (:mod:`cuishou.ledger.rules`)
before anything is written; the store refuses a balance below zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases.service import case_in_scope
from cuishou.creditors.service import business_day
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.money import format_yuan, parse_yuan
from cuishou.ledger import repository as repo
from cuishou.ledger.repository import ENTRY_SCHEMA
from cuishou.ledger.rules import (
    KINDS,
    Balances,
    Change,
    Entry,
    after,
    sign_problem,
    sign_problem_expr,
)
from cuishou.ledger.schemas import AdjustmentIn, EntryOut, LedgerOut
from cuishou.store.bulk import Bulk, SessionBulk
from cuishou.store.tables import LedgerEntry

NEGATIVE = "balances_not_negative"


def entries_frame(entries: Sequence[Entry]) -> pl.DataFrame:
    """Entries as the frame :func:`post` takes."""
    return pl.DataFrame(
        [
            (
                e.account_id, e.kind, e.change.fee, e.change.penalty, e.change.interest,
                e.change.principal, e.change.credit, e.effective_on, e.source, e.source_id,
                e.reference, e.actor, e.reason,
            )
            for e in entries
        ],
        schema=ENTRY_SCHEMA,
        orient="row",
    )  # fmt: skip


def post(bulk: Bulk, entries: pl.DataFrame, *, now: datetime, name: str = "ledger") -> int:
    """Post ``entries`` (:data:`~cuishou.ledger.repository.ENTRY_SCHEMA`) in ``bulk``'s
    transaction: appended, balances and case dues moved by them. Entries whose signs do not
    fit their kind are refused before anything is written; entries moving nothing are
    skipped."""
    moving = entries.filter(
        pl.any_horizontal(pl.col(c) != 0 for c in ENTRY_SCHEMA if c.endswith("_fen"))
    )
    wrong = moving.filter(sign_problem_expr(pl.col("kind")))
    if wrong.height:
        row = wrong.row(0, named=True)
        raise ValueError(f"ledger entry refused: {row['kind']} with {row} breaks the kind's signs")
    try:
        return repo.post(bulk, moving, now=now, name=name)
    except IntegrityError as exc:
        if NEGATIVE in str(exc.orig):
            raise Conflict(
                "the balances changed while this was being posted and would go below zero; "
                "nothing was written — look at the account and try again"
            ) from exc
        raise


def post_select(bulk: Bulk, select_sql: str, *, now: datetime, name: str, **params: Any) -> int:
    """Post entries computed by a query at this moment (see
    :func:`cuishou.ledger.repository.post_select`)."""
    return repo.post_select(bulk, select_sql, now=now, name=name, **params)


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
    """Opening (``placement``) entries for accounts just created with their balances."""
    return repo.record_openings(
        bulk,
        account_ids_sql,
        source=source,
        source_id=source_id,
        actor=actor,
        reason=reason,
        now=now,
        **params,
    )


def post_entries(session: Session, entries: Sequence[Entry], *, now: datetime) -> int:
    """Post a few entries in the session's transaction (online paths)."""
    for entry in entries:
        problem = sign_problem(entry.kind, entry.change)
        if problem:
            raise ValueError(problem)
    return post(SessionBulk(session), entries_frame(entries), now=now)


def entries_of_accounts(session: Session, account_ids: list[int]) -> list[LedgerEntry]:
    return repo.entries_of_accounts(session, account_ids)


def entries_of_source(
    session: Session, source: str, source_id: int, kind: str
) -> list[LedgerEntry]:
    return repo.entries_of_source(session, source, source_id, kind)


def check(session: Session, *, limit: int = 100) -> dict[str, Any]:
    """账务核对: accounts whose balances are not the sum of their entries, and cases whose
    amount due is not what their accounts owe (both empty when the store is consistent)."""
    return {
        "accounts": repo.drift(session, limit=limit),
        "cases": repo.case_due_drift(session, limit=limit),
    }


def _entry_out(entry: LedgerEntry, account_no: str) -> EntryOut:
    moved = entry.fee_fen + entry.penalty_fen + entry.interest_fen + entry.principal_fen
    zh, en = KINDS.get(entry.kind, (entry.kind, entry.kind))
    return EntryOut(
        id=entry.id,
        account_no=account_no,
        kind=entry.kind,
        kind_zh=zh,
        kind_en=en,
        fee=format_yuan(entry.fee_fen),
        penalty=format_yuan(entry.penalty_fen),
        interest=format_yuan(entry.interest_fen),
        principal=format_yuan(entry.principal_fen),
        credit=format_yuan(entry.credit_fen),
        owed=format_yuan(moved),
        effective_on=entry.effective_on,
        source=entry.source,
        reference=entry.reference,
        actor=entry.actor,
        reason=entry.reason,
        at=entry.at,
    )


def case_ledger(session: Session, principal: Principal, case_id: int) -> LedgerOut:
    """A case's ledger for a person who may read the case (another team's: not found)."""
    require(principal, "case.read")
    if not case_in_scope(session, case_id, case_scope_of(principal)):
        raise NotFound(f"case {case_id} not found", case_id=case_id)
    rows = repo.entries_of_case(session, case_id)
    owed = credit = 0
    entries = []
    for entry, account_no in rows:
        owed += entry.fee_fen + entry.penalty_fen + entry.interest_fen + entry.principal_fen
        credit += entry.credit_fen
        entries.append(_entry_out(entry, account_no))
    return LedgerOut(
        case_id=case_id, owed=format_yuan(owed), credit=format_yuan(credit), entries=entries
    )


def adjust(
    session: Session, principal: Principal, data: AdjustmentIn, *, now: datetime
) -> EntryOut:
    """手工调账: move one account's balances by signed amounts, with a reason; refused if a
    balance would go below zero. An ``adjustment`` entry; the case's amount due follows."""
    require(principal, "ledger.adjust")
    change = Change(
        fee=parse_yuan(data.fee, field="fee"),
        penalty=parse_yuan(data.penalty, field="penalty"),
        interest=parse_yuan(data.interest, field="interest"),
        principal=parse_yuan(data.principal, field="principal"),
        credit=parse_yuan(data.credit, field="credit"),
    )
    if change.is_zero:
        raise InvalidInput("an adjustment moves at least one amount", field="principal")
    account = repo.account_for_adjustment(
        session, data.account_no.strip(), data.creditor, case_scope_of(principal)
    )
    balances = Balances(
        account.fee_fen, account.penalty_fen, account.interest_fen, account.principal_fen,
        account.credit_fen,
    )  # fmt: skip
    try:
        after(balances, change)
    except ValueError as exc:
        raise InvalidInput(f"the adjustment would overdraw the account: {exc}") from exc
    today = business_day(session, account.creditor_id, now)
    post_entries(
        session,
        [
            Entry(
                account_id=account.id,
                kind="adjustment",
                change=change,
                source="api",
                actor=principal.username,
                reason=data.reason,
                effective_on=today,
            )
        ],
        now=now,
    )
    entry = repo.latest_entry(session, account.id)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="ledger.adjusted",
        entity_type="account",
        entity_id=account.id,
        case_id=account.case_id,
        payload={
            "entry": entry.id,
            "fee": data.fee, "penalty": data.penalty, "interest": data.interest,
            "principal": data.principal, "credit": data.credit, "reason": data.reason,
        },
    )  # fmt: skip
    return _entry_out(entry, account.account_no)
