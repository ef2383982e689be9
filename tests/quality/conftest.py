"""An app on the test store (SQLite and PostgreSQL) with a clock the test controls."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.web.factories import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    app = create_app(engine, WebSettings(clock=clock))
    with TestClient(app) as test_client:
        yield test_client
