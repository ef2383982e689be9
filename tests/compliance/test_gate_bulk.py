"""The gate's bulk form against the scalar gate where the bulk callers lean on it: several
candidates of one debtor sharing a history (the dialer's file, the day's plan), and the
planned search for the first allowed instant of a window (``earliest_allowed_frame``
against ``check``'s ``next_allowed_at``)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.compliance.rules import (
    CANDIDATE_SCHEMA,
    HISTORY_SCHEMA,
    Attempt,
    CaseState,
    Facts,
    PastContact,
    check,
    decide,
    decide_frame,
    earliest_allowed_frame,
    facts_of,
    history_facts,
    plan_windows,
)
from tests.compliance.test_gate_twins import OUTCOMES, PACKS, ZONES

BASE = datetime(2026, 9, 29, 0, 0, tzinfo=UTC)
DAY = date(2026, 11, 23)  # a Monday, no holiday in either pack
DAY_START = datetime(2026, 11, 22, 12, 0, tzinfo=UTC)

pasts = st.builds(
    PastContact,
    at=st.integers(-9 * 24 * 3600, 2 * 24 * 3600).map(lambda s: BASE + timedelta(seconds=s)),
    channel=st.sampled_from(["call", "call", "call", "sms", "visit"]),
    contact_point_id=st.integers(1, 3),
    party=st.sampled_from(["debtor", "debtor", "third_party"]),
    outcome=st.sampled_from(OUTCOMES),
)


@st.composite
def debtors(draw: st.DrawFn) -> tuple[list[tuple[Attempt, CaseState]], list[PastContact]]:
    """One debtor: a history and several attempts at different times in it (some of them in
    another home zone, which the bulk form must keep apart)."""
    history = draw(st.lists(pasts, max_size=14))
    zones = draw(st.sampled_from(ZONES))
    attempts = []
    for _ in range(draw(st.integers(1, 5))):
        attempt = Attempt(
            at=BASE + timedelta(seconds=draw(st.integers(-3 * 24 * 3600, 2 * 24 * 3600))),
            channel=draw(st.sampled_from(["call", "call", "sms", "visit"])),
            contact_point_id=draw(st.integers(1, 3)),
            party=draw(st.sampled_from(["debtor", "debtor", "third_party"])),
            zones=draw(st.sampled_from([zones, zones, *ZONES])),
            third_party_named=draw(st.booleans()),
            collectors=draw(st.integers(1, 2)),
        )
        state = CaseState(
            suspended=draw(st.frozensets(st.sampled_from(["dispute", "cease"]), max_size=1)),
            debtor_numbers_invalid=draw(st.booleans()),
            opted_out=draw(st.frozensets(st.sampled_from(["sms"]))),
        )
        attempts.append((attempt, state))
    return attempts, history


def _candidate(index: int, debtor: int, a: Attempt, s: CaseState) -> dict[str, Any]:
    return {
        "candidate_id": index,
        "debtor_id": debtor,
        "at": a.at,
        "channel": a.channel,
        "contact_point_id": a.contact_point_id,
        "party": a.party,
        "zones": list(a.zones),
        "third_party_named": a.third_party_named,
        "collectors": a.collectors,
        "suspended": sorted(s.suspended),
        "debtor_numbers_invalid": s.debtor_numbers_invalid,
        "opted_out": sorted(s.opted_out),
    }


def _history(debtor: int, history: list[PastContact]) -> list[dict[str, Any]]:
    return [
        {
            "debtor_id": debtor,
            "at": h.at,
            "channel": h.channel,
            "contact_point_id": h.contact_point_id,
            "party": h.party,
            "outcome": h.outcome,
        }
        for h in history
    ]


@settings(max_examples=120, deadline=None)
@given(
    world=st.lists(debtors(), min_size=1, max_size=6),
    pack_name=st.sampled_from(sorted(PACKS)),
    together=st.sampled_from([None, timedelta(hours=1, minutes=30), timedelta(hours=13)]),
)
def test_candidates_sharing_a_debtors_history_agree_with_the_scalar_gate(
    world: list[tuple[list[tuple[Attempt, CaseState]], list[PastContact]]],
    pack_name: str,
    together: timedelta | None,
) -> None:
    # given several debtors, each with several attempts over one history, shuffled by debtor
    # (``together``: every attempt at one instant, as a day's plan opens its windows — the
    # hours are then worked out once per distinct time)
    pack = PACKS[pack_name]
    if together is not None:
        world = [
            ([(Attempt(**{**_fields(a), "at": BASE + together}), s) for a, s in attempts], h)
            for attempts, h in world
        ]
    rows: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    expected: dict[int, tuple[Attempt, CaseState, list[PastContact]]] = {}
    for debtor, (attempts, history) in reversed(list(enumerate(world, start=1))):
        past.extend(_history(debtor, history))
        for attempt, state in attempts:
            index = len(rows)
            rows.append(_candidate(index, debtor, attempt, state))
            expected[index] = (attempt, state, history)
    candidates = pl.DataFrame(rows, schema=CANDIDATE_SCHEMA)
    # when the bulk form counts the facts and decides
    decided = decide_frame(
        pack, history_facts(candidates, pl.DataFrame(past, schema=HISTORY_SCHEMA))
    )
    # then the frame keeps the candidates' order and every row is the scalar gate's answer
    assert decided["candidate_id"].to_list() == list(range(len(rows)))
    for row in decided.iter_rows(named=True):
        attempt, state, history = expected[row["candidate_id"]]
        facts = facts_of(attempt, history)
        assert Facts(**{name: row[name] for name in Facts.__slots__}) == facts
        assert tuple(row["rule_ids"]) == decide(pack, attempt, state, facts)
        assert row["allowed"] is (row["rule_ids"] == [])


# ------------------------------------------------------------------ the planned search

day_pasts = st.builds(
    PastContact,
    # the 8 days before the planned day, some of it that day's early hours
    at=st.integers(-8 * 24 * 3600, 20 * 3600).map(lambda s: DAY_START + timedelta(seconds=s)),
    channel=st.sampled_from(["call", "call", "call", "sms"]),
    contact_point_id=st.integers(1, 2),
    party=st.sampled_from(["debtor", "debtor", "debtor", "third_party"]),
    outcome=st.sampled_from(OUTCOMES),
)


@st.composite
def plans(draw: st.DrawFn) -> tuple[Attempt, CaseState, list[PastContact]]:
    attempt = Attempt(
        at=DAY_START,  # replaced by the window's start
        channel=draw(st.sampled_from(["call", "call", "call", "sms", "visit", "letter"])),
        contact_point_id=draw(st.integers(1, 2)),
        party=draw(st.sampled_from(["debtor", "debtor", "debtor", "third_party"])),
        zones=draw(st.sampled_from(ZONES)),
        collectors=2,
    )
    state = CaseState(
        suspended=draw(st.frozensets(st.sampled_from(["dispute"]), max_size=1)),
        opted_out=draw(st.frozensets(st.sampled_from(["sms"]), max_size=1)),
    )
    size = draw(st.sampled_from([0, 3, 8, 14]))  # long histories reach the 7-day caps
    history = draw(st.lists(day_pasts, min_size=size, max_size=size + 4))
    # often a conversation (or the oldest of the week's calls) 7 days before the window, so
    # that waiting for it to leave the quiet days (the 7-day cap) moves the call in the day
    for _ in range(draw(st.integers(0, 2))):
        seconds = draw(st.integers(-7 * 24 * 3600, -5 * 24 * 3600 - 10 * 3600))
        outcome = draw(st.sampled_from(["connected_debtor", "no_answer"]))
        history.append(
            PastContact(at=DAY_START + timedelta(seconds=seconds), channel="call",
                        contact_point_id=1, party="debtor", outcome=outcome)
        )  # fmt: skip
    return attempt, state, history


@settings(max_examples=120, deadline=None)
@given(batch=st.lists(plans(), min_size=1, max_size=10), pack_name=st.sampled_from(sorted(PACKS)))
def test_the_planned_search_finds_the_scalar_gates_next_allowed_time(
    batch: list[tuple[Attempt, CaseState, list[PastContact]]], pack_name: str
) -> None:
    # given planned contacts with their windows on the day and each debtor's history
    pack = PACKS[pack_name]
    rows = [_candidate(i, i, a, s) for i, (a, s, _) in enumerate(batch)]
    past = [p for i, (_, _, history) in enumerate(batch) for p in _history(i, history)]
    framed = plan_windows(pack, pl.DataFrame(rows, schema=CANDIDATE_SCHEMA).drop("at"), DAY)
    # when the bulk form searches each window for the first instant the gate allows
    found = earliest_allowed_frame(pack, framed, pl.DataFrame(past, schema=HISTORY_SCHEMA))
    found = found.join(
        framed.select("candidate_id", "window_start", "window_end"), on="candidate_id"
    )
    # then it is what the scalar gate says at the window's start and searching from there
    assert sorted(found["candidate_id"].to_list()) == list(range(len(batch)))
    for row in found.iter_rows(named=True):
        attempt, state, history = batch[row["candidate_id"]]
        if row["window_start"] is None:  # the zones' hours never meet that day
            assert row["allowed"] is False
            assert len(row["rule_ids"]) == 1
            continue
        decision = check(pack, Attempt(**{**_fields(attempt), "at": row["window_start"]}),
                         state, history)  # fmt: skip
        assert tuple(row["rule_ids"]) == decision.rule_ids
        if decision.allowed:
            assert (row["allowed"], row["at"]) == (True, row["window_start"])
        elif decision.next_allowed_at is not None and decision.next_allowed_at < row["window_end"]:
            assert (row["allowed"], row["at"]) == (True, decision.next_allowed_at)
        else:
            assert row["allowed"] is False


def _fields(attempt: Attempt) -> dict[str, Any]:
    return {name: getattr(attempt, name) for name in Attempt.__slots__}
