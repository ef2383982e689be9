"""The compliance gate's decision (合规闸门): may this contact happen now, and if not, when?

Two forms of one rule set, proven to agree by a property test:

* scalar — :func:`check` decides one :class:`Attempt` from the debtor's contact history
  in hand (the API, the CLI and the case page ask this before acting; logged contacts are
  judged by it after the fact) and finds the next time the attempt would be allowed;
* Polars — :func:`history_facts` + :func:`decide_frame` decide a frame of candidate
  contacts at once: the calls of a dialer's result file are judged this way
  (:mod:`cuishou.compliance.logged`), and the day's planned contacts through
  :func:`earliest_allowed_frame` (:mod:`cuishou.compliance.planned`).

Opt-outs of electronic channels are judged under every pack (``pack.UNIVERSAL_CHECKS``).

Pure: plain data in, plain data out; the pack, the history and ``at`` are arguments.
Times are aware; "today" is the debtor's local date in their home zone (the first of
``zones``); hours must hold in *every* zone the debtor may be in (unknown location).
History counts only contacts strictly before the attempt.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import polars as pl

from cuishou.compliance.pack import RulePack, Window

Party = Literal["debtor", "third_party"]

#: outcome codes (催记结果) that mean the debtor was reached on a call (本人接通 …)
CONNECTED_DEBTOR = frozenset({"connected_debtor", "promise", "refused", "negotiating", "complaint"})
#: outcome codes that mean nobody answered (无人接听, 关机, 空号, 拒接 …)
UNANSWERED = frozenset({"no_answer", "powered_off", "invalid_number", "rejected", "lost_contact"})
#: every outcome code the gate knows
OUTCOME_KINDS = tuple(sorted(CONNECTED_DEBTOR | UNANSWERED | {"connected_third_party"}))
ELECTRONIC = frozenset({"sms", "email", "wechat"})
#: the order checks are made in; denials list their rules in this order
CHECK_ORDER = (
    "suspended_dispute",
    "suspended_complaint",
    "suspended_cease",
    "opt_out",
    "third_party_named",
    "third_party_unreachable",
    "visit_collectors",
    "holiday",
    "visit_hours",
    "hours",
    "unanswered",
    "connected",
    "third_party_cap",
    "calls_7_days",
    "conversation_quiet",
)
#: checks that waiting cannot satisfy (the case or the request must change)
PERMANENT = frozenset(CHECK_ORDER[:7]) | {"holiday"}
_SEARCH_DAYS = 15
_MAX_STEPS = 64


@dataclass(frozen=True, slots=True)
class PastContact:
    """One logged contact attempt of the debtor's history (any collector or agency)."""

    at: datetime
    channel: str
    contact_point_id: int
    party: Party
    outcome: str
    #: who made it (collector username or agency code) — the caps sum over everyone
    by: str = ""


@dataclass(frozen=True, slots=True)
class Attempt:
    """A proposed contact: who is contacted, how, when, and what is known of them."""

    at: datetime
    channel: str
    contact_point_id: int
    party: Party = "debtor"
    #: the debtor's possible time zones, home first (several when location is unknown)
    zones: tuple[str, ...] = ("Asia/Shanghai",)
    #: for a third party: the debtor or the creditor named them (紧急联系人)
    third_party_named: bool = True
    #: for a field visit: how many collectors go
    collectors: int = 1


@dataclass(frozen=True, slots=True)
class CaseState:
    """What stands on the case now: suspensions, unreachable numbers, opt-outs."""

    suspended: frozenset[str] = frozenset()  # dispute | complaint | cease
    debtor_numbers_invalid: bool = False  # every debtor number is marked 空号/invalid
    opted_out: frozenset[str] = frozenset()  # channels the debtor opted out of


@dataclass(frozen=True, slots=True)
class Facts:
    """The history an attempt is judged against, counted as of the attempt's time.

    ``unanswered_on_number_today``: calls to this number today that nobody answered;
    ``connected_debtor_calls_today``: calls today on which the debtor was reached, on any of
    their numbers, by anyone; ``third_party_attempts_today``: attempts on this third party
    today; ``trailing_debtor_failures``: failed calls to the debtor since the last call that
    reached them; the 7-day figures count calls (any outcome) and the last conversation.
    """

    unanswered_on_number_today: int = 0
    connected_debtor_calls_today: int = 0
    third_party_attempts_today: int = 0
    trailing_debtor_failures: int = 0
    calls_last_7_days: int = 0
    oldest_call_last_7_days: datetime | None = None
    last_conversation_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class RuleHit:
    check: str
    rule_id: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    rules: tuple[RuleHit, ...]
    next_allowed_at: datetime | None

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(hit.rule_id for hit in self.rules)


# ------------------------------------------------------------------ reasons

