"""The demo puts the default strategy in force the way a shop would (four eyes), with the
templates it names, and the default strategy validates clean against the demo's cases."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.strategy.definition import PACKS

runner = CliRunner()
SMALL_DEMO = ["--accounts", "400", "--history-accounts", "200", "--days", "3"]


def test_the_demo_runs_the_default_strategy_and_it_validates_clean(tmp_path: Path) -> None:
    built = runner.invoke(
        app, ["demo", *SMALL_DEMO, "--as-of", "2026-11-20", "--dir", str(tmp_path), "--no-serve"]
    )
    assert built.exit_code == 0, built.output
    url = f"sqlite:///{tmp_path / 'cuishou-demo.db'}"
    default = str(Path(str(PACKS)) / "default.yaml")
    checked = runner.invoke(
        app, ["strategy", "validate", default, "--db", url, "--as-of", "2026-11-20", "--json"]
    )
    assert checked.exit_code == 0, checked.output
    report = json.loads(checked.stdout)
    assert report["clean"] and report["open_cases"] > 200
    assert sum(row["decided"] for row in report["rows"]) == report["open_cases"]
    listed = runner.invoke(app, ["strategy", "list", "--json"], env={"CUISHOU_DATABASE_URL": url})
    (version,) = json.loads(listed.stdout)
    assert (version["code"], version["author"], version["approved_by"]) == (
        "default", "demo_strategist", "demo_manager",
    )  # fmt: skip
    assert version["status"] == "active" and version["effective_from"] == "2026-11-20"
