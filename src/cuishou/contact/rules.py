"""Contact rules (催记): channels, outcome codes, who was reached, contact-driven alerts.

Pure: plain data in, plain data out. The outcome list is the one documented in
``docs/api.md``; 连续三次无法联系 raises ``three_failed_contacts`` and an explicit
refusal to pay raises ``refusal`` for the team lead.

Each rule a dialer's result file needs a million times has a Polars twin beside it (who
was reached: :func:`party_expr`; when a contact may be dated: :func:`timing_problem_expr`;
the contact-driven alerts: :func:`contact_alerts_frame`), proven to agree with the scalar
form in ``tests/contact/test_rules.py``: one contact logged on the workbench and the same
call imported from a file are judged by one definition.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from cuishou.kit.masking import mask_address, mask_email, mask_mobile


@dataclass(frozen=True, slots=True)
class Outcome:
    zh: str
    en: str
    connected: bool  # somebody was reached
    failed: bool  # counts towards 连续三次无法联系


#: outcome code -> labels and meaning
OUTCOMES: dict[str, Outcome] = {
    "connected_debtor": Outcome("本人接通", "reached the debtor", True, False),
    "connected_third_party": Outcome("他人接听", "reached a third party", True, False),
    "no_answer": Outcome("无人接听", "no answer", False, True),
    "powered_off": Outcome("关机", "phone switched off", False, True),
    "invalid_number": Outcome("空号", "number does not exist", False, True),
    "rejected": Outcome("拒接", "call rejected", False, True),
    "promise": Outcome("承诺还款", "promised to pay", True, False),
    "refused": Outcome("拒绝还款", "refused to pay", True, False),
    "negotiating": Outcome("协商中", "negotiating", True, False),
    "complaint": Outcome("投诉", "complained", True, False),
    "lost_contact": Outcome("失联", "lost contact", False, True),
}

#: channel -> (中文, English, contact-point kinds it can use)
CHANNELS: dict[str, tuple[str, str, frozenset[str]]] = {
    "call": ("电话", "phone call", frozenset({"mobile", "phone"})),
    "sms": ("短信", "SMS", frozenset({"mobile"})),
    "email": ("邮件", "e-mail", frozenset({"email"})),
    "letter": ("信函", "letter", frozenset({"address"})),
    "visit": ("外访", "field visit", frozenset({"address"})),
    "wechat": ("微信", "WeChat", frozenset({"mobile"})),
}

THREE_FAILED = "three_failed_contacts"
REFUSAL = "refusal"
#: failed attempts in a row that raise THREE_FAILED
FAILED_RUN = 3
#: how far ahead a callback may be scheduled
MAX_CALLBACK_AHEAD = timedelta(days=30)
#: dialer clocks drift: a contact may be stamped this far in the future
CLOCK_SKEW = timedelta(minutes=5)
#: times outside these years are typing mistakes
PLAUSIBLE_YEARS = (2000, 2100)


def channel_problem(channel: str, point_kind: str) -> str | None:
    """Why ``channel`` cannot use a contact point of ``point_kind``, or ``None``."""
    _zh, _en, kinds = CHANNELS[channel]
    if point_kind not in kinds:
        needed = " or ".join(sorted(kinds))
        return f"channel {channel} needs a {needed} contact point, not {point_kind}"
    return None


def party_of(outcome: str, point_owner: str) -> str:
    """Who was reached: ``debtor`` (本人), ``third_party`` (他人) or ``none``."""
    if outcome == "connected_debtor":
        return "debtor"
    if outcome == "connected_third_party":
        return "third_party"
    if not OUTCOMES[outcome].connected:
        return "none"
    return "third_party" if point_owner == "third_party" else "debtor"


def party_expr(outcome: pl.Expr, point_owner: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`party_of`."""
    connected = [code for code, o in OUTCOMES.items() if o.connected]
    return (
        pl.when(outcome == "connected_debtor")
        .then(pl.lit("debtor"))
        .when(outcome == "connected_third_party")
        .then(pl.lit("third_party"))
        .when(~outcome.is_in(connected))
        .then(pl.lit("none"))
        .when(point_owner == "third_party")
        .then(pl.lit("third_party"))
        .otherwise(pl.lit("debtor"))
    )


#: a reached person whose identity follows from whose number was dialled (a dialer's
#: "answered": the debtor on their own number, a third party on a contact person's)
ANSWERED = "answered"


def answered_outcome(point_owner: str) -> str:
    """The outcome of an answered call: 本人接通 on the debtor's number, 他人接听 on a
    contact person's."""
    return "connected_third_party" if point_owner == "third_party" else "connected_debtor"


