"""What the agency use cases share: who may do what, the agency by code, the output shapes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from cuishou.agency import repository as repo
from cuishou.agency.schemas import PlacedCaseOut, PlacementOut
from cuishou.auth.rules import CaseScope, Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.kit.errors import NotFound, PermissionDenied
from cuishou.kit.money import format_yuan
from cuishou.store.tables import Agency, AgencyPlacementCase


def agency_named(session: Session, code: str) -> Agency:
    """The agency with ``code``, or a clear error listing the known ones."""
    found = repo.agency_by_code(session, code)
    if found is None:
        known = ", ".join(a.code for a in repo.agencies(session)) or "none yet"
        raise NotFound(f"no agency {code!r} (known: {known})", agency=code)
    return found


def may_manage(principal: Principal | None) -> None:
    """Placing, recalling and closing statements: a manager (or the command line)."""
    if principal is not None:
        require(principal, "agency.manage")


def reading_scope(principal: Principal | None) -> int | None:
    """The agency whose placements and statements ``principal`` may read (``None``: all)."""
    if principal is None:
        return None
    require(principal, "agency.read")
    scope: CaseScope = case_scope_of(principal)
    if principal.role == "agency":
        if scope.kind != "agency" or scope.id is None:
            raise PermissionDenied("an agency user without an agency sees no placements")
        return scope.id
    return None


def placed_case_out(row: AgencyPlacementCase) -> PlacedCaseOut:
    return PlacedCaseOut(
        case_id=row.case_id,
        bucket=row.bucket,
        amount_tier=row.amount_tier,
        due=format_yuan(row.due_fen),
        placed_on=row.placed_on,
        recalled_on=row.recalled_on,
        recall_reason=row.recall_reason,
        recall_note=row.recall_note,
    )


def placement_out(row: repo.PlacementRow) -> PlacementOut:
    p = row.placement
    return PlacementOut(
        id=p.id,
        agency=row.agency,
        placed_on=p.placed_on,
        ends_on=p.ends_on,
        status=p.status,
        selection=p.selection,
        cases=row.cases,
        still_placed=row.placed_now,
        amount_placed=format_yuan(row.due_fen),
        created_by=p.created_by,
        ended_on=p.ended_on,
    )


def own_agency_code(session: Session, principal: Principal) -> str | None:
    """The code of the agency an agency user works for (``None`` for other roles)."""
    own = reading_scope(principal)
    return None if own is None else repo.agency_codes(session).get(own)
