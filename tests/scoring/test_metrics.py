"""Metrics against hand-computed examples, and AUC against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import roc_auc_score

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.metrics import auc, evaluate

# ten cases, highest probability first; positives at places 1, 2, 4 and 7
Y = [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]
P = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.1, 0.05]


def test_auc_ks_gini_brier_match_the_hand_computed_example() -> None:
    m = evaluate(Y, P)
    # negatives below each positive: 6 + 6 + 5 + 3 = 20 of 4 × 6 = 24 pairs
    assert m.auc == pytest.approx(20 / 24)
    assert m.gini == pytest.approx(2 * 20 / 24 - 1)
    # from the top: after place 4, 3 of 4 positives and 1 of 6 negatives: 3/4 − 1/6 = 7/12
    assert m.ks == pytest.approx(7 / 12)
    # squared gaps: .01 .04 .49 .16 .25 .16 .49 .04 .01 .0025 → 1.6525 / 10
    assert m.brier == pytest.approx(0.16525)
    assert (m.rows, m.positives) == (10, 4)


def test_ties_count_one_half_in_auc_and_move_together_in_ks() -> None:
    # the positive and the negative at 0.5 tie: 1 (0.8 over both) + 1 + 0.5 + 1 = 3.5 of 4
    m = evaluate([1, 0, 1, 0], [0.5, 0.5, 0.8, 0.2])
    assert m.auc == pytest.approx(0.875)
    # taking the tie one case at a time would see tpr 1, fpr 0 (KS 1.0); together: 0.5
    assert m.ks == pytest.approx(0.5)


def test_deciles_give_calibration_lift_and_capture_from_the_top() -> None:
    # twenty cases, two per decile; positives: both in decile 1, one in decile 2, one in 5
    p = [1 - i / 20 for i in range(20)]
    y = [1, 1, 1, 0, 0, 0, 0, 0, 1, 0] + [0] * 10
    m = evaluate(y, p)
    assert [d.count for d in m.deciles] == [2] * 10
    assert [d.positives for d in m.deciles] == [2, 1, 0, 0, 1, 0, 0, 0, 0, 0]
    first, second = m.deciles[0], m.deciles[1]
    assert first.mean_predicted == pytest.approx((1.0 + 0.95) / 2)
    assert first.observed_rate == 1.0
    assert first.lift == pytest.approx(1.0 / (4 / 20))  # 5×
    assert second.lift == pytest.approx(0.5 / 0.2)  # 2.5×
    assert first.capture == pytest.approx(0.5)
    assert [d.cumulative_capture for d in m.deciles][:5] == pytest.approx(
        [0.5, 0.75, 0.75, 0.75, 1.0]
    )
    assert m.deciles[-1].cumulative_capture == pytest.approx(1.0)


def test_uneven_counts_give_the_remainder_to_the_first_deciles() -> None:
    p = np.linspace(0.99, 0.01, 23)
    y = np.arange(23) % 2
    assert [d.count for d in evaluate(y, p).deciles] == [3, 3, 3, 2, 2, 2, 2, 2, 2, 2]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(st.booleans(), st.sampled_from([0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0])),
        min_size=2,
        max_size=60,
    ).filter(lambda rows: len({y for y, _ in rows}) == 2)
)
def test_auc_equals_scikit_learns_roc_auc_score(rows: list[tuple[bool, float]]) -> None:
    y = [int(a) for a, _ in rows]
    p = [b for _, b in rows]
    assert auc(y, p) == pytest.approx(roc_auc_score(y, p))


def test_bad_input_gets_a_clear_error() -> None:
    with pytest.raises(InvalidInput, match="only one outcome"):
        evaluate([1, 1], [0.2, 0.3])
    with pytest.raises(InvalidInput, match="pair up"):
        evaluate([1, 0], [0.2])
    with pytest.raises(InvalidInput, match="between 0 and 1"):
        evaluate([1, 0], [1.2, 0.3])
    with pytest.raises(InvalidInput, match="0/1"):
        evaluate([2, 0], [0.2, 0.3])
