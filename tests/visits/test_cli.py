"""``cuishou visits …``: from the strategy's planned visit step to a recorded visit with a
photo, on both stores; refusals are one clear line, never a traceback."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Contact, Visit
from tests.factories import make_planned
from tests.visits.factories import VisitWorld, visit_world

runner = CliRunner()
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 100


def _ok(args: list[str]) -> Any:
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def _plan_a_visit(store_env: str) -> VisitWorld:
    engine = make_engine(store_env)
    vw = visit_world(engine)
    with transaction(engine) as session:
        make_planned(
            session,
            [(date(2030, 6, 4), vw.case_id, "visit", "planned", vw.address_id)],
            created_at=datetime(2026, 10, 1, tzinfo=UTC),
        )
    engine.dispose()
    return vw


def test_a_planned_visit_is_imported_scheduled_routed_and_recorded(
    store_env: str, tmp_path: Path, data_dir: Path
) -> None:
    vw = _plan_a_visit(store_env)

    imported = _ok(["visits", "import-plan", "--day", "2030-06-04", "--as", "lead_a"])
    assert (imported["created"], imported["already"]) == (1, 0)
    assert _ok(["visits", "import-plan", "--day", "2030-06-04", "--as", "lead_a"])["already"] == 1
    (visit,) = _ok(["visits", "list", "--as", "lead_a", "--status", "requested"])
    assert visit["source"] == "strategy" and visit["case_id"] == vw.case_id

    # the wall clock is never read for the verdict: the visit day is years ahead
    refused = runner.invoke(app, ["visits", "schedule", str(visit["id"]), "--as", "lead_a",
                                  "--day", "2030-06-05", "--from", "10:00", "--to", "11:00",
                                  "--collector", "col_a"])  # fmt: skip
    assert refused.exit_code != 0 and "CN-14" in refused.output
    assert "Traceback" not in refused.output
    scheduled = _ok(["visits", "schedule", str(visit["id"]), "--as", "lead_a", "--day",
                     "2030-06-05", "--from", "10:00", "--to", "11:00", "--collector", "col_a",
                     "--collector", "col_a2"])  # fmt: skip
    assert scheduled["status"] == "scheduled"

    (route,) = _ok(["visits", "route", "--as", "lead_a", "--day", "2030-06-05"])
    assert [s["visit_id"] for s in route["stops"]] == [visit["id"]]

    # the visit took place (its day moved to a fixed past day: the CLI reads the real clock)
    engine = make_engine(store_env)
    with transaction(engine) as session:
        stored = session.get(Visit, visit["id"])
        assert stored is not None
        stored.day = date(2026, 11, 1)
        stored.window_start = datetime(2026, 11, 1, 6, tzinfo=UTC)
        stored.window_end = datetime(2026, 11, 1, 8, tzinfo=UTC)
    engine.dispose()
    photo = tmp_path / "door.jpg"
    photo.write_bytes(JPEG)
    recorded = _ok(["visits", "record", str(visit["id"]), "--as", "col_a2", "--outcome",
                    "no_answer", "--at", "2026-11-01T14:30:00+08:00", "--met", "王五:neighbour",
                    "--notes", "无人在家，邻居称白天上班", "--file", str(photo)])  # fmt: skip
    assert recorded["visit"]["status"] == "done"
    assert recorded["files"][0]["content_type"] == "image/jpeg"
    engine = make_engine(store_env)
    with transaction(engine) as session:
        stored = session.get(Visit, visit["id"])
        assert stored is not None and stored.contact_id == recorded["contact_id"]
        contact = session.scalars(select(Contact).where(Contact.case_id == vw.case_id)).one()
        assert (contact.channel, contact.outcome) == ("visit", "no_answer")
    engine.dispose()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["visits", "schedule", "1", "--as", "lead_a", "--day", "2030-06-05", "--from", "9h",
          "--to", "11:00", "--collector", "col_a"], "--from"),
        (["visits", "route", "--as", "nobody"], "no active user"),
        (["visits", "record", "99", "--as", "col_a", "--outcome", "promise", "--met", "x:"],
         "--met"),
        (["visits", "record", "99", "--as", "col_a", "--outcome", "flew_away"], "outcome"),
        (["visits", "request", "424242", "--as", "col_a"], "not found"),
    ],
)  # fmt: skip
def test_bad_input_is_one_clear_line(store_env: str, args: list[str], words: str) -> None:
    engine = make_engine(store_env)
    visit_world(engine)
    engine.dispose()
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert words in result.output and "Traceback" not in result.output
