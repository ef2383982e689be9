"""`cuishou kpis`: the API's figures on the command line (JSON and a table), clear errors."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.kpis import service
from tests.kpis.shop import END, START, build_shop

runner = CliRunner()


def test_the_cli_prints_what_the_api_reports(engine: Engine, store_env: str) -> None:
    build_shop(engine)
    done = runner.invoke(app, ["kpis", "--from", "2026-11-02", "--to", "2026-11-08",
                               "--by", "team", "--json"])  # fmt: skip
    assert done.exit_code == 0, done.output
    printed = json.loads(done.stdout)
    assert printed == service.figures(engine, None, START, END, "team").as_json()
    assert printed["total"]["recovered"] == "1000.00"
    wide = {"COLUMNS": "240"}
    table = runner.invoke(app, ["kpis", "--from", "2026-11-02", "--to", "2026-11-08"], env=wide)
    assert table.exit_code == 0 and "0.0957" in table.stdout and "1000.00" in table.stdout


def test_bad_dates_and_slices_are_one_clear_line(engine: Engine, store_env: str) -> None:
    for args in (["--from", "2026-11-40", "--to", "2026-11-08"],
                 ["--from", "2026-11-02", "--to", "2026-11-08", "--by", "planet"]):  # fmt: skip
        done = runner.invoke(app, ["kpis", *args])
        assert done.exit_code == 2 and "Traceback" not in done.output
