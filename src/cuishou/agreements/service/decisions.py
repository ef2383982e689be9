"""Deciding requests: approve (审批通过), reject (驳回), withdraw (撤回), and what approval
does to the balances — through the ledger only.

Approving takes the waiver off at once (``waiver`` entries, oldest account first). Approving
an amendment first ends the plan it amends as ``superseded`` and puts what that plan still
waives back (``reinstatement`` entries, source the old agreement), then takes the new waiver
off — in the request's one transaction, so nobody sees the case with both waivers or none.
The approval level is judged again at approval on the waivers standing on the case then: a
level that rose since the request needs an approver of the new level.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from cuishou.agreements import repository as repo
from cuishou.agreements.approval import ApprovalMatrix, default_matrix, higher, may_approve
from cuishou.agreements.schemas import AgreementOut, DecisionIn, WithdrawIn
from cuishou.agreements.service.common import (
    LEVEL_ZH,
    agreement_out,
    judge_cumulative,
    owed_of,
    stored_waiver,
    today_of,
)
from cuishou.agreements.service.documents import render_document
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, can, case_scope_of
from cuishou.auth.service import require
from cuishou.kit.errors import Conflict, InvalidInput, PermissionDenied
from cuishou.kit.money import format_yuan
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.store.tables import Agreement


def decide(
    session: Session,
    principal: Principal,
    agreement_id: int,
    data: DecisionIn,
    *,
    approve: bool,
    now: datetime,
    matrix: ApprovalMatrix | None = None,
) -> AgreementOut:
    """Approve or reject a request, with a reason (an event either way). Nobody decides
    their own request; the approver must act at the required level or above — for an
    approval, judged again now on the waivers standing on the case."""
    require(principal, "agreement.approve")
    repo.write_lock(session)
    agreement = repo.get_agreement(session, agreement_id, case_scope_of(principal), for_update=True)
    if agreement.status != "requested":
        raise Conflict(
            f"agreement {agreement_id} is {agreement.status}; it cannot be decided again",
            status=agreement.status,
        )
    if agreement.requested_by == principal.user_id:
        raise PermissionDenied("nobody approves or rejects their own request")
    if not may_approve(principal.role, agreement.required_level):
        raise PermissionDenied(
            f"this agreement needs {agreement.required_level} approval "
            f"({LEVEL_ZH[agreement.required_level]}审批)",
            required_level=agreement.required_level,
        )
    today = today_of(session, agreement.case_id, now)
    level = agreement.required_level
    amended: Agreement | None = None
    if approve:
        amended = _amended_still_running(session, agreement)
        level = _level_now(session, agreement, amended, today, matrix or default_matrix())
        if not may_approve(principal.role, level):
            raise PermissionDenied(
                f"this agreement now needs {level} approval ({LEVEL_ZH[level]}审批): the "
                f"waivers standing on case {agreement.case_id} changed since it was requested",
                required_level=level,
            )
    creditor_reference = (data.creditor_reference or "").strip()
    if approve and level == "creditor" and not creditor_reference:
        raise InvalidInput(
            "creditor_reference: this waiver needs the creditor's consent; give its reference",
            field="creditor_reference",
        )
    if amended is not None:
        _supersede(session, amended, agreement, actor=principal.username, today=today, now=now)
    status = "approved" if approve else "rejected"
    changed = repo.decide(
        session,
        agreement.id,
        status=status,
        decided_by=principal.user_id,
        decided_at=now,
        decision_reason=data.reason,
        required_level=level,
        closed_on=None if approve else today,
    )
    if not changed:
        raise Conflict(f"agreement {agreement_id} was decided by someone else first")
    session.refresh(agreement)
    if approve:
        _apply_waiver(session, agreement, actor=principal.username, today=today, now=now)
        agreement.document_pdf = render_document(session, agreement, masked=False)
        agreement.document_masked_pdf = render_document(session, agreement, masked=True)
        session.flush()
    append_event(
        session,
        at=now,
        actor=principal.username,
        type=f"agreement.{status}",
        entity_type="agreement",
        entity_id=agreement.id,
        case_id=agreement.case_id,
        payload={
            "reason": data.reason,
            "required_level": level,
            "creditor_reference": creditor_reference or None,
            "amends": agreement.amends_id,
        },
    )
    return agreement_out(session, agreement)


def _amended_still_running(session: Session, agreement: Agreement) -> Agreement | None:
    """The running plan an amendment replaces (locked), or ``None`` for a request that
    amends nothing on a case with no running plan. Refused when the plans changed since the
    request: the amended plan ended (completed, broken), or a plan runs that this request
    does not amend (a store from before one active agreement per case)."""
    if agreement.amends_id is None:
        running = [
            a for a in repo.active_of_case(session, agreement.case_id) if a.status == "approved"
        ]
        if running:
            raise Conflict(
                f"case {agreement.case_id} has a running agreement {running[0].id} and this "
                "request does not amend it; a case has one active agreement — reject this "
                f"request and request an amendment of agreement {running[0].id}",
                active_agreement_id=running[0].id,
            )
        return None
    amended = repo.agreement_of_case(
        session, agreement.amends_id, agreement.case_id, for_update=True
    )
    if amended is None or amended.status != "approved":
        state = amended.status if amended else "gone"
        raise Conflict(
            f"agreement {agreement.amends_id}, which this request amends, is {state} since the "
            "request was made; reject this request and quote again",
            amends=agreement.amends_id,
        )
    return amended


def _level_now(
    session: Session,
    agreement: Agreement,
    amended: Agreement | None,
    today: date,
    matrix: ApprovalMatrix,
) -> str:
    """The higher of the level recorded with the request and the level its waiver needs
    today, on what the case owes and the waivers standing on it now."""
    back = repo.standing_by_account(session, amended.id) if amended else {}
    _figures, level = judge_cumulative(
        session,
        agreement.case_id,
        this_fen=stored_waiver(agreement).total,
        owed_fen=owed_of(session, agreement.case_id, back).total,
        amends_id=amended.id if amended else None,
        today=today,
        matrix=matrix,
    )
    return higher(agreement.required_level, level)


def _supersede(
    session: Session, old: Agreement, new: Agreement, *, actor: str, today: date, now: datetime
) -> None:
    """修订生效: the old plan ends as ``superseded`` and what it still waives is owed again,
    by ``reinstatement`` ledger entries (source agreement/old id); the amendment's quote
    counted it as owed."""
    if not repo.close_running(session, old.id, status="superseded", closed_on=today):
        raise Conflict(f"agreement {old.id} ended while this amendment was being approved")
    back = repo.standing_by_account(session, old.id)
    ledger.post_entries(
        session,
        [
            Entry(
                account_id=account_id,
                kind="reinstatement",
                change=Change(
                    fee=w.fee, penalty=w.penalty, interest=w.interest, principal=w.principal
                ),
                source="agreement",
                source_id=old.id,
                actor=actor,
                reason=f"agreement {old.id} superseded by amendment {new.id}",
                effective_on=today,
            )
            for account_id, w in back.items()
        ],
        now=now,
    )
    append_event(
        session,
        at=now,
        actor=actor,
        type="agreement.superseded",
        entity_type="agreement",
        entity_id=old.id,
        case_id=old.case_id,
        payload={
            "by": new.id,
            "paid": format_yuan(repo.paid_towards(session, old.id)),
            "written_off": format_yuan(0),
            "reinstated": format_yuan(sum(w.total for w in back.values())),
            "waiver_kept": format_yuan(0),
        },
    )


def _apply_waiver(
    session: Session, agreement: Agreement, *, actor: str, today: date, now: datetime
) -> None:
    """减免: the approved waiver comes off the balances at once, by ``waiver`` ledger entries
    spread over the case's accounts oldest first (the case's amount due follows). A broken
    plan puts them back by ``reinstatement`` entries when its terms say so (the daily
    cycle); a completed one writes off what remains."""
    left = {
        "fee": agreement.waived_fee_fen,
        "penalty": agreement.waived_penalty_fen,
        "interest": agreement.waived_interest_fen,
        "principal": agreement.waived_principal_fen,
    }
    if not any(left.values()):
        return
    entries: list[Entry] = []
    for account in repo.case_accounts(session, agreement.case_id):
        have = {
            "fee": account.fee_fen,
            "penalty": account.penalty_fen,
            "interest": account.interest_fen,
            "principal": account.principal_fen,
        }
        take = {name: min(left[name], have[name]) for name in left}
        if any(take.values()):
            entries.append(
                Entry(
                    account_id=account.id,
                    kind="waiver",
                    change=Change(
                        fee=-take["fee"],
                        penalty=-take["penalty"],
                        interest=-take["interest"],
                        principal=-take["principal"],
                    ),
                    source="agreement",
                    source_id=agreement.id,
                    actor=actor,
                    reason=f"agreement {agreement.id} approved",
                    effective_on=today,
                )
            )
            left = {name: left[name] - take[name] for name in left}
    if any(left.values()):
        raise Conflict(
            "the case owes less than this agreement waives (payments arrived since it was "
            "requested); reject it and quote again",
            agreement_id=agreement.id,
        )
    ledger.post_entries(session, entries, now=now)


def withdraw(
    session: Session, principal: Principal, agreement_id: int, data: WithdrawIn, *, now: datetime
) -> AgreementOut:
    """撤回: a request not yet decided is withdrawn by its requester or by an approver, with
    a reason (an event); the case is free for another request (a plan it amends runs on)."""
    require(principal, "case.read")
    repo.write_lock(session)
    agreement = repo.get_agreement(session, agreement_id, case_scope_of(principal), for_update=True)
    own = agreement.requested_by == principal.user_id and can(principal.role, "agreement.request")
    if not own and not can(principal.role, "agreement.approve"):
        raise PermissionDenied(
            "only the requester or an approver may withdraw an agreement request",
            permission="agreement.approve",
        )
    if agreement.status != "requested":
        raise Conflict(
            f"agreement {agreement_id} is {agreement.status}; only a request waiting for "
            "approval can be withdrawn",
            status=agreement.status,
        )
    changed = repo.decide(
        session,
        agreement.id,
        status="withdrawn",
        decided_by=principal.user_id,
        decided_at=now,
        decision_reason=data.reason,
        closed_on=today_of(session, agreement.case_id, now),
    )
    if not changed:
        raise Conflict(f"agreement {agreement_id} was decided by someone else first")
    session.refresh(agreement)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="agreement.withdrawn",
        entity_type="agreement",
        entity_id=agreement.id,
        case_id=agreement.case_id,
        payload={"reason": data.reason, "amends": agreement.amends_id},
    )
    return agreement_out(session, agreement)
