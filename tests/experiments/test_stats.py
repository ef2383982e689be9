"""The statistics of champion/challenger (pure): the delta method by hand, its properties,
its agreement with the bootstrap, and its calibration on simulated zero-inflated recoveries
(A/A coverage, and the power calculator against the simulated detection rate)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from cuishou.experiments.stats import (
    ArmMoments,
    bootstrap_diff,
    cases_needed,
    delta_diff,
    detectable_uplift,
    p_two_sided,
    power_at,
)

# ----------------------------------------------------------------------------- simulated data


def zero_inflated(
    rng: np.random.Generator, n: int, *, pay_share: float = 0.2, uplift: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` cases: amount due lognormal (median ¥5,000), recovered 0 for most and a
    lognormal amount (median ¥1,500, heavy tail) for ``pay_share`` of them; the challenger's
    recovered amounts are scaled by ``1 + uplift`` (its true rate is ``uplift`` higher)."""
    due = rng.lognormal(mean=math.log(500_000), sigma=0.8, size=n)
    paid = rng.random(n) < pay_share
    amount = rng.lognormal(mean=math.log(150_000), sigma=1.0, size=n)
    return due, np.where(paid, amount, 0.0) * (1 + uplift)


# ----------------------------------------------------------------------------- by hand


def test_the_delta_method_by_hand() -> None:
    # champion: R = 150/600 = 0.25; residuals -25, 0, 25 → Σd²/(n-1) = 625; mean due 200
    #   case variance 625/200² = 0.015625; Var(R) = 0.015625/3
    # challenger: R = 100/200 = 0.5; residuals 50, -50 → 5000; mean due 100 → 0.5; Var(R) 0.25
    champion = ArmMoments.of([100, 200, 300], [0, 50, 100])
    challenger = ArmMoments.of([100, 100], [100, 0])
    assert champion.rate == 0.25 and challenger.rate == 0.5
    assert champion.case_variance == pytest.approx(0.015625)
    assert challenger.rate_variance == pytest.approx(0.25)
    diff = delta_diff(champion, challenger)
    assert diff is not None
    se = math.sqrt(0.015625 / 3 + 0.25)
    assert diff.estimate == pytest.approx(0.25)
    assert diff.se == pytest.approx(se)
    assert diff.ci_low == pytest.approx(0.25 - 1.959964 * se, abs=1e-6)
    assert diff.ci_high == pytest.approx(0.25 + 1.959964 * se, abs=1e-6)
    assert diff.p_value == pytest.approx(2 * (1 - 0.5 * (1 + math.erf(0.25 / se / math.sqrt(2)))))
    assert diff.relative == pytest.approx(1.0)


def test_missing_figures_are_none_not_errors() -> None:
    empty = ArmMoments.of([], [])
    one = ArmMoments.of([100], [10])
    nothing_due = ArmMoments.of([0, 0], [0, 0])
    some = ArmMoments.of([100, 200], [0, 20])
    assert empty.rate is None and one.case_variance is None and nothing_due.rate is None
    assert delta_diff(empty, some) is None and delta_diff(some, one) is None
    assert delta_diff(nothing_due, some) is None
    assert detectable_uplift(ArmMoments.of([100, 200], [0, 0]), some) is None  # base rate 0
    assert cases_needed(empty, some) is None
    assert bootstrap_diff([100], [1], [100, 200], [0, 1]) is None


def test_identical_arms_without_variance_differ_by_nothing() -> None:
    arm = ArmMoments.of([100, 200, 300], [10, 20, 30])  # every case recovered exactly 10%
    diff = delta_diff(arm, arm)
    assert diff is not None
    assert (diff.estimate, diff.se, diff.p_value) == (0.0, 0.0, 1.0)
    assert p_two_sided(0.01, 0.0) == 0.0


# ----------------------------------------------------------------------------- properties

