"""The gate's rules, table-driven from the regulations' own examples (boundary minutes,
zone edges, the 7-day windows, caps summed across collectors and agencies)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml

from cuishou.compliance import pack as pack_module
from cuishou.compliance.pack import load_pack, parse_pack
from cuishou.compliance.rules import Attempt, CaseState, Decision, PastContact, check

CN = load_pack("cn")
US = load_pack("us-regf")
SH = ZoneInfo("Asia/Shanghai")
NY = ZoneInfo("America/New_York")
DEBTOR_PHONE = 11
OTHER_PHONE = 12
SISTER_PHONE = 21


def sh(day: int, hour: int, minute: int = 0, second: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=SH)


def call(at: datetime, point: int = DEBTOR_PHONE, **kw: object) -> Attempt:
    return Attempt(at=at, channel="call", contact_point_id=point, **kw)  # type: ignore[arg-type]


def past(at: datetime, outcome: str, point: int = DEBTOR_PHONE, **kw: object) -> PastContact:
    fields: dict[str, object] = {"channel": "call", "party": "debtor", "by": "c1", **kw}
    return PastContact(at=at, contact_point_id=point, outcome=outcome, **fields)  # type: ignore[arg-type]


def decide(
    attempt: Attempt,
    history: list[PastContact] | None = None,
    state: CaseState | None = None,
    pack: object = CN,
) -> Decision:
    return check(pack, attempt, state or CaseState(), history or [])  # type: ignore[arg-type]


# ------------------------------------------------------------------ hours (CN-01, US-01)


@pytest.mark.parametrize(
    ("at", "allowed", "next_at"),
    [
        (sh(24, 7, 59, 59), False, sh(24, 8)),
        (sh(24, 8), True, None),
        (sh(24, 20, 59, 59), True, None),
        (sh(24, 21), False, sh(25, 8)),
        (sh(24, 23, 30), False, sh(25, 8)),
        (sh(25, 0, 5), False, sh(25, 8)),
    ],
)
def test_cn_contact_hours_boundary_minutes(
    at: datetime, allowed: bool, next_at: datetime | None
) -> None:
    decision = decide(call(at))
    assert decision.allowed is allowed
    assert decision.next_allowed_at == next_at
    if not allowed:
        assert decision.rule_ids == ("CN-01",)
        assert "当地时间" in decision.rules[0].reason_zh


def test_hours_are_the_debtors_local_time_not_the_collectors() -> None:
    # a debtor whose region says Asia/Urumqi (UTC+6): 09:30 Beijing time is 07:30 there
    at = sh(24, 9, 30)
    assert decide(call(at, zones=("Asia/Urumqi",))).rule_ids == ("CN-01",)
    assert decide(call(at)).allowed


def test_us_unknown_location_must_be_inside_every_possible_zone() -> None:
    # 08:30 in New York is 05:30 in Los Angeles: a debtor who may be in either is not called
    at = datetime(2026, 11, 24, 8, 30, tzinfo=NY)
    attempt = call(at, zones=("America/New_York", "America/Los_Angeles"))
    decision = decide(attempt, pack=US)
    assert decision.rule_ids == ("US-01",)
    # the next moment both zones are in the window: 08:00 in Los Angeles = 11:00 in New York
    assert decision.next_allowed_at == datetime(2026, 11, 24, 11, 0, tzinfo=NY)
    assert decide(call(at, zones=("America/New_York",)), pack=US).allowed


def test_letters_keep_no_hours_but_sms_does() -> None:
    at = sh(24, 23)
    assert decide(Attempt(at=at, channel="letter", contact_point_id=DEBTOR_PHONE)).allowed
    sms = decide(Attempt(at=at, channel="sms", contact_point_id=DEBTOR_PHONE))
    assert sms.rule_ids == ("CN-01",)


def test_holiday_keeps_a_narrower_window_and_stops_field_visits() -> None:
    national_day = sh(1, 8, 30, month=10)
    decision = decide(call(national_day))
    assert decision.rule_ids == ("CN-01",)
    assert decision.next_allowed_at == sh(1, 9, month=10)
    visit = Attempt(at=sh(1, 10, month=10), channel="visit", contact_point_id=31, collectors=2)
    denied = decide(visit)
    assert denied.rule_ids == ("CN-X-HOLIDAY",) and denied.next_allowed_at is None


# ------------------------------------------------------------------ visits (CN-14)


def test_field_visits_need_two_collectors_and_visit_hours() -> None:
    visit = Attempt(at=sh(24, 10), channel="visit", contact_point_id=31, collectors=1)
    assert decide(visit).rule_ids == ("CN-14",)
    two = Attempt(at=sh(24, 10), channel="visit", contact_point_id=31, collectors=2)
    assert decide(two).allowed
    late = Attempt(at=sh(24, 20, 0), channel="visit", contact_point_id=31, collectors=2)
    decision = decide(late)
    assert decision.rule_ids == ("CN-01",) and decision.next_allowed_at == sh(25, 8)


# ------------------------------------------------------------------ caps (CN-03, CN-04)


def test_six_unanswered_attempts_on_a_number_stop_it_for_the_day() -> None:
    history = [past(sh(24, 9 + i), "no_answer", by=f"c{i}") for i in range(5)]
    assert decide(call(sh(24, 15)), history).allowed  # the 6th attempt
    history.append(past(sh(24, 15), "powered_off"))
    decision = decide(call(sh(24, 16)), history)
    assert decision.rule_ids == ("CN-03",)
    assert decision.next_allowed_at == sh(25, 8)
    # another number of the debtor is not capped, and yesterday's attempts do not count
    assert decide(call(sh(24, 16), point=OTHER_PHONE), history).allowed
    assert decide(call(sh(25, 9)), history).allowed


def test_connected_calls_are_capped_across_collectors_and_agencies() -> None:
    history = [
        past(sh(24, 9), "connected_debtor", by="zhang"),
        past(sh(24, 11), "negotiating", by="agency:HXCS", point=OTHER_PHONE),
        past(sh(24, 14), "promise", by="agency:BJCS"),
    ]
    decision = decide(call(sh(24, 16), point=OTHER_PHONE), history)
    assert decision.rule_ids == ("CN-04",)
    assert decision.next_allowed_at == sh(25, 8)
    # two connected calls leave room for a third
    assert decide(call(sh(24, 16)), history[:2]).allowed


def test_history_after_the_attempt_does_not_count() -> None:
    history = [past(sh(24, 15, i), "no_answer") for i in range(6)]
    assert decide(call(sh(24, 14)), history).allowed


# ------------------------------------------------------------------ third parties (CN-08/09)


def third(at: datetime, *, named: bool = True) -> Attempt:
    return Attempt(
        at=at, channel="call", contact_point_id=SISTER_PHONE, party="third_party",
        third_party_named=named,
    )  # fmt: skip


def test_third_parties_only_when_the_debtor_is_unreachable() -> None:
    assert decide(third(sh(24, 10))).rule_ids == ("CN-08",)
    two_failures = [past(sh(24, 9), "no_answer"), past(sh(24, 9, 30), "rejected")]
    assert decide(third(sh(24, 10)), two_failures).rule_ids == ("CN-08",)
    three = [*two_failures, past(sh(24, 9, 45), "powered_off", point=OTHER_PHONE)]
    assert decide(third(sh(24, 10)), three).allowed
    # a conversation with the debtor resets the count
    reached = [*three, past(sh(24, 9, 50), "connected_debtor")]
    assert decide(third(sh(24, 10)), reached).rule_ids == ("CN-08",)
    # every debtor number invalid (空号) makes the debtor unreachable at once
    assert decide(third(sh(24, 10)), state=CaseState(debtor_numbers_invalid=True)).allowed


def test_only_named_third_parties_with_their_own_daily_cap() -> None:
    unreachable = CaseState(debtor_numbers_invalid=True)
    denied = decide(third(sh(24, 10), named=False), state=unreachable)
    assert denied.rule_ids == ("CN-09",) and denied.next_allowed_at is None
    history = [
        past(sh(24, 9), "no_answer", point=SISTER_PHONE, party="third_party"),
        past(sh(24, 9, 30), "connected_third_party", point=SISTER_PHONE, party="third_party"),
    ]
    capped = decide(third(sh(24, 11)), history, state=unreachable)
    assert capped.rule_ids == ("CN-06",) and capped.next_allowed_at == sh(25, 8)


# ------------------------------------------------------------------ suspensions


@pytest.mark.parametrize("reason", ["dispute", "complaint", "cease"])
def test_disputes_complaints_and_cease_requests_suspend_contact(reason: str) -> None:
    decision = decide(call(sh(24, 10)), state=CaseState(suspended=frozenset({reason})))
    assert decision.rule_ids == ("CN-X-SUSPEND",)
    assert not decision.allowed and decision.next_allowed_at is None


def test_us_dispute_and_cease_cite_their_own_sections() -> None:
    at = datetime(2026, 11, 24, 10, tzinfo=NY)
    both = CaseState(suspended=frozenset({"dispute", "cease"}))
    attempt = call(at, zones=("America/New_York",))
    assert decide(attempt, state=both, pack=US).rule_ids == ("US-08", "US-11")


# ------------------------------------------------------------------ Reg F 7-in-7 (US-02)


def ny(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=NY)


def us_call(at: datetime) -> Attempt:
    return call(at, zones=("America/New_York",))


def test_seven_calls_in_seven_days_then_wait_for_the_oldest_to_leave_the_window() -> None:
    history = [past(ny(10 + i, 10), "no_answer") for i in range(7)]  # 10th … 16th
    decision = decide(us_call(ny(16, 18)), history, pack=US)
    assert decision.rule_ids == ("US-02",)
    # the call of the 10th at 10:00 leaves the 7-day window just after 10:00 on the 17th
    assert decision.next_allowed_at is not None
    assert ny(17, 10) < decision.next_allowed_at < ny(17, 10, 1)
    assert decide(us_call(ny(17, 10, 1)), history, pack=US).allowed


def test_no_call_within_seven_days_after_a_conversation() -> None:
    history = [past(ny(10, 15), "connected_debtor")]
    decision = decide(us_call(ny(17, 14, 59)), history, pack=US)
    assert decision.rule_ids == ("US-02",)
    assert decision.next_allowed_at == ny(17, 15)
    assert decide(us_call(ny(17, 15)), history, pack=US).allowed


def test_us_electronic_opt_out_is_honoured_per_channel() -> None:
    at = ny(24, 10)
    state = CaseState(opted_out=frozenset({"sms"}))
    sms = Attempt(at=at, channel="sms", contact_point_id=1, zones=("America/New_York",))
    assert decide(sms, state=state, pack=US).rule_ids == ("US-04",)
    email = Attempt(at=at, channel="email", contact_point_id=2, zones=("America/New_York",))
    assert decide(email, state=state, pack=US).allowed


@pytest.mark.parametrize(
    ("pack", "zone", "rule"),
    [(CN, "Asia/Shanghai", "CN-X-OPTOUT"), (US, "America/New_York", "US-04")],
    ids=["cn", "us-regf"],
)
@pytest.mark.parametrize("channel", ["sms", "email", "wechat"])
def test_an_opt_out_is_honoured_under_every_pack(
    pack: object, zone: str, rule: str, channel: str
) -> None:
    # 10:00 local on a working day: nothing but the opt-out stands in the way
    at = datetime(2026, 11, 24, 10, tzinfo=ZoneInfo(zone))
    attempt = Attempt(at=at, channel=channel, contact_point_id=DEBTOR_PHONE, zones=(zone,))
    opted_out = CaseState(opted_out=frozenset({channel}))

    denied = decide(attempt, state=opted_out, pack=pack)

    assert denied.rule_ids == (rule,)
    assert denied.next_allowed_at is None  # waiting never helps
    assert "退订" in denied.rules[0].reason_zh
    assert decide(attempt, pack=pack).allowed
    others = CaseState(opted_out=frozenset({"sms", "email", "wechat"} - {channel}))
    assert decide(attempt, state=others, pack=pack).allowed  # only the channel opted out of
    # a call is not an electronic message: an SMS opt-out does not stop it
    assert decide(call(at, zones=(zone,)), state=opted_out, pack=pack).allowed


def test_next_allowed_time_combines_a_cap_with_the_window() -> None:
    # capped at 20:30: tomorrow — but only from the window's start, 08:00
    history = [past(sh(24, 9 + i), "connected_debtor") for i in range(3)]
    assert decide(call(sh(24, 20, 30)), history).next_allowed_at == sh(25, 8)
    # and a decision's time is aware, UTC-comparable
    decision = decide(call(sh(24, 20, 30)), history)
    assert decision.next_allowed_at is not None
    assert decision.next_allowed_at.astimezone(UTC) == datetime(2026, 11, 25, 0, tzinfo=UTC)


def test_a_naive_time_is_refused_not_guessed() -> None:
    with pytest.raises(ValueError, match="aware"):
        decide(call(datetime(2026, 11, 24, 10)))  # noqa: DTZ001


def test_the_next_time_is_the_first_moment_inside_every_zone() -> None:
    # Shanghai 10:00 on the 24th is 21:00 on the 23rd in New York; New York opens at 08:00
    # (21:00 in Shanghai, closed); both are open at 08:00 Shanghai = 19:00 New York
    attempt = call(sh(24, 10), zones=("Asia/Shanghai", "America/New_York"))
    decision = decide(attempt)
    assert decision.rule_ids == ("CN-01",)
    assert decision.next_allowed_at == sh(25, 8)


def test_windows_that_never_overlap_give_no_next_time() -> None:
    raw = yaml.safe_load((Path(pack_module.__file__).parent / "packs" / "cn.yaml").read_text())
    raw["contact_hours"].update(start="09:00", end="10:00")
    narrow = parse_pack(raw, source="narrow")
    attempt = call(sh(24, 9, 30), zones=("Asia/Shanghai", "America/New_York"))
    decision = decide(attempt, pack=narrow)
    assert decision.rule_ids == ("CN-01",) and decision.next_allowed_at is None
