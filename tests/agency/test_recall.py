"""Recall (退案): at the period's end, early on breach, by hand — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select

from cuishou.agency.config import AgencySettings, default_settings
from cuishou.agency.rules import RecallThresholds
from cuishou.agency.service.placing import create_placement, show_placement
from cuishou.agency.service.recall import recall_due, recall_manual
from cuishou.cases.service import assign_cases
from cuishou.kit.errors import InvalidInput, NotFound
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Alert, Case, ContactHold, Event
from tests.agency.world import MANAGER, PLACED_ON, World, at, build
from tests.factories import NOW, make_payment

END = PLACED_ON + timedelta(days=29)  # a 30-day period


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def _place(engine: Engine, world: World, *buckets: str) -> int:
    with transaction(engine) as session:
        return create_placement(
            session, agency="AG1", as_of=PLACED_ON, days=30,
            candidates={world.cases[b] for b in buckets}, actor="boss", now=at(PLACED_ON),
        ).id  # fmt: skip


def _settings(**recall: object) -> AgencySettings:
    shipped = default_settings()
    return AgencySettings(
        recall=RecallThresholds(**recall),  # type: ignore[arg-type]
        default_schedule=shipped.default_schedule,
        schedules={},
    )


LENIENT = _settings(min_recovery_rate=None)


def _recall(engine: Engine, day: date, settings: AgencySettings = LENIENT) -> dict[str, int]:
    with transaction(engine) as session:
        return recall_due(session, day, now=at(day), settings=settings).by_reason


def _case(engine: Engine, case_id: int) -> Case:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.expunge(case)
        return case


def test_cases_come_back_the_day_after_their_period_ends(engine: Engine, world: World) -> None:
    placement_id = _place(engine, world, "M4", "M5")
    assert _recall(engine, END) == {}  # the last day: still placed
    assert _recall(engine, END + timedelta(days=3)) == {"period_end": 2}
    assert _recall(engine, END + timedelta(days=4)) == {}  # run twice: nothing more
    case = _case(engine, world.cases["M4"])
    assert case.agency_id is None and case.assigned_user_id is None and case.team_id is None
    with transaction(engine) as session:
        shown = show_placement(session, placement_id)
        events = session.scalars(
            select(Event.type).where(Event.case_id == world.cases["M4"]).order_by(Event.id)
        ).all()
    assert shown.status == "ended" and shown.ended_on == END + timedelta(days=3)
    assert shown.placed_cases is not None
    assert {(c.recalled_on, c.recall_reason) for c in shown.placed_cases} == {
        (END + timedelta(days=1), "period_end")
    }
    assert events == ["case.placed", "case.assigned", "case.recalled", "case.assigned"]


def test_a_case_given_in_house_by_hand_meanwhile_keeps_its_collector_at_recall(
    engine: Engine, world: World
) -> None:
    _place(engine, world, "M4", "M5")
    with transaction(engine) as session:
        assign_cases(
            session, MANAGER, [world.cases["M4"]], collector=world.collector.username,
            now=at(PLACED_ON + timedelta(days=2)),
        )  # fmt: skip
    assert _recall(engine, END + timedelta(days=1)) == {"period_end": 2}
    kept, back = _case(engine, world.cases["M4"]), _case(engine, world.cases["M5"])
    assert kept.assigned_user_id == world.collector.user_id and kept.agency_id is None
    assert back.assigned_user_id is None and back.agency_id is None
    with transaction(engine) as session:
        assigned = session.scalars(
            select(Event.payload)
            .where(Event.case_id == world.cases["M4"], Event.type == "case.assigned")
            .order_by(Event.id)
        ).all()
    # placed (to the agency), given by hand; the recall writes no third assignment
    assert [a["to"] for a in assigned] == [None, world.collector.username]


def test_a_compliance_violation_while_placed_recalls_the_case(engine: Engine, world: World) -> None:
    _place(engine, world, "M4", "M5")
    day = PLACED_ON + timedelta(days=5)
    with transaction(engine) as session:
        for raised_on in (PLACED_ON - timedelta(days=3), day):  # one before placement: ignored
            case_id = world.cases["M4"] if raised_on == day else world.cases["M5"]
            session.add(Alert(case_id=case_id, kind="compliance_violation", raised_on=raised_on,
                              status="open", details={}, created_at=NOW))  # fmt: skip
    assert _recall(engine, day) == {"compliance_violation": 1}
    assert _case(engine, world.cases["M4"]).agency_id is None
    assert _case(engine, world.cases["M5"]).agency_id is not None
    assert _recall(engine, day, _settings(on_violation=False, min_recovery_rate=None)) == {}


def test_a_complaint_recorded_while_placed_recalls_the_case(engine: Engine, world: World) -> None:
    _place(engine, world, "M4", "M5")
    day = PLACED_ON + timedelta(days=7)
    debtor_id = _case(engine, world.cases["M5"]).debtor_id
    with transaction(engine) as session:
        session.add(ContactHold(debtor_id=debtor_id, case_id=None, kind="complaint",
                                reason="投诉", opened_at=at(day), opened_by="qa"))  # fmt: skip
    assert _recall(engine, day, _settings(on_complaint=False, min_recovery_rate=None)) == {}
    assert _recall(engine, day) == {"complaint": 1}
    assert _case(engine, world.cases["M5"]).agency_id is None


def test_a_placement_under_the_recovery_threshold_comes_back_after_n_days(
    engine: Engine, world: World
) -> None:
    # given M4 (20,000 yuan) and M5 (50,000 yuan) placed; 1,000 yuan paid on M4 on day 3:
    # the placement recovered 1,000 / 70,000 = 1.4%
    _place(engine, world, "M4", "M5")
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == world.cases["M4"])).one()
        make_payment(session, account=account, amount_fen=100_000,
                     paid_at=at(PLACED_ON + timedelta(days=3)))  # fmt: skip
    strict = _settings(performance_after_days=20, min_recovery_rate=Decimal("0.02"))
    generous = _settings(performance_after_days=20, min_recovery_rate=Decimal("0.01"))
    assert _recall(engine, PLACED_ON + timedelta(days=19), strict) == {}  # too early to judge
    assert _recall(engine, PLACED_ON + timedelta(days=20), generous) == {}  # 1.4% ≥ 1%
    assert _recall(engine, PLACED_ON + timedelta(days=20), strict) == {"performance": 2}


def test_a_manual_recall_needs_a_reason_and_returns_the_cases(engine: Engine, world: World) -> None:
    placement_id = _place(engine, world, "M4", "M5")
    day = PLACED_ON + timedelta(days=2)
    with transaction(engine) as session:
        with pytest.raises(InvalidInput, match="reason"):
            recall_manual(session, placement_id, as_of=day, reason="  ", actor="boss", now=at(day))
        with pytest.raises(NotFound):
            recall_manual(session, 999, as_of=day, reason="x", actor="boss", now=at(day))
        with pytest.raises(InvalidInput, match="not placed"):
            recall_manual(session, placement_id, as_of=day, reason="x",
                          case_ids=[world.cases["M2"]], actor="boss", now=at(day))  # fmt: skip
        out = recall_manual(
            session, placement_id, as_of=day, reason="creditor asked", actor="boss", now=at(day),
            case_ids=[world.cases["M4"]], principal=MANAGER,
        )  # fmt: skip
        shown = show_placement(session, placement_id)
    assert out.by_reason == {"manual": 1} and out.placements_ended == []
    assert shown.still_placed == 1
    assert shown.placed_cases is not None
    recalled = [c for c in shown.placed_cases if c.recalled_on is not None]
    assert [(c.case_id, c.recall_reason, c.recall_note) for c in recalled] == [
        (world.cases["M4"], "manual", "creditor asked")
    ]
    assert _case(engine, world.cases["M4"]).agency_id is None
