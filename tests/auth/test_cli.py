"""``cuishou user add`` on both stores."""

from __future__ import annotations

import json

from sqlalchemy import select
from typer.testing import CliRunner

from cuishou.auth.passwords import verify_password
from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Agency, Team, User

runner = CliRunner()


def test_user_add_creates_the_user_team_and_agency(store_env: str) -> None:
    result = runner.invoke(
        app,
        ["user", "add", "wang", "--role", "collector", "--team", "外包一组", "--agency", "AGX",
         "--password-stdin", "--json"],
        input="s3cret-password\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["team"] == "外包一组"
    engine = make_engine(store_env)
    with transaction(engine) as session:
        user = session.scalar(select(User).where(User.username == "wang"))
        team = session.scalar(select(Team).where(Team.name == "外包一组"))
        agency = session.scalar(select(Agency).where(Agency.code == "AGX"))
    engine.dispose()
    assert user is not None and team is not None and agency is not None
    assert user.team_id == team.id and user.agency_id == agency.id and user.role == "collector"
    assert verify_password(user.password_hash, "s3cret-password")
    assert not verify_password(user.password_hash, "wrong")


def test_user_add_errors_are_one_line(store_env: str) -> None:
    no_stdin = runner.invoke(app, ["user", "add", "li", "--role", "collector"])
    bad_role = runner.invoke(
        app, ["user", "add", "li", "--role", "boss", "--password-stdin"], input="long-enough\n"
    )
    runner.invoke(
        app, ["user", "add", "li", "--role", "admin", "--password-stdin"], input="long-enough\n"
    )
    duplicate = runner.invoke(
        app, ["user", "add", "li", "--role", "admin", "--password-stdin"], input="long-enough\n"
    )
    too_short = runner.invoke(
        app, ["user", "add", "x", "--role", "admin", "--password-stdin"], input="long-enough\n"
    )
    assert no_stdin.exit_code == bad_role.exit_code == duplicate.exit_code == 2
    assert too_short.exit_code == 2 and "username" in too_short.output
    assert "--password-stdin" in no_stdin.output
    assert "role must be one of" in bad_role.output
    assert "already exists" in duplicate.output
    for result in (no_stdin, bad_role, duplicate, too_short):
        assert "Traceback" not in result.output


def test_serve_refuses_an_uninitialised_store(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setenv("CUISHOU_DATABASE_URL", f"sqlite:///{tmp_path / 'none.db'}")
    result = runner.invoke(app, ["serve", "--port", "0"])
    assert result.exit_code == 2
    assert "cuishou init" in result.output
