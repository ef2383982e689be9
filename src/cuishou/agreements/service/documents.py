"""The agreement document (还款协议书): made on approval in two copies — as issued, with
the debtor's full name and ID number (for signing), and masked (张**, 110***********1234).

Everyone who may read the case gets the masked copy. The full copy is an unmasking of
personal data: only roles with ``pii.reveal`` get it, on asking for it with a reason, and
each time is a ``pii.revealed`` event — the same rule and event as revealing one field on
the case page (:func:`cuishou.cases.service.record_reveal`). Others asking for it get 403
with the reason; their masked copy is never refused.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cuishou.agreements import repository as repo
from cuishou.agreements.document import DocumentLine, render_pdf
from cuishou.agreements.rules import KINDS
from cuishou.agreements.service.common import today_of
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases.service import record_reveal, require_reveal
from cuishou.kit.errors import InvalidInput, NotFound
from cuishou.kit.masking import mask_id_number, mask_name
from cuishou.kit.money import format_yuan_grouped
from cuishou.store.tables import Agreement


def render_document(session: Session, agreement: Agreement, *, masked: bool) -> bytes:
    """The agreement as a PDF in Chinese: parties, amounts, schedule, terms. ``masked``: the
    debtor's name and ID number masked (张**, 110***********1234), the rest the same."""
    creditor, debtor, id_number = repo.parties(session, agreement.case_id)
    if masked:
        debtor, id_number = mask_name(debtor), mask_id_number(id_number)
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
        today_of(session, agreement.case_id, agreement.decided_at) if agreement.decided_at else None
    )
    lines = [
        DocumentLine(f"协议编号：HK-{agreement.id:08d}    案件编号：{agreement.case_id}"),
        DocumentLine(f"协议类型：{KINDS[agreement.kind][0]}"),
        DocumentLine(f"甲方（债权人）：{creditor}"),
        DocumentLine(f"乙方（债务人）：{debtor}    身份证号：{id_number}"),
    ]
    if agreement.amends_id is not None:
        lines.append(
            DocumentLine(
                f"本协议修订并取代第 HK-{agreement.amends_id:08d} 号协议；原协议尚未履行的减免 "
                f"{format_yuan_grouped(int(terms.get('reinstated_fen', 0)))} 元予以恢复，"
                "已计入下列欠款金额。"
            )
        )
    lines += [
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


def document(
    session: Session,
    principal: Principal,
    agreement_id: int,
    *,
    reveal: bool = False,
    reason: str | None = None,
    now: datetime,
) -> bytes:
    """协议书: everyone who may read the case gets the approved document with the debtor's
    name and ID number masked. The full copy (as issued, for signing) is an unmasking: only
    for roles with ``pii.reveal``, with a reason, recorded as a ``pii.revealed`` event."""
    require(principal, "case.read")
    if reveal:
        require_reveal(principal, "the agreement document")
        if not (reason or "").strip():
            raise InvalidInput(
                "reason: say why the full copy is needed (e.g. printing it for signature)",
                field="reason",
            )
    agreement = repo.get_agreement(session, agreement_id, case_scope_of(principal))
    if agreement.document_pdf is None:
        raise NotFound(
            f"agreement {agreement_id} has no document: it is {agreement.status}, "
            "documents are made on approval",
            agreement_id=agreement_id,
        )
    if reveal:
        record_reveal(
            session,
            principal,
            case_id=agreement.case_id,
            now=now,
            field="agreement_document",
            agreement_id=agreement.id,
            reason=(reason or "").strip(),
        )
        return bytes(agreement.document_pdf)
    if agreement.document_masked_pdf is None:  # approved before masked copies were kept
        agreement.document_masked_pdf = render_document(session, agreement, masked=True)
        session.flush()
    return bytes(agreement.document_masked_pdf)
