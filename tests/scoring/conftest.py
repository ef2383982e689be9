"""Fixtures of the scoring API and page tests: the role world and its scored cases."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine

from tests.scoring.scored import Scored, score_cases
from tests.web.world import World, build_world


@pytest.fixture
def world(engine: Engine) -> World:
    return build_world(engine)  # its people include a strategist with a token


@pytest.fixture
def scored(engine: Engine, world: World) -> Scored:
    """col_a's six cases and col_b's one, scored by a real scorecard on two days."""
    return score_cases(
        engine,
        col_a=world.users["col_a"],
        team_a=world.team_a,
        col_b=world.users["col_b"],
        team_b=world.team_b,
    )
