"""``cuishou compliance check | packs | validate`` on both stores."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Creditor, Event
from tests.web.factories import debtor_mobile, make_case

runner = CliRunner()


def seeded_case(url: str) -> tuple[int, int]:
    engine = make_engine(url)
    with transaction(engine) as session:
        case = make_case(session)
        ids = case.id, debtor_mobile(session, case).id
    engine.dispose()
    return ids


def test_check_prints_the_decision_and_records_it(store_env: str) -> None:
    case_id, point_id = seeded_case(store_env)
    base = ["compliance", "check", "--case", str(case_id), "--contact-point", str(point_id)]
    late = runner.invoke(app, [*base, "--at", "2026-11-25T21:30:00+08:00", "--json"])
    assert late.exit_code == 0, late.output
    body = json.loads(late.stdout)
    assert body["allowed"] is False and [r["id"] for r in body["rules"]] == ["CN-01"]
    assert body["next_allowed_at"].startswith("2026-11-26T00:00:00")  # 08:00 in Shanghai, UTC
    text = runner.invoke(app, [*base, "--at", "2026-11-25T21:30:00+08:00"])
    assert "not allowed" in text.output and "CN-01" in text.output
    ok = runner.invoke(app, [*base, "--at", "2026-11-25T10:00:00+08:00"])
    assert ok.exit_code == 0 and "allowed" in ok.output
    engine = make_engine(store_env)
    with transaction(engine) as session:
        actors = session.scalars(select(Event.actor).where(Event.type == "compliance.checked"))
        assert list(actors) == ["cli", "cli", "cli"]
    engine.dispose()


def test_check_errors_are_one_clear_line(store_env: str) -> None:
    case_id, point_id = seeded_case(store_env)
    base = ["compliance", "check", "--case", str(case_id), "--contact-point", str(point_id)]
    bad_time = runner.invoke(app, [*base, "--at", "tomorrow"])
    assert bad_time.exit_code != 0 and "ISO 8601" in bad_time.output
    bad_channel = runner.invoke(app, [*base, "--channel", "fax"])
    assert bad_channel.exit_code != 0 and "channel" in bad_channel.output
    missing = runner.invoke(
        app, ["compliance", "check", "--case", "999999", "--contact-point", "1"]
    )
    assert missing.exit_code != 0 and "Traceback" not in missing.output
    # a field visit is judged by how many go: the number must be given
    visit = runner.invoke(app, [*base, "--channel", "visit"])
    assert visit.exit_code != 0 and "Traceback" not in visit.output
    said = " ".join(visit.output.split())  # the console wraps long lines
    assert "collectors: a field visit needs the number of collectors going" in said


def test_packs_and_validate(tmp_path: Path) -> None:
    listed = runner.invoke(app, ["compliance", "packs", "--json"])
    assert {p["id"] for p in json.loads(listed.stdout)} >= {"cn", "us-regf"}
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nversion: 1\n", encoding="utf-8")
    refused = runner.invoke(app, ["compliance", "validate", str(bad)])
    assert refused.exit_code != 0 and "name_zh" in refused.output
    shipped = Path(__file__).parents[2] / "src" / "cuishou" / "compliance" / "packs" / "cn.yaml"
    accepted = runner.invoke(app, ["compliance", "validate", str(shipped)])
    assert accepted.exit_code == 0 and "is valid" in accepted.output


def test_screen_prints_findings_and_exits_one_when_something_is_found() -> None:
    found = runner.invoke(app, ["compliance", "screen", "我们是法院的工作人员", "--json"])
    assert found.exit_code == 1
    assert [f["category"] for f in json.loads(found.stdout)["findings"]] == ["false_identity"]
    clean = runner.invoke(
        app, ["compliance", "screen", "我们不是法院的工作人员，是受银行委托的催收机构"]
    )
    assert clean.exit_code == 0 and "no findings" in clean.output
    third = runner.invoke(
        app, ["compliance", "screen", "他欠款3000元", "--audience", "third_party"]
    )
    assert third.exit_code == 1 and "debt_to_third_party" in third.output
    bad = runner.invoke(app, ["compliance", "screen", "x", "--audience", "boss"])
    assert bad.exit_code == 2 and "audience" in bad.output


def test_use_pack_sets_a_creditors_rule_pack_after_validating_it(
    store_env: str, tmp_path: Path
) -> None:
    case_id, point_id = seeded_case(store_env)
    engine = make_engine(store_env)
    with transaction(engine) as session:
        code = session.scalars(select(Creditor.code)).one()
    engine.dispose()
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n", encoding="utf-8")
    refused = runner.invoke(app, ["compliance", "use-pack", str(bad), "--creditor", code])
    assert refused.exit_code != 0 and "name_zh" in refused.output
    unknown = runner.invoke(app, ["compliance", "use-pack", "us-regf", "--creditor", "NOPE"])
    assert unknown.exit_code != 0 and "NOPE" in unknown.output
    used = runner.invoke(app, ["compliance", "use-pack", "us-regf", "--creditor", code])
    assert used.exit_code == 0, used.output
    checked = runner.invoke(
        app,
        ["compliance", "check", "--case", str(case_id), "--contact-point", str(point_id),
         "--at", "2026-11-25T10:00:00+08:00", "--json"],
    )  # fmt: skip
    assert json.loads(checked.stdout)["pack"] == "us-regf"
