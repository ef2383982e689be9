"""``cuishou import`` end to end through the command line, on both stores."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from typer.testing import CliRunner

from tests.placement.files import account_row, payment_row, write_csv

try:
    from cuishou.cli import app
except ImportError:  # another slice of the CLI is not there yet: register ours alone
    from cuishou.placement.cli import import_command

    app = typer.Typer()
    app.command("import")(import_command)
    app.command("noop")(lambda: None)

runner = CliRunner()


def test_import_json_reports_counts_and_the_quarantine_file(store_env: str, tmp_path: Path) -> None:
    # given an accounts file with a bad row and a payments file
    accounts = write_csv(
        tmp_path / "accounts.csv", [account_row(1), account_row(2, mobile="1")], headers="zh"
    )
    payments = write_csv(
        tmp_path / "payments.csv", [payment_row(1, "LN00000001", "10.00")], kind="payments"
    )
    # when both are imported with --json
    result = runner.invoke(
        app, ["import", str(payments), str(accounts), "--creditor", "ZSBANK", "--as-of",
              "2026-11-20", "--json"],
    )  # fmt: skip
    # then one JSON object with totals and per-file counts, exit code 0
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {k: data[k] for k in ("rows", "accepted", "quarantined", "created", "updated",
                                 "unchanged")} == {
        "rows": 3, "accepted": 2, "quarantined": 1, "created": 2, "updated": 0, "unchanged": 0
    }  # fmt: skip
    assert data["quarantine_file"] == [str(accounts) + ".quarantine.csv"]
    assert [f["kind"] for f in data["files"]] == ["accounts", "payments"]
    assert data["files"][1]["quarantine_file"] is None
    # and importing again changes nothing
    again = runner.invoke(app, ["import", str(accounts), "--creditor", "ZSBANK", "--json"])
    assert json.loads(again.stdout)["unchanged"] == 1


def test_an_unreadable_file_exits_2_and_says_the_others_stay_imported(
    store_env: str, tmp_path: Path
) -> None:
    good = write_csv(tmp_path / "good.csv", [account_row(1)])
    bad = tmp_path / "bad.csv"
    bad.write_text("借据号,姓名\nLN1,张三\n", encoding="utf-8")
    result = runner.invoke(app, ["import", str(bad), str(good), "--json"])
    assert result.exit_code == 2
    squeezed = "".join(result.output.split())  # the console wraps long lines
    assert "bad.csv" in squeezed and "stayimported" in squeezed
    assert "Traceback" not in result.output
    assert json.loads(result.stdout.splitlines()[0])["created"] == 1


def test_without_json_a_table_is_printed(store_env: str, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1)])
    result = runner.invoke(app, ["import", str(path)])
    assert result.exit_code == 0, result.output
    assert "accepted" in result.stdout and "created" in result.stdout
