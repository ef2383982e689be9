"""What the agreement use cases share: what a case owes, the approval matrix's figures
(this request's waiver and the cumulative one), and an agreement as the API shows it."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from sqlalchemy.orm import Session

from cuishou.agreements import repository as repo
from cuishou.agreements.approval import ApprovalMatrix, Cumulative, cumulative, level_of
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
    CumulativeOut,
    InstallmentOut,
    QuoteOut,
)
from cuishou.compliance.interest_cap_settings import judge_accounts
from cuishou.creditors.service import business_day
from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan, parse_percent_bp, parse_yuan
from cuishou.store.tables import Agreement

LEVEL_ZH = {
    "collector": "催收员",
    "team_lead": "组长",
    "manager": "主管/经理",
    "creditor": "委托方",
}


def creditor_of(session: Session, case_id: int) -> int:
    return repo.creditor_of_case(session, case_id)


def today_of(session: Session, case_id: int, now: datetime) -> date:
    """The case's creditor's business day."""
    return business_day(session, creditor_of(session, case_id), now)


def owed_of(session: Session, case_id: int, back: dict[int, Waived] | None = None) -> Owed:
    """What the case's accounts owe now; interest only up to the legal cap (CN-21). ``back``:
    amounts per account that will be owed again (an amended plan's waiver, reinstated when
    the amendment is approved)."""
    back = back or {}
    none = Waived()
    accounts = [
        replace(a, interest_fen=a.interest_fen + back.get(a.id, none).interest)
        for a in repo.case_accounts(session, case_id)
    ]
    judged = judge_accounts(session, accounts)
    return Owed(
        fee=sum(a.fee_fen + back.get(a.id, none).fee for a in accounts),
        penalty=sum(a.penalty_fen + back.get(a.id, none).penalty for a in accounts),
        interest=sum(j.demandable_fen for j in judged),
        principal=sum(a.principal_fen + back.get(a.id, none).principal for a in accounts),
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


def quote_terms(
    session: Session, case_id: int, terms: Terms, back: dict[int, Waived], *, today: date
) -> Quote:
    """The rules' quote against what the case owes now (plus ``back``)."""
    try:
        return quote(owed_of(session, case_id, back), terms, today=today)
    except AgreementProblem as exc:
        raise InvalidInput(str(exc)) from exc


def judge_cumulative(
    session: Session,
    case_id: int,
    *,
    this_fen: int,
    owed_fen: int,
    amends_id: int | None,
    today: date,
    matrix: ApprovalMatrix,
) -> tuple[Cumulative, str]:
    """The cumulative waiver on the case with this one (the ledger says what the case's other
    agreements still waive) and the level it needs."""
    figures = cumulative(
        matrix,
        this_fen=this_fen,
        owed_fen=owed_fen,
        standing=repo.standing_waivers(session, case_id),
        today=today,
        amends_id=amends_id,
    )
    return figures, level_of(matrix, figures)


def components(fee: int, penalty: int, interest: int, principal: int) -> ComponentsOut:
    return ComponentsOut(
        fee=format_yuan(fee),
        penalty=format_yuan(penalty),
        interest=format_yuan(interest),
        principal=format_yuan(principal),
        total=format_yuan(fee + penalty + interest + principal),
    )


def share(bp: int) -> str:
    return f"{bp // 100}.{bp % 100:02d}"


@dataclass(frozen=True, slots=True)
class Judged:
    """A quote with what the approval matrix makes of it."""

    quote: Quote
    figures: Cumulative
    window_days: int | None
    level: str
    amends_id: int | None
    #: what the amended plan still waives (owed again when the amendment is approved)
    reinstated_fen: int


