"""The app on the test store with a clock the test moves, and a private data dir."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.visits.factories import NOW
from tests.web.factories import Clock


@pytest.fixture
def clock() -> Clock:
    return Clock(now=NOW)


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=clock))) as test_client:
        yield test_client


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Visit files go to the test's own data dir (``CUISHOU_DATA_DIR``)."""
    monkeypatch.setenv("CUISHOU_DATA_DIR", str(tmp_path / "data"))
    return tmp_path / "data"
