"""Logging a contact (记录催记): fetch the case in scope, decide with the rules, write.

Writes the contact, marks an ``invalid_number`` contact point invalid, takes the promise
that comes with a ``promise`` outcome, asks the alerts domain for contact-driven alerts and
appends events.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cuishou.alerts.service import raise_alert
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.compliance.service import COMPLIANCE_VIOLATION, judge_logged_contact
from cuishou.contact import repository as repo
from cuishou.contact.rules import (
    OUTCOMES,
    channel_problem,
    contact_alerts_of,
    party_of,
    timing_problem,
)
from cuishou.contact.schemas import ComplianceOut, ContactIn, ContactLogged, ContactOut
from cuishou.kit.errors import InvalidInput
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy
from cuishou.promises.service import take_promise
from cuishou.quality.service import screen_note
from cuishou.store.tables import Contact, ContactPoint


def contact_out(contact: Contact, username: str) -> ContactOut:
    return ContactOut(
        id=contact.id,
        case_id=contact.case_id,
        contact_point_id=contact.contact_point_id,
        channel=contact.channel,
        outcome=contact.outcome,
        outcome_zh=OUTCOMES[contact.outcome].zh if contact.outcome in OUTCOMES else contact.outcome,
        party=contact.party,
        notes=contact.notes,
        at=contact.at,
        callback_at=contact.callback_at,
        user=username,
    )


def log_contact(
    session: Session,
    principal: Principal,
    case_id: int,
    data: ContactIn,
    *,
    now: datetime,
    promise_policy: PromisePolicy = DEFAULT_POLICY,
) -> ContactLogged:
    require(principal, "contact.create")
    case = case_for(session, principal, case_id, for_update=True)
    point = repo.contact_point(session, data.contact_point_id)
    if point is None or point.debtor_id != case.debtor_id:
        raise InvalidInput(
            f"contact point {data.contact_point_id} does not belong to this case's debtor",
            field="contact_point_id",
        )
    problem = channel_problem(data.channel, point.kind)
    if problem:
        raise InvalidInput(problem, field="channel")
    if (data.outcome == "promise") != (data.promise is not None):
        raise InvalidInput(
            "a promise goes with outcome 'promise', and outcome 'promise' needs a promise",
            field="promise",
        )
    at = data.at or now
    if at.tzinfo is None or (data.callback_at is not None and data.callback_at.tzinfo is None):
        raise InvalidInput("times need a time zone, e.g. 2026-11-25T09:30:00+08:00", field="at")
    problem = timing_problem(at=at, callback_at=data.callback_at, now=now)
    if problem:
        raise InvalidInput(problem)

    contact = repo.add_contact(
        session,
        case_id=case.id,
        contact_point_id=point.id,
        user_id=principal.user_id,
        channel=data.channel,
        party=party_of(data.outcome, point.owner),
        outcome=data.outcome,
        notes=data.notes,
        at=at,
        callback_at=data.callback_at,
        now=now,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="contact.logged",
        entity_type="contact",
        entity_id=contact.id,
        case_id=case.id,
        payload={
            "channel": data.channel,
            "outcome": data.outcome,
            "contact_point_id": point.id,
            "at": at.isoformat(),
            "callback_at": data.callback_at.isoformat() if data.callback_at else None,
            **({"collectors": data.collectors} if data.channel == "visit" else {}),
        },
    )
    judged, violation_alert = judge_logged_contact(
        session,
        case,
        point,
        channel=data.channel,
        at=at,
        collectors=data.collectors,
        contact_id=contact.id,
        actor=principal.username,
        now=now,
    )
    note_findings = screen_note(
        session,
        case_id=case.id,
        creditor_id=case.creditor_id,
        contact_id=contact.id,
        author=principal.username,
        notes=data.notes,
        now=now,
    )
    if data.outcome == "invalid_number" and point.status != "invalid":
        repo.mark_point_invalid(session, point.id)
        append_event(
            session,
            at=now,
            actor=principal.username,
            type="contact_point.invalidated",
            entity_type="contact_point",
            entity_id=point.id,
            case_id=case.id,
            payload={"contact_id": contact.id},
        )

    promise = None
    if data.promise is not None:
        promise = take_promise(
            session,
            principal,
            case,
            data.promise,
            now=now,
            contact_id=contact.id,
            policy=promise_policy,
        )

    raised = [
        kind
        for kind in contact_alerts_of(
            repo.outcome_sequence(session, case.id), new_outcome=data.outcome
        )
        if raise_alert(
            session,
            case_id=case.id,
            creditor_id=case.creditor_id,
            kind=kind,
            details={"kind": kind, "contact_id": contact.id, "outcome": data.outcome},
            actor=principal.username,
            now=now,
        )
    ]
    return ContactLogged(
        contact=contact_out(contact, principal.username),
        promise=promise,
        alerts_raised=[*raised, *([COMPLIANCE_VIOLATION] if violation_alert else [])],
        compliance=ComplianceOut(allowed=judged.allowed, rules=list(judged.rule_ids)),
        note_findings=note_findings,
    )


def case_contacts(session: Session, case_id: int, *, limit: int) -> list[ContactOut]:
    """The case's newest contacts (for the case file)."""
    return [contact_out(c, name) for c, name in repo.case_contacts(session, case_id, limit=limit)]


def contact_point_of(session: Session, contact_point_id: int) -> ContactPoint | None:
    return repo.contact_point(session, contact_point_id)
