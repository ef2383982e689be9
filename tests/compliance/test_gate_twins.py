"""One rule, two forms: the scalar gate and the Polars gate agree on every input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.compliance.pack import CHANNELS, UNIVERSAL_CHECKS, load_pack, parse_pack
from cuishou.compliance.rules import (
    CANDIDATE_SCHEMA,
    CONNECTED_DEBTOR,
    HISTORY_SCHEMA,
    UNANSWERED,
    Attempt,
    CaseState,
    Facts,
    PastContact,
    decide,
    decide_frame,
    facts_of,
    history_facts,
)

#: a pack that switches on nothing of its own: only the checks every pack makes
MINIMAL = parse_pack(
    {
        "id": "minimal",
        "version": "1",
        "name_zh": "最小规则包",
        "name_en": "Minimal pack",
        "contact_hours": {"start": "08:00", "end": "21:00"},
        "visit_hours": {"start": "08:00", "end": "20:00"},
        "rule_ids": {check: f"M-{check}" for check in UNIVERSAL_CHECKS},
    },
    source="minimal",
)
PACKS = {**{name: load_pack(name) for name in ("cn", "us-regf")}, "minimal": MINIMAL}
ZONES = [
    ("Asia/Shanghai",),
    ("Asia/Urumqi",),
    ("America/New_York", "America/Los_Angeles"),
    ("Asia/Shanghai", "America/Chicago"),
]
# around China's National Day holidays and a US DST change, to cross calendar edges
BASE = datetime(2026, 9, 29, 0, 0, tzinfo=UTC)
OUTCOMES = sorted(CONNECTED_DEBTOR | UNANSWERED | {"connected_third_party"})

moments = st.integers(min_value=0, max_value=14 * 24 * 3600).map(
    lambda s: BASE + timedelta(seconds=s)
)


@st.composite
def cases(draw: st.DrawFn) -> tuple[Attempt, CaseState, list[PastContact]]:
    at = draw(moments)
    attempt = Attempt(
        at=at,
        channel=draw(st.sampled_from(["call", "call", "call", *CHANNELS])),
        contact_point_id=draw(st.integers(1, 3)),
        party=draw(st.sampled_from(["debtor", "third_party"])),
        zones=draw(st.sampled_from(ZONES)),
        third_party_named=draw(st.booleans()),
        collectors=draw(st.integers(1, 3)),
    )
    state = CaseState(
        suspended=draw(st.frozensets(st.sampled_from(["dispute", "complaint", "cease"]))),
        debtor_numbers_invalid=draw(st.booleans()),
        opted_out=draw(st.frozensets(st.sampled_from(["sms", "email", "wechat"]))),
    )
    # mostly the same day (to reach the daily caps), some across the 7-day windows
    offsets = st.one_of(
        st.integers(min_value=-10 * 3600, max_value=0),
        st.integers(min_value=-9 * 24 * 3600, max_value=24 * 3600),
    )
    size = draw(st.sampled_from([0, 2, 5, 8, 12, 20]))  # long histories reach the caps
    history = draw(
        st.lists(
            st.builds(
                PastContact,
                at=offsets.map(lambda s: at + timedelta(seconds=s)),
                channel=st.sampled_from(["call", "call", "call", "sms", "visit"]),
                contact_point_id=st.integers(1, 3),
                party=st.sampled_from(["debtor", "debtor", "third_party"]),
                outcome=st.sampled_from(OUTCOMES),
            ),
            min_size=size,
            max_size=size + 4,
        )
    )
    return attempt, state, history


def frames(
    batch: list[tuple[Attempt, CaseState, list[PastContact]]],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    rows: list[dict[str, Any]] = []
    past: list[dict[str, Any]] = []
    for index, (a, s, history) in enumerate(batch):
        rows.append(
            {
                "candidate_id": index,
                "debtor_id": index,
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
        )
        past.extend(
            {
                "debtor_id": index,
                "at": h.at,
                "channel": h.channel,
                "contact_point_id": h.contact_point_id,
                "party": h.party,
                "outcome": h.outcome,
            }
            for h in history
        )
    return (
        pl.DataFrame(rows, schema=CANDIDATE_SCHEMA),
        pl.DataFrame(past, schema=HISTORY_SCHEMA),
    )


@settings(max_examples=150, deadline=None)
@given(
    batch=st.lists(cases(), min_size=1, max_size=12),
    pack_name=st.sampled_from(sorted(PACKS)),
)
def test_scalar_and_polars_gates_agree(
    batch: list[tuple[Attempt, CaseState, list[PastContact]]], pack_name: str
) -> None:
    pack = PACKS[pack_name]
    candidates, history = frames(batch)
    with_facts = history_facts(candidates, history)
    decided = decide_frame(pack, with_facts).sort("candidate_id")
    for index, (attempt, state, past) in enumerate(batch):
        row = decided.row(index, named=True)
        facts = facts_of(attempt, past)
        got_facts = Facts(**{name: row[name] for name in Facts.__slots__})
        assert got_facts == facts
        expected = decide(pack, attempt, state, facts)
        assert tuple(row["rule_ids"]) == expected
        assert row["allowed"] is (expected == ())
