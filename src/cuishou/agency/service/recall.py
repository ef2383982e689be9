"""Recall (退案): placed cases return to in-house allocation.

Automatically at the end of the placement period, early on breach (a compliance violation
or a recorded complaint on the case while placed, or its placement's recovery under the
threshold after N days — ``agency.yaml``), and by hand with a reason. A recalled case has
no agency, no collector and no team: in-house allocation sees it as "no collector". Each
recall is a ``case.recalled`` event (timeline); the cases domain moves the case
(``cases.move_to_agency``) with its ``case.assigned`` event to nobody (KPI attribution).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from cuishou.agency import repository as repo
from cuishou.agency.config import AgencySettings, default_settings
from cuishou.agency.rules import RECALL_REASONS, PlacedFacts, recall_reason, recalled_on
from cuishou.agency.schemas import RecallOut
from cuishou.agency.service.common import may_manage
from cuishou.audit.events import append_events
from cuishou.auth.rules import Principal
from cuishou.cases import service as cases
from cuishou.kit.clock import business_day_in
from cuishou.kit.errors import InvalidInput, NotFound


def _recovery_rates(
    session: Session, placed: Sequence[repo.Placed], as_of: date
) -> dict[int, Decimal | None]:
    """Each placement's recovered (ledger cash while placed, by ``as_of``) ÷ its amount due
    when placed; ``None`` when nothing was due."""
    ids = sorted({p.row.placement_id for p in placed})
    due: dict[int, int] = {}
    for row in repo.placements(session) if ids else []:
        if row.placement.id in ids:
            due[row.placement.id] = row.due_fen
    cash: Counter[int] = Counter()
    to_placement = {p.row.id: p.row.placement_id for p in placed}
    for move in repo.moves(session, upto=as_of, placement_ids=ids):
        placement_id = to_placement.get(move.placement_case_id)
        if placement_id is not None:
            cash[placement_id] += move.cash_fen
    return {i: (Decimal(cash[i]) / Decimal(due[i]) if due.get(i) else None) for i in ids}


def _facts(session: Session, placed: Sequence[repo.Placed], as_of: date) -> dict[int, PlacedFacts]:
    """What the recall rule needs of each placed case (by placement-case id)."""
    case_ids = [p.row.case_id for p in placed]
    violations: Counter[int] = Counter()
    since = {p.row.case_id: p.row.placed_on for p in placed}
    for case_id, day in repo.violation_days(session, case_ids, as_of):
        if day >= since[case_id]:
            violations[case_id] += 1
    by_debtor: dict[int, list[repo.Placed]] = {}
    for p in placed:
        by_debtor.setdefault(p.debtor_id, []).append(p)
    complaints: Counter[int] = Counter()
    for debtor_id, held_case, opened_at in repo.complaint_holds(session, sorted(by_debtor)):
        for p in by_debtor[debtor_id]:
            day = business_day_in(opened_at, p.tz)
            if (
                held_case is None or held_case == p.row.case_id
            ) and p.row.placed_on <= day <= as_of:
                complaints[p.row.case_id] += 1
    rates = _recovery_rates(session, placed, as_of)
    return {
        p.row.id: PlacedFacts(
            placed_on=p.row.placed_on,
            ends_on=p.ends_on,
            violations=violations[p.row.case_id],
            complaints=complaints[p.row.case_id],
            placement_recovery_rate=rates.get(p.row.placement_id),
        )
        for p in placed
    }


def _act(
    session: Session,
    recalls: Sequence[tuple[repo.Placed, date, str, str | None]],
    *,
    as_of: date,
    actor: str,
    now: datetime,
) -> RecallOut:
    """Write the recalls: the placed-case rows, the cases back in-house, the events."""
    repo.mark_recalled(session, [(p.row.id, day, reason, note) for p, day, reason, note in recalls])
    by_agency: dict[int, list[int]] = {}
    for p, *_ in recalls:
        by_agency.setdefault(p.agency_id, []).append(p.row.case_id)
    codes = repo.agency_codes(session)
    append_events(
        session,
        (
            {
                "at": now, "actor": actor, "type": "case.recalled", "entity_type": "case",
                "entity_id": p.row.case_id, "case_id": p.row.case_id,
                "payload": {"agency": codes.get(p.agency_id), "placement_id":
                            p.row.placement_id, "recalled_on": day.isoformat(),
                            "reason": reason, "note": note},
            }
            for p, day, reason, note in recalls
        ),
    )  # fmt: skip
    for agency_id, case_ids in by_agency.items():
        cases.move_to_agency(
            session, case_ids, to_agency=None, from_agency=agency_id, actor=actor, now=now
        )
    ended = repo.end_finished(session, {p.row.placement_id for p, *_ in recalls}, as_of)
    reasons = Counter(reason for _, _, reason, _ in recalls)
    return RecallOut(
        as_of=as_of, recalled=len(recalls), by_reason=dict(sorted(reasons.items())),
        placements_ended=ended,
    )  # fmt: skip


def recall_due(
    session: Session,
    as_of: date,
    *,
    now: datetime,
    actor: str = "system",
    settings: AgencySettings | None = None,
) -> RecallOut:
    """The daily recall (退案跑批): every placed case whose period has ended or that is in
    breach on ``as_of`` goes back in-house. Safe to run twice."""
    thresholds = (settings or default_settings()).recall
    placed = repo.still_placed(session)
    facts = _facts(session, placed, as_of) if placed else {}
    recalls: list[tuple[repo.Placed, date, str, str | None]] = []
    for p in placed:
        reason = recall_reason(facts[p.row.id], as_of, thresholds)
        if reason is not None:
            recalls.append((p, recalled_on(reason, p.ends_on, as_of), reason, None))
    return _act(session, recalls, as_of=as_of, actor=actor, now=now)


def recall_manual(
    session: Session,
    placement_id: int,
    *,
    as_of: date,
    reason: str,
    case_ids: Sequence[int] | None = None,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
) -> RecallOut:
    """手工退案: recall a placement's cases still placed (or only ``case_ids``) with a
    reason, from ``as_of``."""
    may_manage(principal)
    note = reason.strip()
    if not note:
        raise InvalidInput("a manual recall needs a reason (--reason)", field="reason")
    if not repo.placements(session, placement_id=placement_id):
        raise NotFound(f"placement {placement_id} not found", placement_id=placement_id)
    placed = repo.still_placed(session, placement_id=placement_id)
    if case_ids is not None:
        wanted = set(case_ids)
        missing = sorted(wanted - {p.row.case_id for p in placed})
        if missing:
            raise InvalidInput(
                f"case {missing[0]} is not placed in placement {placement_id}", field="case"
            )
        placed = [p for p in placed if p.row.case_id in wanted]
    early = [p for p in placed if as_of < p.row.placed_on]
    if early:
        raise InvalidInput(
            f"as_of {as_of} is before the placement began ({early[0].row.placed_on})",
            field="as_of",
        )
    return _act(
        session, [(p, as_of, "manual", note[:500]) for p in placed],
        as_of=as_of, actor=actor, now=now,
    )  # fmt: skip


__all__ = ["RECALL_REASONS", "recall_due", "recall_manual"]
