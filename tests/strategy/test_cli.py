"""``cuishou strategy …`` on both stores: validate's exit codes and JSON, diff, and the
lifecycle acting as users of the store (four eyes by name)."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Event
from cuishou.strategy.definition import shipped_text
from cuishou.templates.service import install_default_templates
from tests.factories import NOW
from tests.strategy.test_lifecycle import person
from tests.strategy.texts import SIMPLE, variant
from tests.web.factories import make_case, make_user

runner = CliRunner()


def seed(url: str, *, templates: bool) -> None:
    engine = make_engine(url)
    with transaction(engine) as session:
        make_case(session, bucket="M2", dpd=45)
        make_case(session, bucket="M3", dpd=75)
        make_user(session, role="strategist", username="alice")
        make_user(session, role="strategist", username="bob")
        make_user(session, role="manager", username="boss")
    engine.dispose()
    if templates:
        install_templates(url)


def install_templates(url: str) -> None:
    """The default template set, saved, screened and activated by a compliance officer."""
    engine = make_engine(url)
    with transaction(engine) as session:
        officer = make_user(session, role="compliance")
        install_default_templates(session, person(officer), now=NOW)
    engine.dispose()


def write(tmp_path: Path, name: str, text: str) -> str:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_validate_exits_one_on_a_problem_and_zero_when_clean(
    store_env: str, tmp_path: Path
) -> None:
    seed(store_env, templates=False)
    default = write(tmp_path, "default.yaml", shipped_text())
    missing = runner.invoke(app, ["strategy", "validate", default, "--json"])
    assert missing.exit_code == 1, missing.output
    body = json.loads(missing.stdout)
    assert body["open_cases"] == 2 and {p["kind"] for p in body["problems"]} == {"unknown_template"}
    assert "no active message templates at all" in body["problems"][0]["en"]
    install_templates(store_env)  # the default template set: now the default pack is clean
    clean = runner.invoke(app, ["strategy", "validate", default])
    assert clean.exit_code == 0, clean.output
    assert "no problems found" in " ".join(clean.output.split())


def test_validate_reports_gaps_with_counts_and_document_errors(
    store_env: str, tmp_path: Path
) -> None:
    seed(store_env, templates=True)
    only_m2 = write(
        tmp_path,
        "m2.yaml",
        SIMPLE.replace("  - segment: LATE\n", "  - segment: LATE\n    when: {bucket: [M7+]}\n"),
    )
    gap = runner.invoke(app, ["strategy", "validate", only_m2, "--json"])
    assert gap.exit_code == 1
    problems = json.loads(gap.stdout)["problems"]
    assert [(p["kind"], p["data"]["cases"]) for p in problems] == [("gap", 1)]
    text = runner.invoke(app, ["strategy", "validate", only_m2])
    assert "1 open cases match no row" in " ".join(text.output.split())
    broken = write(tmp_path, "broken.yaml", SIMPLE.replace("hit_policy: first", "hit_policy: any"))
    bad = runner.invoke(app, ["strategy", "validate", broken, "--no-store", "--json"])
    assert bad.exit_code == 1
    document = json.loads(bad.stdout)["problems"][0]
    assert document["kind"] == "document" and "hit_policy" in document["en"]
    nothing = runner.invoke(app, ["strategy", "validate", str(tmp_path / "none.yaml")])
    assert nothing.exit_code == 2 and "cannot read" in nothing.output


def test_the_lifecycle_on_the_command_line(store_env: str, tmp_path: Path) -> None:
    seed(store_env, templates=True)
    first = write(tmp_path, "one.yaml", SIMPLE)
    second = write(tmp_path, "two.yaml", variant(SIMPLE, zh="简单策略二"))
    submitted = runner.invoke(app, ["strategy", "submit", first, "--as", "alice", "--json"])
    assert submitted.exit_code == 0, submitted.output
    assert json.loads(submitted.stdout)["author"] == "alice"
    own = runner.invoke(app, ["strategy", "approve", "simple@1", "--as", "alice"])
    assert own.exit_code == 2 and "four eyes: alice wrote simple@1" in " ".join(own.output.split())
    nobody = runner.invoke(app, ["strategy", "approve", "simple@1", "--as", "nobody"])
    assert nobody.exit_code == 2 and "no active user 'nobody'" in nobody.output
    assert runner.invoke(app, ["strategy", "approve", "simple@1", "--as", "boss"]).exit_code == 0
    past = runner.invoke(app, ["strategy", "activate", "simple@1", "--from", "2020-01-01"])
    assert past.exit_code == 2 and "in the past" in past.output
    active = runner.invoke(app, ["strategy", "activate", "simple@1", "--as", "boss", "--json"])
    assert json.loads(active.stdout)["status"] == "active"
    lone = runner.invoke(app, ["strategy", "rollback", "--as", "boss"])
    assert lone.exit_code == 2 and "first strategy ever in force" in " ".join(lone.output.split())
    for args in (["submit", second, "--as", "bob"], ["approve", "simple@2", "--as", "alice"],
                 ["activate", "simple@2", "--as", "alice"]):  # fmt: skip
        assert runner.invoke(app, ["strategy", *args]).exit_code == 0
    listed = json.loads(runner.invoke(app, ["strategy", "list", "--json"]).stdout)
    assert [(v["version"], v["state"]) for v in listed] == [(2, "in_force"), (1, "retired")]
    back = runner.invoke(app, ["strategy", "rollback", "--as", "boss", "--json"])
    assert json.loads(back.stdout)["restored"]["version"] == 1
    shown = runner.invoke(app, ["strategy", "show", "simple@1", "--yaml"])
    assert shown.stdout == SIMPLE
    history = json.loads(runner.invoke(app, ["strategy", "show", "1", "--json"]).stdout)
    assert [e["type"] for e in history["history"]] == [
        "strategy.submitted", "strategy.approved", "strategy.activated", "strategy.retired",
        "strategy.restored",
    ]  # fmt: skip
    engine = make_engine(store_env)
    with transaction(engine) as session:
        actors = set(session.scalars(select(Event.actor).where(Event.entity_type == "strategy")))
    engine.dispose()
    assert actors == {"alice", "bob", "boss"}


def test_diff_of_files_and_stored_versions(store_env: str, tmp_path: Path) -> None:
    seed(store_env, templates=False)
    first = write(tmp_path, "one.yaml", SIMPLE)
    changed = write(
        tmp_path,
        "two.yaml",
        SIMPLE.replace(
            "every: 2, action: call, priority: 3", "every: 3, action: call, priority: 3"
        ),
    )
    diff = runner.invoke(app, ["strategy", "diff", first, changed, "--json"])
    assert diff.exit_code == 0, diff.output
    body = json.loads(diff.stdout)
    assert body["segments"][0]["steps"] == [
        {"change": "changed", "a": "days 1+ every 2: call (priority 3)",
         "b": "days 1+ every 3: call (priority 3)"},
    ]  # fmt: skip
    runner.invoke(app, ["strategy", "submit", first, "--as", "alice"])
    stored = runner.invoke(app, ["strategy", "diff", "simple@1", first])
    assert stored.exit_code == 0 and "decide and treat alike" in " ".join(stored.output.split())
    unknown = runner.invoke(app, ["strategy", "diff", "simple@9", first])
    assert unknown.exit_code == 2 and "no strategy simple@9" in unknown.output
