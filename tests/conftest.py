"""Shared fixtures: a migrated, empty store on SQLite and on PostgreSQL.

Every store test takes the ``db_url`` or ``engine`` fixture and so runs twice, once
per store. PostgreSQL comes from ``CUISHOU_TEST_DATABASE_URL`` (``make test`` and
``.ci/run`` start a throwaway server with ``scripts/pg-test-server``); each test gets
its own schema, dropped afterwards. With ``CUISHOU_REQUIRE_POSTGRES=1`` (CI) a
missing PostgreSQL fails the run instead of skipping.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import settings
from sqlalchemy import Engine, create_engine, text

from cuishou.store.db import make_engine, upgrade

#: the one Chromium fixture (``browser``) for every module that drives pages
pytest_plugins = ["tests.chromium"]

# Property tests judge correctness, not speed: a per-example deadline only fails them when the
# machine is busy (CI, two xdist workers, another process), so no test has one.
settings.register_profile("cuishou", deadline=None)
settings.load_profile("cuishou")

PG_URL = os.environ.get("CUISHOU_TEST_DATABASE_URL", "")
REQUIRE_PG = os.environ.get("CUISHOU_REQUIRE_POSTGRES") == "1"
STORES = ["sqlite", "postgresql"]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated SQLite file per worker; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _pg_schema_url(base: str, schema: str) -> str:
    sep = "&" if "?" in base else "?"
    return f"{base}{sep}options={quote(f'-csearch_path={schema}')}"


@pytest.fixture(params=STORES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path, _sqlite_template: Path) -> Iterator[str]:
    """URL of a migrated, empty store (SQLite file or a fresh PostgreSQL schema)."""
    if request.param == "sqlite":
        path = tmp_path / "cuishou.db"
        shutil.copyfile(_sqlite_template, path)
        yield f"sqlite:///{path}"
        return
    if not PG_URL:
        if REQUIRE_PG:
            pytest.fail("CUISHOU_TEST_DATABASE_URL is not set but PostgreSQL is required")
        pytest.skip("PostgreSQL not configured (set CUISHOU_TEST_DATABASE_URL)")
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = _pg_schema_url(PG_URL, schema)
    engine = make_engine(url)
    upgrade(engine)
    engine.dispose()
    try:
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def engine(db_url: str) -> Iterator[Engine]:
    engine = make_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def store_env(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Point ``CUISHOU_DATABASE_URL`` at the test store (for CLI tests)."""
    monkeypatch.setenv("CUISHOU_DATABASE_URL", db_url)
    return db_url
