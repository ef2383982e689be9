"""Repayment allocation waterfall (还款冲账顺序): how a payment is split over the balances.

The default order is fees (费用) → penalty (罚息) → interest (利息) → principal (本金);
whatever is left after everything due is paid becomes a credit (溢缴款) held on the
account, never lost. Every fen of a payment lands in exactly one component, so the
sum of an allocation always equals the payment.

Two forms of the one rule:

* :func:`allocate` — one payment against one account's balances (online posting);
* :func:`allocate_frame` — many payments of many accounts at once (file posting): each
  account's payments are applied in order, the first one against the starting
  balances, the next against what the first left, and so on. It is computed without
  a loop: a payment covering the range ``[paid_before, paid_before + amount)`` of the
  account's cumulative payments takes from component ``i`` the overlap of that range
  with ``[due_before_i, due_before_i + balance_i)``.

``tests/repayment`` proves the forms agree and that no fen is created or lost.

Before any of that, :func:`payment_refusals` (还款合理性) decides which payments no path
posts at all — not more than zero, above a trillion yuan, dated before 2000 or in the
future — with :func:`payment_refusal_exprs` its Polars twin for payment files: the API
refuses such a payment with 422, the file import quarantines its row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl

from cuishou.kit.money import format_yuan

COMPONENTS: tuple[str, ...] = ("fee", "penalty", "interest", "principal")
"""Balance components a payment can pay, by their column stem (``fee_fen`` …)."""
DEFAULT_ORDER: tuple[str, ...] = COMPONENTS
"""Fees → penalty → interest → principal (the usual Chinese bank order)."""


@dataclass(frozen=True, slots=True)
class Balances:
    """An account's balances (余额) by component, and its credit (溢缴款), in fen (all
    ``>= 0``): what a payment is allocated against and what the ledger moves."""

    fee: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    credit: int = 0

    def __post_init__(self) -> None:
        for name in (*COMPONENTS, "credit"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} balance must not be negative")

    @property
    def owed(self) -> int:
        """What is owed: every component, not the credit."""
        return self.fee + self.penalty + self.interest + self.principal


@dataclass(frozen=True, slots=True)
class Allocation:
    """How one payment was split (入账分配), in fen; ``credit`` is the overpayment."""

    fee: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    credit: int = 0

    @property
    def total(self) -> int:
        return self.fee + self.penalty + self.interest + self.principal + self.credit


def check_order(order: Sequence[str]) -> tuple[str, ...]:
    """A waterfall order must name each component exactly once."""
    chosen = tuple(order)
    if sorted(chosen) != sorted(COMPONENTS):
        raise ValueError(
            f"waterfall order must list {', '.join(COMPONENTS)} once each, got {chosen}"
        )
    return chosen


def allocate(
    amount_fen: int, balances: Balances, order: Sequence[str] = DEFAULT_ORDER
) -> Allocation:
    """Split a payment of ``amount_fen`` (``> 0``) over ``balances`` in ``order``."""
    if amount_fen <= 0:
        raise ValueError("a payment amount must be greater than zero")
    remaining = amount_fen
    taken: dict[str, int] = {}
    for name in check_order(order):
        portion = min(remaining, getattr(balances, name))
        taken[name] = portion
        remaining -= portion
    return Allocation(credit=remaining, **taken)


def remaining_after(balances: Balances, allocation: Allocation) -> Balances:
    """The balances left once ``allocation`` is posted."""
    return Balances(
        fee=balances.fee - allocation.fee,
        penalty=balances.penalty - allocation.penalty,
        interest=balances.interest - allocation.interest,
        principal=balances.principal - allocation.principal,
        credit=balances.credit + allocation.credit,
    )


def allocate_frame(
    payments: pl.DataFrame,
    *,
    order: Sequence[str] = DEFAULT_ORDER,
    account: str = "account_id",
    sort_by: Sequence[str] = ("paid_at", "reference"),
) -> pl.DataFrame:
    """Allocate many payments at once (the Polars twin of :func:`allocate`).

    ``payments`` has one row per payment with ``account``, ``amount_fen`` (``> 0``), the
    ``sort_by`` columns, and the account's starting balances ``fee_fen``,
    ``penalty_fen``, ``interest_fen``, ``principal_fen`` (the same on every row of an
    account). Returns the frame sorted by account then ``sort_by`` with ``to_fee_fen``,
    ``to_penalty_fen``, ``to_interest_fen``, ``to_principal_fen`` and ``to_credit_fen``
    added: each payment applied after the earlier ones of its account.
    """
    chosen = check_order(order)
    ordered = payments.sort([account, *sort_by])
    paid_before = (pl.col("amount_fen").cum_sum().over(account) - pl.col("amount_fen")).alias(
        "_start"
    )
    ordered = ordered.with_columns(paid_before).with_columns(
        (pl.col("_start") + pl.col("amount_fen")).alias("_end")
    )
    due_before: pl.Expr = pl.lit(0, dtype=pl.Int64)
    allocations: list[pl.Expr] = []
    for name in chosen:
        due_after = due_before + pl.col(f"{name}_fen")
        overlap = pl.min_horizontal(pl.col("_end"), due_after) - pl.max_horizontal(
            pl.col("_start"), due_before
        )
        allocations.append(pl.max_horizontal(overlap, pl.lit(0)).alias(f"to_{name}_fen"))
        due_before = due_after
    credit = pl.col("_end") - pl.max_horizontal(pl.col("_start"), due_before)
    allocations.append(pl.max_horizontal(credit, pl.lit(0)).alias("to_credit_fen"))
    result = ordered.with_columns(allocations).drop("_start", "_end")
    return result.with_columns(
        pl.col(f"to_{name}_fen").cast(pl.Int64) for name in (*COMPONENTS, "credit")
    )


def parse_waterfall(text: str) -> tuple[str, ...]:
    """A creditor's stored waterfall (``"penalty,interest,fee,principal"``) as an order."""
    return check_order(tuple(part.strip() for part in text.split(",") if part.strip()))


