"""A strategy's life on both stores: submit, four-eyes approval, activation dates, rollback,
and an event with actor and time for every step."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.kit.errors import Conflict, InvalidInput, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import Event, StrategyVersion, User
from cuishou.strategy.definition import StrategyError, text_sha256
from cuishou.strategy.repository.versions import effective_version
from cuishou.strategy.service import lifecycle
from tests.factories import NOW
from tests.strategy.texts import SIMPLE, variant
from tests.web.factories import make_user

TODAY = date(2026, 11, 1)  # NOW is 10:00 in Shanghai on this day


def person(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.team_id, user.agency_id)


@pytest.fixture
def people(engine: Engine) -> dict[str, Principal]:
    with transaction(engine) as session:
        made = {
            "alice": make_user(session, role="strategist", username="alice"),
            "bob": make_user(session, role="strategist", username="bob"),
            "boss": make_user(session, role="manager", username="boss"),
            "col": make_user(session, role="collector", username="col"),
        }
        return {name: person(user) for name, user in made.items()}


def events(session: Session, version_id: int) -> list[tuple[str, str]]:
    rows = session.execute(
        select(Event.type, Event.actor)
        .where(Event.entity_type == "strategy", Event.entity_id == version_id)
        .order_by(Event.id)
    ).all()
    return [(str(t), str(a)) for t, a in rows]


def live(session: Session, people: dict[str, Principal], text: str = SIMPLE) -> StrategyVersion:
    """A version submitted by alice, approved by bob and in force from today."""
    version = lifecycle.submit(session, text, actor="x", now=NOW, principal=people["alice"])
    lifecycle.approve(session, version.id, actor="x", now=NOW, principal=people["bob"])
    return lifecycle.activate(session, version.id, actor="x", now=NOW, principal=people["bob"])


def test_a_submitted_text_is_the_next_draft_of_its_code(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        first = lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["alice"])
        second = lifecycle.submit(
            session, variant(SIMPLE, zh="简单策略二"), actor="x", now=NOW, principal=people["bob"]
        )
        assert (first.code, first.version, first.status) == ("simple", 1, "draft")
        assert second.version == 2 and second.author == "bob"
        assert first.sha256 == text_sha256(SIMPLE) and first.body == SIMPLE
        assert events(session, first.id) == [("strategy.submitted", "alice")]
        at = session.scalar(select(Event.at).where(Event.entity_id == first.id))
        assert at == NOW
        with pytest.raises(Conflict, match="already simple@1"):
            lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["bob"])


def test_a_collector_may_not_submit_and_a_bad_text_is_refused_by_field(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        with pytest.raises(PermissionDenied, match=r"strategy\.edit"):
            lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["col"])
        with pytest.raises(StrategyError, match="row 2 names segment 'NOPE'"):
            lifecycle.submit(
                session, SIMPLE.replace("- segment: LATE", "- segment: NOPE"), actor="x",
                now=NOW, principal=people["alice"],
            )  # fmt: skip


def test_four_eyes_the_author_cannot_approve(engine: Engine, people: dict[str, Principal]) -> None:
    with transaction(engine) as session:
        draft = lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["alice"])
        with pytest.raises(PermissionDenied, match="four eyes: alice wrote simple@1"):
            lifecycle.approve(session, draft.id, actor="x", now=NOW, principal=people["alice"])
        # the command line's operator is held to the same rule by name
        mine = lifecycle.submit(session, variant(SIMPLE, zh="二"), actor="cli:ops", now=NOW)
        with pytest.raises(PermissionDenied, match="four eyes"):
            lifecycle.approve(session, mine.id, actor="CLI:ops", now=NOW)
        approved = lifecycle.approve(
            session, draft.id, actor="x", now=NOW, principal=people["boss"], note="ok"
        )
        assert (approved.status, approved.approved_by, approved.approved_at) == (
            "approved", "boss", NOW,
        )  # fmt: skip
        assert events(session, draft.id)[-1] == ("strategy.approved", "boss")
        with pytest.raises(Conflict, match="only a draft"):
            lifecycle.approve(session, draft.id, actor="x", now=NOW, principal=people["bob"])


def test_reject_keeps_the_text_and_ends_the_draft(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        draft = lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["alice"])
        lifecycle.reject(session, draft.id, actor="x", now=NOW, principal=people["bob"], note="no")
        assert draft.status == "rejected" and draft.body == SIMPLE
        with pytest.raises(Conflict, match="simple@1 is rejected"):
            lifecycle.activate(session, draft.id, actor="x", now=NOW, principal=people["bob"])
        payload = session.scalar(select(Event.payload).where(Event.type == "strategy.rejected"))
        assert payload is not None and payload["note"] == "no" and payload["withdrawn"] is False
        # the same text may be submitted again once rejected
        again = lifecycle.submit(session, SIMPLE, actor="x", now=NOW, principal=people["alice"])
        assert again.version == 2


def test_activation_dates(engine: Engine, people: dict[str, Principal]) -> None:
    with transaction(engine) as session:
        first = live(session, people)
        assert (first.status, first.effective_from, first.activated_by) == (
            "active", TODAY, "bob",
        )  # fmt: skip
        assert effective_version(session, TODAY) is first
        draft = lifecycle.submit(
            session, variant(SIMPLE, zh="二"), actor="x", now=NOW, principal=people["alice"]
        )
        with pytest.raises(Conflict, match="approve it first"):
            lifecycle.activate(session, draft.id, actor="x", now=NOW, principal=people["boss"])
        lifecycle.approve(session, draft.id, actor="x", now=NOW, principal=people["boss"])
        with pytest.raises(InvalidInput, match="in the past"):
            lifecycle.activate(
                session, draft.id, actor="x", now=NOW, principal=people["boss"],
                effective_from=TODAY - timedelta(days=1),
            )  # fmt: skip
        with pytest.raises(PermissionDenied, match=r"strategy\.activate"):
            lifecycle.activate(session, draft.id, actor="x", now=NOW, principal=people["col"])
        later = TODAY + timedelta(days=3)
        lifecycle.activate(
            session, draft.id, actor="x", now=NOW, principal=people["boss"], effective_from=later
        )
        # scheduled: the first stays in force until the later date
        assert effective_version(session, TODAY) is first
        assert effective_version(session, later) is draft
        states = {v.version: v.state for v in lifecycle.list_versions(session, None, now=NOW)}
        assert states == {1: "in_force", 2: "scheduled"}
        on_the_day = NOW + timedelta(days=3)
        states = {
            v.version: v.state for v in lifecycle.list_versions(session, None, now=on_the_day)
        }
        assert states == {1: "superseded", 2: "in_force"}


def test_activating_for_today_retires_the_version_in_force(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        first = live(session, people)
        second = live(session, people, variant(SIMPLE, zh="二"))
        assert first.status == "retired" and first.retired_at == NOW
        assert effective_version(session, TODAY) is second
        assert events(session, first.id)[-1] == ("strategy.retired", "bob")
        assert [t for t, _ in events(session, second.id)] == [
            "strategy.submitted", "strategy.approved", "strategy.activated",
        ]  # fmt: skip


def test_rollback_brings_back_the_version_in_force_before(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        with pytest.raises(Conflict, match="no strategy is in force"):
            lifecycle.rollback(session, actor="x", now=NOW, principal=people["boss"])
        first = live(session, people)
        with pytest.raises(Conflict, match="simple@1 is the first strategy ever in force"):
            lifecycle.rollback(session, actor="x", now=NOW, principal=people["boss"])
        second = live(session, people, variant(SIMPLE, zh="二"))
        with pytest.raises(PermissionDenied):
            lifecycle.rollback(session, actor="x", now=NOW, principal=people["col"])
        tomorrow = NOW + timedelta(days=1)
        done = lifecycle.rollback(session, actor="x", now=tomorrow, principal=people["boss"])
        assert (done.retired, done.restored) == (second, first)
        assert second.status == "retired" and second.retired_at == tomorrow
        assert (first.status, first.effective_from, first.activated_by) == (
            "active", TODAY + timedelta(days=1), "boss",
        )  # fmt: skip
        assert effective_version(session, TODAY + timedelta(days=1)) is first
        assert events(session, second.id)[-1] == ("strategy.rolled_back", "boss")
        assert events(session, first.id)[-1] == ("strategy.restored", "boss")
        # a second rollback undoes the first: the version in force before it was the second
        again = lifecycle.rollback(session, actor="x", now=tomorrow, principal=people["boss"])
        assert (
            again.restored is second
            and effective_version(session, TODAY + timedelta(days=1)) is second
        )


def test_a_version_replaced_before_its_day_is_never_rolled_back_to(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        first = live(session, people)
        later = TODAY + timedelta(days=2)
        planned = []
        for name in ("二", "三"):
            version = lifecycle.submit(
                session, variant(SIMPLE, zh=name), actor="x", now=NOW, principal=people["alice"]
            )
            lifecycle.approve(session, version.id, actor="x", now=NOW, principal=people["boss"])
            lifecycle.activate(
                session, version.id, actor="x", now=NOW, principal=people["boss"],
                effective_from=later,
            )  # fmt: skip
            planned.append(version)
        replaced, chosen = planned
        assert replaced.status == "retired" and replaced.effective_from is None
        assert events(session, replaced.id)[-1] == ("strategy.retired", "boss")
        on_the_day = NOW + timedelta(days=2)
        assert effective_version(session, later) is chosen
        done = lifecycle.rollback(session, actor="x", now=on_the_day, principal=people["boss"])
        assert done.restored is first


def test_show_has_the_document_and_the_history(
    engine: Engine, people: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        version = live(session, people)
        detail = lifecycle.show(session, people["boss"], version.id, now=NOW)
        assert detail.state == "in_force" and detail.document["rules"][0]["segment"] == "EARLY"
        assert [e.type for e in detail.history] == [
            "strategy.submitted", "strategy.approved", "strategy.activated",
        ]  # fmt: skip
        assert detail.history[0].actor == "alice" and detail.history[0].at == NOW
        with pytest.raises(PermissionDenied, match=r"strategy\.read"):
            lifecycle.show(session, people["col"], version.id, now=NOW)
