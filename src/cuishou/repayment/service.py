"""Posting payments (还款入账) and reversing them (冲正): fetch → decide → act.

One posting path: a payment from the API or manual entry (:func:`post_payment`) and the
payments of a file (``placement.service.payments`` → :func:`post_batch`) are written by the
same :func:`post_batch` — the same account locks, the same exactly-once insert by reference,
the same ledger entries (so balances and the case's amount due move at once, relatively)
and the same ``payment.posted`` events. Only how the allocation is computed differs (one
payment against the balances read under the lock; a file's payments one after another per
account, :func:`cuishou.repayment.rules.allocate_frame`, the same rule in bulk).
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases.service import case_for, case_in_scope
from cuishou.creditors.service import timezone as creditor_timezone
from cuishou.kit.clock import business_day_in
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.money import format_yuan, format_yuan_expr, parse_yuan
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.repayment import repository as repo
from cuishou.repayment.rules import (
    AccountBalances,
    Allocation,
    allocate,
    allocate_over_accounts,
    parse_waterfall,
    payment_refusals,
)
from cuishou.repayment.schemas import PaymentIn, PaymentOut, PaymentPartOut, ReversalIn
from cuishou.store.bulk import SessionBulk


def payment_out(parts: list[repo.PostingPart], creditor: str, *, replayed: bool) -> PaymentOut:
    first = parts[0].payment
    return PaymentOut(
        id=first.id,
        reference=first.reference,
        creditor=creditor,
        case_id=parts[0].case_id,
        amount=format_yuan(sum(p.payment.amount_fen for p in parts)),
        paid_at=first.paid_at,
        channel=first.channel,
        source=first.source,
        entered_by=first.entered_by,
        posted_at=first.posted_at,
        parts=[
            PaymentPartOut(
                account_no=p.account_no,
                fee=format_yuan(p.payment.to_fee_fen),
                penalty=format_yuan(p.payment.to_penalty_fen),
                interest=format_yuan(p.payment.to_interest_fen),
                principal=format_yuan(p.payment.to_principal_fen),
                credit=format_yuan(p.payment.to_credit_fen),
            )
            for p in parts
        ],
        reversed_at=first.reversed_at,
        reversed_by=first.reversed_by,
        reversal_reason=first.reversal_reason,
        replayed=replayed,
    )


def _targets(
    session: Session, principal: Principal, data: PaymentIn
) -> tuple[list[int], int, int | None]:
    """The account ids to post to (oldest first), their creditor and their case."""
    if (data.account_no is None) == (data.case_id is None):
        raise InvalidInput("give either account_no or case_id (exactly one)", field="account_no")
    scope = case_scope_of(principal)
    if data.case_id is not None:
        case = case_for(session, principal, data.case_id)
        ids = repo.case_account_ids_oldest_first(session, case.id)
        if not ids:
            raise InvalidInput(f"case {case.id} has no accounts to pay", field="case_id")
        return ids, case.creditor_id, case.id
    assert data.account_no is not None
    found = repo.accounts_by_number(session, data.account_no, data.creditor, scope)
    if not found:
        raise InvalidInput(
            f"account_no: no account {data.account_no!r}"
            + (f" for creditor {data.creditor!r}" if data.creditor else ""),
            field="account_no",
        )
    if len(found) > 1:
        raise InvalidInput(
            f"account_no: {data.account_no!r} is used by more than one creditor; give creditor",
            field="creditor",
        )
    return [found[0].id], found[0].creditor_id, found[0].case_id


def post_payment(
    session: Session, principal: Principal, data: PaymentIn, *, now: datetime
) -> PaymentOut:
    """Post a payment once. ``replayed`` is true when its reference was already posted
    (by any path): then the original posting is returned and nothing is written — if that
    posting is within the caller's scope; otherwise the reference is refused as taken,
    without a word about the posting."""
    require(principal, "payment.post" if data.source == "api" else "payment.manual")
    amount_fen = parse_yuan(data.amount, field="amount")
    refused = payment_refusals(amount_fen, data.paid_at, now=now)
    if refused:  # the same rule quarantines such a row of a payments file
        raise InvalidInput(refused[0].explain()[0], field=refused[0].field)
    reference = data.reference.strip()
    if not reference:
        raise InvalidInput("reference: must not be blank", field="reference")
    account_ids, creditor_id, _case = _targets(session, principal, data)
    creditor = repo.creditor_code(session, creditor_id)
    existing = repo.posting(session, creditor_id, reference)
    if existing:
        return _replay(session, principal, existing, creditor)
    paid_at = data.paid_at.astimezone(UTC)
    repo.lock_accounts(session, account_ids)
    existing = repo.posting(session, creditor_id, reference)
    if existing:  # posted by another request while we waited for the lock
        return _replay(session, principal, existing, creditor)
    locked = {a.id: a for a in repo.balances_of(session, account_ids)}
    accounts = [locked[i] for i in account_ids]
    tz = creditor_timezone(session, creditor_id)
    paid_day = business_day_in(paid_at, tz)
    stale = [a for a in accounts if paid_day <= a.snapshot_date]
    if stale:
        raise InvalidInput(
            f"paid_at: paid on {paid_day}, not after the snapshot date {stale[0].snapshot_date} "
            f"of account {stale[0].account_no}: the creditor's balances of that date already "
            "include it",
            field="paid_at",
        )
    order = parse_waterfall(repo.waterfall_of(session, creditor_id))
    parts: list[tuple[int, Allocation]]
    if len(accounts) == 1:
        parts = [(accounts[0].id, allocate(amount_fen, accounts[0].balances, order))]
    else:
        parts = allocate_over_accounts(
            amount_fen, [AccountBalances(a.id, a.balances) for a in accounts], order
        )
    numbers = {a.id: a.account_no for a in accounts}
    frame = pl.DataFrame(
        {
            "reference": [reference] * len(parts),
            "part": list(range(len(parts))),
            "account_id": [account_id for account_id, _ in parts],
            "amount_fen": [a.total for _, a in parts],
            "paid_at": [paid_at] * len(parts),
            "channel": [data.channel] * len(parts),
            "to_fee_fen": [a.fee for _, a in parts],
            "to_penalty_fen": [a.penalty for _, a in parts],
            "to_interest_fen": [a.interest for _, a in parts],
            "to_principal_fen": [a.principal for _, a in parts],
            "to_credit_fen": [a.credit for _, a in parts],
            "account_no": [numbers[account_id] for account_id, _ in parts],
        },
        schema={**repo.PART_SCHEMA, "account_no": pl.String()},
    )
    posted = post_batch(
        session,
        frame,
        creditor_id=creditor_id,
        tz=tz,
        source=data.source,
        import_file_id=None,
        entered_by=principal.username,
        actor=principal.username,
        now=now,
        file_name=None,
    )
    if not posted:  # another request posted this reference first (to other accounts)
        return _replay(session, principal, repo.posting(session, creditor_id, reference), creditor)
    return payment_out(repo.posting(session, creditor_id, reference), creditor, replayed=False)


def lock_and_read_balances(session: Session, account_ids: pl.Series) -> pl.DataFrame:
    """Lock accounts for posting (as :func:`post_payment` does) and read their balances:
    ``account_id, fee_fen, penalty_fen, interest_fen, principal_fen``."""
    repo.lock_accounts(session, account_ids.to_list())
    return repo.balances_frame(session, account_ids)


def posted_references(session: Session, creditor_id: int, references: pl.Series) -> set[str]:
    """Which references the creditor has posted already (by any path)."""
    return repo.posted_references(session, creditor_id, references)


def _replay(
    session: Session, principal: Principal, existing: list[repo.PostingPart], creditor: str
) -> PaymentOut:
    """The original posting of a reference, if the caller may see it; otherwise a conflict
    that says nothing about it (a guessed reference must not reveal another team's payment)."""
    scope = case_scope_of(principal)
    case_id = existing[0].case_id
    visible = scope.kind == "all" or (
        case_id is not None and case_in_scope(session, case_id, scope)
    )
    if not visible:
        raise Conflict(
            "reference: this reference is already used by another payment; nothing was posted",
            field="reference",
        )
    return payment_out(existing, creditor, replayed=True)


def post_batch(
    session: Session,
    parts: pl.DataFrame,
    *,
    creditor_id: int,
    tz: str,
    source: str,
    import_file_id: int | None,
    entered_by: str | None,
    actor: str,
    now: datetime,
    file_name: str | None,
) -> bool:
    """Write allocated postings of one creditor (one or a file's worth), exactly once.

    ``parts`` has ``reference, part, account_id, account_no, amount_fen, paid_at, channel,
    to_fee_fen … to_credit_fen``; the caller has locked the accounts and allocated against
    the balances read under that lock. Returns ``False`` (and writes nothing) when some
    reference turned out to be taken already; otherwise every part is a payment row, a
    ledger entry (balances and case dues move at once) and each posting one
    ``payment.posted`` event.
    """
    if parts.height == 0:
        return True
    # ids first: the events below name each posting's payment without looking it up again
    # (every part is inserted or the batch is refused, so every reserved id is used)
    parts = parts.with_columns(SessionBulk(session).reserve_ids("payments", parts.height))
    inserted = repo.record_postings(
        session,
        parts.select("id", *repo.PART_SCHEMA),
        creditor_id=creditor_id,
        source=source,
        import_file_id=import_file_id,
        entered_by=entered_by,
        now=now,
    )
    if inserted != parts.height:
        if inserted:
            raise Conflict(
                "some payment references were posted by someone else while this was being "
                "posted; nothing was written — run it again (posted ones are skipped)"
            )
        return False
    entries = parts.select(
        "account_id",
        pl.lit("payment").alias("kind"),
        *(-pl.col(f"to_{c}_fen").alias(f"{c}_fen") for c in OWED),
        pl.col("to_credit_fen").alias("credit_fen"),
        pl.col("paid_at").dt.convert_time_zone(tz).dt.date().alias("effective_on"),
        pl.lit(LEDGER_SOURCE.get(source, source)).alias("source"),
        pl.lit(import_file_id, dtype=pl.Int64).alias("source_id"),
        "reference",
        pl.lit(actor).alias("actor"),
        pl.lit("").alias("reason"),
    )  # fmt: skip
    ledger.post(SessionBulk(session), entries, now=now, name="payment_ledger")
    repo.record_posted_events(
        session,
        _posted_payloads(parts, source=source, file_name=file_name),
        actor=actor,
        now=now,
    )
    return True


#: the ledger's name for where a payment came from
LEDGER_SOURCE = {"file": "import"}
OWED = ("fee", "penalty", "interest", "principal")


def _posted_payloads(parts: pl.DataFrame, *, source: str, file_name: str | None) -> pl.DataFrame:
    """The ``payment.posted`` payload of each posting: reference, source, amount, paid_at and
    the share of each account it reached (yuan strings, as the API shows them)."""
    share = pl.struct(
        "account_no",
        *(format_yuan_expr(pl.col(f"to_{c}_fen")).alias(c) for c in (*OWED, "credit")),
    )
    grouped = (
        parts.sort("reference", "part")
        .group_by("reference", maintain_order=True)
        .agg(
            pl.col("id").first().alias("payment_id"),
            pl.col("account_id").first(),
            pl.col("amount_fen").sum(),
            pl.col("paid_at").first(),
            share.alias("parts"),
        )
    )
    fields = [
        pl.col("reference"),
        pl.lit(source).alias("source"),
        format_yuan_expr(pl.col("amount_fen")).alias("amount"),
        pl.col("paid_at").dt.strftime("%Y-%m-%dT%H:%M:%S%.f+00:00").alias("paid_at"),
        pl.col("parts"),
    ]
    if file_name is not None:
        fields.append(pl.lit(file_name).alias("file"))
    return grouped.select(
        "payment_id", "account_id", pl.struct(fields).struct.json_encode().alias("payload")
    )


def get_payment(session: Session, principal: Principal, payment_id: int) -> PaymentOut:
    require(principal, "case.read")
    found = repo.payment_in_scope(session, payment_id, case_scope_of(principal))
    if found is None:
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    parts = repo.posting(session, found.creditor_id, found.reference)
    return payment_out(parts, repo.creditor_code(session, found.creditor_id), replayed=False)


def reverse_payment(
    session: Session, principal: Principal, payment_id: int, data: ReversalIn, *, now: datetime
) -> PaymentOut:
    """冲正: undo a posting — every part marked reversed and its shares given back to the
    balances by one relative statement. A reversed payment cannot be reversed again."""
    require(principal, "payment.reverse")
    found = repo.payment_in_scope(session, payment_id, case_scope_of(principal))
    if found is None:
        raise NotFound(f"payment {payment_id} not found", payment_id=payment_id)
    creditor_id, reference = found.creditor_id, found.reference
    changed = repo.mark_reversed(
        session,
        creditor_id=creditor_id,
        reference=reference,
        reason=data.reason,
        by=principal.username,
        now=now,
    )
    if not changed:
        raise Conflict(f"payment {payment_id} is already reversed", payment_id=payment_id)
    taken = repo.payment_entries(session, creditor_id, reference)
    today = business_day_in(now, creditor_timezone(session, creditor_id))
    ledger.post_entries(
        session,
        [
            Entry(
                account_id=int(row["account_id"]),
                kind="reversal",
                change=Change(
                    fee=-row["fee_fen"], penalty=-row["penalty_fen"],
                    interest=-row["interest_fen"], principal=-row["principal_fen"],
                    credit=-row["credit_fen"],
                ),
                source="api",
                source_id=payment_id,
                reference=reference,
                actor=principal.username,
                reason=data.reason,
                effective_on=today,
            )
            for row in taken.iter_rows(named=True)
        ],
        now=now,
    )  # fmt: skip
    parts = repo.posting(session, creditor_id, reference)
    case_id = parts[0].case_id
    out = payment_out(parts, repo.creditor_code(session, creditor_id), replayed=False)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="payment.reversed",
        entity_type="payment",
        entity_id=parts[0].payment.id,
        case_id=case_id,
        payload={"reference": reference, "amount": out.amount, "reason": data.reason},
    )
    return out


def set_waterfall(
    session: Session, *, creditor: str, order: str, actor: str, now: datetime
) -> tuple[str, ...]:
    """Set a creditor's allocation waterfall (还款冲账顺序), with an event."""
    try:
        chosen = parse_waterfall(order)
    except ValueError as exc:
        raise InvalidInput(f"order: {exc}", field="order") from exc
    creditor_id = repo.creditor_id_by_code(session, creditor)
    if creditor_id is None:
        raise NotFound(f"no creditor {creditor!r}", creditor=creditor)
    before = repo.waterfall_of(session, creditor_id)
    repo.set_waterfall(session, creditor_id, ",".join(chosen))
    append_event(
        session,
        at=now,
        actor=actor,
        type="creditor.waterfall_changed",
        entity_type="creditor",
        entity_id=creditor_id,
        payload={"from": before, "to": ",".join(chosen)},
    )
    return chosen
