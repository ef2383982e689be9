"""Message rules (多渠道触达): keys, rendering, retries, throttles, receipts, opt-outs.

Pure: plain data in, plain data out; the clock is an argument. Rendering has a scalar
form (:func:`render`, one message from the API) and a Polars twin (:func:`render_frame`,
a day's batch), proven to agree in ``tests/messaging/test_rules.py``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import polars as pl

#: the channels a message goes out on, and the contact-point kinds each can use
CHANNEL_KINDS: dict[str, frozenset[str]] = {
    "sms": frozenset({"mobile"}),
    "email": frozenset({"email"}),
    "wechat": frozenset({"wechat"}),
    "letter": frozenset({"address"}),
}
CHANNELS = tuple(CHANNEL_KINDS)

#: message statuses (docs/messages.md): ``sending`` is a claim taken before the gateway is
#: called; ``unknown`` a claim a dead run left behind (never resent blindly)
STATUSES = ("queued", "sending", "sent", "delivered", "failed", "blocked", "dead", "unknown")
#: statuses a send run picks up (``failed`` only once its backoff has passed)
SENDABLE = frozenset({"queued", "failed"})
#: statuses that end a message's life
FINAL = frozenset({"delivered", "dead"})

#: the variables a template may use: ``{name}`` …
VARIABLES = ("name", "amount", "due_date", "creditor", "pay_link", "case_ref")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


def message_key(case_id: int, template_code: str, day: date) -> str:
    """The idempotency key: one message per case, action (template) and business day."""
    return f"{case_id}:{template_code}:{day.isoformat()}"


def unknown_variables(body: str) -> list[str]:
    """Placeholders in ``body`` that are not template variables (a typo would go out raw)."""
    return sorted({m for m in _PLACEHOLDER.findall(body) if m not in VARIABLES})


def case_ref(case_id: int, secret: str) -> str:
    """A short reference for the payment link that does not reveal the case id."""
    digest = hmac.new(secret.encode(), str(case_id).encode(), hashlib.sha256).hexdigest()
    return digest[:12]


@dataclass(frozen=True, slots=True)
class Variables:
    """What a template is filled with: PII already masked, money already in yuan."""

    name: str
    amount: str
    due_date: str
    creditor: str
    pay_link: str
    case_ref: str

    def as_dict(self) -> dict[str, str]:
        return {v: getattr(self, v) for v in VARIABLES}


def render(body: str, variables: Mapping[str, str]) -> str:
    """The template with each ``{variable}`` replaced (unknown braces stay as written)."""
    out = body
    for name in VARIABLES:
        out = out.replace("{" + name + "}", variables[name])
    return out


def render_frame(body: pl.Expr, frame_vars: Mapping[str, pl.Expr]) -> pl.Expr:
    """Polars twin of :func:`render`: ``body`` with each variable column filled in."""
    out = body
    for name in VARIABLES:
        out = out.str.replace_all("{" + name + "}", frame_vars[name], literal=True)
    return out


def pay_by(day: date, *, days: int) -> date:
    """The date a reminder asks to pay by (请于…前还款)."""
    return day + timedelta(days=days)


# --------------------------------------------------------------------------- retries


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Retries with exponential backoff: ``base`` × 2^(attempt-1), at most ``ceiling``."""

    max_attempts: int = 4
    base: timedelta = timedelta(seconds=30)
    ceiling: timedelta = timedelta(minutes=30)

    def backoff(self, attempts: int) -> timedelta:
        delay: timedelta = self.base * (2 ** max(attempts - 1, 0))
        return min(delay, self.ceiling)


def after_failure(
    attempts: int, *, retryable: bool, policy: RetryPolicy, now: datetime
) -> tuple[str, datetime | None]:
    """The status after a failed attempt and when to try again: ``failed`` with a time,
    or ``dead`` (the dead-letter list) when it cannot or may no longer be retried."""
    if not retryable or attempts >= policy.max_attempts:
        return "dead", None
    return "failed", now + policy.backoff(attempts)


# --------------------------------------------------------------------------- throttle


@dataclass(slots=True)
class Throttle:
    """At most ``per_second`` sends per channel: the wait before the next one."""

    per_second: float
    next_at: datetime | None = None

    def wait(self, now: datetime) -> float:
        """Seconds to wait before sending at ``now``; books the slot."""
        if self.per_second <= 0:
            return 0.0
        gap = timedelta(seconds=1 / self.per_second)
        start = now if self.next_at is None or self.next_at <= now else self.next_at
        self.next_at = start + gap
        return (start - now).total_seconds()


# --------------------------------------------------------------------------- receipts


def receipt_signature(body: bytes, secret: str) -> str:
    """HMAC-SHA256 of the callback body (hex), as the gateway signs it."""
    return hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


def signature_ok(body: bytes, signature: str, secret: str) -> bool:
    return bool(secret) and hmac.compare_digest(receipt_signature(body, secret), signature.strip())


#: a reply asking to stop (退订): 退订, TD, T, STOP, unsubscribe … as the whole reply
_OPT_OUT = re.compile(r"^\s*(退订|取消订阅|TD|T|STOP|UNSUBSCRIBE|N)\s*[。.!！]?\s*$", re.IGNORECASE)


def is_opt_out(reply: str) -> bool:
    """Is this reply an opt-out (退订/TD/STOP)?"""
    return bool(_OPT_OUT.match(reply))


#: a receipt's status → the message status it leads to
RECEIPT_STATUS = {"delivered": "delivered", "failed": "failed"}


def receipt_problem(status: str, current: str) -> str | None:
    """Why a delivery receipt cannot apply to a message in ``current``, or ``None``."""
    if status not in RECEIPT_STATUS:
        return f"status must be delivered or failed, not {status!r}"
    if current not in {"sent", "unknown", "sending", "delivered", "failed"}:
        return f"message is {current}: nothing was handed to the gateway"
    return None
