"""One active agreement per case, on both stores: the store refuses a second pending request
or a second running plan on a case; two requests at the same moment on one case make one
agreement; a store from before (several active agreements on a case) migrates with the older
ones withdrawn or superseded, money untouched, each with an event."""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Engine, func, insert, select
from sqlalchemy.exc import IntegrityError

from cuishou.agreements import service
from cuishou.agreements.schemas import AgreementIn
from cuishou.auth.rules import Principal
from cuishou.kit.errors import Conflict
from cuishou.store.db import alembic_config, transaction
from cuishou.store.tables import Agreement, Case, Event
from tests.factories import NOW
from tests.web.factories import make_case, make_team, make_user

FIRST_DUE = NOW.date() + timedelta(days=10)


def _row(case_id: int, user_id: int, status: str, minutes: int = 0) -> dict[str, Any]:
    return {
        "case_id": case_id, "kind": "deferral", "status": status, "owed_fen": 100_000,
        "excess_interest_fen": 0, "agreed_fen": 100_000, "waived_fee_fen": 0,
        "waived_penalty_fen": 0, "waived_interest_fen": 0, "waived_principal_fen": 0,
        "waiver_share_bp": 0, "required_level": "collector", "terms": {},
        "requested_by": user_id, "requested_at": NOW + timedelta(minutes=minutes),
        "decision_reason": "", "break_after_days": 30, "reinstate_on_break": True,
    }  # fmt: skip


def _case_and_collector(engine: Engine) -> tuple[int, Principal]:
    with transaction(engine) as session:
        team = make_team(session)
        collector = make_user(session, username="col_x", team=team)
        case = make_case(session, assigned=collector, team=team, due_fen=1_000_000)
        principal = Principal(
            user_id=collector.id, username="col_x", role="collector", team_id=team.id,
            agency_id=None,
        )  # fmt: skip
        return case.id, principal


def test_the_store_holds_one_pending_request_and_one_running_plan_per_case(
    engine: Engine,
) -> None:
    case_id, collector = _case_and_collector(engine)
    # a running plan and a pending amendment of it: the one state with two active
    with transaction(engine) as session:
        rows = [_row(case_id, collector.user_id, s) for s in ("approved", "requested")]
        session.execute(insert(Agreement), rows)
    # a second pending request, or a second running plan, is refused by the store itself
    for status in ("requested", "approved"):
        with pytest.raises(IntegrityError), transaction(engine) as session:
            session.execute(insert(Agreement), [_row(case_id, collector.user_id, status)])
    # ended agreements are not limited
    with transaction(engine) as session:
        for status in ("rejected", "withdrawn", "superseded", "broken", "completed"):
            session.execute(insert(Agreement), [_row(case_id, collector.user_id, status)] * 2)
        assert session.scalar(select(func.count()).select_from(Agreement)) == 12


def test_two_requests_at_the_same_moment_on_one_case_make_one_agreement(
    engine: Engine,
) -> None:
    # given a case and a collector asking twice at once (two browser tabs, a double click)
    case_id, collector = _case_and_collector(engine)
    data = AgreementIn(kind="deferral", first_due=FIRST_DUE)
    outcomes: list[object] = []
    barrier = threading.Barrier(2)

    def ask() -> None:
        try:
            barrier.wait(timeout=30)
            with transaction(engine) as session:
                made = service.request_agreement(session, collector, case_id, data, now=NOW)
            outcomes.append(made.id)
        except BaseException as exc:  # collected and judged in the test thread
            outcomes.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then exactly one is made; the other is told which agreement is active
    made = [o for o in outcomes if isinstance(o, int)]
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(made) == 1 and len(refused) == 1, outcomes
    assert refused[0].http_status == 409
    assert f"agreement {made[0]}" in refused[0].message or "same moment" in refused[0].message
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Agreement)) == 1


def test_a_store_with_several_active_agreements_on_a_case_migrates(engine: Engine) -> None:
    # given a store from before the rule: case A with three pending requests, case B with
    # two running plans
    # (its people and cases made at head, where the ORM's columns exist, then taken back)
    config = alembic_config(engine)
    with transaction(engine) as session:
        team = make_team(session)
        user = make_user(session, username="col_m", team=team)
        case_a = make_case(session, assigned=user, team=team).id
        case_b = make_case(session, assigned=user, team=team).id
        due_before = dict(session.execute(select(Case.id, Case.due_fen)).all())
    command.downgrade(config, "0007")  # the revision before 0008
    rows = [
        _row(case_a, user.id, "requested", 1), _row(case_a, user.id, "requested", 3),
        _row(case_a, user.id, "requested", 2), _row(case_b, user.id, "approved", 1),
        _row(case_b, user.id, "approved", 2), _row(case_b, user.id, "rejected", 3),
    ]  # fmt: skip
    with engine.begin() as connection:
        ids = [
            connection.execute(insert(Agreement).returning(Agreement.id), [row]).scalar_one()
            for row in rows
        ]
    # when it is upgraded
    command.upgrade(config, "head")
    # then the newest of each stays active, the older are ended with an event each
    with transaction(engine) as session:
        statuses = dict(session.execute(select(Agreement.id, Agreement.status)).all())
        events = {
            e.entity_id: (e.type, e.actor, e.payload)
            for e in session.scalars(select(Event).where(Event.type.like("agreement.%")))
        }
        due_after = dict(session.execute(select(Case.id, Case.due_fen)).all())
    assert [statuses[i] for i in ids] == [
        "withdrawn", "requested", "withdrawn", "superseded", "approved", "rejected",
    ]  # fmt: skip
    assert events[ids[0]][:2] == ("agreement.withdrawn", "system:migration-0008")
    assert events[ids[3]][0] == "agreement.superseded"
    assert events[ids[3]][2]["by"] == ids[4] and events[ids[3]][2]["reinstated"] == "0.00"
    assert set(events) == {ids[0], ids[2], ids[3]}
    assert due_after == due_before  # nothing about money changed
    # and from now on the store holds the rule
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.execute(insert(Agreement), [_row(case_a, user.id, "requested")])
