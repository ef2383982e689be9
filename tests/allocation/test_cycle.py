"""The daily cycle allocates after its strategy step when the allocation settings enable it
(as their ``run_as``), and not otherwise."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select

from cuishou.allocation.config import CONFIG_ENV
from cuishou.engine.runner import run_daily_cycle
from cuishou.store.db import transaction
from cuishou.store.tables import AllocationBatch, Case
from tests.factories import NOW
from tests.web.factories import make_case, make_team, make_user

AS_OF = date(2026, 11, 1)


def _store(engine: Engine) -> None:
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        make_user(session, username="col_a", team=team)
        make_user(session, username="boss", role="manager")
        for _ in range(3):
            make_case(session)


def _unassigned(engine: Engine) -> int:
    with transaction(engine) as session:
        query = select(func.count()).select_from(Case).where(Case.assigned_user_id.is_(None))
        return int(session.scalar(query) or 0)


def test_the_cycle_allocates_when_the_settings_enable_it(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _store(engine)
    settings = tmp_path / "allocation.yaml"
    settings.write_text("enabled_in_daily_cycle: true\nrun_as: boss\n", encoding="utf-8")
    monkeypatch.setenv(CONFIG_ENV, str(settings))
    result = run_daily_cycle(engine, AS_OF, now=NOW, scoring=False, strategy=False)
    assert result.allocation is not None
    assert result.to_json()["allocation"]["assigned"] == 3
    assert _unassigned(engine) == 0


def test_the_cycle_leaves_allocation_alone_by_default(engine: Engine) -> None:
    _store(engine)
    result = run_daily_cycle(engine, AS_OF, now=NOW, scoring=False, strategy=False)
    assert result.allocation is None and "allocation" not in result.to_json()
    assert _unassigned(engine) == 3
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(AllocationBatch)) == 0