_REASONS: dict[str, tuple[str, str]] = {
    "suspended_dispute": (
        "债务人提出异议，核实前暂停催收",
        "the debt is disputed; contact is suspended until verified",
    ),
    "suspended_complaint": (
        "投诉调查期间暂停联系",
        "a complaint is under investigation; contact is suspended",
    ),
    "suspended_cease": ("债务人要求停止联系", "the debtor asked that contact cease"),
    "opt_out": ("债务人已退订该渠道", "the debtor opted out of this channel"),
    "third_party_named": (
        "只能联系债务人预留的联系人",
        "only third parties the debtor named may be contacted",
    ),
    "third_party_unreachable": (
        "债务人可联系时不得联系第三方（需号码无效或连续失败）",
        "third parties may be contacted only when the debtor is unreachable",
    ),
    "visit_collectors": ("外访须至少两名催收员同行", "a field visit needs more collectors"),
    "holiday": ("节假日不安排外访", "no field visits on holidays"),
    "visit_hours": ("不在外访允许时段", "outside the hours for field visits"),
    "hours": (
        "不在允许联系时段（债务人当地时间）",
        "outside contact hours in the debtor's local time",
    ),
    "unanswered": (
        "该号码当日未接通次数已达上限",
        "unanswered attempts on this number reached today's cap",
    ),
    "connected": (
        "当日与债务人接通次数已达上限（跨催收员与机构合计）",
        "connected calls with the debtor reached today's cap (all collectors and agencies)",
    ),
    "third_party_cap": (
        "该第三方当日联系次数已达上限",
        "attempts on this third party reached today's cap",
    ),
    "calls_7_days": ("7日内通话次数已达上限", "calls in 7 days reached the cap for this debt"),
    "conversation_quiet": (
        "与债务人通话后7日内不得再次致电",
        "no call within the quiet days after a conversation",
    ),
}


def _hit(pack: RulePack, check: str) -> RuleHit:
    zh, en = _REASONS[check]
    return RuleHit(check=check, rule_id=pack.rule_id(check), reason_zh=zh, reason_en=en)


# ------------------------------------------------------------------ scalar form


def _local(moment: datetime, zone: str) -> datetime:
    return moment.astimezone(ZoneInfo(zone))


def _window_for(pack: RulePack, channel: str, local: datetime) -> Window | None:
    """The window this channel keeps on this local date (``None``: no hours apply)."""
    if channel == "visit":
        window: Window = pack.visit_hours
    elif channel in pack.contact_hours.channels:
        window = pack.contact_hours
    else:
        return None
    holidays = pack.holidays
    if holidays is not None and local.date() in holidays.dates:
        start = max(window.start, holidays.hours.start)
        end = min(window.end, holidays.hours.end)
        return Window(start=start, end=end) if start < end else window
    return window


def _is_holiday(pack: RulePack, local: datetime) -> bool:
    return pack.holidays is not None and local.date() in pack.holidays.dates


def facts_of(attempt: Attempt, history: Iterable[PastContact]) -> Facts:
    """Count the history that bears on ``attempt`` (contacts strictly before it)."""
    home = ZoneInfo(attempt.zones[0])
    today = attempt.at.astimezone(home).date()
    week_ago = attempt.at - timedelta(days=7)
    unanswered = connected = third = calls = 0
    oldest: datetime | None = None
    last_talk: datetime | None = None
    last_debtor_success: datetime | None = None
    debtor_failures: list[datetime] = []
    for past in history:
        if past.at >= attempt.at:
            continue
        is_call = past.channel == "call"
        same_day = past.at.astimezone(home).date() == today
        failed = past.outcome in UNANSWERED
        if same_day and past.contact_point_id == attempt.contact_point_id:
            if failed and is_call:
                unanswered += 1
            if past.party == "third_party":
                third += 1
        if is_call and past.party == "debtor":
            if past.outcome in CONNECTED_DEBTOR:
                if same_day:
                    connected += 1
                if last_talk is None or past.at > last_talk:
                    last_talk = past.at
            if failed:
                debtor_failures.append(past.at)
            elif last_debtor_success is None or past.at > last_debtor_success:
                last_debtor_success = past.at
        if is_call and past.at > week_ago:
            calls += 1
            if oldest is None or past.at < oldest:
                oldest = past.at
    trailing = sum(
        1 for at in debtor_failures if last_debtor_success is None or at > last_debtor_success
    )
    return Facts(
        unanswered_on_number_today=unanswered,
        connected_debtor_calls_today=connected,
        third_party_attempts_today=third,
        trailing_debtor_failures=trailing,
        calls_last_7_days=calls,
        oldest_call_last_7_days=oldest,
        last_conversation_at=last_talk,
    )


