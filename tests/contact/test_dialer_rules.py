"""The pure pieces of the dialer import: the result-code table and the Polars twins of the
contact rules (one definition for a contact logged on the workbench and a call imported)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.contact.dialer_codes import load_codes
from cuishou.contact.rules import (
    ANSWERED,
    OUTCOMES,
    answered_outcome,
    answered_outcome_expr,
    contact_alerts_frame,
    contact_alerts_of,
    party_expr,
    party_of,
    timing_problem,
    timing_problem_expr,
)
from cuishou.kit.errors import InvalidInput

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
OWNERS = ("debtor", "third_party")


@pytest.mark.parametrize(
    ("code", "outcome"),
    [
        ("ANSWERED", ANSWERED),
        ("接通", ANSWERED),
        ("NO_ANSWER", "no_answer"),
        ("无人接听", "no_answer"),
        ("BUSY", "no_answer"),
        ("忙", "no_answer"),
        ("POWER_OFF", "powered_off"),
        ("关机", "powered_off"),
        ("EMPTY", "invalid_number"),
        ("空号", "invalid_number"),
        ("REJECT", "rejected"),
        ("拒接", "rejected"),
        ("PTP", "promise"),
        (" no_answer ", "no_answer"),  # the outcome codes themselves, trimmed, any case
        ("Connected_Third_Party", "connected_third_party"),
        ("本人接通", "connected_debtor"),  # and their Chinese labels
        ("BEEP", None),
    ],
)
def test_the_shipped_table_maps_common_dialer_codes(code: str, outcome: str | None) -> None:
    codes = load_codes()
    assert codes.outcome_of(code) == outcome
    frame = pl.DataFrame({"c": [code]})
    assert frame.select(codes.outcome_expr(pl.col("c")).alias("r"))["r"].to_list() == [outcome]


def test_every_outcome_code_maps_to_itself() -> None:
    codes = load_codes()
    for code, outcome in OUTCOMES.items():
        assert codes.outcome_of(code) == code
        assert codes.outcome_of(outcome.zh) == code


def test_a_codes_file_is_laid_over_the_shipped_table(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text("codes:\n  '18': no_answer\n  BUSY: rejected\n", encoding="utf-8")
    codes = load_codes(path)
    assert (codes.outcome_of("18"), codes.outcome_of("busy")) == ("no_answer", "rejected")
    assert codes.outcome_of("关机") == "powered_off"  # the rest stays
    path.write_text("replace: true\ncodes:\n  X: promise\n", encoding="utf-8")
    only = load_codes(path)
    # the shipped dialer codes are gone; the outcome codes and their labels stay
    assert (only.outcome_of("X"), only.outcome_of("BUSY"), only.outcome_of("关机")) == (
        "promise",
        None,
        "powered_off",
    )


def test_a_codes_file_naming_an_unknown_outcome_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "codes.yaml"
    path.write_text("codes:\n  BUSY: busy_signal\n", encoding="utf-8")
    with pytest.raises(InvalidInput, match="busy_signal"):
        load_codes(path)


@given(st.sampled_from(sorted(OUTCOMES)), st.sampled_from(OWNERS))
def test_party_expr_is_party_of(outcome: str, owner: str) -> None:
    frame = pl.DataFrame({"o": [outcome], "w": [owner]})
    got = frame.select(party_expr(pl.col("o"), pl.col("w")).alias("r"))["r"].to_list()
    assert got == [party_of(outcome, owner)]
    answered = frame.select(answered_outcome_expr(pl.col("w")).alias("r"))["r"].to_list()
    assert answered == [answered_outcome(owner)]


@given(st.integers(-(40 * 365 * 86400), 90 * 365 * 86400))
def test_timing_problem_expr_is_timing_problem(seconds: int) -> None:
    at = NOW + timedelta(seconds=seconds)  # 1986 … 2116
    frame = pl.DataFrame({"at": [at]}, schema={"at": pl.Datetime("us", "UTC")})
    code = frame.select(timing_problem_expr(pl.col("at"), now=NOW).alias("r"))["r"].item()
    scalar = timing_problem(at=at, callback_at=None, now=NOW)
    assert (code is None) == (scalar is None)
    if code == "year":
        assert scalar is not None and "plausible year" in scalar
    if code == "future":
        assert scalar is not None and "future" in scalar


def test_the_clock_skew_is_five_minutes() -> None:
    frame = pl.DataFrame(
        {"at": [NOW + timedelta(minutes=5), NOW + timedelta(minutes=5, seconds=1)]},
        schema={"at": pl.Datetime("us", "UTC")},
    )
    assert frame.select(timing_problem_expr(pl.col("at"), now=NOW).alias("r"))["r"].to_list() == [
        None,
        "future",
    ]


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(1, 3), st.sampled_from(sorted(OUTCOMES)), st.booleans()),
        max_size=30,
    )
)
def test_contact_alerts_frame_is_contact_alerts_of(rows: list[tuple[int, str, bool]]) -> None:
    """For each new contact, the alerts of the sequence up to it, case by case."""
    frame = pl.DataFrame(
        {
            "case_id": [case for case, _, _ in rows],
            "seq": list(range(len(rows))),
            "outcome": [outcome for _, outcome, _ in rows],
            "new": [new for _, _, new in rows],
        },
        schema={"case_id": pl.Int64, "seq": pl.Int64, "outcome": pl.String, "new": pl.Boolean},
    )
    got = sorted(contact_alerts_frame(frame).iter_rows())
    expected = []
    for seq, (case, outcome, new) in enumerate(rows):
        if not new:
            continue
        history = [o for c, o, _ in rows[: seq + 1] if c == case]
        for kind in contact_alerts_of(history, new_outcome=outcome):
            expected.append((case, seq, kind))
    assert got == sorted(expected)
