"""SQLite writers take the write lock when their transaction begins (``BEGIN IMMEDIATE``),
readers do not; PostgreSQL writers are ordinary sessions (they wait on row locks)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Engine, func, select

from cuishou.store.db import pool_capacity, session_factory, writer_engine
from cuishou.store.tables import User


def _can_write_meanwhile(engine: Engine) -> bool:
    """Whether another connection (another process, say) could start writing right now."""
    other = sqlite3.connect(str(engine.url.database), timeout=0)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.rollback()
        return True
    except sqlite3.OperationalError as exc:
        assert "locked" in str(exc)
        return False
    finally:
        other.close()


def test_a_sqlite_writer_holds_the_write_lock_from_its_first_read(engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        assert writer_engine(engine) is engine
        pytest.skip("PostgreSQL writers wait on row locks, not on one write lock")

    with session_factory(engine)() as reader:
        reader.scalar(select(func.count()).select_from(User))
        assert _can_write_meanwhile(engine)

    with session_factory(writer_engine(engine))() as writer:
        writer.scalar(select(func.count()).select_from(User))
        assert not _can_write_meanwhile(engine)
        writer.commit()
    assert _can_write_meanwhile(engine)


def test_the_pool_size_is_known_so_requests_can_wait_for_it_outside_threads(
    engine: Engine,
) -> None:
    expected = 40 if engine.dialect.name == "sqlite" else 15
    assert pool_capacity(engine) == expected