@dataclass(frozen=True, slots=True)
class AccountBalances:
    """One account of a case, for spreading a case payment (oldest first)."""

    account_id: int
    balances: Balances


def allocate_over_accounts(
    amount_fen: int,
    accounts: Sequence[AccountBalances],
    order: Sequence[str] = DEFAULT_ORDER,
) -> list[tuple[int, Allocation]]:
    """Spread a case payment over its accounts in the given (oldest-first) order.

    Each account takes what it owes through the waterfall before the next one is
    reached; what is left after every account is paid off is held as a credit on the
    first (oldest) account. Returns ``(account_id, allocation)`` for every account the
    payment reached (at least one); the allocations sum to ``amount_fen``.
    """
    if amount_fen <= 0:
        raise ValueError("a payment amount must be greater than zero")
    if not accounts:
        raise ValueError("a case payment needs at least one account")
    chosen = check_order(order)
    remaining = amount_fen
    parts: list[tuple[int, Allocation]] = []
    for account in accounts:
        if remaining == 0:
            break
        owed = account.balances.owed
        if owed == 0:
            continue
        taken = allocate(min(remaining, owed), account.balances, chosen)
        parts.append((account.account_id, taken))
        remaining -= taken.total
    if remaining:
        if parts and parts[0][0] == accounts[0].account_id:
            first_id, first = parts[0]
            parts[0] = (
                first_id,
                Allocation(
                    fee=first.fee,
                    penalty=first.penalty,
                    interest=first.interest,
                    principal=first.principal,
                    credit=first.credit + remaining,
                ),
            )
        else:
            parts.insert(0, (accounts[0].account_id, Allocation(credit=remaining)))
    return parts


# --- payments no path posts (还款合理性) ------------------------------------------------------

