"""The allocation waterfall (还款冲账顺序): no fen created or lost; both forms agree."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.repayment.rules import (
    COMPONENTS,
    EARLIEST_PAYMENT,
    FUTURE_SKEW,
    IN_FUTURE,
    MAX_PAYMENT_FEN,
    NOT_POSITIVE,
    TOO_EARLY,
    TOO_LARGE,
    AccountBalances,
    Allocation,
    Balances,
    allocate,
    allocate_frame,
    allocate_over_accounts,
    parse_waterfall,
    payment_refusal_exprs,
    payment_refusals,
    remaining_after,
)

fen = st.integers(min_value=0, max_value=10**9)
balances = st.builds(Balances, fee=fen, penalty=fen, interest=fen, principal=fen)
amounts = st.integers(min_value=1, max_value=3 * 10**9)
orders = st.permutations(COMPONENTS)


def test_default_order_pays_fees_then_penalty_then_interest_then_principal() -> None:
    # given an account owing every component
    owed = Balances(fee=100, penalty=200, interest=300, principal=1_000)
    # when 450 fen is paid
    split = allocate(450, owed)
    # then fees and penalty are cleared first and the rest goes to interest
    assert split == Allocation(fee=100, penalty=200, interest=150, principal=0, credit=0)


def test_overpayment_is_held_as_credit() -> None:
    split = allocate(2_000, Balances(fee=0, penalty=0, interest=100, principal=900))
    assert split == Allocation(interest=100, principal=900, credit=1_000)


@pytest.mark.parametrize("amount", [0, -1])
def test_a_payment_must_be_positive(amount: int) -> None:
    with pytest.raises(ValueError, match="greater than zero"):
        allocate(amount, Balances(principal=10))


def test_an_order_must_name_each_component_once() -> None:
    with pytest.raises(ValueError, match="once each"):
        allocate(10, Balances(principal=10), order=("fee", "fee", "interest", "principal"))


@given(amount=amounts, owed=balances, order=orders)
def test_no_fen_is_created_or_lost(amount: int, owed: Balances, order: list[str]) -> None:
    split = allocate(amount, owed, order)
    assert split.total == amount
    assert all(getattr(split, name) >= 0 for name in (*COMPONENTS, "credit"))
    assert all(getattr(split, name) <= getattr(owed, name) for name in COMPONENTS)
    # credit only once everything due is paid
    assert split.credit == 0 or remaining_after(owed, split).owed == 0


@given(amount=amounts, owed=balances, order=orders)
def test_a_component_is_paid_only_when_all_before_it_are_cleared(
    amount: int, owed: Balances, order: list[str]
) -> None:
    split = allocate(amount, owed, order)
    left = remaining_after(owed, split)
    for position, name in enumerate(order):
        if getattr(split, name) > 0:
            assert all(getattr(left, earlier) == 0 for earlier in order[:position])


@settings(max_examples=60, deadline=None)
@given(
    accounts=st.lists(
        st.tuples(balances, st.lists(amounts, min_size=1, max_size=5)), min_size=1, max_size=6
    ),
    order=orders,
)
def test_the_polars_form_equals_posting_one_payment_after_another(
    accounts: list[tuple[Balances, list[int]]], order: list[str]
) -> None:
    # given several accounts, each with a few payments in order
    rows = []
    for account_id, (owed, paid) in enumerate(accounts):
        for seq, amount in enumerate(paid):
            rows.append(
                {
                    "account_id": account_id,
                    "paid_at": seq,
                    "reference": f"R{account_id}-{seq}",
                    "amount_fen": amount,
                    **{f"{name}_fen": getattr(owed, name) for name in COMPONENTS},
                }
            )
    # when all are allocated at once in Polars
    frame = allocate_frame(
        pl.DataFrame(rows).sample(fraction=1.0, shuffle=True, seed=1), order=order
    )
    # then each row equals the scalar rule applied in order against what was left
    got = {
        row["reference"]: Allocation(
            **{name: row[f"to_{name}_fen"] for name in (*COMPONENTS, "credit")}
        )
        for row in frame.iter_rows(named=True)
    }
    for account_id, (owed, paid) in enumerate(accounts):
        left = owed
        for seq, amount in enumerate(paid):
            expected = allocate(amount, left, order)
            assert got[f"R{account_id}-{seq}"] == expected
            left = remaining_after(left, expected)
    totals = frame.select(
        pl.sum_horizontal(pl.col(f"to_{n}_fen") for n in (*COMPONENTS, "credit"))
        - pl.col("amount_fen")
    ).to_series()
    assert totals.abs().sum() == 0


account_lists = st.lists(balances, min_size=1, max_size=5)


@given(amount=amounts, owed=account_lists, order=orders)
def test_a_case_payment_creates_or_loses_no_fen(
    amount: int, owed: list[Balances], order: list[str]
) -> None:
    accounts = [AccountBalances(i + 1, b) for i, b in enumerate(owed)]
    parts = allocate_over_accounts(amount, accounts, order)
    assert sum(a.total for _, a in parts) == amount
    # an account is reached only once every older account is paid off
    reached = [account_id for account_id, _ in parts]
    assert reached == sorted(reached) and len(set(reached)) == len(reached)
    by_id = dict(parts)
    for account in accounts:
        taken = by_id.get(account.account_id, Allocation())
        assert all(getattr(taken, n) <= getattr(account.balances, n) for n in COMPONENTS)
    # credit only once everything the case owes is paid, and on the oldest account
    credit = sum(a.credit for _, a in parts)
    assert credit == max(0, amount - sum(b.owed for b in owed))
    assert credit == 0 or by_id[1].credit == credit


@given(first=amounts, second=amounts, owed=account_lists, order=orders)
def test_paying_in_two_goes_where_paying_once_goes(
    first: int, second: int, owed: list[Balances], order: list[str]
) -> None:
    accounts = [AccountBalances(i + 1, b) for i, b in enumerate(owed)]

    def after(paid: list[tuple[int, Allocation]], start: list[AccountBalances]) -> list[Balances]:
        by_id = dict(paid)
        return [remaining_after(a.balances, by_id.get(a.account_id, Allocation())) for a in start]

    once = after(allocate_over_accounts(first + second, accounts, order), accounts)
    step = after(allocate_over_accounts(first, accounts, order), accounts)
    middle = [AccountBalances(a.account_id, b) for a, b in zip(accounts, step, strict=True)]
    twice = after(allocate_over_accounts(second, middle, order), middle)
    assert once == twice


def test_the_stored_waterfall_is_parsed_and_checked() -> None:
    assert parse_waterfall("penalty, interest,fee,principal") == (
        "penalty", "interest", "fee", "principal"
    )  # fmt: skip
    with pytest.raises(ValueError, match="once each"):
        parse_waterfall("fee,principal")


# --- payments no path posts (还款合理性) ------------------------------------------------------

NOW = datetime(2026, 11, 20, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


@pytest.mark.parametrize(
    ("amount_fen", "paid_at", "refused"),
    [
        (100, NOW, ()),
        (100, NOW + FUTURE_SKEW, ()),  # clocks drift: five minutes ahead is still now
        (100, NOW + FUTURE_SKEW + timedelta(microseconds=1), (IN_FUTURE,)),
        (100, datetime(2099, 11, 25, tzinfo=UTC), (IN_FUTURE,)),  # the file path posted this
        (100, EARLIEST_PAYMENT, ()),
        (100, EARLIEST_PAYMENT - timedelta(microseconds=1), (TOO_EARLY,)),
        (MAX_PAYMENT_FEN, NOW, ()),
        (MAX_PAYMENT_FEN + 1, NOW, (TOO_LARGE,)),
        (0, datetime(2099, 1, 1, tzinfo=UTC), (NOT_POSITIVE, IN_FUTURE)),  # every reason
    ],
)
def test_implausible_payments_are_refused_with_every_reason(
    amount_fen: int, paid_at: datetime, refused: tuple[object, ...]
) -> None:
    assert payment_refusals(amount_fen, paid_at, now=NOW) == refused


def test_a_refusal_names_the_field_or_the_files_column_in_both_languages() -> None:
    assert IN_FUTURE.explain()[0].startswith("paid_at: a payment cannot be dated in the future")
    en, zh = TOO_EARLY.explain("paid_at (还款时间)")
    assert en == "paid_at (还款时间): not a plausible payment date (before 2000-01-01)"
    assert zh == "paid_at (还款时间)：还款时间早于2000-01-01，不是合理的还款时间"


_moments = st.datetimes(
    min_value=datetime(1, 1, 2),  # noqa: DTZ001 - Hypothesis takes naive bounds
    max_value=datetime(9999, 12, 30),  # noqa: DTZ001
    timezones=st.just(UTC),
)
_near = st.builds(
    lambda base, seconds: base + timedelta(seconds=seconds),
    st.sampled_from([NOW.astimezone(UTC) + FUTURE_SKEW, EARLIEST_PAYMENT]),
    st.integers(-3, 3),
)
_payment_amounts = st.one_of(
    st.integers(-(10**15), 10**15), st.sampled_from([0, 1, MAX_PAYMENT_FEN, MAX_PAYMENT_FEN + 1])
)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.one_of(_payment_amounts, st.none()), st.one_of(_moments, _near, st.none())),
        min_size=1,
        max_size=30,
    )
)
def test_the_polars_refusals_agree_with_the_scalar_rule(
    rows: list[tuple[int | None, datetime | None]],
) -> None:
    # one rule, two forms: the file path quarantines exactly what the API refuses
    frame = pl.DataFrame(
        {"amount_fen": [a for a, _ in rows], "paid_at": [p for _, p in rows]},
        schema={"amount_fen": pl.Int64, "paid_at": pl.Datetime("us", "UTC")},
    )
    exprs = payment_refusal_exprs(pl.col("amount_fen"), pl.col("paid_at"), now=NOW)
    flags = frame.select([expr.alias(refusal.code) for refusal, expr in exprs]).rows()
    for (amount_fen, paid_at), row in zip(rows, flags, strict=True):
        polars_refused = tuple(r for (r, _), flag in zip(exprs, row, strict=True) if flag)
        judged = payment_refusals(
            1 if amount_fen is None else amount_fen, paid_at or NOW, now=NOW
        )  # a null cell is not judged here: its own check reports it
        expected = tuple(
            r for r in judged if (amount_fen if r.field == "amount" else paid_at) is not None
        )
        assert polars_refused == expected
