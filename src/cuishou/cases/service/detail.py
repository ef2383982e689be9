"""The case file (案件档案): the case with its accounts, contact points, promises, contacts
and timeline, PII masked; and revealing one field (查看明文), an audited event.

It gathers from the contact and promise domains through their services, so it lives apart
from :mod:`cuishou.cases.service` (which those domains use to find cases).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases import repository as repo
from cuishou.cases.schemas import (
    AccountOut,
    CaseDetail,
    ContactPointOut,
    DebtorOut,
    EventOut,
    RevealIn,
    RevealOut,
)
from cuishou.cases.service import (
    CONTACTS_SHOWN,
    TIMELINE_LENGTH,
    case_for,
    record_reveal,
    require_reveal,
    summary_of,
)
from cuishou.compliance.interest_cap import InterestJudgement
from cuishou.compliance.interest_cap_settings import judge_accounts
from cuishou.compliance.limitation import limitation_of
from cuishou.contact.rules import mask_contact_value
from cuishou.contact.service import case_contacts, contact_point_of
from cuishou.kit.clock import zone
from cuishou.kit.errors import InvalidInput
from cuishou.kit.masking import mask_id_number, mask_name
from cuishou.kit.money import format_yuan
from cuishou.promises.service import case_promises
from cuishou.scoring import service as scoring
from cuishou.scoring.schemas import LabelOut, ReasonOut, TargetScoreOut
from cuishou.store.tables import Account, ContactPoint
from cuishou.strategy.service import planning


def _account_out(
    account: Account,
    demands: list[date],
    interest: InterestJudgement,
    names: dict[str, tuple[str, str]],
) -> AccountOut:
    # what the account owes by its ledger; a credit (overpayment) is shown beside it
    outstanding = (
        account.principal_fen + account.interest_fen + account.penalty_fen + account.fee_fen
    )
    since = account.overdue_since
    limitation = limitation_of(since, demands, max([since, *demands])) if since else None
    name_zh, name_en = names.get(account.product_code, (account.product_code,) * 2)
    return AccountOut(
        id=account.id,
        account_no=account.account_no,
        product=account.product_code,
        product_name_zh=name_zh,
        product_name_en=name_en,
        status=account.status,
        principal=format_yuan(account.principal_fen),
        interest=format_yuan(account.interest_fen),
        penalty=format_yuan(account.penalty_fen),
        fee=format_yuan(account.fee_fen),
        outstanding=format_yuan(outstanding),
        credit=format_yuan(account.credit_fen),
        dpd=account.dpd,
        bucket=account.bucket,
        overdue_since=account.overdue_since,
        above_interest_cap=interest.above_cap,
        interest_cap_rate=_percent(interest.cap_rate),
        demandable_interest=format_yuan(interest.demandable_fen),
        limitation_expires_on=limitation.expires_on if limitation else None,
    )


def _percent(rate: Decimal | None) -> str | None:
    """A rate (a fraction) as a percent with two decimals: ``0.12 -> "12.00"``."""
    return None if rate is None else f"{rate * 100:.2f}"


def _accounts_out(session: Session, case_id: int, demands: list[date]) -> list[AccountOut]:
    accounts = repo.case_accounts(session, case_id)
    interest = judge_accounts(session, accounts)
    names = repo.product_names(session, sorted({a.product_code for a in accounts}))
    return [
        _account_out(a, demands, judged, names)
        for a, judged in zip(accounts, interest, strict=True)
    ]


def _point_out(point: ContactPoint) -> ContactPointOut:
    return ContactPointOut(
        id=point.id,
        kind=point.kind,
        label=point.label,
        owner=point.owner,
        owner_name=mask_name(point.owner_name),
        relation=point.relation,
        value=mask_contact_value(point.kind, point.value),
        status=point.status,
        verification=point.verification,
    )


def _reasons_out(reasons: list[scoring.Reason]) -> list[ReasonOut]:
    return [ReasonOut(code=r.code, zh=r.zh, en=r.en) for r in reasons]


def _order(target: str) -> int:
    """Targets in the order the scoring service lists them (pay_30d first)."""
    return scoring.TARGETS.index(target) if target in scoring.TARGETS else len(scoring.TARGETS)


def _scoring_fields(session: Session, case_id: int, risk_grade: str | None) -> dict[str, Any]:
    """What scoring adds to the case file: the grade's score and reasons, every target's
    score, the labels with their facts (through the scoring service)."""
    found = scoring.case_scoring(session, case_id, risk_grade)
    return {
        "score": found.score,
        "reasons": _reasons_out(found.reasons),
        "scores": [
            TargetScoreOut(
                target=target,
                version=s["version"],
                score=s["score"],
                probability=s["probability"],
                reasons=_reasons_out(s["reasons"]),
                scored_on=s["scored_on"],
            )
            for target, s in sorted(found.scores.items(), key=lambda item: _order(item[0]))
        ],
        "labels": [
            LabelOut(code=lb.code, zh=lb.zh, en=lb.en, facts=lb.facts, since=lb.since)
            for lb in found.labels
        ],
    }


def case_detail(
    session: Session, principal: Principal, case_id: int, *, timeline: int = TIMELINE_LENGTH
) -> CaseDetail:
    """The case file (案件详情), PII masked, with the newest ``timeline`` events."""
    require(principal, "case.read")
    case = case_for(session, principal, case_id)
    debtor = repo.debtor(session, case.debtor_id)
    summary = summary_of(repo.case_row(session, case.id))
    local = zone(debtor.timezone)
    demands = sorted({at.astimezone(local).date() for at in repo.demand_times(session, case.id)})
    return CaseDetail(
        **summary.model_dump(),
        debtor=DebtorOut(
            name=mask_name(debtor.name),
            id_number=mask_id_number(debtor.id_number),
            gender=debtor.gender,
            province=debtor.province,
            city=debtor.city,
        ),
        accounts=_accounts_out(session, case.id, demands),
        contact_points=[_point_out(p) for p in repo.contact_points(session, case.debtor_id)],
        promises=case_promises(session, case.id),
        contacts=case_contacts(session, case.id, limit=CONTACTS_SHOWN),
        timeline=[
            EventOut(at=e.at, actor=e.actor, type=e.type, payload=dict(e.payload or {}))
            for e in repo.case_events(session, case.id, limit=timeline)
        ],
        **_scoring_fields(session, case.id, case.risk_grade),
        segment=planning.case_segment(session, case.id),
        plan=planning.case_plan(session, case.id),
    )


def reveal(
    session: Session, principal: Principal, case_id: int, data: RevealIn, *, now: datetime
) -> RevealOut:
    """查看明文: one unmasked field, recorded as a ``pii.revealed`` event (audit)."""
    require_reveal(principal)
    case = case_for(session, principal, case_id)
    debtor = repo.debtor(session, case.debtor_id)
    if data.field == "debtor_name":
        value = debtor.name
    elif data.field == "id_number":
        value = debtor.id_number
    else:
        point = (
            contact_point_of(session, data.contact_point_id)
            if data.contact_point_id is not None
            else None
        )
        if point is None or point.debtor_id != case.debtor_id:
            raise InvalidInput(
                "contact_point_id must name a contact point of this case's debtor",
                field="contact_point_id",
            )
        value = point.value
    record_reveal(
        session,
        principal,
        case_id=case.id,
        now=now,
        field=data.field,
        contact_point_id=data.contact_point_id,
    )
    return RevealOut(field=data.field, contact_point_id=data.contact_point_id, value=value)
