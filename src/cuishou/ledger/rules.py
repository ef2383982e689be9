"""Ledger rules (账务流水): kinds, signs and balances. Pure.

A ledger entry changes one account's balances by signed amounts per component (fee 费用,
penalty 罚息, interest 利息, principal 本金) and its credit (溢缴款, an overpayment held for the
debtor). An account's balances are the sum of its entries and never go negative: what is
paid beyond what is owed is a credit, never a negative principal.

Each kind moves money one way only (:data:`SIGNS`): a payment takes owed amounts off and may
add credit, a reversal puts them back, a waiver or a write-off takes owed amounts off, a
reinstatement puts a waiver back; a placement opens the balances; a refresh (a newer
snapshot of the creditor's figures) and a manual adjustment may move either way.
:func:`sign_problem` and its Polars twin :func:`sign_problem_expr` check it.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from cuishou.repayment.rules import COMPONENTS, Balances, allocate_frame

__all__ = ["COMPONENTS", "KINDS", "SOURCES", "Balances", "Change", "Entry", "after"]
KINDS: dict[str, tuple[str, str]] = {
    "placement": ("委案入账", "placement (opening balances)"),
    "refresh": ("余额更新", "refresh (newer snapshot)"),
    "payment": ("还款", "payment"),
    "reversal": ("冲正", "reversal"),
    "waiver": ("减免", "waiver"),
    "reinstatement": ("恢复减免", "reinstatement"),
    "write_off": ("核销", "write-off"),
    "adjustment": ("手工调账", "manual adjustment"),
}
#: kind -> (sign allowed for the owed components, sign allowed for the credit): ``-1`` only
#: down, ``+1`` only up, ``0`` must be zero, ``None`` either way
SIGNS: dict[str, tuple[int | None, int | None]] = {
    "placement": (1, 1),
    "refresh": (None, None),
    "payment": (-1, 1),
    "reversal": (1, -1),
    "waiver": (-1, 0),
    "reinstatement": (1, 0),
    "write_off": (-1, 0),
    "adjustment": (None, None),
}
SOURCES = ("import", "api", "manual", "agreement", "cycle", "cli", "migration")


@dataclass(frozen=True, slots=True)
class Change:
    """Signed amounts, in fen, by which one entry moves an account's balances."""

    fee: int = 0
    penalty: int = 0
    interest: int = 0
    principal: int = 0
    credit: int = 0

    @property
    def owed(self) -> int:
        """How the amount owed moves (the credit is not owed)."""
        return self.fee + self.penalty + self.interest + self.principal

    def negated(self) -> Change:
        return Change(-self.fee, -self.penalty, -self.interest, -self.principal, -self.credit)

    @property
    def is_zero(self) -> bool:
        return not any((self.fee, self.penalty, self.interest, self.principal, self.credit))


@dataclass(frozen=True, slots=True)
class Entry:
    """One ledger entry to post."""

    account_id: int
    kind: str
    change: Change
    source: str
    actor: str
    effective_on: object  # a date; typed loosely so rules stay free of datetime imports
    source_id: int | None = None
    reference: str | None = None
    reason: str = ""


def _sign_ok(value: int, sign: int | None) -> bool:
    if sign is None:
        return True
    if sign == 0:
        return value == 0
    return value * sign >= 0


def sign_problem(kind: str, change: Change) -> str | None:
    """Why ``change`` cannot be an entry of ``kind``, or ``None``."""
    if kind not in KINDS:
        return f"unknown ledger entry kind {kind!r}"
    owed_sign, credit_sign = SIGNS[kind]
    for name in COMPONENTS:
        if not _sign_ok(getattr(change, name), owed_sign):
            return f"a {kind} entry cannot move {name} that way ({getattr(change, name)})"
    if not _sign_ok(change.credit, credit_sign):
        return f"a {kind} entry cannot move the credit that way ({change.credit})"
    return None


def sign_problem_expr(kind: pl.Expr) -> pl.Expr:
    """True where an entry frame's row breaks :data:`SIGNS` (the twin of :func:`sign_problem`);
    the frame has ``fee_fen`` … ``principal_fen`` and ``credit_fen``."""
    bad: pl.Expr = ~kind.is_in(list(KINDS))
    for name, (owed_sign, credit_sign) in SIGNS.items():
        checks: list[pl.Expr] = []
        for column, sign in [
            *((f"{c}_fen", owed_sign) for c in COMPONENTS),
            ("credit_fen", credit_sign),
        ]:
            if sign == 0:
                checks.append(pl.col(column) != 0)
            elif sign is not None:
                checks.append(pl.col(column) * sign < 0)
        if checks:
            bad = bad | ((kind == name) & pl.any_horizontal(checks))
    return bad


def after(balances: Balances, change: Change) -> Balances:
    """The balances once ``change`` is posted; :class:`ValueError` if any would go negative."""
    moved = {
        name: getattr(balances, name) + getattr(change, name) for name in (*COMPONENTS, "credit")
    }
    for name, fen in moved.items():
        if fen < 0:
            raise ValueError(f"{name} would go below zero ({fen} fen)")
    return Balances(**moved)


def refresh_changes(facts: pl.DataFrame, order: tuple[str, ...]) -> pl.DataFrame:
    """余额更新: the change that brings accounts to a newer snapshot of the creditor's figures.

    The creditor's figures as of the new snapshot date replace the balances; payments posted
    after that date (``later_fen``, not in those figures) are applied to them again through
    the creditor's waterfall ``order`` (what exceeds them is credit). ``facts`` has
    ``account_id``, the new figures ``new_fee`` … ``new_principal``, the balances now
    ``fee_fen`` … ``principal_fen``, ``credit_fen`` and ``later_fen``; the result has
    ``account_id`` and the change ``fee_fen`` … ``credit_fen`` (target less now).
    """
    owed = [f"{c}_fen" for c in COMPONENTS]
    again = allocate_frame(
        facts.select(
            "account_id",
            pl.col("later_fen").alias("amount_fen"),
            pl.lit(0).alias("paid_at"),
            pl.lit("").alias("reference"),
            *(pl.col(f"new_{c}").alias(f"{c}_fen") for c in COMPONENTS),
        ),
        order=order,
    ).select("account_id", *(f"to_{c}_fen" for c in (*COMPONENTS, "credit")))
    joined = facts.join(again, on="account_id", how="left").with_columns(
        pl.col(f"to_{c}_fen").fill_null(0) for c in (*COMPONENTS, "credit")
    )
    return joined.select(
        "account_id",
        *(
            (pl.col(f"new_{c}") - pl.col(f"to_{c}_fen") - pl.col(f"{c}_fen")).alias(f"{c}_fen")
            for c in COMPONENTS
        ),
        (pl.col("to_credit_fen") - pl.col("credit_fen")).alias("credit_fen"),
    ).with_columns(pl.col(c).cast(pl.Int64) for c in [*owed, "credit_fen"])
