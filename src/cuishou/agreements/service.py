"""Agreement use cases: quote (试算), request, approval inbox, approve/reject, document,
tracking (履约跟踪). Fetch → decide (``rules``, ``approval``) → act (with events)."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy.orm import Session

from cuishou.agreements import repository as repo
from cuishou.agreements.approval import (
    ApprovalMatrix,
    default_matrix,
    may_approve,
    required_level,
)
from cuishou.agreements.document import DocumentLine, render_pdf
from cuishou.agreements.rules import (
    KINDS,
    AgreementProblem,
    Installment,
    Owed,
    Quote,
    Terms,
    Waived,
    quote,
)
from cuishou.agreements.schemas import (
    AgreementIn,
    AgreementOut,
    ComponentsOut,
    DecisionIn,
    InboxOut,
    InstallmentOut,
    QuoteOut,
)
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.compliance.interest_cap_settings import judge_case
from cuishou.creditors.service import business_day
from cuishou.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cuishou.kit.masking import mask_id_number
from cuishou.kit.money import format_yuan, format_yuan_grouped, parse_percent_bp, parse_yuan
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.store.tables import Agreement

LEVEL_ZH = {
    "collector": "催收员",
    "team_lead": "组长",
    "manager": "主管/经理",
    "creditor": "委托方",
}


def _creditor_of(session: Session, case_id: int) -> int:
    return repo.creditor_of_case(session, case_id)


def _today(session: Session, case_id: int, now: datetime) -> date:
    """The case's creditor's business day."""
    return business_day(session, _creditor_of(session, case_id), now)


def owed_of(session: Session, case_id: int) -> Owed:
    """What the case's accounts owe now; interest only up to the creditor's cap (ADR 0014)."""
    accounts = repo.case_accounts(session, case_id)
    judged = judge_case(session, case_id)
    return Owed(
        fee=sum(a.fee_fen for a in accounts),
        penalty=sum(a.penalty_fen for a in accounts),
        interest=sum(j.demandable_fen for j in judged),
        principal=sum(a.principal_fen for a in accounts),
        excess_interest=sum(j.excess_fen for j in judged),
    )


def terms_of(data: AgreementIn) -> Terms:
    return Terms(
        kind=data.kind,
        first_due=data.first_due,
        installments=data.installments,
        down_payment_fen=parse_yuan(data.down_payment, field="down_payment"),
        waived=Waived(
            fee=parse_yuan(data.waive_fee, field="waive_fee"),
            penalty=parse_yuan(data.waive_penalty, field="waive_penalty"),
            interest=parse_yuan(data.waive_interest, field="waive_interest"),
            principal=parse_yuan(data.waive_principal, field="waive_principal"),
        ),
        discount_bp=parse_percent_bp(data.discount, field="discount"),
        break_after_days=data.break_after_days,
        reinstate_on_break=data.reinstate_on_break,
    )


def _components(fee: int, penalty: int, interest: int, principal: int) -> ComponentsOut:
    return ComponentsOut(
        fee=format_yuan(fee),
        penalty=format_yuan(penalty),
        interest=format_yuan(interest),
        principal=format_yuan(principal),
        total=format_yuan(fee + penalty + interest + principal),
    )


def _share(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}"


def _quote_out(q: Quote, level: str) -> QuoteOut:
    return QuoteOut(
        kind=q.kind,
        kind_zh=KINDS[q.kind][0],
        owed=_components(q.owed.fee, q.owed.penalty, q.owed.interest, q.owed.principal),
        interest_above_cap=format_yuan(q.owed.excess_interest),
        waived=_components(q.waived.fee, q.waived.penalty, q.waived.interest, q.waived.principal),
        waiver_share=_share(q.waiver_share_bp),
        agreed=format_yuan(q.agreed_fen),
        schedule=[
            InstallmentOut(seq=i.seq, due_date=i.due_date, amount=format_yuan(i.amount_fen))
            for i in q.schedule
        ],
        required_level=level,
    )


def _quote(
    session: Session, case_id: int, data: AgreementIn, now: datetime, matrix: ApprovalMatrix
) -> tuple[Quote, Terms, str]:
    terms = terms_of(data)
    try:
        q = quote(owed_of(session, case_id), terms, today=_today(session, case_id, now))
    except AgreementProblem as exc:
        raise InvalidInput(str(exc)) from exc
    level = required_level(matrix, waived_fen=q.waived.total, share_bp=q.waiver_share_bp)
    return q, terms, level


def quote_agreement(
    session: Session,
    principal: Principal,
    case_id: int,
    data: AgreementIn,
    *,
    now: datetime,
    matrix: ApprovalMatrix | None = None,
) -> QuoteOut:
    """试算: the schedule and what is waived; nothing is saved."""
    require(principal, "agreement.request")
    case = case_for(session, principal, case_id)
    q, _terms, level = _quote(session, case.id, data, now, matrix or default_matrix())
    return _quote_out(q, level)


def agreement_out(session: Session, agreement: Agreement) -> AgreementOut:
    owed = Owed(
        fee=0, penalty=0, interest=0, principal=0, excess_interest=agreement.excess_interest_fen
    )
    terms = dict(agreement.terms or {})
    owed_parts = terms.get("owed", {})
    owed = Owed(
        fee=int(owed_parts.get("fee", 0)),
        penalty=int(owed_parts.get("penalty", 0)),
        interest=int(owed_parts.get("interest", 0)),
        principal=int(owed_parts.get("principal", 0)),
        excess_interest=agreement.excess_interest_fen,
    )
    waived = Waived(
        fee=agreement.waived_fee_fen,
        penalty=agreement.waived_penalty_fen,
        interest=agreement.waived_interest_fen,
        principal=agreement.waived_principal_fen,
    )
    rows = repo.installments_of(session, agreement.id)
    base = _quote_out(
        Quote(
            kind=agreement.kind,
            owed=owed,
            waived=waived,
            agreed_fen=agreement.agreed_fen,
            schedule=tuple(Installment(r.seq, r.due_date, r.amount_fen) for r in rows),
            waiver_share_bp=agreement.waiver_share_bp,
        ),
        agreement.required_level,
    )
    base.schedule = [
        InstallmentOut(
            seq=r.seq,
            due_date=r.due_date,
            amount=format_yuan(r.amount_fen),
            paid=format_yuan(r.paid_fen),
            status=r.status,
        )
        for r in rows
    ]
    return AgreementOut(
        **base.model_dump(),
        id=agreement.id,
        case_id=agreement.case_id,
        status=agreement.status,
        requested_by=repo.username(session, agreement.requested_by) or "",
        requested_at=agreement.requested_at,
        decided_by=repo.username(session, agreement.decided_by),
        decided_at=agreement.decided_at,
        decision_reason=agreement.decision_reason,
        break_after_days=agreement.break_after_days,
        reinstate_on_break=agreement.reinstate_on_break,
        has_document=agreement.document_pdf is not None,
    )


def request_agreement(
    session: Session,
    principal: Principal,
    case_id: int,
    data: AgreementIn,
    *,
    now: datetime,
    matrix: ApprovalMatrix | None = None,
) -> AgreementOut:
    """Save the quoted agreement as a request; it waits in the approvers' inbox."""
    require(principal, "agreement.request")
    case = case_for(session, principal, case_id, for_update=True)
    if case.status != "open":
        raise InvalidInput("the case is closed; there is nothing to agree")
    q, terms, level = _quote(session, case.id, data, now, matrix or default_matrix())
    agreement = repo.add_agreement(
        session,
        list(q.schedule),
        case_id=case.id,
        kind=q.kind,
        status="requested",
        owed_fen=q.owed.total,
        excess_interest_fen=q.owed.excess_interest,
        agreed_fen=q.agreed_fen,
        waived_fee_fen=q.waived.fee,
        waived_penalty_fen=q.waived.penalty,
        waived_interest_fen=q.waived.interest,
        waived_principal_fen=q.waived.principal,
        waiver_share_bp=q.waiver_share_bp,
        required_level=level,
        terms={
            "owed": {
                "fee": q.owed.fee,
                "penalty": q.owed.penalty,
                "interest": q.owed.interest,
                "principal": q.owed.principal,
            },
            "down_payment_fen": terms.down_payment_fen,
            "installments": terms.installments,
            "discount_bp": terms.discount_bp,
            "break_after_days": terms.break_after_days,
            "reinstate_on_break": terms.reinstate_on_break,
        },
        requested_by=principal.user_id,
        requested_at=now,
        decision_reason="",
        break_after_days=terms.break_after_days,
        reinstate_on_break=terms.reinstate_on_break,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="agreement.requested",
        entity_type="agreement",
        entity_id=agreement.id,
        case_id=case.id,
        payload={
            "kind": q.kind,
            "agreed": format_yuan(q.agreed_fen),
            "waived": format_yuan(q.waived.total),
            "waiver_share": _share(q.waiver_share_bp),
            "required_level": level,
        },
    )
    return agreement_out(session, agreement)


