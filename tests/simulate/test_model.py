"""The debtor model: keyed random streams (common random numbers), bounded payments."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.simulate import model
from cuishou.simulate.config import load_model_config

CONFIG = load_model_config()
DAY = date(2026, 10, 20)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**40),
    debtor=st.integers(1, 2**40),
    day=st.integers(1, 800_000),
    k=st.integers(0, 1000),
    purpose=st.sampled_from(["call", "pay", "trait:ability"]),
)
def test_the_scalar_stream_is_the_vectorised_one(
    seed: int, debtor: int, day: int, k: int, purpose: str
) -> None:
    vector = model.uniforms(seed, np.array([debtor, debtor + 1]), day, purpose, k)
    assert vector[0] == model.uniform(seed, debtor, day, purpose, k)
    assert 0.0 < vector[0] < 1.0


def test_a_debtors_draws_do_not_depend_on_who_else_is_drawn() -> None:
    """CRN: the draws of debtor 7 are the same alone, among others, in any order."""
    alone = model.uniforms(11, np.array([7]), DAY, "call", 3)[0]
    among = model.uniforms(11, np.array([5, 9, 7, 1]), DAY, "call", 3)[2]
    assert alone == among
    other_day = model.uniforms(11, np.array([7]), date(2026, 10, 21), "call", 3)[0]
    other_purpose = model.uniforms(11, np.array([7]), DAY, "pay", 3)[0]
    other_seed = model.uniforms(12, np.array([7]), DAY, "call", 3)[0]
    assert len({alone, other_day, other_purpose, other_seed}) == 4


def test_streams_are_uniform_enough() -> None:
    u = model.uniforms(3, np.arange(1, 200_001), DAY, "call")
    assert abs(u.mean() - 0.5) < 0.005
    assert abs((u < 0.1).mean() - 0.1) < 0.005


def _traits(ids: np.ndarray, seed: int = 5) -> model.Traits:
    return model.debtor_traits(CONFIG, seed, ids, np.full(len(ids), 3))


def test_traits_are_reproducible_per_seed_and_debtor() -> None:
    ids = np.arange(1, 1001)
    first, again, other = _traits(ids), _traits(ids), _traits(ids, seed=6)
    for name in model.TRAIT_NAMES:
        assert np.array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(first.ability, other.ability)
    # a subset of the debtors has the very same traits
    subset = _traits(ids[500:])
    assert np.array_equal(subset.willingness, first.willingness[500:])


def test_a_call_ends_the_same_whichever_policy_chose_to_make_it() -> None:
    """Policy A calls debtors 1…400, policy B only the even ones: the calls both made end
    alike (same debtor, day, attempt → same draws)."""
    ids = np.arange(1, 401)
    traits = _traits(ids)

    def calls(index: np.ndarray) -> model.CallOutcomes:
        n = len(index)
        return model.call_outcomes(
            CONFIG, 5, DAY, traits.take(index),
            attempt=np.zeros(n, dtype=np.int64), third_party=np.zeros(n, dtype=bool),
            hour=np.full(n, 11.0), skill=np.ones(n), owed_fen=np.full(n, 1_000_000),
            may_promise=np.ones(n, dtype=bool),
        )  # fmt: skip

    everyone = calls(np.arange(400))
    evens = calls(np.arange(1, 400, 2))
    assert np.array_equal(everyone.outcome[1::2], evens.outcome)
    assert np.array_equal(everyone.promise_fen[1::2], evens.promise_fen)


@settings(max_examples=80, deadline=None)
@given(
    owed=st.lists(st.integers(0, 10**10), min_size=1, max_size=40),
    promise=st.integers(0, 10**11),
    excitation=st.floats(0, 5),
    day=st.integers(738_000, 740_000),
)
def test_nobody_pays_more_than_they_owe(
    owed: list[int], promise: int, excitation: float, day: int
) -> None:
    n = len(owed)
    traits = _traits(np.arange(1, n + 1))
    paid = model.payments_of_day(
        CONFIG, 9, date.fromordinal(day), traits,
        owed_fen=np.array(owed, dtype=np.int64), excitation=np.full(n, excitation),
        promise_fen=np.full(n, promise, dtype=np.int64),
    )  # fmt: skip
    assert (paid >= 0).all()
    assert (paid <= np.array(owed)).all()


def test_promises_never_promise_more_than_owed() -> None:
    n = 2000
    traits = _traits(np.arange(1, n + 1))
    owed = np.arange(1, n + 1, dtype=np.int64) * 50
    got = model.call_outcomes(
        CONFIG, 1, DAY, traits,
        attempt=np.zeros(n, dtype=np.int64), third_party=np.zeros(n, dtype=bool),
        hour=np.full(n, 10.0), skill=np.full(n, 1.5), owed_fen=owed,
        may_promise=np.ones(n, dtype=bool),
    )  # fmt: skip
    promised = got.outcome == model.PROMISE
    assert promised.any()
    assert (got.promise_fen[promised] <= owed[promised]).all()
    assert (got.promise_fen[promised] > 0).all()
    assert ((got.promise_days[promised] >= 1) & (got.promise_days[promised] <= 10)).all()


def test_treatment_is_worth_something_and_never_more_than_owed() -> None:
    n = 3000
    traits = _traits(np.arange(1, n + 1))
    owed = np.full(n, 2_000_000, dtype=np.int64)
    truth = model.expected_payments(CONFIG, 4, traits, owed, first=DAY, days=20)
    assert (truth.no_action_fen <= owed).all() and (truth.full_treatment_fen <= owed).all()
    assert truth.full_treatment_fen.sum() > 2 * truth.no_action_fen.sum() > 0
