"""Posting payments (还款入账) and reversing them (冲正): fetch → decide → act.

The file import (``placement.service.payments``) posts many payments set-based; this
module posts one payment from the API or from manual entry. Both claim the reference
in the same unique index, so a payment is posted exactly once whatever the path.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases import repository as cases_repo
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.money import format_yuan, parse_yuan
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
        case = cases_repo.get_case(session, data.case_id, scope)
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
    (by any path): then the original posting is returned and nothing is written."""
    require(principal, "payment.post" if data.source == "api" else "payment.manual")
    amount_fen = parse_yuan(data.amount, field="amount")
    refused = payment_refusals(amount_fen, data.paid_at, now=now)
    if refused:  # the same rule quarantines such a row of a payments file
        raise InvalidInput(refused[0].explain()[0], field=refused[0].field)
    reference = data.reference.strip()
    if not reference:
        raise InvalidInput("reference: must not be blank", field="reference")
    account_ids, creditor_id, case_id = _targets(session, principal, data)
    creditor = repo.creditor_code(session, creditor_id)
    existing = repo.posting(session, creditor_id, reference)
    if existing:
        return payment_out(existing, creditor, replayed=True)
    paid_at = data.paid_at.astimezone(now.tzinfo)
    repo.lock_accounts(session, account_ids, now=now)
    part0 = repo.claim_reference(
        session,
        creditor_id=creditor_id,
        reference=reference,
        account_id=account_ids[0],
        amount_fen=amount_fen,
        paid_at=paid_at,
        channel=data.channel,
        source=data.source,
        entered_by=principal.username,
        now=now,
    )
    if part0 is None:  # another request posted this reference first
        return payment_out(repo.posting(session, creditor_id, reference), creditor, replayed=True)
    locked = {a.id: a for a in repo.balances_of(session, account_ids)}
    accounts = [locked[i] for i in account_ids]
    paid_day = paid_at.astimezone(zone(DEFAULT_TZ)).date()
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
    for number, (account_id, allocation) in enumerate(parts):
        repo.write_part(
            session,
            part0_id=part0,
            part=number,
            account_id=account_id,
            amount_fen=allocation.total,
            allocation=allocation,
        )
        repo.take_from_balances(session, account_id, allocation, now=now)
    paid_down = sum(a.total - a.credit for _, a in parts)
    if case_id is not None and paid_down:
        repo.adjust_case_due(session, case_id, -paid_down, now=now)
    posted = repo.posting(session, creditor_id, reference)
    out = payment_out(posted, creditor, replayed=False)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="payment.posted",
        entity_type="payment",
        entity_id=part0,
        case_id=case_id,
        payload={
            "reference": reference,
            "source": data.source,
            "amount": out.amount,
            "paid_at": paid_at.isoformat(),
            "parts": [p.model_dump() for p in out.parts],
        },
    )
    return out


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
    repo.restore_balances(session, creditor_id=creditor_id, reference=reference, now=now)
    parts = repo.posting(session, creditor_id, reference)
    case_id = parts[0].case_id
    paid_down = sum(p.payment.amount_fen - p.payment.to_credit_fen for p in parts)
    if case_id is not None and paid_down:
        repo.adjust_case_due(session, case_id, paid_down, now=now)
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
