"""``cuishou placements`` and ``cuishou commissions``: results as JSON, bad input as one clear
line (exit 2), never a traceback."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Account
from tests.agency.world import World, at, build
from tests.factories import make_payment, make_planned

runner = CliRunner()


def _world(url: str) -> World:
    engine = make_engine(url)
    try:
        return build(engine)
    finally:
        engine.dispose()


def _ok(args: list[str]) -> object:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def _refused(args: list[str], message: str) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


def test_create_list_show_recall_and_a_statement(store_env: str, tmp_path: Path) -> None:
    world = _world(store_env)
    rule = tmp_path / "m4.yaml"
    rule.write_text("buckets: [M4]\ndpd: {min: 91, max: 120}\n", encoding="utf-8")
    created = _ok(["placements", "create", "--agency", "AG1", "--as-of", "2026-11-01",
                   "--rule", str(rule), "--days", "30", "--json"])  # fmt: skip
    assert isinstance(created, dict)
    assert created["cases"] == 1 and created["ends_on"] == "2026-11-30"
    assert created["selection"] == "rule:m4.yaml"
    listed = _ok(["placements", "list", "--json"])
    assert isinstance(listed, list) and [p["id"] for p in listed] == [created["id"]]
    engine = make_engine(store_env)
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == world.cases["M4"])).one()
        make_payment(session, account=account, amount_fen=300_000, paid_at=at(date(2026, 11, 5)))
    engine.dispose()
    xlsx = tmp_path / "ag1.xlsx"
    found = _ok(["commissions", "statement", "--agency", "AG1", "--month", "2026-11",
                 "--close", "--today", "2026-12-01", "--xlsx", str(xlsx), "--json"])  # fmt: skip
    assert isinstance(found, dict)
    assert (found["status"], found["collected"], found["commission"]) == (
        "closed", "3000.00", "540.00",
    )  # fmt: skip
    sheet = load_workbook(xlsx).active
    assert sheet is not None and sheet.max_row == 3
    recalled = _ok(["placements", "recall", str(created["id"]), "--reason", "creditor asked",
                    "--as-of", "2026-11-20", "--json"])  # fmt: skip
    assert isinstance(recalled, dict) and recalled["by_reason"] == {"manual": 1}
    shown = _ok(["placements", "show", str(created["id"]), "--json"])
    assert isinstance(shown, dict) and shown["status"] == "ended"
    table = _ok(["placements", "league", "--from", "2026-11-01", "--to", "2026-11-30", "--json"])
    assert isinstance(table, dict) and table["rows"][0]["recovered"] == "3000.00"


def test_bad_input_is_one_clear_line(store_env: str, tmp_path: Path) -> None:
    _world(store_env)
    rule = tmp_path / "bad.yaml"
    rule.write_text("buckets: [M9]\n", encoding="utf-8")
    base = ["placements", "create", "--as-of", "2026-11-01"]
    _refused([*base, "--agency", "NOPE", "--rule", str(rule)], "unknown bucket 'M9'")
    rule.write_text("buckets: [M4]\n", encoding="utf-8")
    _refused([*base, "--agency", "NOPE", "--rule", str(rule)], "no agency 'NOPE'")
    _refused([*base, "--agency", "AG1"], "give exactly one of --rule FILE and --from-strategy")
    _refused([*base, "--agency", "AG1", "--rule", str(tmp_path / "missing.yaml")],
             "cannot read placement rule")  # fmt: skip
    _refused(["placements", "create", "--agency", "AG1", "--as-of", "someday", "--rule",
              str(rule)], "as-of")  # fmt: skip
    _refused(["commissions", "statement", "--agency", "AG1", "--month", "2026-13"],
             "not a month")  # fmt: skip
    _refused(["commissions", "statement", "--agency", "ZZ", "--month", "2026-11"],
             "no agency 'ZZ'")  # fmt: skip
    _refused(["placements", "recall", "1", "--reason", "x", "--as-of", "2026-11-02"],
             "placement 1 not found")  # fmt: skip
    _refused(["commissions", "statement", "--agency", "AG1", "--month", "2026-11", "--close",
              "--today", "2026-11-15"], "not over")  # fmt: skip


def test_from_strategy_places_the_days_kept_agency_candidates(store_env: str) -> None:

    world = _world(store_env)
    engine = make_engine(store_env)
    with transaction(engine) as session:
        make_planned(session, [
            (date(2026, 11, 1) if bucket != "M4" else date(2026, 10, 31),
             world.cases[bucket], "agency", status, None)
            for bucket, status in (("M7+", "planned"), ("M5", "dropped"), ("M4", "planned"))
        ], created_at=at(date(2026, 10, 1)))  # fmt: skip
    engine.dispose()
    created = _ok(["placements", "create", "--agency", "AG2", "--as-of", "2026-11-01",
                   "--from-strategy", "--json"])  # fmt: skip
    assert isinstance(created, dict) and created["selection"] == "strategy"
    shown = _ok(["placements", "show", str(created["id"]), "--json"])
    assert isinstance(shown, dict)
    assert [c["case_id"] for c in shown["placed_cases"]] == [world.cases["M7+"]]