def _failing(pack: RulePack, attempt: Attempt, state: CaseState, facts: Facts) -> list[str]:
    """The checks ``attempt`` fails, in :data:`CHECK_ORDER`."""
    checks = pack.checks()
    failing: set[str] = set()
    for reason in state.suspended:
        if f"suspended_{reason}" in checks:
            failing.add(f"suspended_{reason}")
    if attempt.channel in ELECTRONIC and attempt.channel in state.opted_out:  # every pack
        failing.add("opt_out")
    third = attempt.party == "third_party"
    rules = pack.third_parties
    if third and rules.named_only and not attempt.third_party_named:
        failing.add("third_party_named")
    if (
        third
        and rules.only_when_debtor_unreachable
        and not state.debtor_numbers_invalid
        and facts.trailing_debtor_failures < rules.unreachable_after_failed_attempts
    ):
        failing.add("third_party_unreachable")
    visit = attempt.channel == "visit"
    if visit and "visit_collectors" in checks and attempt.collectors < pack.visit_min_collectors:
        failing.add("visit_collectors")
    for zone in attempt.zones:
        local = _local(attempt.at, zone)
        holidays = pack.holidays
        if visit and holidays is not None and holidays.no_visits and _is_holiday(pack, local):
            failing.add("holiday")
        window = _window_for(pack, attempt.channel, local)
        if window is not None and not window.contains(local.time()):
            failing.add("visit_hours" if visit else "hours")
    limits = pack.limits
    call = attempt.channel == "call"
    if (
        call
        and limits.unanswered_per_number_per_day is not None
        and facts.unanswered_on_number_today >= limits.unanswered_per_number_per_day
    ):
        failing.add("unanswered")
    if (
        call
        and not third
        and limits.connected_calls_per_debtor_per_day is not None
        and facts.connected_debtor_calls_today >= limits.connected_calls_per_debtor_per_day
    ):
        failing.add("connected")
    if (
        third
        and rules.attempts_per_third_party_per_day is not None
        and facts.third_party_attempts_today >= rules.attempts_per_third_party_per_day
    ):
        failing.add("third_party_cap")
    if (
        call
        and limits.calls_per_7_days is not None
        and facts.calls_last_7_days >= limits.calls_per_7_days
    ):
        failing.add("calls_7_days")
    if (
        call
        and limits.quiet_days_after_conversation is not None
        and facts.last_conversation_at is not None
        and attempt.at
        < facts.last_conversation_at + timedelta(days=limits.quiet_days_after_conversation)
    ):
        failing.add("conversation_quiet")
    return [check for check in CHECK_ORDER if check in failing]


def decide(pack: RulePack, attempt: Attempt, state: CaseState, facts: Facts) -> tuple[str, ...]:
    """The rule ids ``attempt`` breaks (empty: allowed) — the twin of :func:`decide_frame`."""
    return tuple(pack.rule_id(check) for check in _failing(pack, attempt, state, facts))


def _next_local_start(
    at: datetime, zone: str, window: Window | None, *, next_day: bool
) -> datetime:
    local = _local(at, zone)
    start = window.start if window is not None else time(0)
    day = local.date() + timedelta(days=1 if next_day or local.time() >= start else 0)
    candidate = datetime.combine(day, start, tzinfo=ZoneInfo(zone))
    return candidate.astimezone(UTC)


def _earliest_after(pack: RulePack, attempt: Attempt, facts: Facts, check: str) -> datetime:
    """A time at or after which ``check`` (a waiting kind) can no longer fail."""
    home = attempt.zones[0]
    if check in ("hours", "visit_hours"):
        moments = []
        for zone in attempt.zones:
            local = _local(attempt.at, zone)
            window = _window_for(pack, attempt.channel, local)
            if window is not None and not window.contains(local.time()):
                moments.append(_next_local_start(attempt.at, zone, window, next_day=False))
        return max(moments)
    if check in ("unanswered", "connected", "third_party_cap"):
        return _next_local_start(attempt.at, home, None, next_day=True)
    if check == "calls_7_days" and facts.oldest_call_last_7_days is not None:
        return facts.oldest_call_last_7_days + timedelta(days=7, microseconds=1)
    if check == "conversation_quiet" and facts.last_conversation_at is not None:
        days = pack.limits.quiet_days_after_conversation or 0
        return facts.last_conversation_at + timedelta(days=days)
    return attempt.at + timedelta(minutes=1)  # pragma: no cover - every waiting check is above