def answered_outcome_expr(point_owner: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`answered_outcome`."""
    return (
        pl.when(point_owner == "third_party")
        .then(pl.lit("connected_third_party"))
        .otherwise(pl.lit("connected_debtor"))
    )


#: why a contact's time is refused: (English, 中文), by :func:`timing_problem_expr`'s code
TIME_REASONS: dict[str, tuple[str, str]] = {
    "year": ("{field}: {year} is not a plausible year", "{field}：{year}年不是合理的年份"),
    "future": (
        "{field}: a contact cannot be logged in the future (more than 5 minutes after now)",
        "{field}：联系时间不能晚于当前时间（允许误差5分钟）",
    ),
}


def timing_problem_expr(at: pl.Expr, *, now: datetime) -> pl.Expr:
    """Polars twin of :func:`timing_problem` without a callback: ``year`` (implausible
    year), ``future`` (after ``now`` plus the clock skew) or null."""
    year = at.dt.year()
    return (
        pl.when((year < PLAUSIBLE_YEARS[0]) | (year > PLAUSIBLE_YEARS[1]))
        .then(pl.lit("year"))
        .when(at > pl.lit(now + CLOCK_SKEW))
        .then(pl.lit("future"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def timing_problem(*, at: datetime, callback_at: datetime | None, now: datetime) -> str | None:
    """A contact cannot be in the future; a callback must follow it within 30 days."""
    for name, moment in (("at", at), ("callback_at", callback_at)):
        if moment is not None and not PLAUSIBLE_YEARS[0] <= moment.year <= PLAUSIBLE_YEARS[1]:
            return f"{name}: {moment.year} is not a plausible year"
    if at > now + CLOCK_SKEW:
        return "at: a contact cannot be logged in the future"
    if callback_at is not None:
        if callback_at <= at:
            return "callback_at: a callback must be after the contact"
        if callback_at > now + MAX_CALLBACK_AHEAD:
            return "callback_at: a callback can be scheduled at most 30 days ahead"
    return None


def failed_run_length(outcomes: Sequence[str]) -> int:
    """How many failed attempts end the sequence (oldest first)."""
    run = 0
    for outcome in reversed(outcomes):
        if not OUTCOMES[outcome].failed:
            break
        run += 1
    return run


def contact_alerts_of(outcomes: Sequence[str], *, new_outcome: str) -> list[str]:
    """Alerts a newly logged contact calls for (预警); the alerts domain decides whether one
    of a kind is already open.

    ``outcomes`` is the case's whole outcome sequence in time order, including the new
    one. ``refusal`` when the debtor refuses to pay; ``three_failed_contacts`` when the new
    attempt failed and ends a run of at least three failed attempts.
    """
    kinds: list[str] = []
    if new_outcome == "refused":
        kinds.append(REFUSAL)
    if OUTCOMES[new_outcome].failed and failed_run_length(outcomes) >= FAILED_RUN:
        kinds.append(THREE_FAILED)
    return kinds


def contact_alerts_frame(contacts: pl.DataFrame) -> pl.DataFrame:
    """Polars twin of :func:`contact_alerts_of` over many cases' contacts at once.

    ``contacts`` has ``case_id``, ``seq`` (the time order within the case: the stored
    contacts, then the new ones) and ``outcome``; ``new`` marks the contacts being logged
    now. Returns one row per alert a new contact calls for: ``case_id``, ``seq``, ``kind``
    — for each new contact what :func:`contact_alerts_of` says for the sequence up to it.
    """
    failed_codes = [code for code, o in OUTCOMES.items() if o.failed]
    failed = pl.col("outcome").is_in(failed_codes)
    ordered = contacts.sort("case_id", "seq").with_columns(
        (~failed).cast(pl.Int64).cum_sum().over("case_id").alias("_streak"),
        failed.alias("_failed"),
    )
    runs = ordered.with_columns(
        pl.col("_failed").cast(pl.Int64).cum_sum().over("case_id", "_streak").alias("_run")
    ).filter(pl.col("new"))
    refusal = runs.filter(pl.col("outcome") == "refused").select(
        "case_id", "seq", pl.lit(REFUSAL).alias("kind")
    )
    three = runs.filter(pl.col("_failed") & (pl.col("_run") >= FAILED_RUN)).select(
        "case_id", "seq", pl.lit(THREE_FAILED).alias("kind")
    )
    return pl.concat([refusal, three]).sort("case_id", "seq", "kind")


def mask_contact_value(kind: str, value: str) -> str:
    """PII masking by contact-point kind: phones 138****1234, addresses keep the prefix."""
    if kind in ("mobile", "phone"):
        return mask_mobile(value)
    if kind == "email":
        return mask_email(value)
    return mask_address(value)
