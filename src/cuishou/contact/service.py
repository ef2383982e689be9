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
from cuishou.cases.service import case_for, case_in_scope_of
from cuishou.compliance.service import COMPLIANCE_VIOLATION, judge_logged_contact
from cuishou.contact import repository as repo
from cuishou.contact.rules import (
    OUTCOMES,
    STATUS_OF_VERIFICATION,
    NewPoint,
    channel_problem,
    contact_alerts_of,
    mask_contact_value,
    new_point,
    party_of,
    timing_problem,
    verification_problem,
)
from cuishou.contact.schemas import (
    ComplianceOut,
    ContactIn,
    ContactLogged,
    ContactOut,
    ContactPointIn,
    ContactPointOut,
    PointHistoryOut,
    VerifyIn,
)
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.kit.masking import mask_name
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy
from cuishou.promises.service import take_promise
from cuishou.quality.service import screen_note
from cuishou.store.tables import Case, Contact, ContactPoint


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
    return record_contact(session, principal, case, data, now=now, promise_policy=promise_policy)


def record_contact(
    session: Session,
    principal: Principal,
    case: Case,
    data: ContactIn,
    *,
    now: datetime,
    promise_policy: PromisePolicy = DEFAULT_POLICY,
) -> ContactLogged:
    """Log a contact on a case the caller already fetched and authorised (locked for the
    transaction): :func:`log_contact` after its scope check, and a field visit's record,
    which its scheduled collectors make whoever the case is assigned to (``visits``)."""
    require(principal, "contact.create")
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


# --- contact points (联系方式): added, reviewed (失联修复) ------------------------------------

#: event types of a point's history; ``contact_point.invalidated`` is also what the dialer's
#: 空号 writes and what the scoring features date an invalid point by
POINT_ADDED = "contact_point.added"
POINT_VERIFIED = "contact_point.verified"
POINT_INVALIDATED = "contact_point.invalidated"


def point_out(point: ContactPoint, history: list[PointHistoryOut] | None = None) -> ContactPointOut:
    """A point as shown: value and third-party name masked (PII)."""
    return ContactPointOut(
        id=point.id,
        debtor_id=point.debtor_id,
        kind=point.kind,
        value=mask_contact_value(point.kind, point.value),
        owner=point.owner,
        owner_name=mask_name(point.owner_name),
        relation=point.relation,
        source=point.source,
        status=point.status,
        verification=point.verification,
        verified_at=point.verified_at,
        history=history or [],
    )


def store_point(
    session: Session, case: Case, point: NewPoint, *, actor: str, now: datetime
) -> ContactPoint:
    """Store a decided point on the case's debtor (``new``, active) with its event; a
    point the debtor already has (same kind and value) is a :class:`Conflict`. The API, the
    file import and the repair vendor's results all add points here."""
    existing = repo.point_with_value(session, case.debtor_id, point.kind, point.value)
    if existing is not None:
        raise Conflict(
            f"the debtor already has this {point.kind} (contact point {existing.id}); "
            f"review that one instead / 该联系方式已存在",
            contact_point_id=existing.id,
        )
    stored = repo.add_point(
        session,
        debtor_id=case.debtor_id,
        kind=point.kind,
        value=point.value,
        label="",
        owner=point.owner,
        owner_name=point.owner_name,
        relation=point.relation,
        status="active",
        source=point.source,
        verification="new",
        created_at=now,
    )
    append_event(
        session,
        at=now,
        actor=actor,
        type=POINT_ADDED,
        entity_type="contact_point",
        entity_id=stored.id,
        case_id=case.id,
        payload={
            "kind": point.kind,
            "owner": point.owner,
            "relation": point.relation,
            "source": point.source,
        },
    )
    return stored


def add_contact_point(
    session: Session, principal: Principal, case_id: int, data: ContactPointIn, *, now: datetime
) -> ContactPointOut:
    """Add a contact point to the case's debtor (新增联系方式), verification ``new``."""
    require(principal, "contact.create")
    case = case_for(session, principal, case_id, for_update=True)
    decided = new_point(
        kind=data.kind,
        value=data.value,
        owner=data.owner,
        source=data.source,
        owner_name=data.owner_name,
        relation=data.relation,
    )
    if not isinstance(decided, NewPoint):
        raise InvalidInput(f"{decided.en} / {decided.zh}", reason_zh=decided.zh)
    return point_out(store_point(session, case, decided, actor=principal.username, now=now))


def _point_in_scope(
    session: Session, principal: Principal, point_id: int
) -> tuple[ContactPoint, int]:
    """The point and the first of its debtor's cases the principal may see (404 otherwise:
    ids do not leak)."""
    point = repo.contact_point(session, point_id)
    if point is not None:
        for case_id in repo.debtor_case_ids(session, point.debtor_id):
            if case_in_scope_of(session, principal, case_id):
                return point, case_id
    raise NotFound(f"contact point {point_id} not found")


def _history(session: Session, point_id: int) -> list[PointHistoryOut]:
    return [
        PointHistoryOut(at=e.at, actor=e.actor, type=e.type, payload=dict(e.payload or {}))
        for e in repo.point_events(session, point_id)
    ]


def verify_contact_point(
    session: Session, principal: Principal, point_id: int, data: VerifyIn, *, now: datetime
) -> ContactPointOut:
    """Review a point (核实): ``verified`` makes it active, ``invalid`` (with a reason)
    makes it invalid for the gate and the dialer; the change is an event."""
    require(principal, "contact.create")
    point, case_id = _point_in_scope(session, principal, point_id)
    problem = verification_problem(point.verification, data.status, data.reason)
    if problem:
        raise InvalidInput(problem, field="status")
    previous = {"verification": point.verification, "status": point.status}
    status = STATUS_OF_VERIFICATION[data.status]
    repo.set_verification(session, point.id, verification=data.status, status=status, at=now)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type=POINT_VERIFIED if data.status == "verified" else POINT_INVALIDATED,
        entity_type="contact_point",
        entity_id=point.id,
        case_id=case_id,
        payload={"verification": data.status, "reason": data.reason, "previous": previous},
    )
    session.refresh(point)
    return point_out(point, _history(session, point.id))


def contact_point_detail(session: Session, principal: Principal, point_id: int) -> ContactPointOut:
    """A point with its history (masked)."""
    require(principal, "case.read")
    point, _case_id = _point_in_scope(session, principal, point_id)
    return point_out(point, _history(session, point.id))