def check(
    pack: RulePack, attempt: Attempt, state: CaseState, history: Sequence[PastContact]
) -> Decision:
    """Decide ``attempt`` and, when denied by time, find the next allowed moment.

    ``next_allowed_at`` is ``None`` when allowed, or when a check no waiting can satisfy
    fails (suspension, opt-out, third-party conditions, too few collectors, a holiday
    for visits), or when no allowed moment exists within 15 days.
    """
    if attempt.at.tzinfo is None:
        raise ValueError("an attempt's time must be aware")
    facts = facts_of(attempt, history)
    failing = _failing(pack, attempt, state, facts)
    if not failing:
        return Decision(allowed=True, rules=(), next_allowed_at=None)
    hits = tuple(_hit(pack, name) for name in failing)
    if PERMANENT & set(failing):
        return Decision(allowed=False, rules=hits, next_allowed_at=None)
    horizon = attempt.at + timedelta(days=_SEARCH_DAYS)
    probe = attempt
    probe_failing = failing
    for _ in range(_MAX_STEPS):
        later = max(_earliest_after(pack, probe, facts, name) for name in probe_failing)
        if later > horizon:
            break
        probe = replace(probe, at=later)
        facts = facts_of(probe, history)
        probe_failing = _failing(pack, probe, state, facts)
        if not probe_failing:
            return Decision(allowed=False, rules=hits, next_allowed_at=later)
        if PERMANENT & set(probe_failing):
            break
    return Decision(allowed=False, rules=hits, next_allowed_at=None)


# ------------------------------------------------------------------ Polars form

#: candidate columns :func:`decide_frame` reads (facts as :func:`history_facts` adds them)
CANDIDATE_SCHEMA: dict[str, pl.DataType] = {
    "candidate_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "channel": pl.String(),
    "contact_point_id": pl.Int64(),
    "party": pl.String(),
    "zones": pl.List(pl.String()),
    "third_party_named": pl.Boolean(),
    "collectors": pl.Int32(),
    "suspended": pl.List(pl.String()),
    "debtor_numbers_invalid": pl.Boolean(),
    "opted_out": pl.List(pl.String()),
}
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "debtor_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "channel": pl.String(),
    "contact_point_id": pl.Int64(),
    "party": pl.String(),
    "outcome": pl.String(),
}


def _zones_of(candidates: pl.DataFrame) -> list[str]:
    """Every zone named in the candidates' ``zones`` (sorted)."""
    return sorted(candidates.get_column("zones").explode().drop_nulls().unique().to_list())


def _home_day(frame: pl.DataFrame, zones: Sequence[str]) -> pl.Series:
    """The local date (days since 1970, Int32) of each row's ``at`` in its home zone
    (``_home``, an index into ``zones``): each zone converts only its own rows."""
    day = pl.Series("_day", [None] * frame.height, dtype=pl.Int32)
    homes = frame.get_column("_home")
    for index, zone in enumerate(zones):
        rows = homes == index
        if not rows.any():
            continue
        local = (
            frame.filter(rows).get_column("at").dt.convert_time_zone(zone).dt.date().cast(pl.Int32)
        )
        day = day.scatter(rows.arg_true(), local)
    return day


#: the history's rows as :func:`history_facts` reads them, a bit per row (computed once per
#: stored row, not once per candidate it is paired with)
_CALL, _FAILED, _DEBTOR_CALL, _TALK, _THIRD = 1, 2, 4, 8, 16


def _history_bits() -> pl.Expr:
    call = pl.col("channel") == "call"
    failed = pl.col("outcome").is_in(list(UNANSWERED))
    debtor_call = call & (pl.col("party") == "debtor")
    talk = debtor_call & pl.col("outcome").is_in(list(CONNECTED_DEBTOR))
    third = pl.col("party") == "third_party"
    return pl.sum_horizontal(
        flag.cast(pl.UInt8) * bit
        for flag, bit in (
            (call, _CALL), (failed, _FAILED), (debtor_call, _DEBTOR_CALL), (talk, _TALK),
            (third, _THIRD),
        )
    ).cast(pl.UInt8)  # fmt: skip


