"""Usernames are unique without regard to case — in the store itself and across the
migration that makes them so (0005), on both stores."""

from __future__ import annotations

import pytest
from alembic import command
from sqlalchemy import Engine, select, update
from sqlalchemy.exc import IntegrityError

from cuishou.auth.rules import username_key
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user
from cuishou.kit.errors import Conflict, StoreNotReady
from cuishou.store.db import alembic_config, current_revision, head_revision, transaction
from cuishou.store.tables import LoginAttempt, User
from tests.factories import NOW
from tests.web.factories import make_user


def test_the_key_folds_ascii_case_only() -> None:
    assert username_key("Col_A.9-x") == "col_a.9-x"
    assert username_key("\u212aim") == "\u212aim"  # the Kelvin sign is not a "k"


def test_the_store_refuses_a_second_user_differing_only_in_case(engine: Engine) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy")
    with pytest.raises(IntegrityError), transaction(engine) as session:
        make_user(session, username="AMY")


def test_adding_a_case_duplicate_is_a_conflict_naming_the_existing_user(engine: Engine) -> None:
    with transaction(engine) as session:
        make_user(session, username="col_a")
    data = UserIn(username="Col_A", role="collector", password="long-enough")
    with (
        pytest.raises(Conflict, match="'Col_A' already exists as 'col_a'"),
        transaction(engine) as session,
    ):
        add_user(session, data, actor="admin", now=NOW)


def _at_0004(engine: Engine) -> None:
    command.downgrade(alembic_config(engine), "0004")
    assert current_revision(engine) == "0004"


def test_the_migration_stops_on_existing_case_duplicates_and_names_them(engine: Engine) -> None:
    # given an old store where "Amy" and "amy" are two users
    _at_0004(engine)
    with transaction(engine) as session:
        make_user(session, username="Amy")
        make_user(session, username="amy")
        make_user(session, username="bob")

    # when it is migrated, it stops and says which users to rename; nothing changed
    with pytest.raises(StoreNotReady, match="'Amy' / 'amy'") as refused:
        command.upgrade(alembic_config(engine), "head")
    assert "bob" not in refused.value.message and "cuishou init" in refused.value.message
    assert current_revision(engine) == "0004"

    # and once one is renamed, it goes through
    with transaction(engine) as session:
        session.add(LoginAttempt(username="BoB", at=NOW, succeeded=False, remote=""))
        session.execute(update(User).where(User.username == "Amy").values(username="amy2"))
    command.upgrade(alembic_config(engine), "head")
    assert current_revision(engine) == head_revision()
    with transaction(engine) as session:  # old attempts now count on the name's key
        assert session.scalars(select(LoginAttempt.username)).all() == ["bob"]
