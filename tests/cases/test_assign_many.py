"""分案 in bulk (``assign_many``): what ``assign_cases`` does per collector, set-based, on both
stores — the same case fields and ``case.assigned`` events, the same checks, all or nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, func, select

from cuishou.auth.rules import Principal
from cuishou.cases.service import assign_cases, assign_many
from cuishou.kit.errors import InvalidInput, NotFound, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Event, User
from tests.factories import NOW
from tests.web.world import build_world


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, role=user.role,
                     team_id=user.team_id, agency_id=user.agency_id)  # fmt: skip


def assigned(engine: Engine, case_id: int) -> tuple[object, ...]:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        event = session.scalar(
            select(Event).where(Event.case_id == case_id, Event.type == "case.assigned")
        )
        assert event is not None
        return (case.assigned_user_id, case.team_id, case.agency_id, case.updated_at,
                event.actor, event.entity_type, event.entity_id == case_id, event.at,
                event.payload)  # fmt: skip


def test_assign_many_does_what_assign_cases_does_for_each_collector(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        one, two, three, four = (world.case_for_a(session).id for _ in range(4))
    manager = principal_of(world.users["manager"])
    # when one case goes through assign_cases and the others through assign_many
    with transaction(engine) as session:
        assign_cases(session, manager, [one], collector="col_a2", now=NOW)
    with transaction(engine) as session:
        count = assign_many(
            session, manager, {"col_a2": [two, three], "col_b": [four], "col_a": []}, now=NOW
        )
    # then each case and its event are as assign_cases leaves them
    assert count == 3
    assert assigned(engine, two) == assigned(engine, one) == assigned(engine, three)
    moved = assigned(engine, four)
    assert moved[0] == world.users["col_b"].id and moved[1] == world.users["col_b"].team_id
    assert moved[8] == {"from": "col_a", "to": "col_b", "team_id": world.users["col_b"].team_id,
                        "agency_id": None}  # fmt: skip


def test_assign_many_is_all_or_nothing_with_the_same_checks(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        mine = world.case_for_a(session).id
        theirs = world.case_for_b(session).id
    lead = principal_of(world.users["lead_a"])

    def events() -> int:
        with transaction(engine) as session:
            query = select(func.count()).select_from(Event).where(Event.type == "case.assigned")
            return int(session.scalar(query) or 0)

    with pytest.raises(NotFound), transaction(engine) as session:  # another team's case
        assign_many(session, lead, {"col_a2": [mine, theirs]}, now=NOW)
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        assign_many(session, lead, {"col_b": [mine]}, now=NOW)
    with pytest.raises(InvalidInput), transaction(engine) as session:
        assign_many(session, lead, {"col_a2": [mine], "col_a": [mine]}, now=NOW)
    with pytest.raises(InvalidInput), transaction(engine) as session:
        assign_many(session, lead, {"ghost": [mine]}, now=NOW)
    with transaction(engine) as session:
        case = session.get(Case, mine)
        assert case is not None and case.assigned_user_id == world.users["col_a"].id
    assert events() == 0