def history_facts(
    candidates: pl.DataFrame, history: pl.DataFrame, *, window: timedelta | None = None
) -> pl.DataFrame:
    """Add the :class:`Facts` columns to ``candidates`` from the debtors' contact history.

    ``window``: only history within that long before each candidate counts (as the
    scalar path reads it: ``[at - window, at)``); ``None``: all of it before the candidate.

    Only calls (any party) and contacts with a third party bear on any fact (as
    :func:`facts_of` counts them): other rows are left out before pairing, and what each
    row is (a call, failed, …) is worked out once per row as bits. Both sides are sorted by
    debtor so that the pairing is a merge; times are compared as integers (microseconds
    since 1970), dates as days since 1970, zones by index.
    """
    zones = _zones_of(candidates)
    cands = (
        candidates.select(
            "debtor_id", "at",
            pl.col("zones").list.first().replace_strict(zones, range(len(zones)),
                                                        return_dtype=pl.UInt16).alias("_home"),
            pl.col("at").dt.epoch("us").alias("_at"),
            pl.col("contact_point_id").alias("_cp"),
        )
        .with_row_index("_row")
        .sort("debtor_id", maintain_order=True)
        .with_row_index("_key")
    )  # fmt: skip
    cands = cands.with_columns(_home_day(cands, zones).alias("_today")).drop("at")
    relevant = history.filter((pl.col("channel") == "call") | (pl.col("party") == "third_party"))
    homes = cands.select("debtor_id", "_home").unique()
    several = homes.get_column("_home").n_unique() > 1
    if several:  # each stored row once for each home zone its debtor's candidates have
        past = relevant.join(homes, on="debtor_id")
    else:
        past = relevant.with_columns(pl.lit(cands.item(0, "_home") if cands.height else 0,
                                            dtype=pl.UInt16).alias("_home"))  # fmt: skip
    past = past.select(
        "debtor_id", "contact_point_id",
        pl.col("at").dt.epoch("us").alias("_t"),
        _history_bits().alias("_bits"),
        _home_day(past, zones).alias("_day"),
        *(["_home"] if several else []),
    ).sort("debtor_id")  # fmt: skip
    before = pl.col("_t") < pl.col("_at")
    if window is not None:
        before = before & (pl.col("_t") >= pl.col("_at") - _micros(window))
    if several:
        before = before & (pl.col("_home") == pl.col("_home_right"))
    pairs = (
        cands.join(past, on="debtor_id", how="inner", maintain_order="left")
        .filter(before)
        .with_columns(pl.col("_key").set_sorted())
    )
    bits = pl.col("_bits")
    same_day = pl.col("_day") == pl.col("_today")
    same_point = pl.col("contact_point_id") == pl.col("_cp")
    debtor_call = (bits & _DEBTOR_CALL) != 0
    failed = (bits & _FAILED) != 0
    talk = (bits & _TALK) != 0
    call = (bits & _CALL) != 0
    recent = call & (pl.col("_t") > pl.col("_at") - _micros(timedelta(days=7)))
    success = pl.when(debtor_call & ~failed).then(pl.col("_t"))
    flagged = pairs.select(
        "_key",
        (same_day & same_point & failed & call).alias("_unanswered"),
        (same_day & talk).alias("_connected"),
        (same_day & same_point & ((bits & _THIRD) != 0)).alias("_third"),
        # failed calls to the debtor since the last call that reached them
        (debtor_call & failed & (pl.col("_t") > success.max().over("_key").fill_null(-1)))
        .alias("_trailing"),
        recent.alias("_recent"),
        pl.when(recent).then(pl.col("_t")).alias("_recent_t"),
        pl.when(talk).then(pl.col("_t")).alias("_talk_t"),
    )  # fmt: skip
    agg = flagged.group_by("_key", maintain_order=True).agg(
        pl.col("_unanswered").sum().alias("unanswered_on_number_today"),
        pl.col("_connected").sum().alias("connected_debtor_calls_today"),
        pl.col("_third").sum().alias("third_party_attempts_today"),
        pl.col("_trailing").sum().alias("trailing_debtor_failures"),
        pl.col("_recent").sum().alias("calls_last_7_days"),
        pl.col("_recent_t").min().alias("oldest_call_last_7_days"),
        pl.col("_talk_t").max().alias("last_conversation_at"),
    )
    counts = [
        "unanswered_on_number_today",
        "connected_debtor_calls_today",
        "third_party_attempts_today",
        "trailing_debtor_failures",
        "calls_last_7_days",
    ]
    facts = (
        cands.select("_row", "_key")
        .join(agg, on="_key", how="left", maintain_order="left")
        .sort("_row")
        .select(
            *(pl.col(c).fill_null(0).cast(pl.Int64) for c in counts),
            *(
                pl.col(c).cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
                for c in ("oldest_call_last_7_days", "last_conversation_at")
            ),
        )
    )
    return pl.concat([candidates, facts], how="horizontal")


def _micros(span: timedelta) -> int:
    return (span.days * 86_400 + span.seconds) * 1_000_000 + span.microseconds


def _window_expr(window: Window, minute: pl.Expr) -> pl.Expr:
    start = window.start.hour * 60 + window.start.minute
    end = window.end.hour * 60 + window.end.minute
    return (minute >= start) & (minute < end)


def _local_columns(zones: Sequence[str], holidays: Sequence[date]) -> list[pl.Expr]:
    """Per zone: the local minute of the day and whether the local date is a holiday."""
    columns: list[pl.Expr] = []
    for index, zone in enumerate(zones):
        local = pl.col("at").dt.convert_time_zone(zone)
        minute = local.dt.hour().cast(pl.Int32) * 60 + local.dt.minute().cast(pl.Int32)
        # window bounds are whole minutes, so 20:59:59 is inside 08:00–21:00, 21:00 is not
        columns.append(minute.alias(f"_minute{index}"))
        holiday = local.dt.date().is_in(list(holidays)) if holidays else pl.lit(False)
        columns.append(holiday.alias(f"_holiday{index}"))
        columns.append(pl.col("zones").list.contains(pl.lit(zone)).alias(f"_in{index}"))
    return columns


