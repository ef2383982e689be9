"""Engine and session: SQLite (WAL) by default, PostgreSQL via ``CUISHOU_DATABASE_URL``.

Services never commit: the edge (a CLI command, an API request) opens one
transaction with :func:`transaction` and commits once.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import QueuePool

from cuishou.kit.errors import ConfigError, StoreNotReady

DEFAULT_URL = "sqlite:///./cuishou.db"
MIGRATIONS = Path(__file__).parent / "migrations"

#: Execution option of a unit of work that will write. On SQLite its transaction begins
#: ``BEGIN IMMEDIATE`` (the write lock is taken at the start, never by upgrading a read);
#: PostgreSQL ignores it. See :func:`writer_engine` and docs/adr/0012.
WRITER_OPTION = "cuishou_writer"
#: SQLite connections: as many as the web server has worker threads (anyio's default, 40).
SQLITE_POOL_SIZE = 40


def database_url(url: str | None = None) -> str:
    """The store URL: explicit, else ``CUISHOU_DATABASE_URL``, else ``./cuishou.db``."""
    chosen = url or os.environ.get("CUISHOU_DATABASE_URL") or DEFAULT_URL
    if chosen.startswith("postgresql://") or chosen.startswith("postgres://"):
        # psycopg 3 is the driver we ship; accept the plain libpq spelling.
        chosen = "postgresql+psycopg://" + chosen.split("://", 1)[1]
    return chosen


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    """Writers begin IMMEDIATE; readers keep the driver's lazy transactions."""
    if connection.get_execution_options().get(WRITER_OPTION):
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def _in_memory(url: URL) -> bool:
    database = url.database or ""
    return database in ("", ":memory:") or url.query.get("mode") == "memory"


def make_engine(url: str | None = None, **kwargs: Any) -> Engine:
    resolved = database_url(url)
    try:
        parsed = make_url(resolved)
    except Exception as exc:
        # not echoed: a mistyped URL may still hold a password
        raise ConfigError(
            "CUISHOU_DATABASE_URL is not a database URL "
            "(expected sqlite:///PATH or postgresql://USER:PASSWORD@HOST:PORT/DATABASE)"
        ) from exc
    if parsed.get_backend_name() == "sqlite":
        if not _in_memory(parsed):
            kwargs = {"pool_size": SQLITE_POOL_SIZE, "max_overflow": 0, **kwargs}
        # hide_parameters: statement parameters (ID numbers, phones, notes) never reach an
        # error message or a log
        engine = create_engine(resolved, hide_parameters=True, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        return create_engine(resolved, pool_pre_ping=True, hide_parameters=True, **kwargs)
    raise ConfigError(
        f"unsupported store {parsed.get_backend_name()!r}: use sqlite:///PATH or postgresql://..."
    )


def is_sqlite(engine: Engine) -> bool:
    return engine.dialect.name == "sqlite"


def pool_capacity(engine: Engine) -> int | None:
    """How many connections ``engine``'s pool gives out before callers wait; ``None`` when
    it never makes anyone wait (an in-memory SQLite store, a pool without a limit)."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    overflow: int = pool._max_overflow  # QueuePool has no public getter
    return None if overflow < 0 else pool.size() + overflow


def writer_engine(engine: Engine) -> Engine:
    """``engine`` for units of work that will write.

    On SQLite their transactions begin ``BEGIN IMMEDIATE``: the one write lock is taken
    before the first read, so a writer never reads a snapshot it then cannot write on, and
    one that has to wait for another process's writer waits (``busy_timeout``) at its start.
    On PostgreSQL it is ``engine`` itself.
    """
    if is_sqlite(engine):
        return engine.execution_options(**{WRITER_OPTION: True})
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any error."""
    with session_factory(engine)() as session, session.begin():
        yield session


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def upgrade(engine: Engine) -> str:
    """Create or migrate the store to the newest schema; returns the revision."""
    command.upgrade(alembic_config(engine), "head")
    return current_revision(engine) or ""


def head_revision() -> str:
    script = ScriptDirectory(str(MIGRATIONS))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def require_current(engine: Engine) -> None:
    """Refuse to work on a store that is missing or not migrated."""
    if current_revision(engine) != head_revision():
        raise StoreNotReady(
            "the store is not initialised or not migrated to this version; run `cuishou init`"
        )


def adbc_uri(engine: Engine) -> tuple[str, str]:
    """(driver, uri) for the ADBC bulk path used by ``engine/io.py`` and imports."""
    url: URL = engine.url
    backend = url.get_backend_name()
    if backend == "sqlite":
        database = url.database or ""
        if database in ("", ":memory:"):
            raise ConfigError("bulk I/O needs a file-backed SQLite store, not :memory:")
        return "sqlite", str(Path(database).resolve())
    if backend == "postgresql":
        plain = url.set(drivername="postgresql")
        return "postgresql", plain.render_as_string(hide_password=False)
    raise ConfigError(f"no bulk path for store {backend!r}")
