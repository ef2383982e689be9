"""Agency placement rules (委外): which cases a rule selects, when a placed case is recalled
(退案), what commission a payment earns (佣金) and what a monthly statement holds. Pure.

Nothing here sees a session, settings or the clock: ``as_of`` and the month are arguments.
Money is int fen; rates are ``Decimal``; one rounding (:func:`cuishou.kit.money.round_fen`).
The reasons behind the statement rules (closing, clawbacks): ADR 0028.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from cuishou.kit.money import round_fen

#: why a case left an agency, in the order they are judged (the first that holds is given)
RECALL_REASONS: dict[str, tuple[str, str]] = {
    "period_end": ("委案期满", "placement period ended"),
    "compliance_violation": ("违规提前退案", "compliance violation"),
    "complaint": ("投诉提前退案", "confirmed complaint"),
    "performance": ("回款不达标提前退案", "performance under the threshold"),
    "manual": ("手工退案", "manual recall"),
}
LINE_KINDS: dict[str, tuple[str, str]] = {
    "payment": ("回款", "payment"),
    "reversal": ("冲正", "reversal"),
    "clawback": ("追回", "clawback"),
}
MAX_DAYS = 366
#: the strategy's ``agency`` actions that make a case a placement candidate: those the plan
#: kept (not ``dropped`` by the compliance gate, ``capped`` or held)
CANDIDATE_STATUSES = ("planned", "moved")


# --- selection (委外选案) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SelectionRule:
    """A rule file's filter: every field given must hold (empty tuple / ``None``: any)."""

    buckets: tuple[str, ...] = ()
    min_dpd: int | None = None
    max_dpd: int | None = None
    tiers: tuple[str, ...] = ()
    min_due_fen: int | None = None
    max_due_fen: int | None = None
    products: tuple[str, ...] = ()
    creditor: str | None = None
    grades: tuple[str, ...] = ()
    limit: int | None = None


@dataclass(frozen=True, slots=True)
class Candidate:
    """An open case with no agency, as a rule sees it."""

    case_id: int
    creditor: str
    bucket: str
    dpd: int
    amount_tier: str
    due_fen: int
    grade: str | None
    products: frozenset[str]


def selects(rule: SelectionRule, case: Candidate) -> bool:
    """Whether ``rule`` selects ``case``."""
    checks = (
        not rule.buckets or case.bucket in rule.buckets,
        rule.min_dpd is None or case.dpd >= rule.min_dpd,
        rule.max_dpd is None or case.dpd <= rule.max_dpd,
        not rule.tiers or case.amount_tier in rule.tiers,
        rule.min_due_fen is None or case.due_fen >= rule.min_due_fen,
        rule.max_due_fen is None or case.due_fen <= rule.max_due_fen,
        not rule.products or bool(case.products & set(rule.products)),
        rule.creditor is None or case.creditor == rule.creditor,
        not rule.grades or (case.grade is not None and case.grade in rule.grades),
    )
    return all(checks)


def select(rule: SelectionRule, cases: Iterable[Candidate]) -> list[Candidate]:
    """The cases ``rule`` selects, the largest amount due first, at most ``rule.limit``."""
    chosen = sorted(
        (case for case in cases if selects(rule, case)), key=lambda c: (-c.due_fen, c.case_id)
    )
    return chosen if rule.limit is None else chosen[: rule.limit]


def period_end(placed_on: date, days: int) -> date:
    """The last day of a placement period of ``days`` days starting ``placed_on`` (委案期)."""
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"days must be between 1 and {MAX_DAYS}")
    return placed_on + timedelta(days=days - 1)


# --- recall (退案) --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RecallThresholds:
    """When a placed case comes back early (data: ``agency.yaml``)."""

    on_violation: bool = True
    on_complaint: bool = True
    #: the placement's recovery rate is judged from this many days after placement on …
    performance_after_days: int = 30
    #: … and its cases are recalled while it is below this (``None``: never)
    min_recovery_rate: Decimal | None = Decimal("0.02")


@dataclass(frozen=True, slots=True)
class PlacedFacts:
    """What the recall rule reads of one placed case on ``as_of``."""

    placed_on: date
    ends_on: date
    violations: int
    complaints: int
    #: the placement's recovered ÷ its amount due at placement (``None``: nothing was due)
    placement_recovery_rate: Decimal | None


def recall_reason(facts: PlacedFacts, as_of: date, thresholds: RecallThresholds) -> str | None:
    """Why the case leaves its agency on ``as_of``, or ``None`` (it stays)."""
    if as_of > facts.ends_on:
        return "period_end"
    if thresholds.on_violation and facts.violations > 0:
        return "compliance_violation"
    if thresholds.on_complaint and facts.complaints > 0:
        return "complaint"
    judged = (as_of - facts.placed_on).days >= thresholds.performance_after_days
    rate = facts.placement_recovery_rate
    if (
        judged
        and thresholds.min_recovery_rate is not None
        and rate is not None
        and rate < thresholds.min_recovery_rate
    ):
        return "performance"
    return None


