"""`cuishou daily` end to end through the command line, on both stores."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

from cuishou.engine.cli import daily_command
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Alert, BucketHistory
from tests.factories import make_account, make_creditor, make_debtor

try:
    from cuishou.cli import app
except ImportError:  # another part of the CLI not importable yet: test our command alone
    app = typer.Typer()
    app.command("daily")(daily_command)
    app.command("noop", hidden=True)(lambda: None)

runner = CliRunner()


def seed(db_url: str) -> None:
    engine = make_engine(db_url)
    with transaction(engine) as session:
        creditor = make_creditor(session)
        debtor = make_debtor(session)
        make_account(session, creditor=creditor, debtor=debtor, overdue_since=date(2026, 8, 2))
        make_account(session, creditor=creditor, debtor=debtor, overdue_since=date(2026, 10, 31))
        make_account(session, creditor=creditor, overdue_since=date(2026, 9, 1))
    engine.dispose()


def test_daily_json_prints_one_object_with_the_interface_keys(store_env: str) -> None:
    seed(store_env)
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["as_of"] == "2026-11-01"
    assert (data["accounts"], data["cases"]) == (3, 2)
    assert data["buckets"] == {
        "M0": 0, "M1": 1, "M2": 0, "M3": 1, "M4": 1, "M5": 0, "M6": 0, "M7+": 0,
    }  # fmt: skip
    assert data["steps"][0]["name"] == "load"
    assert data["steps"][-1]["name"] == "write"
    engine = make_engine(store_env)
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(BucketHistory)) == 3
    engine.dispose()


def test_daily_prints_step_and_bucket_tables(store_env: str) -> None:
    seed(store_env)
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    for word in ("load", "aging", "write", "M7+", "accounts by bucket"):
        assert word in result.stdout


def test_daily_with_a_custom_scheme(store_env: str, tmp_path: Path) -> None:
    seed(store_env)
    config = tmp_path / "cycle.yaml"
    config.write_text("buckets: {C: [0, 0], X1: [1, 89], X2+: [90, null]}\nalert_bucket: X2+\n")
    result = runner.invoke(
        app, ["daily", "--as-of", "2026-11-01", "--config", str(config), "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["buckets"] == {"C": 0, "X1": 2, "X2+": 1}


def test_an_earlier_date_is_refused_without_a_traceback(store_env: str) -> None:
    seed(store_env)
    assert runner.invoke(app, ["daily", "--as-of", "2026-11-03", "--json"]).exit_code == 0
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-02", "--json"])
    assert result.exit_code == 2
    assert "2026-11-03" in result.output and "Traceback" not in result.output


def test_a_bad_date_is_a_clear_error(store_env: str) -> None:
    result = runner.invoke(app, ["daily", "--as-of", "yesterday"])
    assert result.exit_code == 2
    assert "--as-of" in result.output


def test_an_empty_store_says_to_import_first(store_env: str) -> None:
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "import a placement first" in result.output


def test_an_unmigrated_store_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUISHOU_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01"])
    assert result.exit_code == 2
    assert "cuishou init" in result.output


def test_changing_the_bucket_scheme_rebuckets_without_alerts_and_says_so(
    store_env: str, tmp_path: Path
) -> None:
    # given accounts cycled under the default M0–M7+ scheme (one at 91 DPD: M4 on 11-01)
    seed(store_env)
    assert runner.invoke(app, ["daily", "--as-of", "2026-11-01", "--json"]).exit_code == 0
    # when the next day runs under a scheme where 90+ is the alert bucket (X3+)
    config = tmp_path / "cycle.yaml"
    config.write_text(
        "buckets: {C: [0, 0], X1: [1, 29], X2: [30, 89], X3+: [90, null]}\nalert_bucket: X3+\n"
    )
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-02", "--config", str(config)])
    # then every account is re-bucketed under the new version and no alert is raised for it
    assert result.exit_code == 0, result.output
    assert "bucket scheme changed" in result.stdout and "3 accounts re-bucketed" in result.stdout
    engine = make_engine(store_env)
    with transaction(engine) as session:
        rows = session.execute(
            select(BucketHistory.movement, BucketHistory.scheme).where(
                BucketHistory.as_of == date(2026, 11, 2)
            )
        ).all()
        assert {m for m, _ in rows} == {"rescheme"} and len(rows) == 3
        assert len({s for _, s in rows}) == 1
        raised = session.scalar(
            select(func.count()).select_from(Alert).where(Alert.raised_on == date(2026, 11, 2))
        )
        assert raised == 0
    # and the day after, under the same new scheme, nothing is re-bucketed again
    again = runner.invoke(
        app, ["daily", "--as-of", "2026-11-03", "--config", str(config), "--json"]
    )
    assert json.loads(again.stdout)["rescheme"] == 0
    engine.dispose()


def test_rerunning_a_date_says_it_is_a_rerun(store_env: str) -> None:
    seed(store_env)
    assert runner.invoke(app, ["daily", "--as-of", "2026-11-01"]).exit_code == 0
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01"])
    assert result.exit_code == 0, result.output
    assert "re-run of 2026-11-01" in result.stdout
