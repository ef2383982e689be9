"""Taking a promise to pay (承诺还款): validate, store, append ``promise.created``."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.cases import repository as cases_repo
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan, parse_yuan
from cuishou.promises import repository as repo
from cuishou.promises.rules import promise_problem
from cuishou.promises.schemas import PromiseIn, PromiseOut
from cuishou.store.tables import Case, Promise


def promise_out(promise: Promise, created_by: str) -> PromiseOut:
    return PromiseOut(
        id=promise.id,
        case_id=promise.case_id,
        amount=format_yuan(promise.amount_fen),
        due_date=promise.due_date,
        status=promise.status,
        created_by=created_by,
        created_at=promise.created_at,
    )


def take_promise(
    session: Session,
    principal: Principal,
    case: Case,
    data: PromiseIn,
    *,
    now: datetime,
    contact_id: int | None = None,
) -> PromiseOut:
    """Record a promise on a case already fetched within the principal's scope."""
    amount_fen = parse_yuan(data.amount, field="amount")
    today = now.astimezone(zone(DEFAULT_TZ)).date()
    problem = promise_problem(
        amount_fen=amount_fen,
        due_date=data.due_date,
        today=today,
        case_due_fen=case.due_fen,
        case_status=case.status,
    )
    if problem:
        raise InvalidInput(problem)
    promise = repo.add_promise(
        session,
        case_id=case.id,
        contact_id=contact_id,
        amount_fen=amount_fen,
        due_date=data.due_date,
        created_by=principal.user_id,
        now=now,
    )
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="promise.created",
        entity_type="promise",
        entity_id=promise.id,
        case_id=case.id,
        payload={
            "amount": format_yuan(amount_fen),
            "due_date": data.due_date.isoformat(),
            "contact_id": contact_id,
        },
    )
    return promise_out(promise, principal.username)


def create_promise(
    session: Session, principal: Principal, case_id: int, data: PromiseIn, *, now: datetime
) -> PromiseOut:
    require(principal, "promise.create")
    case = cases_repo.get_case(session, case_id, case_scope_of(principal))
    return take_promise(session, principal, case, data, now=now)
