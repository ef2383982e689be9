"""Ledger rules, pure: each kind moves money one way; a newer snapshot re-applies later
payments through the waterfall and never leaves a negative balance."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.ledger.rules import (
    COMPONENTS,
    KINDS,
    Balances,
    Change,
    after,
    refresh_changes,
    sign_problem,
    sign_problem_expr,
)
from cuishou.repayment.rules import DEFAULT_ORDER

amounts = st.integers(-1_000_000, 1_000_000)
changes = st.builds(Change, amounts, amounts, amounts, amounts, amounts)


@settings(deadline=None)
@given(st.lists(st.tuples(st.sampled_from([*KINDS, "bogus"]), changes), min_size=1, max_size=40))
def test_the_scalar_and_polars_sign_rules_agree(rows: list[tuple[str, Change]]) -> None:
    frame = pl.DataFrame(
        [(k, c.fee, c.penalty, c.interest, c.principal, c.credit) for k, c in rows],
        schema=["kind", "fee_fen", "penalty_fen", "interest_fen", "principal_fen", "credit_fen"],
        orient="row",
    )
    bad = frame.select(sign_problem_expr(pl.col("kind"))).to_series().to_list()
    assert bad == [sign_problem(kind, change) is not None for kind, change in rows]


def test_each_kind_moves_money_its_own_way() -> None:
    assert sign_problem("payment", Change(fee=-5, principal=-10, credit=3)) is None
    assert sign_problem("payment", Change(principal=10)) is not None
    assert sign_problem("reversal", Change(principal=10, credit=-3)) is None
    assert sign_problem("waiver", Change(interest=-1, credit=1)) is not None
    assert sign_problem("write_off", Change(principal=-1)) is None
    assert sign_problem("reinstatement", Change(penalty=4)) is None
    assert sign_problem("refresh", Change(principal=-7, credit=9)) is None
    assert sign_problem("gift", Change()) is not None


def test_a_change_that_would_overdraw_is_refused() -> None:
    assert after(Balances(principal=10), Change(principal=-10, credit=2)).credit == 2
    with pytest.raises(ValueError, match="principal"):
        after(Balances(principal=10), Change(principal=-11))


fen = st.integers(0, 5_000_000)


@settings(deadline=None)
@given(
    st.lists(st.tuples(fen, fen, fen, fen, fen, fen, fen, fen, fen, fen), min_size=1, max_size=20)
)
def test_a_refresh_lands_on_the_new_figures_less_later_payments(
    rows: list[tuple[int, ...]],
) -> None:
    facts = pl.DataFrame(
        [(i, *row) for i, row in enumerate(rows)],
        schema=["account_id", "new_fee", "new_penalty", "new_interest", "new_principal",
                "fee_fen", "penalty_fen", "interest_fen", "principal_fen", "credit_fen",
                "later_fen"],
        orient="row",
    )  # fmt: skip
    change = refresh_changes(facts, DEFAULT_ORDER)
    for fact, moved in zip(facts.iter_rows(named=True), change.iter_rows(named=True), strict=True):
        now = Balances(*(fact[f"{c}_fen"] for c in (*COMPONENTS, "credit")))
        landed = after(now, Change(*(moved[f"{c}_fen"] for c in (*COMPONENTS, "credit"))))
        new_total = sum(fact[f"new_{c}"] for c in COMPONENTS)
        # what is owed is the new figures less what was paid since, never below zero
        assert landed.owed == max(0, new_total - fact["later_fen"])
        # what was paid beyond the new figures is the debtor's credit, not lost
        assert landed.credit == max(0, fact["later_fen"] - new_total)
        # and the waterfall decides the components: fees are paid before principal
        if fact["later_fen"] >= fact["new_fee"]:
            assert landed.fee == 0
