"""Model metrics (模型评估指标): how well a probability ranks and how well it is calibrated. Pure.

:func:`evaluate` takes the observed outcomes (0/1 or booleans) and the predicted
probabilities of the outcome and returns :class:`Metrics`:

- **AUC** — the probability that a random positive is ranked above a random negative
  (ties count one half): the Mann–Whitney statistic from average ranks;
- **KS** — the largest gap between the cumulative share of positives and of negatives
  when cases are taken from the highest probability down (ties taken together);
- **Gini** — ``2 × AUC − 1``;
- **Brier** — the mean squared gap between the probability and the outcome;
- **by decile** — cases sorted from the highest probability to the lowest (ties kept in
  their input order) and cut into ten groups as equal as the count allows (the first
  groups take the remainder). Each :class:`Decile` has its count, the mean predicted
  probability and the observed rate (calibration), the **lift** (observed rate ÷ overall
  rate) and the **capture** (its positives ÷ all positives, and cumulatively).

Definitions with a worked example: ``docs/models.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from cuishou.kit.errors import InvalidInput

DECILES = 10


@dataclass(frozen=True, slots=True)
class Decile:
    """One tenth of the cases, from the highest predicted probability (decile 1) down."""

    decile: int
    count: int
    positives: int
    mean_predicted: float
    observed_rate: float
    lift: float
    capture: float
    cumulative_capture: float


@dataclass(frozen=True, slots=True)
class Metrics:
    """A model's discrimination and calibration on one sample."""

    rows: int
    positives: int
    auc: float
    ks: float
    gini: float
    brier: float
    deciles: tuple[Decile, ...]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (the registry keeps it with the model)."""
        return asdict(self)


def _as_arrays(
    y_true: Sequence[bool | int] | npt.ArrayLike, probability: Sequence[float] | npt.ArrayLike
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    y = np.asarray(y_true, dtype=np.float64).ravel()
    p = np.asarray(probability, dtype=np.float64).ravel()
    if y.shape != p.shape:
        raise InvalidInput(f"{y.size} outcomes but {p.size} probabilities: they must pair up")
    if y.size == 0:
        raise InvalidInput("no rows to evaluate")
    if np.isnan(y).any() or np.isnan(p).any():
        raise InvalidInput("outcomes and probabilities must not be missing")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InvalidInput("outcomes must be 0/1 or true/false")
    if (p < 0).any() or (p > 1).any():
        raise InvalidInput("probabilities must lie between 0 and 1")
    positives = int(y.sum())
    if positives in (0, y.size):
        raise InvalidInput(
            "the sample has only one outcome; AUC and KS need both positives and negatives"
        )
    return y, p


def _average_ranks(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """1-based ranks, ties given the mean of the ranks they span."""
    order = np.argsort(values, kind="stable")
    sorted_values = values[order]
    first = np.r_[True, sorted_values[1:] != sorted_values[:-1]]
    group = np.cumsum(first) - 1
    starts = np.flatnonzero(first)
    ends = np.r_[starts[1:], values.size]
    mean_rank = (starts + ends + 1) / 2.0  # mean of (start+1 … end)
    ranks = np.empty(values.size, dtype=np.float64)
    ranks[order] = mean_rank[group]
    return ranks


def auc(y_true: npt.ArrayLike, probability: npt.ArrayLike) -> float:
    """Area under the ROC curve (ties count one half)."""
    y, p = _as_arrays(y_true, probability)
    return _auc(y, p)


def _auc(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> float:
    ranks = _average_ranks(p)
    n_pos = y.sum()
    n_neg = y.size - n_pos
    return float((ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def _ks(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> float:
    order = np.argsort(-p, kind="stable")
    ys, ps = y[order], p[order]
    last_of_tie = np.r_[ps[1:] != ps[:-1], True]
    tpr = np.cumsum(ys)[last_of_tie] / ys.sum()
    fpr = np.cumsum(1 - ys)[last_of_tie] / (ys.size - ys.sum())
    return float(np.max(np.abs(tpr - fpr)))


def _deciles(y: npt.NDArray[np.float64], p: npt.NDArray[np.float64]) -> tuple[Decile, ...]:
    order = np.argsort(-p, kind="stable")
    groups = np.array_split(order, min(DECILES, y.size))
    total_pos = y.sum()
    overall = total_pos / y.size
    out: list[Decile] = []
    cumulative = 0.0
    for number, idx in enumerate(groups, start=1):
        pos = float(y[idx].sum())
        cumulative += pos
        rate = pos / idx.size
        out.append(
            Decile(
                decile=number,
                count=int(idx.size),
                positives=int(pos),
                mean_predicted=float(p[idx].mean()),
                observed_rate=float(rate),
                lift=float(rate / overall),
                capture=float(pos / total_pos),
                cumulative_capture=float(cumulative / total_pos),
            )
        )
    return tuple(out)


def evaluate(
    y_true: Sequence[bool | int] | npt.ArrayLike, probability: Sequence[float] | npt.ArrayLike
) -> Metrics:
    """AUC, KS, Gini, Brier and the deciles of one sample (see the module docstring)."""
    y, p = _as_arrays(y_true, probability)
    area = _auc(y, p)
    return Metrics(
        rows=int(y.size),
        positives=int(y.sum()),
        auc=area,
        ks=_ks(y, p),
        gini=2 * area - 1,
        brier=float(np.mean((p - y) ** 2)),
        deciles=_deciles(y, p),
    )
