"""``cuishou allocate``: dry run, apply as a manager and undo, as JSON; clear errors."""

from __future__ import annotations

import json

from sqlalchemy import create_engine
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import transaction
from tests.web.factories import make_case, make_team, make_user

runner = CliRunner()


def test_dry_run_apply_and_undo_as_json(store_env: str) -> None:
    engine = create_engine(store_env)
    with transaction(engine) as session:
        team = make_team(session, name="一组")
        make_user(session, username="col_a", team=team)
        make_user(session, username="boss", role="manager")
        make_user(session, username="col_x", team=team)
        for _ in range(4):
            make_case(session)
    engine.dispose()
    preview = runner.invoke(app, ["allocate", "--as-of", "2026-11-01", "--dry-run", "--json"])
    assert preview.exit_code == 0, preview.output
    shown = json.loads(preview.output)
    for key in ("batch", "assigned", "reassigned", "unassigned_left", "by_collector",
                "objective", "bound", "greedy_objective"):  # fmt: skip
        assert key in shown
    assert shown["batch"] is None and shown["assigned"] == 4
    assert sum(shown["by_collector"].values()) == 4
    refused = runner.invoke(app, ["allocate", "--as-of", "2026-11-01"])
    assert refused.exit_code != 0 and "--as" in refused.output
    applied = runner.invoke(app, ["allocate", "--as-of", "2026-11-01", "--as", "boss", "--json"])
    assert applied.exit_code == 0, applied.output
    batch = json.loads(applied.output)["batch"]
    assert isinstance(batch, int)
    forbidden = runner.invoke(app, ["allocate", "--undo", str(batch), "--as", "col_a"])
    assert forbidden.exit_code != 0 and "Traceback" not in forbidden.output
    undone = runner.invoke(app, ["allocate", "--undo", str(batch), "--as", "boss", "--json"])
    assert undone.exit_code == 0, undone.output
    assert json.loads(undone.output) == {"batch": batch, "restored": 4, "kept": []}
    again = runner.invoke(app, ["allocate", "--undo", str(batch), "--as", "boss"])
    assert again.exit_code != 0 and "already undone" in again.output