amounts = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=10_000_000),
        st.one_of(st.just(0), st.integers(min_value=0, max_value=10_000_000)),
    ),
    min_size=2,
    max_size=40,
)


def _arm(rows: list[tuple[int, int]]) -> ArmMoments:
    return ArmMoments.of([r[0] for r in rows], [r[1] for r in rows])


@given(amounts, amounts)
def test_swapping_the_arms_negates_the_difference(a: list, b: list) -> None:  # type: ignore[type-arg]
    ab, ba = delta_diff(_arm(a), _arm(b)), delta_diff(_arm(b), _arm(a))
    assert ab is not None and ba is not None
    assert ab.estimate == pytest.approx(-ba.estimate, abs=1e-12)
    assert ab.se == pytest.approx(ba.se, rel=1e-9, abs=1e-15)
    assert ab.p_value == pytest.approx(ba.p_value, abs=1e-9)


@given(amounts, amounts, st.sampled_from([0.01, 0.5, 3.0, 1000.0]))
def test_the_unit_of_money_changes_nothing(a: list, b: list, scale: float) -> None:  # type: ignore[type-arg]
    plain = delta_diff(_arm(a), _arm(b))
    scaled = delta_diff(
        ArmMoments.of([r[0] * scale for r in a], [r[1] * scale for r in a]),
        ArmMoments.of([r[0] * scale for r in b], [r[1] * scale for r in b]),
    )
    assert plain is not None and scaled is not None
    assert scaled.estimate == pytest.approx(plain.estimate, rel=1e-9, abs=1e-12)
    assert scaled.se == pytest.approx(plain.se, rel=1e-6, abs=1e-9)


@given(amounts, amounts)
def test_the_interval_and_the_p_value_tell_the_same_story(a: list, b: list) -> None:  # type: ignore[type-arg]
    diff = delta_diff(_arm(a), _arm(b))
    assert diff is not None
    assert diff.ci_low <= diff.estimate <= diff.ci_high
    assert 0.0 <= diff.p_value <= 1.0
    if diff.se > 1e-9 and abs(abs(diff.estimate) / diff.se - 1.959964) > 1e-4:
        assert (diff.p_value < 0.05) == (diff.ci_low > 0 or diff.ci_high < 0)


@given(amounts)
def test_the_six_sums_give_the_two_pass_variance(a: list) -> None:  # type: ignore[type-arg]
    x = np.array([r[0] for r in a], dtype=float)
    y = np.array([r[1] for r in a], dtype=float)
    rate = y.sum() / x.sum()
    two_pass = np.var(y - rate * x, ddof=1) / x.mean() ** 2
    moments = ArmMoments.of(x, y)
    # a residual under 1e-12 of Σy² + rate²·Σx² is rounding to the six sums and taken as 0:
    # the comparison allows that much, on the variance's own scale
    scale = (y @ y + rate * rate * (x @ x)) / (x.size - 1) / x.mean() ** 2
    assert moments.case_variance == pytest.approx(two_pass, rel=1e-6, abs=2e-12 * scale)


@given(
    st.floats(min_value=0.01, max_value=5.0),
    st.floats(min_value=0.01, max_value=5.0),
    st.floats(min_value=0.05, max_value=0.5),
)
def test_the_needed_size_detects_two_percent_exactly_with_eighty_percent_power(
    va: float, vb: float, rate: float
) -> None:
    # arms whose per-case variances are va, vb (built from moments), base rate ``rate``
    def arm(v: float, n: int) -> ArmMoments:
        # n cases of due 1; residual variance v·1² → syy chosen to give it
        sy = rate * n
        syy = v * (n - 1) + rate * rate * n
        return ArmMoments(n=n, sx=float(n), sy=sy, sxx=float(n), syy=syy, sxy=sy)

    needed = cases_needed(arm(va, 1000), arm(vb, 1000))
    assert needed is not None
    at_needed = detectable_uplift(arm(va, needed), arm(vb, needed))
    assert at_needed is not None
    assert 0.0199 <= at_needed <= 0.02  # one case fewer would miss 2%
    se = math.sqrt(va / needed + vb / needed)
    assert power_at(0.02 * rate, se) == pytest.approx(0.8, abs=0.002)