def _inside(pack: RulePack, window: Window, index: int) -> pl.Expr:
    """Inside ``window`` (narrowed on holidays) in the zone with local columns ``index``."""
    minute = pl.col(f"_minute{index}")
    inside = _window_expr(window, minute)
    holidays = pack.holidays
    if holidays is not None:
        start = max(window.start, holidays.hours.start)
        end = min(window.end, holidays.hours.end)
        if start < end:
            narrowed = _window_expr(Window(start=start, end=end), minute)
            inside = pl.when(pl.col(f"_holiday{index}")).then(narrowed).otherwise(inside)
    return inside


def _hours_checks(pack: RulePack, zones: Sequence[str]) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(contact hours fail, visit hours fail, visit on a holiday) over every zone of a row."""
    channel = pl.col("channel")
    visit = channel == "visit"
    applies = channel.is_in(list(pack.contact_hours.channels)) & ~visit
    hours_bad: pl.Expr = pl.lit(False)
    visit_bad: pl.Expr = pl.lit(False)
    holiday_visit: pl.Expr = pl.lit(False)
    for index in range(len(zones)):
        in_zone = pl.col(f"_in{index}")
        hours_bad = hours_bad | (in_zone & ~_inside(pack, pack.contact_hours, index))
        visit_bad = visit_bad | (in_zone & ~_inside(pack, pack.visit_hours, index))
        if pack.holidays is not None and pack.holidays.no_visits:
            holiday_visit = holiday_visit | (in_zone & pl.col(f"_holiday{index}"))
    return applies & hours_bad, visit & visit_bad, visit & holiday_visit


def _failing_masks(pack: RulePack, candidates: pl.DataFrame) -> tuple[pl.DataFrame, list[str]]:
    """``candidates`` with ``_mask``: bit ``i`` set when the ``i``-th check of the pack (in
    :data:`CHECK_ORDER`, the second value) fails — the checks :func:`_failing` makes."""
    zones = _zones_of(candidates)
    checks = pack.checks()
    channel, party = pl.col("channel"), pl.col("party")
    call, visit = channel == "call", channel == "visit"
    third = party == "third_party"
    rules = pack.third_parties
    limits = pack.limits
    failing: dict[str, pl.Expr] = {}
    for reason in ("dispute", "complaint", "cease"):
        failing[f"suspended_{reason}"] = pl.col("suspended").list.contains(pl.lit(reason))
    failing["opt_out"] = channel.is_in(list(ELECTRONIC)) & pl.col("opted_out").list.contains(
        channel
    )
    failing["third_party_named"] = (
        third & ~pl.col("third_party_named") if rules.named_only else pl.lit(False)
    )
    failing["third_party_unreachable"] = (
        third
        & ~pl.col("debtor_numbers_invalid")
        & (pl.col("trailing_debtor_failures") < rules.unreachable_after_failed_attempts)
        if rules.only_when_debtor_unreachable
        else pl.lit(False)
    )
    failing["visit_collectors"] = visit & (pl.col("collectors") < pack.visit_min_collectors)
    failing["holiday"] = pl.col("_holiday_visit")
    failing["visit_hours"] = pl.col("_visit_hours_bad")
    failing["hours"] = pl.col("_hours_bad")
    cap = limits.unanswered_per_number_per_day
    failing["unanswered"] = call & (pl.col("unanswered_on_number_today") >= (cap or 0))
    cap = limits.connected_calls_per_debtor_per_day
    failing["connected"] = call & ~third & (pl.col("connected_debtor_calls_today") >= (cap or 0))
    cap = rules.attempts_per_third_party_per_day
    failing["third_party_cap"] = third & (pl.col("third_party_attempts_today") >= (cap or 0))
    cap = limits.calls_per_7_days
    failing["calls_7_days"] = call & (pl.col("calls_last_7_days") >= (cap or 0))
    quiet = timedelta(days=limits.quiet_days_after_conversation or 0)
    failing["conversation_quiet"] = (
        call
        & pl.col("last_conversation_at").is_not_null()
        & (pl.col("at") < pl.col("last_conversation_at") + quiet)
    )
    # one bit per check; names are looked up once per distinct combination
    enabled = [name for name in CHECK_ORDER if name in checks]
    mask = pl.sum_horizontal(
        failing[name].cast(pl.UInt32) * (1 << bit) for bit, name in enumerate(enabled)
    ).alias("_mask")
    masked = _with_hours(pack, candidates, zones).with_columns(mask)
    return masked, enabled


def _with_hours(pack: RulePack, candidates: pl.DataFrame, zones: Sequence[str]) -> pl.DataFrame:
    """``candidates`` with ``_hours_bad``, ``_visit_hours_bad`` and ``_holiday_visit`` (over
    every zone of each row): worked out once per distinct (zones, at, channel) when the
    times repeat (the day's plan: a few window openings), else row by row (a dialer's
    file: times to the second)."""
    holidays = sorted(pack.holidays.dates) if pack.holidays is not None else []
    hours_bad, visit_hours_bad, holiday_visit = _hours_checks(pack, zones)
    flags = [
        hours_bad.alias("_hours_bad"),
        visit_hours_bad.alias("_visit_hours_bad"),
        holiday_visit.alias("_holiday_visit"),
    ]
    keys = ["zones", "at", "channel"]
    if candidates.get_column("at").n_unique() * 4 < candidates.height:
        found = (
            candidates.select(keys)
            .unique()
            .with_columns(_local_columns(zones, holidays))
            .select(*keys, *flags)
        )
        return candidates.join(found, on=keys, how="left", maintain_order="left", nulls_equal=True)
    local = candidates.with_columns(_local_columns(zones, holidays))
    return local.with_columns(flags).select(
        *candidates.columns, "_hours_bad", "_visit_hours_bad", "_holiday_visit"
    )


def _bits(enabled: Sequence[str], names: Iterable[str]) -> int:
    """The mask of the checks ``names`` (those the pack makes)."""
    return sum(1 << bit for bit, name in enumerate(enabled) if name in set(names))


def _rule_ids_of(pack: RulePack, enabled: Sequence[str], masks: pl.Series) -> pl.DataFrame:
    """``_mask, rule_ids``: the rule ids of each distinct mask, in :data:`CHECK_ORDER`."""
    combos = masks.unique().to_list()
    return pl.DataFrame(
        {
            "_mask": combos,
            "rule_ids": [
                [pack.rule_id(name) for bit, name in enumerate(enabled) if combo >> bit & 1]
                for combo in combos
            ],
        },
        schema={"_mask": pl.UInt32, "rule_ids": pl.List(pl.String)},
    )


def decide_frame(pack: RulePack, candidates: pl.DataFrame) -> pl.DataFrame:
    """Add ``allowed`` and ``rule_ids`` (in :data:`CHECK_ORDER`) to candidates with facts.

    The twin of :func:`decide`: the same checks over a frame with the
    :data:`CANDIDATE_SCHEMA` columns plus the :class:`Facts` columns.
    """
    masked, enabled = _failing_masks(pack, candidates)
    lookup = _rule_ids_of(pack, enabled, masked.get_column("_mask"))
    return (
        masked.join(lookup, on="_mask", how="left", maintain_order="left")
        .with_columns((pl.col("_mask") == 0).alias("allowed"))
        .select(*candidates.columns, "rule_ids", "allowed")
    )


# ------------------------------------------------------------------ planned contacts


def contact_window(
    pack: RulePack, zones: Sequence[str], channel: str, day: date
) -> tuple[datetime, datetime] | None:
    """The instants of ``day`` (in the home zone, the first of ``zones``) at which the hours
    this channel keeps hold in every zone: ``(start, end)``, end exclusive, aware UTC.

    ``None`` when the windows of the zones do not meet that day. A channel no hours apply
    to (a letter) gets the whole home-zone day.
    """
    home = ZoneInfo(zones[0])
    day_start = datetime.combine(day, time(0), tzinfo=home).astimezone(UTC)
    day_end = datetime.combine(day + timedelta(days=1), time(0), tzinfo=home).astimezone(UTC)
    start, end = day_start, day_end
    for name in zones:
        zone = ZoneInfo(name)
        # the zone's local dates the home day touches, each with its own window
        first = day_start.astimezone(zone).date()
        last = (day_end - timedelta(microseconds=1)).astimezone(zone).date()
        spans: list[tuple[datetime, datetime]] = []
        local_day = first
        while local_day <= last:
            noon = datetime.combine(local_day, time(12), tzinfo=zone)
            window = _window_for(pack, channel, noon)
            if window is None:
                spans.append((day_start, day_end))
            else:
                spans.append(
                    (
                        datetime.combine(local_day, window.start, tzinfo=zone).astimezone(UTC),
                        datetime.combine(local_day, window.end, tzinfo=zone).astimezone(UTC),
                    )
                )
            local_day += timedelta(days=1)
        # the home day's part where this zone's hours hold: the longest span inside it
        inside = [(max(a, start), min(b, end)) for a, b in spans if max(a, start) < min(b, end)]
        if not inside:
            return None
        start, end = max(inside, key=lambda s: s[1] - s[0])
    return (start, end) if start < end else None


def plan_windows(pack: RulePack, candidates: pl.DataFrame, day: date) -> pl.DataFrame:
    """Add ``window_start`` and ``window_end`` (aware UTC; null: the zones' hours never
    meet on ``day``) to candidates with ``zones`` and ``channel``: one window per distinct
    (zones, channel), as :func:`contact_window` gives it."""
    keys = candidates.select("zones", "channel").unique()
    rows = []
    for zones, channel in keys.iter_rows():
        window = contact_window(pack, tuple(zones), channel, day)
        rows.append((zones, channel, *(window or (None, None))))
    windows = pl.DataFrame(
        rows,
        schema={"zones": pl.List(pl.String), "channel": pl.String,
                "window_start": pl.Datetime("us", "UTC"), "window_end": pl.Datetime("us", "UTC")},
        orient="row",
    )  # fmt: skip
    return candidates.join(windows, on=["zones", "channel"], how="left", nulls_equal=True)


def earliest_allowed_frame(
    pack: RulePack,
    candidates: pl.DataFrame,
    history: pl.DataFrame,
    *,
    window: timedelta | None = None,
) -> pl.DataFrame:
    """For candidates with ``window_start``/``window_end``: ``candidate_id, at, rule_ids,
    allowed`` — ``at`` the first instant in the window the gate allows the contact, as far
    as the history known now tells (the twin of :func:`check`'s search, over a frame);
    ``rule_ids`` the rules that refused it at the window's start; ``allowed`` false when no
    such instant exists today (a permanent rule, a daily cap reached, or waiting runs past
    the window's end; a null window: the zones' hours never meet, refused by the hours).

    Allowed at ``at`` means allowed at every later instant of the window as long as no new
    contact is logged: the hours hold through the window, and each waiting check only
    relaxes with time (a conversation or a call moves further into the past).

    The failed checks travel as a bitmask (:func:`_failing_masks`); rule ids are looked up
    once per distinct mask at the end.
    """
    out = ["candidate_id", "at", "rule_ids", "allowed"]
    closed = candidates.filter(pl.col("window_start").is_null()).select(
        "candidate_id",
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("at"),
        pl.when(pl.col("channel") == "visit")
        .then(pl.concat_list(pl.lit(pack.rule_id("visit_hours"))))
        .otherwise(pl.concat_list(pl.lit(pack.rule_id("hours"))))
        .alias("rule_ids"),
        pl.lit(False).alias("allowed"),
    )
    open_ = candidates.filter(pl.col("window_start").is_not_null()).with_columns(
        pl.col("window_start").alias("at")
    )
    first, enabled = _failing_masks(pack, history_facts(open_, history, window=window))
    #: the checks waiting within the day can satisfy, and when each stops failing
    quiet = timedelta(days=pack.limits.quiet_days_after_conversation or 0)
    waits = {
        "calls_7_days": pl.col("oldest_call_last_7_days") + timedelta(days=7, microseconds=1),
        "conversation_quiet": pl.col("last_conversation_at") + quiet,
    }
    mask = pl.col("_mask")
    # every failed check is one waiting can satisfy (a mask of none of them fails no check)
    waiting = (mask & ~pl.lit(_bits(enabled, waits), dtype=pl.UInt32)) == 0
    moves = [
        pl.when((mask & _bits(enabled, [name])) != 0).then(moment)
        for name, moment in waits.items()
        if name in enabled
    ]
    allowed = [first.filter(mask == 0).select("candidate_id", "at")]
    pending = first.filter((mask != 0) & waiting)
    for _ in range(_MAX_STEPS):
        if pending.height == 0:
            break
        later = (
            pending.select(
                "candidate_id", "window_end", pl.col("at").alias("_was"),
                pl.max_horizontal(pl.col("at"), *moves).alias("at"),
            )
            .filter((pl.col("at") > pl.col("_was")) & (pl.col("at") < pl.col("window_end")))
            .select("candidate_id", "at")
        )  # fmt: skip
        if later.height == 0:
            break
        retry = open_.drop("at").join(later, on="candidate_id", how="inner")
        again, _ = _failing_masks(pack, history_facts(retry, history, window=window))
        allowed.append(again.filter(mask == 0).select("candidate_id", "at"))
        pending = again.filter((mask != 0) & waiting)
    found = pl.concat(allowed).with_columns(pl.lit(True).alias("allowed"))
    lookup = _rule_ids_of(pack, enabled, first.get_column("_mask"))
    decided = (
        first.select("candidate_id", "_mask")
        .join(lookup, on="_mask", how="left")
        .join(found, on="candidate_id", how="left")
        .with_columns(pl.col("allowed").fill_null(False))
    )
    return pl.concat([decided.select(out), closed.select(out)])