def recalled_on(reason: str, ends_on: date, as_of: date) -> date:
    """The first day the case is no longer with the agency: the day after its period for a
    period end (even when the cycle runs late), else ``as_of``."""
    return min(as_of, ends_on + timedelta(days=1)) if reason == "period_end" else as_of


# --- commission (佣金) ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateRow:
    """One row of a commission schedule: the rate of a payment on a case placed in one of
    ``buckets`` and ``tiers`` (empty: any), ``min_age``–``max_age`` days into its placement."""

    rate: Decimal
    buckets: tuple[str, ...] = ()
    tiers: tuple[str, ...] = ()
    min_age: int = 0
    max_age: int | None = None

    def matches(self, bucket: str, tier: str, age: int) -> bool:
        return (
            (not self.buckets or bucket in self.buckets)
            and (not self.tiers or tier in self.tiers)
            and age >= self.min_age
            and (self.max_age is None or age <= self.max_age)
        )


def rate_for(schedule: Sequence[RateRow], bucket: str, tier: str, age: int) -> Decimal:
    """The commission rate: the first row of ``schedule`` that matches (0 when none does)."""
    for row in schedule:
        if row.matches(bucket, tier, age):
            return row.rate
    return Decimal(0)


def commission_of(cash_fen: int, rate: Decimal) -> int:
    """The commission on ``cash_fen`` (signed) at ``rate``, rounded half away from zero."""
    return round_fen(Decimal(cash_fen) * rate)


def parse_month(text: str) -> tuple[date, date]:
    """``YYYY-MM`` → its first and last day (``ValueError`` for anything else)."""
    parts = text.split("-")
    if len(parts) != 2 or len(parts[0]) != 4 or len(parts[1]) != 2 or not text.isascii():
        raise ValueError(f"{text!r} is not a month (expected YYYY-MM)")
    year, month = int(parts[0]), int(parts[1])
    if not 2000 <= year <= 2099 or not 1 <= month <= 12:
        raise ValueError(f"{text!r} is not a month (expected YYYY-MM)")
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


@dataclass(frozen=True, slots=True)
class Move:
    """A payment or reversal ledger entry on a case while placed with the agency (for a
    reversal: while the payment it reverses was)."""

    entry_id: int
    kind: str  # payment | reversal
    account_id: int
    reference: str
    effective_on: date
    cash_fen: int
    placement_case_id: int
    case_id: int
    bucket: str
    tier: str
    placed_on: date


@dataclass(frozen=True, slots=True)
class Line:
    """One line of a statement (see :class:`cuishou.store.tables.CommissionLine`)."""

    entry_id: int
    placement_case_id: int
    case_id: int
    kind: str
    reference: str
    effective_on: date
    cash_fen: int
    rate: Decimal
    commission_fen: int


def statement_lines(
    moves: Sequence[Move],
    *,
    last_day: date,
    closed: frozenset[int],
    closed_rates: dict[tuple[int, str], Decimal],
    schedule: Sequence[RateRow],
) -> list[Line]:
    """The lines of a statement whose month ends ``last_day``: every move effective by then
    that is on no closed statement (``closed``: entry ids). A payment earns the schedule's
    rate for its case's bucket and tier at placement and the placement's age that day. A
    reversal takes its payment's rate: a ``reversal`` line when the payment is on this
    statement too (they net out), a ``clawback`` when it is on a closed one
    (``closed_rates``: (account, reference) → the rate it was paid at)."""
    due = sorted(
        (m for m in moves if m.effective_on <= last_day and m.entry_id not in closed),
        key=lambda m: (m.effective_on, m.entry_id),
    )
    paid: dict[tuple[int, str], Decimal] = {}
    for move in moves:
        if move.kind == "payment":
            age = (move.effective_on - move.placed_on).days
            paid[(move.account_id, move.reference)] = rate_for(
                schedule, move.bucket, move.tier, age
            )
    lines: list[Line] = []
    for move in due:
        key = (move.account_id, move.reference)
        kind = move.kind
        if kind == "payment":
            rate = paid[key]
        elif key in closed_rates:
            kind, rate = "clawback", closed_rates[key]
        else:
            rate = paid.get(key, Decimal(0))
        lines.append(
            Line(
                entry_id=move.entry_id,
                placement_case_id=move.placement_case_id,
                case_id=move.case_id,
                kind=kind,
                reference=move.reference,
                effective_on=move.effective_on,
                cash_fen=move.cash_fen,
                rate=rate,
                commission_fen=commission_of(move.cash_fen, rate),
            )
        )
    return lines


@dataclass(frozen=True, slots=True)
class Totals:
    collected_fen: int
    commission_fen: int
    clawback_fen: int


def totals(lines: Sequence[Line]) -> Totals:
    """Collected (payments net of reversals, clawbacks included), the commission, and the
    part of it that claws back earlier statements (negative or 0)."""
    return Totals(
        collected_fen=sum(line.cash_fen for line in lines),
        commission_fen=sum(line.commission_fen for line in lines),
        clawback_fen=sum(line.commission_fen for line in lines if line.kind == "clawback"),
    )
