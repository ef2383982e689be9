"""The daily cycle recalls placed cases due back before the day is planned."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine, select

from cuishou.agency.service.placing import create_placement
from cuishou.engine.runner import run_daily_cycle
from cuishou.store.db import transaction
from cuishou.store.tables import Case
from tests.agency.world import PLACED_ON, at, build


def test_the_daily_cycle_recalls_cases_whose_period_ended(engine: Engine) -> None:
    world = build(engine)
    with transaction(engine) as session:
        create_placement(
            session, agency="AG1", as_of=PLACED_ON, days=30, candidates={world.cases["M4"]},
            actor="boss", now=at(PLACED_ON),
        )  # fmt: skip
    during = run_daily_cycle(engine, date(2026, 11, 30), now=at(date(2026, 11, 30)),
                             scoring=False, strategy=False)  # fmt: skip
    after = run_daily_cycle(engine, date(2026, 12, 1), now=at(date(2026, 12, 1)),
                            scoring=False, strategy=False)  # fmt: skip
    skipped = run_daily_cycle(engine, date(2026, 12, 2), now=at(date(2026, 12, 2)),
                              scoring=False, strategy=False, agency=False)  # fmt: skip
    assert during.agency is not None and during.agency["recalled"] == 0
    assert after.agency is not None and after.agency["by_reason"] == {"period_end": 1}
    assert after.to_json()["agency"]["recalled"] == 1
    assert skipped.agency is None
    with transaction(engine) as session:
        agency_id = session.scalar(select(Case.agency_id).where(Case.id == world.cases["M4"]))
    assert agency_id is None