def inbox(session: Session, principal: Principal) -> InboxOut:
    """Requests this user may decide: in scope, at or below their level, not their own."""
    require(principal, "agreement.approve")
    waiting = repo.requested_in_scope(session, case_scope_of(principal))
    return InboxOut(
        items=[
            agreement_out(session, a)
            for a in waiting
            if a.requested_by != principal.user_id and may_approve(principal.role, a.required_level)
        ]
    )


def get_agreement(session: Session, principal: Principal, agreement_id: int) -> AgreementOut:
    require(principal, "case.read")
    return agreement_out(
        session, repo.get_agreement(session, agreement_id, case_scope_of(principal))
    )


def case_agreements(session: Session, principal: Principal, case_id: int) -> list[AgreementOut]:
    """The agreements of a case in scope (another team's case is not found), newest first."""
    require(principal, "case.read")
    case = case_for(session, principal, case_id)
    return [agreement_out(session, a) for a in repo.agreements_of_case(session, case.id)]


def decide(
    session: Session,
    principal: Principal,
    agreement_id: int,
    data: DecisionIn,
    *,
    approve: bool,
    now: datetime,
) -> AgreementOut:
    """Approve or reject a request, with a reason (an event either way). Nobody decides
    their own request; the approver must act at the required level or above."""
    require(principal, "agreement.approve")
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
    creditor_reference = (data.creditor_reference or "").strip()
    if approve and agreement.required_level == "creditor" and not creditor_reference:
        raise InvalidInput(
            "creditor_reference: this waiver needs the creditor's consent; give its reference",
            field="creditor_reference",
        )
    status = "approved" if approve else "rejected"
    changed = repo.decide(
        session,
        agreement.id,
        status=status,
        decided_by=principal.user_id,
        decided_at=now,
        decision_reason=data.reason,
    )
    if not changed:
        raise Conflict(f"agreement {agreement_id} was decided by someone else first")
    session.refresh(agreement)
    if approve:
        _apply_waiver(session, agreement, actor=principal.username, now=now)
        agreement.document_pdf = render_document(session, agreement)
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
            "required_level": agreement.required_level,
            "creditor_reference": creditor_reference or None,
        },
    )
    return agreement_out(session, agreement)


