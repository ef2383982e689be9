"""The agency league table: the KPI layer's figures for the days each agency held its cases
— on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine, select

from cuishou.agency.service.league import league
from cuishou.agency.service.placing import create_placement
from cuishou.agency.service.recall import recall_manual
from cuishou.kit.errors import InvalidInput, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Alert
from tests.agency.world import MANAGER, PLACED_ON, World, at, build
from tests.factories import NOW, make_payment

NOVEMBER = (date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def _place(engine: Engine, world: World, bucket: str, agency: str) -> int:
    with transaction(engine) as session:
        return create_placement(
            session, agency=agency, as_of=PLACED_ON, days=30, candidates={world.cases[bucket]},
            actor="boss", now=at(PLACED_ON),
        ).id  # fmt: skip


def _pay(engine: Engine, case_id: int, fen: int, day: date) -> None:
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
        make_payment(session, account=account, amount_fen=fen, paid_at=at(day))


def _violation(engine: Engine, case_id: int, day: date) -> None:
    with transaction(engine) as session:
        session.add(Alert(case_id=case_id, kind="compliance_violation", raised_on=day,
                          status="open", details={}, created_at=NOW))  # fmt: skip


def test_each_agency_is_measured_on_the_days_it_held_its_cases(
    engine: Engine, world: World
) -> None:
    # given M4 (20,000 yuan) with AG1 and M5 (50,000 yuan) with AG2 from 1 November
    _place(engine, world, "M4", "AG1")
    second = _place(engine, world, "M5", "AG2")
    _pay(engine, world.cases["M4"], 200_000, date(2026, 11, 5))
    _pay(engine, world.cases["M5"], 100_000, date(2026, 11, 6))
    _violation(engine, world.cases["M5"], date(2026, 11, 8))
    # when AG2's placement is recalled on 10 November; what happens after is in-house
    with transaction(engine) as session:
        recall_manual(session, second, as_of=date(2026, 11, 10), reason="violation",
                      actor="boss", now=at(date(2026, 11, 10)))  # fmt: skip
    _pay(engine, world.cases["M5"], 500_000, date(2026, 11, 12))
    _violation(engine, world.cases["M5"], date(2026, 11, 15))
    _pay(engine, world.cases["M2"], 50_000, date(2026, 11, 7))  # never placed
    with transaction(engine) as session:
        table = league(session, *NOVEMBER, principal=MANAGER)
    got = [(r.agency, r.rank, r.cases, r.due_at_start, r.recovered, r.recovery_rate,
            r.violations) for r in table.rows]  # fmt: skip
    assert got == [
        ("AG1", 1, 1, "20000.00", "2000.00", 0.1, 0),
        ("AG2", 2, 1, "50000.00", "1000.00", 0.02, 1),
    ]


def test_an_agency_user_sees_its_own_row_only(engine: Engine, world: World) -> None:
    _place(engine, world, "M4", "AG1")
    _place(engine, world, "M5", "AG2")
    with transaction(engine) as session:
        mine = league(session, *NOVEMBER, principal=world.agency)
        with pytest.raises(PermissionDenied):
            league(session, *NOVEMBER, principal=world.collector)
        with pytest.raises(InvalidInput, match="from must not be after to"):
            league(session, date(2026, 12, 1), date(2026, 11, 1))
    assert [r.agency for r in mine.rows] == ["AG1"]


def test_no_placements_no_rows(engine: Engine, world: World) -> None:
    with transaction(engine) as session:
        assert league(session, *NOVEMBER).rows == []
