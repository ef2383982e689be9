"""``cuishou generate`` from the command line: files, JSON, and errors without tracebacks."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
import typer
from typer.testing import CliRunner

from cuishou.generator.cli import generate_command
from cuishou.placement.columns import ALL_ACCOUNT_COLUMNS, header_map

runner = CliRunner()


def _app() -> typer.Typer:
    """The command as ``cuishou`` registers it, on its own (other commands may be absent)."""
    app = typer.Typer()
    app.command("generate")(generate_command)

    @app.command("version")
    def _version() -> None:  # a second command keeps "generate" a named subcommand
        """Unused."""

    return app


def _generate(*args: str) -> tuple[int, str, str]:
    result = runner.invoke(_app(), ["generate", *args])
    return result.exit_code, result.stdout, result.stderr


def test_generate_writes_the_files_and_prints_json(tmp_path: Path) -> None:
    # when a manager generates a small portfolio
    code, stdout, _ = _generate(
        "--accounts", "500", "--seed", "42", "--as-of", "2026-11-01", "--out", str(tmp_path),
        "--creditor", "ZSBANK", "--json",
    )  # fmt: skip
    # then there is one JSON object naming the files
    assert code == 0, stdout
    result = json.loads(stdout)
    assert result["accounts"] == 500
    assert 300 < result["debtors"] < 500
    assert result["payments"] > 0
    assert result["files"] == [str(tmp_path / "accounts.csv"), str(tmp_path / "payments.csv")]
    assert result["seconds"] >= 0
    accounts = pl.read_csv(tmp_path / "accounts.csv", infer_schema=False)
    mapping = header_map(ALL_ACCOUNT_COLUMNS)
    assert all(h in mapping for h in accounts.columns)
    assert accounts.height == 500 and accounts["委托方代码"].unique().to_list() == ["ZSBANK"]


def test_generate_gbk_parquet_and_bad_rows_options(tmp_path: Path) -> None:
    code, stdout, _ = _generate(
        "--accounts", "200", "--seed", "1", "--as-of", "2026-11-01", "--out", str(tmp_path / "g"),
        "--encoding", "gbk", "--bad-rows", "0.05", "--json",
    )  # fmt: skip
    assert code == 0, stdout
    assert json.loads(stdout)["bad_rows"] == 10
    (tmp_path / "g" / "accounts.csv").read_bytes().decode("gbk")
    code, stdout, _ = _generate(
        "--accounts", "20", "--seed", "1", "--as-of", "2026-11-01", "--out", str(tmp_path / "p"),
        "--format", "parquet", "--headers", "en",
    )  # fmt: skip
    assert code == 0, stdout
    assert "20 accounts" in stdout
    assert pl.read_parquet(tmp_path / "p" / "accounts.parquet").columns[4] == "account_no"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--accounts", "0"], "--accounts"),
        (["--as-of", "2026-13-45"], "--as-of"),
        (["--bad-rows", "1.5"], "--bad-rows"),
        (["--format", "json"], "--format"),
        (["--encoding", "big5"], "--encoding"),
        (["--format", "xlsx", "--encoding", "gbk"], "CSV only"),
    ],
)
def test_bad_arguments_exit_2_with_a_reason_and_no_traceback(
    tmp_path: Path, args: list[str], message: str
) -> None:
    base = {"--accounts": "10", "--seed": "1", "--as-of": "2026-11-01", "--out": str(tmp_path)}
    for flag, value in zip(args[::2], args[1::2], strict=True):
        base[flag] = value
    code, stdout, stderr = _generate(*[part for pair in base.items() for part in pair])
    assert code == 2
    assert message in stderr
    assert "Traceback" not in stdout + stderr
    assert not (tmp_path / "accounts.csv").exists()


def test_generate_is_registered_on_the_cuishou_app(tmp_path: Path) -> None:
    cli = pytest.importorskip("cuishou.cli", reason="other commands of cuishou.cli not built yet")
    result = runner.invoke(
        cli.app,
        ["generate", "--accounts", "30", "--seed", "3", "--as-of", "2026-11-01",
         "--out", str(tmp_path), "--json"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["accounts"] == 30
