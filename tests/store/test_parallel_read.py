"""A read on several connections sees one state of the store, and gives what one connection
gives (``BulkStore.read_parallel``)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest
from sqlalchemy import Engine

from cuishou.store.bulk import BulkStore, ParallelRead, Query

TEAMS = {"id": pl.Int64(), "name": pl.String()}


def _add_team(engine: Engine, name: str) -> None:
    with BulkStore(engine).write() as bulk:
        bulk.execute(
            "INSERT INTO teams (name, created_at) VALUES (:name, :at)",
            name=name,
            at=datetime(2026, 11, 1, tzinfo=UTC),
        )


def _queries() -> dict[str, Query]:
    return {
        "teams": Query("SELECT id, name FROM teams ORDER BY id", TEAMS),
        "named": Query(
            "SELECT id, name FROM teams WHERE name LIKE :prefix ORDER BY id",
            TEAMS,
            {"prefix": "B%"},
        ),
        "count": Query("SELECT COUNT(*) AS id, 'n' AS name FROM teams", TEAMS),
    }


@pytest.fixture
def teams(engine: Engine) -> Engine:
    for name in ("A-team", "B-team", "B-second"):
        _add_team(engine, name)
    return engine


def test_side_by_side_reads_give_what_one_connection_gives(teams: Engine) -> None:
    with BulkStore(teams).read() as bulk:
        one = bulk.fetch_many(_queries())
    with BulkStore(teams).read_parallel(3) as bulk:
        assert isinstance(bulk, ParallelRead) and len(bulk.readers) == 3
        many = bulk.fetch_many(_queries())
    assert list(many) == list(one)
    for name in one:
        assert many[name].equals(one[name])
    assert many["named"].get_column("name").to_list() == ["B-team", "B-second"]


def test_every_connection_sees_the_state_at_the_start(teams: Engine) -> None:
    store = BulkStore(teams)
    with store.read_parallel(2) as bulk:
        _add_team(teams, "B-meanwhile")  # another connection commits
        seen = bulk.fetch_many(_queries())
    # each query ran on its own connection (lanes), and none saw the commit
    assert seen["count"].item(0, "id") == 3
    assert "B-meanwhile" not in seen["teams"].get_column("name").to_list()
    assert seen["named"].get_column("name").to_list() == ["B-team", "B-second"]
    with store.read() as bulk:
        assert bulk.fetch_many(_queries())["count"].item(0, "id") == 4


def test_a_running_writer_makes_it_one_connection_not_a_wait(teams: Engine) -> None:
    """SQLite: the readers cannot be lined up on one snapshot while a writer holds the lock;
    the read then runs on one connection (still one snapshot) instead of waiting."""
    store = BulkStore(teams)
    if not store.sqlite:
        pytest.skip("PostgreSQL readers share an exported snapshot; no lock is taken")
    with store.write() as writer:
        writer.execute("UPDATE teams SET name = name")
        with store.read_parallel(2) as bulk:
            assert len(bulk.readers) == 1  # type: ignore[attr-defined]
            assert bulk.fetch_many(_queries())["count"].item(0, "id") == 3