def _apply_waiver(session: Session, agreement: Agreement, *, actor: str, now: datetime) -> None:
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
    today = business_day(session, _creditor_of(session, agreement.case_id), now)
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


def render_document(session: Session, agreement: Agreement) -> bytes:
    """The agreement as a PDF in Chinese: parties, amounts, schedule, terms."""
    creditor, debtor, id_number = repo.parties(session, agreement.case_id)
    rows = repo.installments_of(session, agreement.id)
    terms = dict(agreement.terms or {})
    owed = terms.get("owed", {})
    waived = {
        "费用": agreement.waived_fee_fen,
        "罚息": agreement.waived_penalty_fen,
        "利息": agreement.waived_interest_fen,
        "本金": agreement.waived_principal_fen,
    }
    decided = (
        _today(session, agreement.case_id, agreement.decided_at) if agreement.decided_at else None
    )
    lines = [
        DocumentLine(f"协议编号：HK-{agreement.id:08d}    案件编号：{agreement.case_id}"),
        DocumentLine(f"协议类型：{KINDS[agreement.kind][0]}"),
        DocumentLine(f"甲方（债权人）：{creditor}"),
        DocumentLine(f"乙方（债务人）：{debtor}    身份证号：{mask_id_number(id_number)}"),
        DocumentLine(""),
        DocumentLine("一、欠款金额（截至协议日）", 12),
        DocumentLine(
            f"费用 {format_yuan_grouped(int(owed.get('fee', 0)))} 元，"
            f"罚息 {format_yuan_grouped(int(owed.get('penalty', 0)))} 元，"
            f"利息 {format_yuan_grouped(int(owed.get('interest', 0)))} 元，"
            f"本金 {format_yuan_grouped(int(owed.get('principal', 0)))} 元，"
            f"合计 {format_yuan_grouped(agreement.owed_fen)} 元。",
            indent=16,
        ),
    ]
    if agreement.excess_interest_fen:
        lines.append(
            DocumentLine(
                f"超过法定利率上限（一年期LPR四倍）的利息 "
                f"{format_yuan_grouped(agreement.excess_interest_fen)} 元不予主张。",
                indent=16,
            )
        )
    lines.append(DocumentLine("二、减免", 12))
    if sum(waived.values()):
        named = "，".join(f"{k} {format_yuan_grouped(v)} 元" for k, v in waived.items() if v)
        lines.append(
            DocumentLine(
                f"甲方同意减免：{named}，合计 {format_yuan_grouped(sum(waived.values()))} 元。",
                indent=16,
            )
        )
    else:
        lines.append(DocumentLine("无减免。", indent=16))
    lines += [
        DocumentLine("三、还款金额与还款计划", 12),
        DocumentLine(
            f"乙方应还款合计 {format_yuan_grouped(agreement.agreed_fen)} 元，按下列计划还款：",
            indent=16,
        ),
    ]
    for row in rows:
        label = "首付" if row.seq == 0 else f"第{row.seq}期"
        lines.append(
            DocumentLine(
                f"{label}    {row.due_date.isoformat()}    "
                f"{format_yuan_grouped(row.amount_fen)} 元",
                indent=32,
            )
        )
    break_days = int(terms.get("break_after_days", 30))
    reinstate = bool(terms.get("reinstate_on_break", True))
    lines += [
        DocumentLine("四、违约条款", 12),
        DocumentLine(
            f"任一期款项逾期超过 {break_days} 日未足额偿还的，本协议自动解除，"
            + (
                "甲方减免的金额予以恢复，乙方应偿还全部欠款。"
                if reinstate
                else "已减免的金额不予恢复，乙方应偿还剩余欠款。"
            ),
            indent=16,
        ),
        DocumentLine("五、履行完毕", 12),
        DocumentLine("乙方按期足额履行全部还款义务后，甲方确认上述债务结清。", indent=16),
        DocumentLine(""),
        DocumentLine(f"审批日期：{decided.isoformat() if decided else ''}"),
        DocumentLine("甲方（盖章）：                    乙方（签字）："),
    ]
    return render_pdf("还款协议", lines)


def document(session: Session, principal: Principal, agreement_id: int) -> bytes:
    require(principal, "case.read")
    agreement = repo.get_agreement(session, agreement_id, case_scope_of(principal))
    if agreement.document_pdf is None:
        raise NotFound(
            f"agreement {agreement_id} has no document: it is {agreement.status}, "
            "documents are made on approval",
            agreement_id=agreement_id,
        )
    return bytes(agreement.document_pdf)
