"""``cuishou contacts import``: the JSON it prints, a bad source or codes file refused."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine
from tests.contact.dialer_files import call_row, make_world, write_csv

runner = CliRunner()


def test_the_json_names_rows_accepted_quarantined_and_violations(
    store_env: str, tmp_path: Path
) -> None:
    engine = make_engine(store_env)
    _, (ref,) = make_world(engine)
    engine.dispose()
    # a time in the past whatever the clock says (the CLI imports "now"), outside every window
    rows = [
        call_row(ref.account_no, "J1", "2001-06-01 03:00:00", "NO_ANSWER"),
        call_row(ref.account_no, "J2", "2001-06-01 03:10:00", "BEEP"),
    ]
    path = write_csv(tmp_path / "calls.csv", rows)
    result = runner.invoke(
        app, ["contacts", "import", str(path), "--json", "--creditor", "TESTBANK"]
    )
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert {k: out[k] for k in ("rows", "accepted", "quarantined", "violations")} == {
        "rows": 2,
        "accepted": 1,
        "quarantined": 1,
        "violations": 1,
    }
    assert out["quarantine_file"] == f"{path}.quarantine.csv"


def test_a_bad_source_name_or_codes_file_is_one_clear_line(store_env: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "calls.csv", [])
    bad = runner.invoke(app, ["contacts", "import", str(path), "--source", "workbench"])
    assert bad.exit_code == 2 and "--source" in bad.output
    codes = tmp_path / "codes.yaml"
    codes.write_text("codes: {BUSY: nope}\n", encoding="utf-8")
    wrong = runner.invoke(app, ["contacts", "import", str(path), "--codes", str(codes)])
    assert wrong.exit_code == 2 and "nope" in wrong.output
    assert "Traceback" not in bad.output + wrong.output