FUTURE_SKEW = timedelta(minutes=5)
"""A payment may be dated this far past the time of posting (clocks drift), no further."""
EARLIEST_PAYMENT = datetime(2000, 1, 1, tzinfo=UTC)
"""A payment dated before this is a typing error."""
MAX_PAYMENT_FEN = 10**14
"""One payment above this (a trillion yuan) is a typing error, and would overflow BIGINT sums."""


@dataclass(frozen=True, slots=True)
class PaymentRefusal:
    """Why a payment is refused on every path, whatever its account; ``{field}`` in the
    messages is the field's name in the API or its column label in a file."""

    code: str
    field: str
    en: str
    zh: str

    def explain(self, label: str | None = None) -> tuple[str, str]:
        """The English and Chinese message, naming ``label`` (default: the field)."""
        name = self.field if label is None else label
        return self.en.format(field=name), self.zh.format(field=name)


_SKEW_MINUTES = int(FUTURE_SKEW.total_seconds() // 60)
NOT_POSITIVE = PaymentRefusal(
    "not_positive",
    "amount",
    "{field}: a payment must be more than 0.00",
    "{field}：还款金额必须大于0.00",
)
TOO_LARGE = PaymentRefusal(
    "too_large",
    "amount",
    f"{{field}}: more than {format_yuan(MAX_PAYMENT_FEN)} in one payment",
    f"{{field}}：单笔还款超过{format_yuan(MAX_PAYMENT_FEN)}元",
)
TOO_EARLY = PaymentRefusal(
    "too_early",
    "paid_at",
    f"{{field}}: not a plausible payment date (before {EARLIEST_PAYMENT.date()})",
    f"{{field}}：还款时间早于{EARLIEST_PAYMENT.date()}，不是合理的还款时间",
)
IN_FUTURE = PaymentRefusal(
    "in_future",
    "paid_at",
    "{field}: a payment cannot be dated in the future "
    f"(more than {_SKEW_MINUTES} minutes after the time of posting)",
    f"{{field}}：还款时间不能晚于入账时间（允许误差{_SKEW_MINUTES}分钟）",
)
PAYMENT_REFUSALS: tuple[PaymentRefusal, ...] = (NOT_POSITIVE, TOO_LARGE, TOO_EARLY, IN_FUTURE)
"""Every refusal, in the order they are checked and reported."""


def payment_refusals(
    amount_fen: int, paid_at: datetime, *, now: datetime
) -> tuple[PaymentRefusal, ...]:
    """Every reason no path posts this payment (empty: plausible), in the order of
    :data:`PAYMENT_REFUSALS`. ``paid_at`` and ``now`` are aware."""
    broken = {
        NOT_POSITIVE: amount_fen <= 0,
        TOO_LARGE: amount_fen > MAX_PAYMENT_FEN,
        TOO_EARLY: paid_at < EARLIEST_PAYMENT,
        IN_FUTURE: paid_at > now + FUTURE_SKEW,
    }
    return tuple(refusal for refusal in PAYMENT_REFUSALS if broken[refusal])


def payment_refusal_exprs(
    amount_fen: pl.Expr, paid_at: pl.Expr, *, now: datetime
) -> list[tuple[PaymentRefusal, pl.Expr]]:
    """Polars twin of :func:`payment_refusals`: for each refusal, an expression true on
    the rows it refuses (a null amount or time is not judged: its own check reports it)."""
    utc = pl.Datetime("us", "UTC")
    moment = paid_at.dt.convert_time_zone("UTC")
    broken = {
        NOT_POSITIVE: amount_fen <= 0,
        TOO_LARGE: amount_fen > MAX_PAYMENT_FEN,
        TOO_EARLY: moment < pl.lit(EARLIEST_PAYMENT, dtype=utc),
        IN_FUTURE: moment > pl.lit((now + FUTURE_SKEW).astimezone(UTC), dtype=utc),
    }
    return [(refusal, broken[refusal].fill_null(False)) for refusal in PAYMENT_REFUSALS]