def quote_out(j: Judged) -> QuoteOut:
    q = j.quote
    f = j.figures
    return QuoteOut(
        kind=q.kind,
        kind_zh=KINDS[q.kind][0],
        owed=components(q.owed.fee, q.owed.penalty, q.owed.interest, q.owed.principal),
        interest_above_cap=format_yuan(q.owed.excess_interest),
        waived=components(q.waived.fee, q.waived.penalty, q.waived.interest, q.waived.principal),
        waiver_share=share(q.waiver_share_bp),
        agreed=format_yuan(q.agreed_fen),
        schedule=[
            InstallmentOut(seq=i.seq, due_date=i.due_date, amount=format_yuan(i.amount_fen))
            for i in q.schedule
        ],
        amends=j.amends_id,
        reinstated_on_approval=format_yuan(j.reinstated_fen),
        cumulative=CumulativeOut(
            window_days=j.window_days,
            since=f.since,
            this_request=format_yuan(f.this_fen),
            earlier=format_yuan(f.earlier_fen),
            waived=format_yuan(f.waived_fen),
            base=format_yuan(f.base_fen),
            share=share(f.share_bp),
        ),
        required_level=j.level,
    )


def cumulative_record(figures: Cumulative, window_days: int | None) -> dict[str, object]:
    """The cumulative figures as kept in the agreement's terms document."""
    return {
        "this_fen": figures.this_fen,
        "earlier_fen": figures.earlier_fen,
        "waived_fen": figures.waived_fen,
        "base_fen": figures.base_fen,
        "share_bp": figures.share_bp,
        "since": figures.since.isoformat() if figures.since else None,
        "window_days": window_days,
    }


def _stored_cumulative(agreement: Agreement) -> tuple[Cumulative, int | None]:
    """The cumulative figures recorded with the request (requests from before they were
    recorded were judged on their own waiver alone)."""
    own = (
        agreement.waived_fee_fen + agreement.waived_penalty_fen + agreement.waived_interest_fen
        + agreement.waived_principal_fen
    )  # fmt: skip
    c = dict(agreement.terms or {}).get("cumulative") or {}
    since = c.get("since")
    window = c.get("window_days")
    figures = Cumulative(
        this_fen=int(c.get("this_fen", own)),
        earlier_fen=int(c.get("earlier_fen", 0)),
        waived_fen=int(c.get("waived_fen", own)),
        base_fen=int(c.get("base_fen", agreement.owed_fen)),
        share_bp=int(c.get("share_bp", agreement.waiver_share_bp)),
        since=date.fromisoformat(str(since)) if since else None,
    )
    return figures, int(window) if window is not None else None


def stored_waiver(agreement: Agreement) -> Waived:
    return Waived(
        fee=agreement.waived_fee_fen,
        penalty=agreement.waived_penalty_fen,
        interest=agreement.waived_interest_fen,
        principal=agreement.waived_principal_fen,
    )


def agreement_out(
    session: Session, agreement: Agreement, superseded_by: int | None = None
) -> AgreementOut:
    terms = dict(agreement.terms or {})
    owed_parts = terms.get("owed", {})
    owed = Owed(
        fee=int(owed_parts.get("fee", 0)),
        penalty=int(owed_parts.get("penalty", 0)),
        interest=int(owed_parts.get("interest", 0)),
        principal=int(owed_parts.get("principal", 0)),
        excess_interest=agreement.excess_interest_fen,
    )
    rows = repo.installments_of(session, agreement.id)
    figures, window_days = _stored_cumulative(agreement)
    base = quote_out(
        Judged(
            quote=Quote(
                kind=agreement.kind,
                owed=owed,
                waived=stored_waiver(agreement),
                agreed_fen=agreement.agreed_fen,
                schedule=tuple(Installment(r.seq, r.due_date, r.amount_fen) for r in rows),
                waiver_share_bp=agreement.waiver_share_bp,
            ),
            figures=figures,
            window_days=window_days,
            level=agreement.required_level,
            amends_id=agreement.amends_id,
            reinstated_fen=int(terms.get("reinstated_fen", 0)),
        )
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
        closed_on=agreement.closed_on,
        superseded_by=superseded_by,
        has_document=agreement.document_pdf is not None,
    )
