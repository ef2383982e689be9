"""Pure contact rules: outcome codes, party, channels, contact-driven alerts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from cuishou.contact.rules import (
    CHANNELS,
    OUTCOMES,
    REFUSAL,
    THREE_FAILED,
    channel_problem,
    contact_alerts_of,
    mask_contact_value,
    party_of,
    timing_problem,
)

FAILED = sorted(code for code, o in OUTCOMES.items() if o.failed)
NOT_FAILED = sorted(code for code, o in OUTCOMES.items() if not o.failed)
NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
outcome_lists = st.lists(st.sampled_from(sorted(OUTCOMES)), max_size=12)


def test_the_documented_outcome_list() -> None:
    assert list(OUTCOMES) == [
        "connected_debtor", "connected_third_party", "no_answer", "powered_off",
        "invalid_number", "rejected", "promise", "refused", "negotiating", "complaint",
        "lost_contact", "message_sent",
    ]  # fmt: skip
    assert FAILED == ["invalid_number", "lost_contact", "no_answer", "powered_off", "rejected"]
    text = (Path(__file__).parents[2] / "docs" / "api.md").read_text(encoding="utf-8")
    for code, outcome in OUTCOMES.items():
        assert f"`{code}`" in text and outcome.zh in text, code


@given(history=outcome_lists, new=st.sampled_from(sorted(OUTCOMES)))
def test_refusal_alert_exactly_when_the_debtor_refuses(history: list[str], new: str) -> None:
    kinds = contact_alerts_of([*history, new], new_outcome=new)
    assert (REFUSAL in kinds) == (new == "refused")


@given(history=outcome_lists, new=st.sampled_from(sorted(OUTCOMES)))
def test_three_failed_alert_exactly_when_the_last_three_attempts_failed(
    history: list[str], new: str
) -> None:
    sequence = [*history, new]
    kinds = contact_alerts_of(sequence, new_outcome=new)
    last_three_failed = len(sequence) >= 3 and all(OUTCOMES[o].failed for o in sequence[-3:])
    assert (THREE_FAILED in kinds) == last_three_failed


def test_alert_examples() -> None:
    assert contact_alerts_of(["no_answer", "powered_off"], new_outcome="powered_off") == []
    three = ["no_answer", "powered_off", "rejected"]
    assert contact_alerts_of(three, new_outcome="rejected") == [THREE_FAILED]
    broken = ["no_answer", "connected_debtor", "no_answer", "no_answer"]
    assert contact_alerts_of(broken, new_outcome="no_answer") == []


def test_party_follows_outcome_and_point_owner() -> None:
    assert party_of("connected_debtor", "third_party") == "debtor"
    assert party_of("connected_third_party", "debtor") == "third_party"
    assert party_of("no_answer", "debtor") == "none"
    assert party_of("promise", "debtor") == "debtor"
    assert party_of("complaint", "third_party") == "third_party"


def test_channels_need_the_right_kind_of_contact_point() -> None:
    assert set(CHANNELS) == {"call", "sms", "email", "letter", "visit", "wechat"}
    assert channel_problem("call", "phone") is None
    assert channel_problem("sms", "phone") is not None
    assert channel_problem("visit", "address") is None
    assert channel_problem("email", "mobile") is not None


def test_timing() -> None:
    assert timing_problem(at=NOW, callback_at=None, now=NOW) is None
    assert timing_problem(at=NOW + timedelta(minutes=4), callback_at=None, now=NOW) is None
    assert timing_problem(at=NOW + timedelta(minutes=6), callback_at=None, now=NOW) is not None
    assert timing_problem(at=NOW, callback_at=NOW, now=NOW) is not None
    assert timing_problem(at=NOW, callback_at=NOW + timedelta(days=30), now=NOW) is None
    assert timing_problem(at=NOW, callback_at=NOW + timedelta(days=31), now=NOW) is not None


def test_masking_by_kind() -> None:
    assert mask_contact_value("mobile", "13812341234") == "138****1234"
    assert mask_contact_value("email", "zhangsan@example.com") == "z*******@example.com"
    assert mask_contact_value("address", "北京市朝阳区某某路1号") == "北京市朝阳区****"
