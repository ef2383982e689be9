"""Placing cases with an agency (委外批次) and reading placements.

A placed case leaves every in-house queue: it takes the agency and loses its collector and
team, so agency users see it (the one scope filter, ``auth.scope``) and in-house allocation
does not. Each placed case gets a ``case.placed`` event (its timeline); the cases domain moves it
(``cases.move_to_agency``) with its ``case.assigned`` event naming the agency (who held the
case when: the KPI layer's attribution, ``kpis.rules.owners_of``).
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import date, datetime

import polars as pl
from sqlalchemy.orm import Session

from cuishou.agency import repository as repo
from cuishou.agency.rules import CANDIDATE_STATUSES, SelectionRule, period_end, select
from cuishou.agency.schemas import PlacementOut
from cuishou.agency.service.common import (
    agency_named,
    may_manage,
    placed_case_out,
    placement_out,
    reading_scope,
)
from cuishou.audit.events import append_events
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.cases import service as cases
from cuishou.kit.errors import InvalidInput, NotFound
from cuishou.strategy.service import planning

FROM_STRATEGY = "strategy"


def strategy_candidates(
    session: Session, day: date, *, principal: Principal | None = None
) -> set[int]:
    """The cases the strategy in force planned an ``agency`` action for on ``day`` and
    kept (not dropped by the gate, capped or held): ``--from-strategy``'s selection."""
    may_manage(principal)
    planned = planning.task_list_in(session, day, actions=("agency",))
    kept = planned.filter(pl.col("status").is_in(list(CANDIDATE_STATUSES)))
    return {int(c) for c in kept["case_id"]}


def create_placement(
    session: Session,
    *,
    agency: str,
    as_of: date,
    days: int,
    rule: SelectionRule | None = None,
    rule_name: str = "",
    candidates: Collection[int] | None = None,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
) -> PlacementOut:
    """Place with ``agency`` from ``as_of`` for ``days`` days the open cases with no agency
    that ``rule`` selects, or (``candidates``) those the strategy planned an ``agency``
    action for. Exactly one of ``rule`` and ``candidates``."""
    may_manage(principal)
    if (rule is None) == (candidates is None):
        raise InvalidInput("choose the cases with a rule file or from the strategy", field="rule")
    try:
        ends_on = period_end(as_of, days)
    except ValueError as exc:
        raise InvalidInput(f"days: {exc}", field="days") from exc
    chosen_agency = agency_named(session, agency)
    # fetch
    open_cases = repo.candidates(session)
    # decide
    if rule is not None:
        chosen = select(rule, open_cases)
        selection = f"rule:{rule_name}"[:200]
    else:
        wanted = set(candidates or ())
        chosen = sorted(
            (c for c in open_cases if c.case_id in wanted), key=lambda c: (-c.due_fen, c.case_id)
        )
        selection = FROM_STRATEGY
    if not chosen:
        raise InvalidInput("no open case without an agency matches: nothing placed", field="rule")
    # act
    placement = repo.add_placement(
        session, agency_id=chosen_agency.id, placed_on=as_of, ends_on=ends_on,
        selection=selection, actor=actor, now=now,
    )  # fmt: skip
    repo.add_placed_cases(session, placement, chosen)
    append_events(
        session,
        (
            {
                "at": now, "actor": actor, "type": "case.placed", "entity_type": "case",
                "entity_id": case.case_id, "case_id": case.case_id,
                "payload": {
                    "agency": chosen_agency.code, "placement_id": placement.id,
                    "placed_on": as_of.isoformat(), "ends_on": ends_on.isoformat(),
                },
            }
            for case in chosen
        ),
    )  # fmt: skip
    cases.move_to_agency(
        session, [c.case_id for c in chosen], to_agency=chosen_agency.id, from_agency=None,
        actor=actor, now=now,
    )  # fmt: skip
    return show_placement(session, placement.id, principal=principal, with_cases=False)


def list_placements(
    session: Session, *, agency: str | None = None, principal: Principal | None = None
) -> list[PlacementOut]:
    """Placements, newest first: an agency user sees its own only."""
    own = reading_scope(principal)
    agency_id = agency_named(session, agency).id if agency is not None else None
    if own is not None:
        if agency_id is not None and agency_id != own:
            return []
        agency_id = own
    return [placement_out(row) for row in repo.placements(session, agency_id=agency_id)]


def show_placement(
    session: Session,
    placement_id: int,
    *,
    principal: Principal | None = None,
    with_cases: bool = True,
) -> PlacementOut:
    """One placement with its cases (an agency user: its own placements only)."""
    own = reading_scope(principal)
    rows = repo.placements(session, agency_id=own, placement_id=placement_id)
    if not rows:
        raise NotFound(f"placement {placement_id} not found", placement_id=placement_id)
    out = placement_out(rows[0])
    if with_cases:
        scope = case_scope_of(principal) if principal is not None else None
        out.placed_cases = [
            placed_case_out(row) for row in repo.placed_cases(session, placement_id, scope)
        ]
    return out
