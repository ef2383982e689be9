"""``cuishou skiptrace export|import``: the JSON they print, bad options one clear line."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from tests.web.world import build_world

runner = CliRunner()


def test_export_and_import_print_their_counts(store_env: str, tmp_path: Path) -> None:
    engine = make_engine(store_env)
    world = build_world(engine)
    with transaction(engine) as session:
        case_id = world.case_for_a(session).id
    engine.dispose()
    request = tmp_path / "request.csv"

    exported = runner.invoke(
        app, ["skiptrace", "export", str(request), "--vendor", "ACME", "--as-of", "2026-11-01",
              "--json"],
    )  # fmt: skip
    assert exported.exit_code == 0, exported.output
    assert json.loads(exported.output) == {"path": str(request), "cases": 0}  # nobody 失联 yet
    assert request.read_bytes().decode("utf-8-sig").splitlines() == [
        "case_id,debtor_name,id_number,province,city,requested_on"
    ]

    results = tmp_path / "results.csv"
    results.write_text(f"case_id,kind,value\n{case_id},mobile,13655556666\n{case_id},mobile,1\n")
    imported = runner.invoke(app, ["skiptrace", "import", str(results), "--json"])
    assert imported.exit_code == 0, imported.output
    out = json.loads(imported.output)
    assert (out["rows"], out["created"], out["quarantined"]) == (2, 1, 1)
    assert out["quarantine_file"] == f"{results}.quarantine.csv"


def test_bad_options_are_one_clear_line(store_env: str, tmp_path: Path) -> None:
    results = tmp_path / "results.csv"
    results.write_text("case_id,kind,value\n")
    bad_source = runner.invoke(app, ["skiptrace", "import", str(results), "--source", "x"])
    assert bad_source.exit_code == 2 and "--source" in bad_source.output
    missing = runner.invoke(app, ["skiptrace", "import", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and "unreadable_file" in missing.output
    bad_day = runner.invoke(
        app, ["skiptrace", "export", str(tmp_path / "r.csv"), "--vendor", "A", "--as-of", "1.11"]
    )
    assert bad_day.exit_code == 2 and "--as-of" in bad_day.output
    assert "Traceback" not in bad_source.output + missing.output + bad_day.output