def test_more_cases_detect_smaller_uplifts() -> None:
    rng = np.random.default_rng(3)
    small = [ArmMoments.of(*zero_inflated(rng, 300)) for _ in range(2)]
    large = [ArmMoments.of(*zero_inflated(rng, 30_000)) for _ in range(2)]
    u_small = detectable_uplift(*small)
    u_large = detectable_uplift(*large)
    assert u_small is not None and u_large is not None and u_large < u_small / 5


# ----------------------------------------------------------------------------- on simulated data


def test_the_delta_method_and_the_bootstrap_agree_on_zero_inflated_recoveries() -> None:
    rng = np.random.default_rng(20261101)
    xa, ya = zero_inflated(rng, 3000)
    xb, yb = zero_inflated(rng, 3000, uplift=0.1)
    delta = delta_diff(ArmMoments.of(xa, ya), ArmMoments.of(xb, yb))
    boot = bootstrap_diff(xa, ya, xb, yb, reps=2000, seed=7)
    assert delta is not None and boot is not None
    assert boot.estimate == pytest.approx(delta.estimate)
    assert boot.se == pytest.approx(delta.se, rel=0.08)
    width = delta.ci_high - delta.ci_low
    assert abs(boot.ci_low - delta.ci_low) < 0.1 * width
    assert abs(boot.ci_high - delta.ci_high) < 0.1 * width
    assert abs(boot.p_value - delta.p_value) < 0.05
    # seeded: the same figures every run
    again = bootstrap_diff(xa, ya, xb, yb, reps=2000, seed=7)
    assert again is not None and (again.ci_low, again.ci_high) == (boot.ci_low, boot.ci_high)


DRAWS = 1000


def test_a_a_intervals_cover_zero_ninety_five_times_in_a_hundred() -> None:
    rng = np.random.default_rng(11)
    covered = 0
    for _ in range(DRAWS):
        diff = delta_diff(
            ArmMoments.of(*zero_inflated(rng, 1500)), ArmMoments.of(*zero_inflated(rng, 1500))
        )
        assert diff is not None
        covered += diff.ci_low <= 0 <= diff.ci_high
    # 95% ± 3 standard errors of a proportion over DRAWS draws
    bound = 3 * math.sqrt(0.95 * 0.05 / DRAWS)
    assert abs(covered / DRAWS - 0.95) <= bound, covered


def test_the_predicted_power_matches_the_simulated_detection_rate() -> None:
    rng = np.random.default_rng(12)
    n, uplift = 2000, 0.3
    # the calculator, fed the per-case variances of a large pilot of each arm
    pilot_a = ArmMoments.of(*zero_inflated(rng, 400_000))
    pilot_b = ArmMoments.of(*zero_inflated(rng, 400_000, uplift=uplift))
    assert pilot_a.case_variance is not None and pilot_b.case_variance is not None
    assert pilot_a.rate is not None
    se = math.sqrt(pilot_a.case_variance / n + pilot_b.case_variance / n)
    predicted = power_at(uplift * pilot_a.rate, se)
    assert 0.3 < predicted < 0.9  # a size where power is informative, not 0 or 1
    detected = 0
    for _ in range(DRAWS):
        diff = delta_diff(
            ArmMoments.of(*zero_inflated(rng, n)),
            ArmMoments.of(*zero_inflated(rng, n, uplift=uplift)),
        )
        assert diff is not None
        detected += diff.p_value < 0.05
    bound = 3 * math.sqrt(predicted * (1 - predicted) / DRAWS) + 0.02
    assert abs(detected / DRAWS - predicted) <= bound, (detected, predicted)
