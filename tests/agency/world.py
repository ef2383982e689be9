"""A small shop for the agency tests: two agencies with a user each, an in-house collector,
cases in several buckets, a manager."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from pathlib import Path

from sqlalchemy import Engine

from cuishou.auth.rules import Principal
from cuishou.store.db import transaction
from cuishou.store.tables import User
from tests.web.factories import make_agency, make_case, make_team, make_user

MANAGER = Principal(user_id=1, username="boss", role="manager", team_id=None, agency_id=None)
PLACED_ON = date(2026, 11, 1)


def at(day: date, hour: int = 4) -> datetime:
    """A moment on ``day`` (UTC ``hour``: noon in Beijing by default)."""
    return datetime.combine(day, time(hour), tzinfo=UTC)


def principal(user: User) -> Principal:
    return Principal(
        user_id=user.id, username=user.username, role=user.role, team_id=user.team_id,
        agency_id=user.agency_id,
    )  # fmt: skip


@dataclass
class World:
    agency: Principal
    other_agency: Principal
    collector: Principal
    #: bucket -> case id (M2, M4, M5, M7+)
    cases: dict[str, int]


def build(engine: Engine) -> World:
    with transaction(engine) as session:
        ag1, ag2 = make_agency(session, code="AG1"), make_agency(session, code="AG2")
        team = make_team(session)
        collector = make_user(session, team=team)
        cases: dict[str, int] = {}
        for bucket, dpd, due, tier in (
            ("M2", 45, 300_000, "small"),
            ("M4", 100, 2_000_000, "medium"),
            ("M5", 130, 5_000_000, "large"),
            ("M7+", 400, 800_000, "small"),
        ):
            case = make_case(session, assigned=collector, bucket=bucket, dpd=dpd, due_fen=due,
                             amount_tier=tier)  # fmt: skip
            cases[bucket] = case.id
        return World(
            agency=principal(make_user(session, role="agency", agency=ag1)),
            other_agency=principal(make_user(session, role="agency", agency=ag2)),
            collector=principal(collector),
            cases=cases,
        )


def rule_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rule.yaml"
    path.write_text(text, encoding="utf-8")
    return path
