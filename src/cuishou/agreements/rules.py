"""Repayment agreement rules (还款协议): quotes, schedules, waivers, tracking. Pure.

Every agreement is the same shape: what the case owes by component (interest only up to
the legal cap, :mod:`cuishou.compliance.interest_cap`), what is waived (减免) from each
component, and a schedule (an optional down payment 首付 and installments) that adds up
to the agreed amount to the fen. The kinds differ in what they allow:

* ``installments`` (分期): 2–36 monthly installments, optionally a down payment and waivers;
* ``deferral`` (延期): everything owed, once, on a later date; no waiver;
* ``waiver`` (减免): named amounts of fee, penalty, interest or principal waived, the rest
  paid in 1–36 installments;
* ``settlement`` (一次性结清): a discount on the whole, paid once; the discount is taken
  from penalty first, then interest, fees and principal last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

import polars as pl

from cuishou.kit.dates import add_months
from cuishou.kit.money import round_fen

KINDS: dict[str, tuple[str, str]] = {
    "installments": ("分期还款", "installments"),
    "deferral": ("延期还款", "deferral"),
    "waiver": ("减免", "waiver"),
    "settlement": ("一次性结清", "settlement in full at a discount"),
}
COMPONENTS = ("fee", "penalty", "interest", "principal")
#: a settlement discount is taken from these components in this order
SETTLEMENT_WAIVER_ORDER = ("penalty", "interest", "fee", "principal")
MAX_INSTALLMENTS = 36
MAX_FIRST_DUE_DAYS = 60
MAX_DEFERRAL_DAYS = 180
BASIS_POINTS = 10_000


class AgreementProblem(ValueError):
    """Why the terms asked for cannot make an agreement (a message a person can act on)."""


@dataclass(frozen=True, slots=True)
class Owed:
    """What the case owes and may be asked for, by component, in fen. ``interest`` is the
    demandable interest (up to the legal cap); ``excess_interest`` is never demanded."""

    fee: int
    penalty: int
    interest: int
    principal: int
    excess_interest: int = 0

    @property
    def total(self) -> int:
        return self.fee + self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Waived:
    fee: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0

    @property
    def total(self) -> int:
        return self.fee + self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Terms:
    """What the collector and the debtor discussed."""

    kind: str
    first_due: date
    installments: int = 1
    down_payment_fen: int = 0
    waived: Waived = Waived()
    discount_bp: int = 0
    #: the plan breaks when an installment is this many days overdue (违约宽限)
    break_after_days: int = 30
    #: on a break, the waiver is cancelled and the full amount is owed again (恢复减免)
    reinstate_on_break: bool = True


@dataclass(frozen=True, slots=True)
class Installment:
    seq: int
    due_date: date
    amount_fen: int


@dataclass(frozen=True, slots=True)
class Quote:
    kind: str
    owed: Owed
    waived: Waived
    agreed_fen: int
    schedule: tuple[Installment, ...]
    waiver_share_bp: int


def split_evenly(total_fen: int, parts: int) -> list[int]:
    """``total_fen`` in ``parts`` amounts differing by at most one fen, larger ones first;
    they always add up to ``total_fen``."""
    if parts < 1:
        raise AgreementProblem("a schedule needs at least one installment")
    base, extra = divmod(total_fen, parts)
    return [base + 1 if i < extra else base for i in range(parts)]


def settlement_waiver(owed: Owed, discount_bp: int) -> Waived:
    """The discount (``discount_bp`` of the total, rounded to the fen) taken from penalty,
    then interest, fees and principal."""
    discount = round_fen(Decimal(owed.total) * discount_bp / BASIS_POINTS)
    taken: dict[str, int] = {}
    for name in SETTLEMENT_WAIVER_ORDER:
        portion = min(discount, getattr(owed, name))
        taken[name] = portion
        discount -= portion
    return Waived(**taken)


def schedule_of(agreed_fen: int, terms: Terms) -> tuple[Installment, ...]:
    """The down payment (if any) due on ``first_due``, then the installments monthly."""
    rows: list[Installment] = []
    due = terms.first_due
    if terms.down_payment_fen:
        rows.append(Installment(0, due, terms.down_payment_fen))
        due = add_months(due, 1)
    amounts = split_evenly(agreed_fen - terms.down_payment_fen, terms.installments)
    for i, amount in enumerate(amounts):
        rows.append(Installment(i + 1, add_months(due, i), amount))
    return tuple(rows)


def _check_kind(terms: Terms, today: date) -> None:
    if terms.kind not in KINDS:
        raise AgreementProblem(f"kind must be one of {', '.join(KINDS)}; got {terms.kind!r}")
    if terms.first_due < today:
        raise AgreementProblem("first_due: the first payment cannot be due in the past")
    horizon = MAX_DEFERRAL_DAYS if terms.kind == "deferral" else MAX_FIRST_DUE_DAYS
    if terms.first_due > today + timedelta(days=horizon):
        raise AgreementProblem(f"first_due: must be within {horizon} days")
    if not 1 <= terms.installments <= MAX_INSTALLMENTS:
        raise AgreementProblem(f"installments: from 1 to {MAX_INSTALLMENTS}")
    if terms.break_after_days < 0:
        raise AgreementProblem("break_after_days must not be negative")
    if terms.kind == "installments" and terms.installments < 2:
        raise AgreementProblem("installments: an installment plan has at least 2")
    once = terms.installments != 1 or terms.down_payment_fen
    if terms.kind in ("deferral", "settlement") and once:
        raise AgreementProblem(f"a {terms.kind} is paid once: one installment, no down payment")
    if terms.kind == "deferral" and terms.first_due <= today:
        raise AgreementProblem("first_due: a deferral moves the payment to a later day")
    if terms.kind != "settlement" and terms.discount_bp:
        raise AgreementProblem("discount: only a settlement takes a discount")
    if terms.kind == "settlement" and not 0 < terms.discount_bp < BASIS_POINTS:
        raise AgreementProblem("discount: a settlement discount is more than 0% and below 100%")
    if terms.kind in ("deferral", "settlement") and terms.waived.total:
        raise AgreementProblem(f"a {terms.kind} names no waiver of its own")
    if terms.kind == "waiver" and not terms.waived.total:
        raise AgreementProblem("a waiver agreement waives something: name an amount")


def quote(owed: Owed, terms: Terms, *, today: date) -> Quote:
    """The schedule and what is waived, before anything is saved (试算)."""
    _check_kind(terms, today)
    if owed.total <= 0:
        raise AgreementProblem("the case owes nothing; there is nothing to agree")
    waived = terms.waived
    if terms.kind == "settlement":
        waived = settlement_waiver(owed, terms.discount_bp)
    for name in COMPONENTS:
        amount = getattr(waived, name)
        if amount < 0:
            raise AgreementProblem(f"waive_{name}: must not be negative")
        if amount > getattr(owed, name):
            raise AgreementProblem(f"waive_{name}: more than the {name} owed")
    agreed = owed.total - waived.total
    if agreed <= 0:
        raise AgreementProblem("nothing would be left to pay: waive less")
    if not 0 <= terms.down_payment_fen < agreed:
        raise AgreementProblem("down_payment: from 0 to less than the agreed amount")
    if agreed - terms.down_payment_fen < terms.installments:
        raise AgreementProblem("installments: more installments than fen to pay")
    share = -(-waived.total * BASIS_POINTS // owed.total)  # rounded up: never understated
    return Quote(
        kind=terms.kind,
        owed=owed,
        waived=waived,
        agreed_fen=agreed,
        schedule=schedule_of(agreed, terms),
        waiver_share_bp=share,
    )


# --- tracking (履约跟踪) -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class InstallmentState:
    seq: int
    due_date: date
    amount_fen: int
    paid_fen: int
    status: str  # due | paid | missed


@dataclass(frozen=True, slots=True)
class PlanState:
    installments: tuple[InstallmentState, ...]
    status: str  # approved (running) | completed | broken


def track(
    schedule: Sequence[Installment], paid_fen: int, *, as_of: date, break_after_days: int
) -> PlanState:
    """Installments due, paid or missed as of ``as_of``, given ``paid_fen`` paid towards
    the plan so far (applied to installments in order). The plan is ``completed`` when
    everything is paid, ``broken`` when an installment is unpaid more than
    ``break_after_days`` after its due date, otherwise still running (``approved``)."""
    remaining = paid_fen
    states: list[InstallmentState] = []
    broken = False
    for row in sorted(schedule, key=lambda r: r.seq):
        paid = min(remaining, row.amount_fen)
        remaining -= paid
        if paid == row.amount_fen:
            status = "paid"
        elif row.due_date < as_of:
            status = "missed"
            broken = broken or as_of > row.due_date + timedelta(days=break_after_days)
        else:
            status = "due"
        states.append(InstallmentState(row.seq, row.due_date, row.amount_fen, paid, status))
    if all(s.status == "paid" for s in states):
        plan = "completed"
    elif broken:
        plan = "broken"
    else:
        plan = "approved"
    return PlanState(tuple(states), plan)


def track_frame(
    installments: pl.DataFrame, paid: pl.DataFrame, plans: pl.DataFrame, as_of: date
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """履约跟踪 for every running plan at once (the Polars twin of :func:`track`).

    ``installments``: ``agreement_id, seq, due_date, amount_fen``; ``paid``:
    ``agreement_id, paid_fen`` (paid towards each plan so far); ``plans``:
    ``agreement_id, break_after_days``. Returns the installments with ``paid_fen`` and
    ``status`` (due | paid | missed) and the plans with ``status`` (approved | completed |
    broken) and ``paid_fen``.
    """
    ordered = (
        installments.join(paid, on="agreement_id", how="left")
        .join(plans.select("agreement_id", "break_after_days"), on="agreement_id", how="left")
        .with_columns(pl.col("paid_fen").fill_null(0))
        .sort("agreement_id", "seq")
        .with_columns(
            (pl.col("amount_fen").cum_sum().over("agreement_id") - pl.col("amount_fen")).alias(
                "_before"
            )
        )
    )
    share = pl.min_horizontal(
        pl.max_horizontal(pl.col("paid_fen") - pl.col("_before"), pl.lit(0)), pl.col("amount_fen")
    ).cast(pl.Int64)
    late = pl.lit(as_of, dtype=pl.Date) > pl.col("due_date") + pl.duration(
        days=pl.col("break_after_days")
    )
    rows = ordered.with_columns(share.alias("_paid")).with_columns(
        pl.when(pl.col("_paid") == pl.col("amount_fen"))
        .then(pl.lit("paid"))
        .when(pl.col("due_date") < pl.lit(as_of, dtype=pl.Date))
        .then(pl.lit("missed"))
        .otherwise(pl.lit("due"))
        .alias("status"),
        ((pl.col("_paid") < pl.col("amount_fen")) & (pl.col("due_date") < as_of) & late).alias(
            "_breaks"
        ),
    )
    states = rows.group_by("agreement_id").agg(
        (pl.col("status") == "paid").all().alias("_all_paid"),
        pl.col("_breaks").any().alias("_broken"),
        pl.col("paid_fen").first(),
    )
    plan_status = (
        pl.when(pl.col("_all_paid"))
        .then(pl.lit("completed"))
        .when(pl.col("_broken"))
        .then(pl.lit("broken"))
        .otherwise(pl.lit("approved"))
    )
    decided = (
        plans.select("agreement_id")
        .join(states, on="agreement_id", how="left")
        .select(
            "agreement_id",
            plan_status.alias("status"),
            pl.col("paid_fen").fill_null(0),
        )
    )
    return (
        rows.select("agreement_id", "seq", pl.col("_paid").alias("paid_fen"), "status"),
        decided,
    )
