"""The compliance gate as a service: fetch the debtor's facts, decide, record the decision.

Every contact path asks :func:`gate` before acting (the API's ``/compliance/check``, the
CLI, the workbench) and every logged contact is judged after the fact by
:func:`judge_logged_contact` — a contact the gate would have refused is still recorded
(it happened), but it raises a ``compliance_violation`` alert and event for review.
Each decision is an event, so an auditor can see why any contact happened or did not.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from cuishou.alerts.service import raise_alert
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.cases.service import case_for
from cuishou.compliance import repository as repo
from cuishou.compliance.pack import load_pack
from cuishou.compliance.rules import (
    Attempt,
    CaseState,
    Decision,
    Party,
    PastContact,
    check,
)
from cuishou.compliance.schemas import (
    CheckIn,
    CheckOut,
    FindingOut,
    HoldIn,
    HoldOut,
    OverrideIn,
    OverrideOut,
    RuleOut,
    ScreenIn,
    ScreenOut,
    SpanOut,
)
from cuishou.compliance.screening import Finding, screen
from cuishou.contact.rules import PLAUSIBLE_YEARS
from cuishou.kit.clock import zone
from cuishou.kit.errors import Conflict, InvalidInput, NotFound
from cuishou.store.tables import Case, ContactHold, ContactPoint

#: how far back history is read: the 7-day windows, and a debtor's recent failed calls
HISTORY_DAYS = 31
COMPLIANCE_VIOLATION = "compliance_violation"


def _past(row: repo.HistoryRow) -> PastContact:
    at, channel, point_id, owner, outcome, username = row
    party: Party = "third_party" if owner == "third_party" else "debtor"
    return PastContact(
        at=at, channel=channel, contact_point_id=point_id, party=party, outcome=outcome, by=username
    )


def case_state(session: Session, case: Case, *, at: datetime) -> CaseState:
    holds = repo.holds_in_force(session, case.debtor_id, case.id, at=at)
    phones = repo.debtor_phone_statuses(session, case.debtor_id)
    return CaseState(
        suspended=frozenset(h.kind for h in holds if h.kind != "opt_out"),
        debtor_numbers_invalid=bool(phones) and all(s == "invalid" for s in phones),
        opted_out=frozenset(h.channel for h in holds if h.kind == "opt_out" and h.channel),
    )


def decide_contact(
    session: Session,
    case: Case,
    point: ContactPoint,
    *,
    channel: str,
    at: datetime,
    collectors: int = 1,
) -> tuple[Decision, str]:
    """Fetch the facts for one proposed contact and decide it (no event written)."""
    pack_name = repo.creditor_pack(session, case.creditor_id)
    pack = load_pack(pack_name)
    home = repo.debtor_zone(session, case.debtor_id)
    # location unknown between home and where the debtor's numbers/addresses are: the
    # hours must hold in every one of those zones
    others = [z for z in repo.debtor_point_zones(session, case.debtor_id) if z != home]
    for name in (home, *others):
        zone(name)  # an unknown zone is a clear error, never a silent allow
    history = [
        _past(row)
        for row in repo.debtor_history(
            session, case.debtor_id, since=at - timedelta(days=HISTORY_DAYS), until=at
        )
    ]
    attempt = Attempt(
        at=at,
        channel=channel,
        contact_point_id=point.id,
        party="third_party" if point.owner == "third_party" else "debtor",
        zones=(home, *others),
        third_party_named=bool(point.owner_name.strip()),
        collectors=collectors,
    )
    decision = check(pack, attempt, case_state(session, case, at=at), history)
    return decision, pack.id


def _overridden(session: Session, case: Case, point: ContactPoint, channel: str, at: datetime,
                decision: Decision) -> list[str]:  # fmt: skip
    """The denied rules a recorded override covers — all of them, or none."""
    if decision.allowed:
        return []
    covered: set[str] = set()
    for override in repo.overrides_covering(session, case.id, point.id, channel, at=at):
        covered.update(override.rules)
    return list(decision.rule_ids) if set(decision.rule_ids) <= covered else []


def _rules_out(decision: Decision) -> list[RuleOut]:
    return [
        RuleOut(id=h.rule_id, reason=h.reason_zh, reason_zh=h.reason_zh, reason_en=h.reason_en)
        for h in decision.rules
    ]


def _checked_time(at: datetime) -> datetime:
    """An aware time in a plausible year (a typing mistake must not reach the rules)."""
    if at.tzinfo is None:
        raise InvalidInput("at needs a time zone, e.g. 2026-11-25T09:30:00+08:00", field="at")
    if not PLAUSIBLE_YEARS[0] <= at.year <= PLAUSIBLE_YEARS[1]:
        raise InvalidInput(f"at: {at.year} is not a plausible year", field="at")
    return at


def _point_of(session: Session, case: Case, contact_point_id: int) -> ContactPoint:
    point = repo.contact_point(session, contact_point_id)
    if point is None or point.debtor_id != case.debtor_id:
        raise InvalidInput(
            f"contact point {contact_point_id} does not belong to this case's debtor",
            field="contact_point_id",
        )
    return point


def gate(session: Session, principal: Principal, data: CheckIn, *, now: datetime) -> CheckOut:
    """May this contact happen (at ``data.at``, default now)? Records the decision."""
    require(principal, "compliance.check")
    case = case_for(session, principal, data.case_id)
    point = _point_of(session, case, data.contact_point_id)
    at = _checked_time(data.at or now)
    decision, pack = decide_contact(
        session, case, point, channel=data.channel, at=at, collectors=data.collectors
    )
    overridden = _overridden(session, case, point, data.channel, at, decision)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="compliance.checked",
        entity_type="case",
        entity_id=case.id,
        case_id=case.id,
        payload={
            "contact_point_id": point.id,
            "channel": data.channel,
            "at": at.isoformat(),
            "allowed": decision.allowed or bool(overridden),
            "rules": list(decision.rule_ids),
            "overridden": overridden,
            "next_allowed_at": (
                decision.next_allowed_at.isoformat() if decision.next_allowed_at else None
            ),
            "pack": pack,
        },
    )
    return CheckOut(
        allowed=decision.allowed or bool(overridden),
        rules=_rules_out(decision),
        next_allowed_at=None if overridden else decision.next_allowed_at,
        pack=pack,
        at=at,
        overridden=overridden,
    )


def judge_logged_contact(
    session: Session,
    case: Case,
    point: ContactPoint,
    *,
    channel: str,
    at: datetime,
    collectors: int,
    contact_id: int,
    actor: str,
    now: datetime,
) -> tuple[Decision, bool]:
    """Judge a contact being logged against the history before it; flag a violation.

    Returns the decision and whether a ``compliance_violation`` alert was raised (the alerts
    domain keeps one open per case; later violations add events to it).
    """
    decision, pack = decide_contact(
        session, case, point, channel=channel, at=at, collectors=collectors
    )
    if decision.allowed or _overridden(session, case, point, channel, at, decision):
        return decision, False
    details = {
        "kind": COMPLIANCE_VIOLATION,
        "contact_id": contact_id,
        "rules": list(decision.rule_ids),
        "pack": pack,
    }
    append_event(
        session,
        at=now,
        actor=actor,
        type="compliance.violation",
        entity_type="contact",
        entity_id=contact_id,
        case_id=case.id,
        payload=details,
    )
    alert = raise_alert(
        session,
        case_id=case.id,
        creditor_id=case.creditor_id,
        kind=COMPLIANCE_VIOLATION,
        details=details,
        actor=actor,
        now=now,
    )
    if alert is None:  # one open violation alert per case; later ones add events to it
        return decision, False
    return decision, True


# ------------------------------------------------------------------ holds


def hold_out(hold: ContactHold) -> HoldOut:
    return HoldOut(
        id=hold.id,
        case_id=hold.case_id,
        kind=hold.kind,
        channel=hold.channel,
        reason=hold.reason,
        opened_at=hold.opened_at,
        opened_by=hold.opened_by,
        lifted_at=hold.lifted_at,
        lifted_by=hold.lifted_by,
    )


def open_hold(
    session: Session, principal: Principal, case_id: int, data: HoldIn, *, now: datetime
) -> HoldOut:
    """Record a dispute, complaint, cease request or opt-out: contact stops from now."""
    require(principal, "compliance.hold.open")
    case = case_for(session, principal, case_id, for_update=True)
    if (data.kind == "opt_out") != (data.channel is not None):
        raise InvalidInput(
            "an opt-out names its channel (sms, email or wechat); other holds name none",
            field="channel",
        )
    hold = repo.add_hold(
        session,
        debtor_id=case.debtor_id,
        case_id=None if data.whole_debtor else case.id,
        kind=data.kind,
        channel=data.channel,
        reason=data.reason,
        opened_at=now,
        opened_by=principal.username,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="hold.opened",
        entity_type="contact_hold",
        entity_id=hold.id,
        case_id=case.id,
        payload={"kind": data.kind, "channel": data.channel, "reason": data.reason},
    )
    return hold_out(hold)


def lift_hold(
    session: Session, principal: Principal, case_id: int, hold_id: int, *, now: datetime
) -> HoldOut:
    """Lift a hold (the dispute verified, the complaint closed …): contact may resume."""
    require(principal, "compliance.hold.lift")
    case = case_for(session, principal, case_id, for_update=True)
    hold = repo.get_hold(session, hold_id)
    if hold is None or hold.debtor_id != case.debtor_id or hold.case_id not in (None, case.id):
        raise NotFound(f"no contact hold {hold_id} on case {case_id}", hold_id=hold_id)
    if not repo.lift_hold(session, hold.id, at=now, by=principal.username):
        raise Conflict(f"contact hold {hold_id} was already lifted", hold_id=hold_id)
    session.refresh(hold)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="hold.lifted",
        entity_type="contact_hold",
        entity_id=hold.id,
        case_id=case.id,
        payload={"kind": hold.kind, "channel": hold.channel},
    )
    return hold_out(hold)


def list_holds(session: Session, principal: Principal, case_id: int) -> list[HoldOut]:
    require(principal, "case.read")
    case = case_for(session, principal, case_id)
    return [hold_out(h) for h in repo.case_holds(session, case)]


# ------------------------------------------------------------------ overrides


def approve_override(
    session: Session, principal: Principal, data: OverrideIn, *, now: datetime
) -> OverrideOut:
    """Set aside overridable rules for one contact point, channel and time window."""
    require(principal, "compliance.override")
    case = case_for(session, principal, data.case_id)
    point = _point_of(session, case, data.contact_point_id)
    _checked_time(data.at)
    decision, pack_name = decide_contact(
        session, case, point, channel=data.channel, at=data.at, collectors=data.collectors
    )
    if decision.allowed:
        raise Conflict("the gate already allows this contact; there is nothing to override")
    pack = load_pack(pack_name)
    fixed = [rule for rule in decision.rule_ids if rule not in pack.overridable]
    if fixed:
        raise Conflict(
            f"rule(s) {', '.join(fixed)} cannot be overridden (overridable in pack "
            f"{pack_name}: {', '.join(sorted(pack.overridable)) or 'none'})",
            rules=fixed,
        )
    override = repo.add_override(
        session,
        case_id=case.id,
        contact_point_id=point.id,
        channel=data.channel,
        window_start=data.at,
        window_end=data.at + timedelta(minutes=data.minutes),
        rules=list(decision.rule_ids),
        reason=data.reason,
        approved_by=principal.username,
        created_at=now,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="compliance.override",
        entity_type="compliance_override",
        entity_id=override.id,
        case_id=case.id,
        payload={
            "rules": list(decision.rule_ids),
            "reason": data.reason,
            "contact_point_id": point.id,
            "channel": data.channel,
            "from": data.at.isoformat(),
            "minutes": data.minutes,
        },
    )
    return OverrideOut(
        id=override.id,
        case_id=case.id,
        contact_point_id=point.id,
        channel=data.channel,
        window_start=override.window_start,
        window_end=override.window_end,
        rules=list(override.rules),
        reason=override.reason,
        approved_by=override.approved_by,
    )


# ------------------------------------------------------------------ content screening


def screening_perspective(pack_id: str) -> str:
    """Which screening rule ids a rule pack cites (``us-…`` packs → ``us-regf``)."""
    return "us-regf" if pack_id.startswith("us") else "cn"


def findings_out(findings: Sequence[Finding]) -> list[FindingOut]:
    return [
        FindingOut(
            category=f.category,
            span=SpanOut(start=f.span.start, end=f.span.end, text=f.span.text),
            rule_id=f.rule_id,
            pattern_id=f.pattern_id,
        )
        for f in findings
    ]


def finding_dicts(findings: Sequence[Finding]) -> list[dict[str, Any]]:
    """Findings as stored (JSON) on QA items and templates."""
    return [f.model_dump() for f in findings_out(findings)]


def stored_findings(stored: Sequence[dict[str, Any]]) -> list[FindingOut]:
    return [FindingOut.model_validate(f) for f in stored]


def screen_text(principal: Principal, data: ScreenIn) -> ScreenOut:
    """Screen a text someone is about to send or save (内容筛查); nothing is stored."""
    require(principal, "compliance.screen")
    findings = screen(
        data.text, audience=data.audience, pack=data.pack, time_barred=data.time_barred
    )
    return ScreenOut(findings=findings_out(findings))


# ------------------------------------------------------------------ packs per creditor


def use_pack(session: Session, *, creditor_code: str, pack: str, actor: str, now: datetime) -> str:
    """Judge a creditor's contacts by ``pack`` (a shipped id or a pack file), validated first."""
    loaded = load_pack(pack)
    creditor = repo.creditor_by_code(session, creditor_code)
    if creditor is None:
        raise NotFound(f"no creditor {creditor_code!r}", creditor=creditor_code)
    before = creditor.rule_pack
    creditor.rule_pack = pack
    append_event(
        session,
        at=now,
        actor=actor,
        type="creditor.rule_pack_changed",
        entity_type="creditor",
        entity_id=creditor.id,
        payload={"from": before, "to": pack, "pack_id": loaded.id, "version": loaded.version},
    )
    return loaded.id


def creditor_pack(session: Session, creditor_id: int) -> str:
    """The rule pack a creditor's contacts are judged by."""
    return repo.creditor_pack(session, creditor_id)
