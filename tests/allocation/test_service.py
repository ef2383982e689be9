"""Allocation on the store (SQLite and PostgreSQL): apply through the cases domain with a
batch, its moves and a ``case.allocated`` event per case; capacity, skills and continuity;
undo restores the exact prior assignment and keeps (and lists) cases worked since."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cuishou.allocation import service
from cuishou.allocation.config import AllocationSettings, SkillSpec
from cuishou.auth.rules import Principal
from cuishou.kit.errors import InvalidInput, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import (
    AllocationBatch,
    AllocationMove,
    Case,
    Contact,
    ContactPoint,
    Event,
    User,
)
from tests.factories import NOW
from tests.web.factories import make_case, make_user
from tests.web.world import World, build_world

AS_OF = date(2026, 11, 1)
LATER = NOW + timedelta(hours=2)


def principal_of(user: User) -> Principal:
    return Principal(user_id=user.id, username=user.username, role=user.role,
                     team_id=user.team_id, agency_id=user.agency_id)  # fmt: skip


def settings(**changes: object) -> AllocationSettings:
    return AllocationSettings.model_validate({"capacity": 3, **changes})


def in_house_case_of(session: Session, world: World, username: str) -> Case:
    """A case of ``username`` not placed with any agency (world's cases are)."""
    return make_case(session, assigned=world.users[username])


def unassigned_cases(engine: Engine, n: int, **kwargs: object) -> list[int]:
    with transaction(engine) as session:
        return [make_case(session, **kwargs).id for _ in range(n)]  # type: ignore[arg-type]


def touched(session: Session, case_id: int, *, days_ago: int) -> None:
    """The case was last assigned ``days_ago`` days before NOW."""
    session.add(
        Event(at=NOW - timedelta(days=days_ago), actor="t", type="case.assigned",
              entity_type="case", entity_id=case_id, case_id=case_id, payload={})
    )  # fmt: skip


def state(engine: Engine) -> dict[int, tuple[int | None, int | None]]:
    with transaction(engine) as session:
        rows = session.execute(select(Case.id, Case.assigned_user_id, Case.team_id)).all()
        return {i: (u, t) for i, u, t in rows}


def test_apply_fills_free_capacity_and_records_why(engine: Engine) -> None:
    # given three in-house collectors (col_a, col_a2, col_b) with one case already (col_a's)
    # and eight unassigned cases, at most three open cases each
    world = build_world(engine)
    with transaction(engine) as session:
        in_house_case_of(session, world, "col_a")
    new = unassigned_cases(engine, 8)
    manager = principal_of(world.users["manager"])
    # when the manager applies the day's allocation
    with transaction(engine) as session:
        result = service.apply(session, manager, AS_OF, settings(), now=NOW)
    # then every free slot is filled (2 + 3 + 3) and no collector is over capacity
    assert (result.assigned, result.reassigned) == (8, 0)
    assert result.by_collector == {"col_a": 2, "col_a2": 3, "col_b": 3}
    assert result.unassigned_left.count == 0
    after = {w.collector: w.after for w in result.workload}
    assert after == {"col_a": 3, "col_a2": 3, "col_b": 3}
    assert 0 < float(result.objective) <= float(result.bound)
    with transaction(engine) as session:
        batch = session.get(AllocationBatch, result.batch)
        assert batch is not None and batch.actor == "manager" and batch.status == "applied"
        moves = session.scalars(select(AllocationMove)).all()
        assert sorted(m.case_id for m in moves) == sorted(new)
        assert {m.reason for m in moves} == {"unassigned"}
        # the move goes through the cases domain (case.assigned) and says why (case.allocated)
        for case_id in new:
            types = session.scalars(
                select(Event.type).where(Event.case_id == case_id).order_by(Event.id)
            ).all()
            assert "case.assigned" in types and "case.allocated" in types
        event = session.scalar(select(Event).where(Event.type == "case.allocated"))
        assert event is not None and event.payload["reason"] == "unassigned"
        assert event.payload["batch"] == result.batch and event.payload["gain"]


def test_skills_and_continuity(engine: Engine) -> None:
    # given team 一组 works only M1, a case of col_a touched recently and one of a collector
    # who left, and two unassigned M2 cases
    world = build_world(engine)
    with transaction(engine) as session:
        kept = make_case(session, assigned=world.users["col_a"], bucket="M1", dpd=10).id
        gone = make_user(session, username="gone", team=world.team_b, active=False)
        orphan = make_case(session, assigned=gone).id
    m2 = unassigned_cases(engine, 2, bucket="M2")
    rules = settings(teams={"一组": SkillSpec(buckets=frozenset({"M1"}))}, capacity=10)
    with transaction(engine) as session:
        touched(session, kept, days_ago=2)
    manager = principal_of(world.users["manager"])
    with transaction(engine) as session:
        result = service.apply(session, manager, AS_OF, rules, now=NOW)
    after = state(engine)
    col_b = world.users["col_b"].id
    # then the M2 cases and the orphan go to col_b, the only collector skilled for M2 ...
    assert all(after[c][0] == col_b for c in [*m2, orphan])
    assert result.pooled == {"unassigned": 2, "collector_left": 1}
    # ... and col_a keeps its M1 case, touched two days ago: no rule fired (continuity)
    assert after[kept][0] == world.users["col_a"].id


def test_rotation_never_returns_a_case_to_the_collector_it_left(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        stale = in_house_case_of(session, world, "col_a").id
        touched(session, stale, days_ago=40)
    with transaction(engine) as session:
        result = service.apply(
            session, principal_of(world.users["manager"]), AS_OF, settings(), now=NOW
        )
    assert result.pooled == {"rotation_no_rpc": 1}
    assert state(engine)[stale][0] in {world.users["col_a2"].id, world.users["col_b"].id}


def test_undo_restores_the_exact_prior_assignment_and_lists_worked_cases(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        stale = in_house_case_of(session, world, "col_a").id
        touched(session, stale, days_ago=40)
        queued = make_case(session, team=world.team_b).id  # in team B's queue, no collector
    fresh = unassigned_cases(engine, 3)
    before = state(engine)
    manager = principal_of(world.users["manager"])
    with transaction(engine) as session:
        result = service.apply(session, manager, AS_OF, settings(), now=NOW)
    assert result.batch is not None
    moved = state(engine)
    assert all(moved[c][0] is not None for c in [stale, queued, *fresh])
    # a collector works one of the cases after the batch
    worked = fresh[0]
    with transaction(engine) as session:
        case = session.get(Case, worked)
        assert case is not None and case.assigned_user_id is not None
        point = session.scalar(select(ContactPoint).where(ContactPoint.debtor_id == case.debtor_id))
        assert point is not None
        session.add(Contact(case_id=worked, contact_point_id=point.id,
                            user_id=case.assigned_user_id, channel="call", party="debtor",
                            outcome="connected_debtor", at=NOW + timedelta(minutes=30),
                            created_at=NOW + timedelta(minutes=30)))  # fmt: skip
    # when the batch is undone
    with transaction(engine) as session:
        undone = service.undo(session, manager, result.batch, now=LATER)
    # then every other case has exactly its prior collector and team; the worked one stays
    after = state(engine)
    assert [(k.case_id, k.why) for k in undone.kept] == [(worked, "contact")]
    assert undone.restored == len([stale, queued, *fresh]) - 1
    assert after[worked] == moved[worked]
    assert {k: v for k, v in after.items() if k != worked} == {
        k: v for k, v in before.items() if k != worked
    }
    with transaction(engine) as session:
        batch = session.get(AllocationBatch, result.batch)
        assert batch is not None and batch.status == "undone" and batch.undone_by == "manager"
    # and a batch is undone once
    with pytest.raises(InvalidInput), transaction(engine) as session:
        service.undo(session, manager, result.batch, now=LATER)


@pytest.mark.parametrize("role", ["collector", "admin", "auditor"])
def test_apply_and_undo_need_a_team_lead_or_manager(engine: Engine, role: str) -> None:
    world = build_world(engine)
    unassigned_cases(engine, 1)
    who = world.users["col_a" if role == "collector" else role]
    with pytest.raises(PermissionDenied), transaction(engine) as session:
        service.apply(session, principal_of(who), AS_OF, settings(), now=NOW)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(AllocationBatch)) == 0


def test_a_team_lead_allocates_within_their_team(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        mine = [make_case(session, team=world.team_a).id for _ in range(2)]
        theirs = make_case(session, team=world.team_b).id
    with transaction(engine) as session:
        result = service.apply(
            session, principal_of(world.users["lead_a"]), AS_OF, settings(), now=NOW
        )
    after = state(engine)
    team_a = {world.users["col_a"].id, world.users["col_a2"].id}
    assert all(after[c][0] in team_a for c in mine)
    assert after[theirs][0] is None
    assert set(result.by_collector) <= {"col_a", "col_a2"}


def test_preview_writes_nothing(engine: Engine) -> None:
    world = build_world(engine)
    unassigned_cases(engine, 2)
    before = state(engine)
    with transaction(engine) as session:
        result = service.preview(session, None, AS_OF, settings())
    assert result.dry_run and result.batch is None and result.assigned == 2
    assert state(engine) == before
    del world


def test_a_run_with_nothing_to_move_records_an_empty_batch(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        result = service.apply(
            session, principal_of(world.users["manager"]), AS_OF, settings(), now=NOW
        )
    assert (result.assigned, result.reassigned, result.unassigned_left.count) == (0, 0, 0)
    assert result.objective == result.bound == result.greedy_objective == "0.00"
    with transaction(engine) as session:
        undone = service.undo(session, principal_of(world.users["manager"]), result.batch or 0,
                              now=LATER)  # fmt: skip
    assert (undone.restored, undone.kept) == (0, [])
