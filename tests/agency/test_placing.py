"""Placing cases with an agency (委外批次), on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select

from cuishou.agency.config import load_rule
from cuishou.agency.service.placing import create_placement, list_placements, show_placement
from cuishou.cases.repository import CaseFilters
from cuishou.cases.service import list_cases
from cuishou.kit.errors import InvalidInput, NotFound, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Event
from tests.agency.world import MANAGER, PLACED_ON, World, at, build, rule_file

NO_FILTER = CaseFilters(bucket=None, status=None, tier=None, assigned_user_id=None,
                        unassigned=False)  # fmt: skip


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def _place(engine: Engine, tmp_path: Path, text: str, agency: str = "AG1", days: int = 30) -> int:
    rule = load_rule(rule_file(tmp_path, text))
    with transaction(engine) as session:
        out = create_placement(
            session, agency=agency, as_of=PLACED_ON, days=days, rule=rule, rule_name="rule.yaml",
            actor="boss", now=at(PLACED_ON), principal=MANAGER,
        )  # fmt: skip
    return out.id


def test_placed_cases_leave_in_house_queues_and_only_their_agency_sees_them(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    # given cases with an in-house collector; when the M4–M5 ones are placed with AG1
    placement_id = _place(engine, tmp_path, "buckets: [M4, M5]\n")
    placed = {world.cases["M4"], world.cases["M5"]}
    with transaction(engine) as session:
        rows = {c.id: c for c in session.scalars(select(Case))}
        seen_by_agency = list_cases(session, world.agency, NO_FILTER, limit=50, offset=0)
        seen_by_other = list_cases(session, world.other_agency, NO_FILTER, limit=50, offset=0)
        seen_by_collector = list_cases(session, world.collector, NO_FILTER, limit=50, offset=0)
        shown = show_placement(session, placement_id, principal=MANAGER)
    # then they have the agency and no collector or team; the others are untouched
    for case_id in placed:
        assert rows[case_id].agency_id is not None
        assert rows[case_id].assigned_user_id is None and rows[case_id].team_id is None
    assert rows[world.cases["M2"]].assigned_user_id == world.collector.user_id
    assert {c.id for c in seen_by_agency.items} == placed
    assert seen_by_other.total == 0
    assert {c.id for c in seen_by_collector.items} == {world.cases["M2"], world.cases["M7+"]}
    assert shown.cases == 2 and shown.still_placed == 2 and shown.amount_placed == "70000.00"
    assert shown.ends_on.isoformat() == "2026-11-30"
    assert shown.placed_cases is not None
    assert {c.bucket for c in shown.placed_cases} == {"M4", "M5"}


def test_each_placed_case_has_a_timeline_event_and_an_assignment_to_the_agency(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    _place(engine, tmp_path, "buckets: [M4]\n")
    with transaction(engine) as session:
        events = session.scalars(
            select(Event).where(Event.case_id == world.cases["M4"]).order_by(Event.id)
        ).all()
    kinds = [e.type for e in events]
    assert kinds == ["case.placed", "case.assigned"]
    assert events[0].payload["agency"] == "AG1" and events[0].payload["ends_on"] == "2026-11-30"
    assert events[1].payload["from"] == world.collector.username
    assert events[1].payload["to"] is None and events[1].payload["agency_id"] is not None


def test_a_placed_case_is_not_placed_again(engine: Engine, world: World, tmp_path: Path) -> None:
    _place(engine, tmp_path, "buckets: [M4]\n")
    with pytest.raises(InvalidInput, match="nothing placed"):
        _place(engine, tmp_path, "buckets: [M4]\n", agency="AG2")


def test_the_strategy_candidates_are_placed(engine: Engine, world: World) -> None:
    with transaction(engine) as session:
        out = create_placement(
            session, agency="AG2", as_of=PLACED_ON, days=60,
            candidates={world.cases["M7+"], 999_999}, actor="boss", now=at(PLACED_ON),
        )  # fmt: skip
        agency_of = session.scalar(select(Case.agency_id).where(Case.id == world.cases["M7+"]))
    assert out.selection == "strategy" and out.cases == 1
    assert agency_of == world.other_agency.agency_id


def test_an_unknown_agency_is_a_clear_error(engine: Engine, world: World, tmp_path: Path) -> None:
    with pytest.raises(NotFound, match=r"no agency 'NOPE' \(known: AG1, AG2\)"):
        _place(engine, tmp_path, "buckets: [M4]\n", agency="NOPE")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("buckets: [M9]\n", "unknown bucket 'M9'"),
        ("tiers: [huge]\n", "unknown amount tier 'huge'"),
        ("dpd: {min: 200, max: 100}\n", "dpd.min is above dpd.max"),
        ("colour: red\n", "colour"),
        ("amount: {min: '12.345'}\n", "amount.min"),
        ("- a list\n", "expected a mapping"),
        ("buckets: [M4\n", "cannot read placement rule"),
    ],
)
def test_a_bad_rule_file_names_its_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(InvalidInput, match=message):
        load_rule(rule_file(tmp_path, text))


def test_a_rule_file_selects_by_amount_in_yuan_and_limit(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    placement_id = _place(engine, tmp_path, "amount: {min: '1000.00'}\nlimit: 2\n")
    with transaction(engine) as session:
        shown = show_placement(session, placement_id)
    assert shown.placed_cases is not None
    assert sorted(c.case_id for c in shown.placed_cases) == sorted(
        [world.cases["M5"], world.cases["M4"]]
    )


def test_agency_users_see_only_their_own_placements(
    engine: Engine, world: World, tmp_path: Path
) -> None:
    mine = _place(engine, tmp_path, "buckets: [M4]\n", agency="AG1")
    theirs = _place(engine, tmp_path, "buckets: [M5]\n", agency="AG2")
    with transaction(engine) as session:
        assert [p.id for p in list_placements(session, principal=world.agency)] == [mine]
        assert {p.id for p in list_placements(session, principal=MANAGER)} == {mine, theirs}
        with pytest.raises(NotFound):
            show_placement(session, theirs, principal=world.agency)
        with pytest.raises(PermissionDenied):
            list_placements(session, principal=world.collector)
        with pytest.raises(PermissionDenied):
            create_placement(
                session, agency="AG1", as_of=PLACED_ON, days=30, candidates={1},
                actor="x", now=at(PLACED_ON), principal=world.agency,
            )  # fmt: skip


def test_days_out_of_range_are_refused(engine: Engine, world: World, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="days"):
        _place(engine, tmp_path, "buckets: [M4]\n", days=0)
