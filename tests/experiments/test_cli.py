"""``cuishou experiment``: start, list, show (the API's JSON), stop, promote by four eyes —
with the clock fixed (the command line's ``utc_now`` replaced), on both stores."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.experiments.service import report
from cuishou.store.db import transaction
from cuishou.store.tables import Event
from tests.experiments.world import CLOCK, TODAY, build_world, make_users, make_version

runner = CliRunner()


@pytest.fixture(autouse=True)
def fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("cuishou.experiments.cli.utc_now", lambda: CLOCK)


def run(*args: str) -> str:
    done = runner.invoke(app, ["experiment", *args])
    assert done.exit_code == 0, done.output
    return done.stdout


def refused(*args: str) -> str:
    done = runner.invoke(app, ["experiment", *args])
    assert done.exit_code == 2, done.output
    assert "Traceback" not in done.output
    return done.output


def test_start_list_stop_and_promote(engine: Engine, store_env: str) -> None:
    with transaction(engine) as session:
        make_users(session)
        make_version(session, version=1)
        make_version(session, version=2, status="approved")
    started = json.loads(run("start", "--name", "calm", "--champion", "default@1",
                             "--challenger", "default@2", "--share", "30", "--segment",
                             "A_REMIND,B_CALL", "--guardrail", "min_cases=50", "--as", "strat_a",
                             "--json"))  # fmt: skip
    assert (started["name"], started["share_pct"], started["segments"]) == (
        "calm", 30.0, ["A_REMIND", "B_CALL"],
    )  # fmt: skip
    assert started["guardrails"]["min_cases"] == 50 and started["started_by"] == "strat_a"
    assert started["started_on"] == "2026-11-08"
    assert "not the strategy in force" in refused(
        "start", "--name", "x", "--champion", "default@2", "--challenger", "default@1"
    )
    assert "may not" in refused("start", "--name", "y", "--champion", "default@1",
                                "--challenger", "default@2", "--segment", "D_LEGAL",
                                "--as", "manager")  # fmt: skip
    assert "--guardrail" in refused("start", "--name", "z", "--champion", "1",
                                    "--challenger", "2", "--guardrail", "oops")  # fmt: skip
    listed = json.loads(run("list", "--json"))
    assert [e["name"] for e in listed] == ["calm"]
    assert "calm" in run("list")

    eid = str(started["id"])
    assert "one of" in refused("promote", eid, "--as", "strat_a")
    run("promote", eid, "--request", "--as", "strat_a", "--note", "B looks better")
    assert "four eyes" in refused("promote", eid, "--approve", "--as", "strat_a")
    assert "no active user" in refused("promote", eid, "--approve", "--as", "nobody")
    assert "promoted" in run("promote", eid, "--approve", "--as", "manager")
    assert "not running" in refused("stop", eid)
    with transaction(engine) as session:
        types = [e.type for e in session.scalars(select(Event).where(
            Event.entity_type == "experiment").order_by(Event.id))]  # fmt: skip
    assert types == ["experiment.started", "experiment.promotion_requested", "experiment.promoted"]


def test_show_prints_what_the_api_reports(engine: Engine, store_env: str) -> None:
    world = build_world(engine)
    printed = json.loads(run("show", str(world.experiment_id), "--json"))
    with transaction(engine) as session:
        expected = report(session, None, world.experiment_id, today=TODAY).results
    assert printed == expected.model_dump(mode="json")
    table = run("show", str(world.experiment_id))
    assert "900.00" in table and "95% interval" in table and "cases per arm for +2%" in table
    assert "stopped experiment" in run("stop", str(world.experiment_id), "--reason", "done")
    assert "no experiment 999" in refused("show", "999")
