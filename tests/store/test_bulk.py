"""Bulk staging leaves no personal data behind, even when the process is killed (SQLite)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine

from cuishou.store.bulk import SessionBulk, scratch_directory
from cuishou.store.db import make_engine, transaction, upgrade

ID_NUMBER = "110101199003071234"

#: a process that starts staging personal data the way an import does, then is killed
HOLDER = """
import os, sys, time
from pathlib import Path
from cuishou.store.bulk import scratch_directory
path = scratch_directory(Path(sys.argv[1])) / f"{os.getpid()}-cuishou_stage_contacts_x.db"
fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
os.write(fd, sys.argv[2].encode())
print(path, flush=True)
time.sleep(60)
"""


def _store(tmp_path: Path) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'cuishou.db'}")
    upgrade(engine)
    return engine


def test_staging_writes_only_into_a_private_directory_and_leaves_nothing(tmp_path: Path) -> None:
    engine = _store(tmp_path)
    before = set(Path(tempfile.gettempdir()).glob("cuishou_stage*"))
    with transaction(engine) as session:
        bulk = SessionBulk(session)
        staged = bulk.stage("contacts", pl.DataFrame({"id_number": [ID_NUMBER] * 3}))
        rows = bulk.fetch(f"SELECT id_number FROM {staged}", {"id_number": pl.String()})
        assert rows.height == 3
    directory = scratch_directory(tmp_path / "cuishou.db")
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    assert list(directory.iterdir()) == []
    assert set(Path(tempfile.gettempdir()).glob("cuishou_stage*")) == before
    engine.dispose()


@pytest.mark.skipif(sys.platform != "linux", reason="kill -9 of a child process")
def test_a_killed_import_leaves_a_private_file_that_the_next_run_removes(tmp_path: Path) -> None:
    engine = _store(tmp_path)
    database = tmp_path / "cuishou.db"
    # given a process killed with -9 while it held a scratch file of personal data
    child = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(database), ID_NUMBER],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    left = Path(child.stdout.readline().strip())
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    # then what it left is readable by its owner only, inside the private directory
    assert left.exists() and left.parent == tmp_path / ".cuishou.db.stage"
    assert stat.S_IMODE(left.stat().st_mode) == 0o600
    assert stat.S_IMODE(left.parent.stat().st_mode) == 0o700
    # and the next bulk session removes it
    deadline = time.monotonic() + 5
    while left.exists() and time.monotonic() < deadline:
        with transaction(engine) as session:
            SessionBulk(session).stage("again", pl.DataFrame({"x": [1]}))
    assert not left.exists()
    engine.dispose()
