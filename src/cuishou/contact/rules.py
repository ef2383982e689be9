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

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import polars as pl

from cuishou.kit.ids import normalize_mobile
from cuishou.kit.masking import mask_address, mask_email, mask_mobile
from cuishou.placement.rules import (
    EMAIL_SHAPE,
    Reason,
    mobile_reason,
    normalize_phone,
    phone_reason,
    relation_code,
)


@dataclass(frozen=True, slots=True)
class Outcome:
    zh: str
    en: str
    connected: bool  # somebody was reached
    failed: bool  # counts towards 连续三次无法联系

    @property
    def attempt(self) -> bool:
        """An attempt to reach somebody (reached or not); a one-way message is none."""
        return self.connected or self.failed


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
    # a message handed to its gateway (短信/邮件/微信/信函, cuishou.messaging): nobody was
    # reached yet, and it is not a failed attempt either
    "message_sent": Outcome("已发送", "message sent", False, False),
}

#: channel -> (中文, English, contact-point kinds it can use)
CHANNELS: dict[str, tuple[str, str, frozenset[str]]] = {
    "call": ("电话", "phone call", frozenset({"mobile", "phone"})),
    "sms": ("短信", "SMS", frozenset({"mobile"})),
    "email": ("邮件", "e-mail", frozenset({"email"})),
    "letter": ("信函", "letter", frozenset({"address"})),
    "visit": ("外访", "field visit", frozenset({"address"})),
    "wechat": ("微信", "WeChat", frozenset({"mobile", "wechat"})),
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
    if kind in ("mobile", "phone", "wechat"):
        return mask_mobile(value)
    if kind == "email":
        return mask_email(value)
    return mask_address(value)


# --- contact points (联系方式) added by hand, by file or by a repair vendor (失联修复) ----------

#: the kinds of contact point a person may add
POINT_KINDS = ("mobile", "phone", "email", "address", "wechat")
#: who told us of a point added after placement (``placement``: the creditor's file)
POINT_SOURCES = ("debtor", "third_party", "public_record", "repair_vendor")
POINT_OWNERS = ("debtor", "third_party")
#: a point's skip-trace review (核实): new → verified | invalid
VERIFICATIONS = ("new", "verified", "invalid")
#: the operational status a review sets: the gate and the dialer read ``status`` only
STATUS_OF_VERIFICATION = {"verified": "active", "invalid": "invalid"}

_EMAIL_RE = EMAIL_SHAPE  # the import's definition
#: a WeChat ID: 6-20 characters, a letter first, then letters, digits, ``_`` or ``-``
_WECHAT_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_\-]{5,19}$")
_ADDRESS_MIN = 6


@dataclass(frozen=True, slots=True)
class NewPoint:
    """A contact point as it will be stored (value normalised, relation coded)."""

    kind: str
    value: str
    owner: str
    owner_name: str
    relation: str | None
    source: str


def point_value(kind: str, text: str) -> str | Reason:
    """The value of a ``kind`` point as stored, or why ``text`` is not one.

    Phones follow the placement import's rules (:func:`cuishou.placement.rules.normalize_phone`,
    one definition): a mobile is 11 digits 13x–19x, a landline ``0755-12345678``. An e-mail
    keeps its local part and lower-cases its domain; a WeChat ID is 6–20 characters from a
    letter, or the mobile it was registered with; an address is trimmed, spaces collapsed.
    """
    shown = text.strip()
    if kind == "mobile":
        problem = mobile_reason(text, field="value")
        return problem or normalize_mobile(text)
    if kind == "phone":
        problem = phone_reason(text, field="value")
        return problem or normalize_phone(text)
    if kind == "email":
        local, _at, domain = shown.partition("@")
        if not _EMAIL_RE.match(shown):
            return Reason(
                f"value: {shown!r} is not an e-mail address like name@example.com",
                f"value：「{shown}」不是邮箱地址（如 name@example.com）",
            )
        return f"{local}@{domain.lower()}"
    if kind == "wechat":
        if _WECHAT_RE.match(shown):
            return shown
        if mobile_reason(text) is None:
            return normalize_mobile(text)
        return Reason(
            f"value: {shown!r} is not a WeChat ID (6-20 characters from a letter) or a mobile",
            f"value：「{shown}」不是微信号（字母开头6-20位）或手机号",
        )
    if kind == "address":
        address = " ".join(shown.split())
        if len(address) < _ADDRESS_MIN:
            return Reason(
                f"value: {shown!r} is too short for an address",
                f"value：「{shown}」太短，不是完整地址",
            )
        return address
    return Reason(
        f"kind: {kind!r} is not one of {', '.join(POINT_KINDS)}",
        f"kind：「{kind}」不是 {', '.join(POINT_KINDS)} 之一",
    )


def new_point(
    *,
    kind: str,
    value: str,
    owner: str,
    source: str,
    owner_name: str = "",
    relation: str | None = None,
) -> NewPoint | Reason:
    """The point to store, or why not: the value by :func:`point_value`; a third party
    needs a name (the gate contacts only named third parties) and their relation is coded
    as the placement import codes it (配偶 → spouse, unknown → other)."""
    kind = kind.strip().lower()
    if owner not in POINT_OWNERS:
        return Reason(
            f"owner: {owner!r} is not debtor or third_party",
            f"owner：「{owner}」应为 debtor（本人）或 third_party（第三方）",
        )
    if source not in POINT_SOURCES:
        return Reason(
            f"source: {source!r} is not one of {', '.join(POINT_SOURCES)}",
            f"source：「{source}」不是 {', '.join(POINT_SOURCES)} 之一",
        )
    stored = point_value(kind, value)
    if isinstance(stored, Reason):
        return stored
    name = " ".join(owner_name.split())
    if owner == "third_party" and not name:
        return Reason(
            "owner_name: a third party's contact point needs their name",
            "owner_name：第三方联系方式须填写联系人姓名",
        )
    coded = relation_code(relation) if owner == "third_party" and relation else None
    return NewPoint(
        kind=kind,
        value=stored,
        owner=owner,
        owner_name=name if owner == "third_party" else "",
        relation=coded,
        source=source,
    )


def verification_problem(current: str, wanted: str, reason: str) -> str | None:
    """Why a point reviewed ``current`` cannot be marked ``wanted`` with ``reason``."""
    if wanted not in STATUS_OF_VERIFICATION:
        return f"status must be verified or invalid, not {wanted!r}"
    if wanted == "invalid" and not reason.strip():
        return "marking a contact point invalid needs a reason (e.g. 空号, 非本人, 已停机)"
    if current == wanted:
        return f"the contact point is already {wanted}"
    return None
