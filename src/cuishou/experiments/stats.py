"""Champion/challenger statistics (策略效果评估的统计方法). Pure: NumPy and the standard library.

The metric is an arm's **recovery rate**, a ratio of sums over its cases::

    R = Σ recovered_i / Σ due_i          (回款率: amount recovered ÷ amount due at joining)

— the rate the KPI layer reports, not a mean of per-case rates (a case owing 100,000 counts
more than one owing 500). The comparison is ``R_challenger − R_champion`` with a two-sided
95% interval and p-value, by either of:

* **the delta method** (:func:`delta_diff`, the default): the ratio's variance from the
  per-case residuals ``d_i = recovered_i − R·due_i``: ``Var(R) ≈ Σ d_i² / (n (n−1) · mean(due)²)``;
  arms are independent, so the difference's variance is the sum. It needs only six sums per
  arm (:class:`ArmMoments`), so a day's figure and the whole curve of days cost one pass.
* **a bootstrap over cases** (:func:`bootstrap_diff`): cases resampled with replacement within
  each arm (seeded), the percentile interval of the resampled differences.

Both assume only that cases are independent, nothing about the shape of amounts (most cases
pay nothing, a few pay a lot: a zero-inflated, skewed distribution); the central limit
theorem applies to the sums, which at the hundreds of cases an experiment has is close
enough (``tests/experiments/test_stats.py`` shows coverage and agreement on such data).

Power (:func:`detectable_uplift`, :func:`cases_needed`, :func:`power_at`) uses the same
per-case variance, observed, so the calculator and the test agree by construction.
Everything returns ``None`` where a figure does not exist (an arm with no cases or nothing
due, a champion that recovered nothing for a relative uplift).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np
import numpy.typing as npt

#: the metric compared (the API's ``diff.metric``)
METRIC = "recovery_rate"
_NORMAL = NormalDist()
#: the most bootstrap resamples drawn at once (× cases): bounds the memory of one chunk
_CHUNK_CELLS = 4_000_000
#: a residual sum of squares this small against its terms is floating-point rounding
_ROUNDING = 1e-12

Numbers = npt.ArrayLike | Sequence[float]


@dataclass(frozen=True, slots=True)
class ArmMoments:
    """The sufficient statistics of one arm's ratio: cases, and the sums of due (``x``),
    recovered (``y``), their squares and their product (amounts in any one unit)."""

    n: int
    sx: float
    sy: float
    sxx: float
    syy: float
    sxy: float

    @classmethod
    def of(cls, due: Numbers, recovered: Numbers) -> ArmMoments:
        x = np.asarray(due, dtype=np.float64)
        y = np.asarray(recovered, dtype=np.float64)
        if x.shape != y.shape or x.ndim != 1:
            raise ValueError("due and recovered must be one-dimensional and of equal length")
        return cls(
            n=int(x.size),
            sx=float(x.sum()),
            sy=float(y.sum()),
            sxx=float(x @ x),
            syy=float(y @ y),
            sxy=float(x @ y),
        )

    @property
    def rate(self) -> float | None:
        """Σ recovered ÷ Σ due (``None`` when nothing is due)."""
        return self.sy / self.sx if self.sx > 0 else None

    @property
    def case_variance(self) -> float | None:
        """The variance one case adds to the rate's estimate, ``n·Var(R)``: the residuals'
        variance over the squared mean due (``None`` below two cases or with nothing due)."""
        rate = self.rate
        if rate is None or self.n < 2:
            return None
        scale = self.syy + rate * rate * self.sxx
        residual = self.syy - 2 * rate * self.sxy + rate * rate * self.sxx
        if residual <= _ROUNDING * scale:  # nothing left but rounding: no spread at all
            residual = 0.0
        mean_due = self.sx / self.n
        return residual / (self.n - 1) / (mean_due * mean_due)

    @property
    def rate_variance(self) -> float | None:
        """Var(R) by the delta method."""
        v = self.case_variance
        return None if v is None else v / self.n


@dataclass(frozen=True, slots=True)
class Diff:
    """challenger − champion in ``metric``, with a two-sided interval at ``confidence``."""

    metric: str
    estimate: float
    ci_low: float
    ci_high: float
    p_value: float
    se: float
    #: the champion's rate (what a relative uplift is relative to)
    baseline: float
    method: str

    @property
    def relative(self) -> float | None:
        """The estimate as an uplift on the champion (``+0.02`` = 2% more recovered)."""
        return self.estimate / self.baseline if self.baseline > 0 else None


def z_two_sided(confidence: float) -> float:
    return _NORMAL.inv_cdf(0.5 + confidence / 2)


def p_two_sided(estimate: float, se: float) -> float:
    """The two-sided normal p-value of ``estimate`` with standard error ``se``."""
    if se <= 0:
        return 1.0 if estimate == 0 else 0.0
    return 2 * (1 - _NORMAL.cdf(abs(estimate) / se))


def delta_diff(
    champion: ArmMoments, challenger: ArmMoments, *, confidence: float = 0.95
) -> Diff | None:
    """challenger − champion by the delta method; ``None`` when either rate or variance is
    missing (fewer than two cases, nothing due)."""
    ra, rb = champion.rate, challenger.rate
    va, vb = champion.rate_variance, challenger.rate_variance
    if ra is None or rb is None or va is None or vb is None:
        return None
    estimate = rb - ra
    se = math.sqrt(va + vb)
    z = z_two_sided(confidence)
    return Diff(
        metric=METRIC,
        estimate=estimate,
        ci_low=estimate - z * se,
        ci_high=estimate + z * se,
        p_value=p_two_sided(estimate, se),
        se=se,
        baseline=ra,
        method="delta",
    )


def _resampled_rates(
    due: npt.NDArray[np.float64], recovered: npt.NDArray[np.float64], reps: int,
    rng: np.random.Generator,
) -> npt.NDArray[np.float64]:  # fmt: skip
    """``reps`` bootstrap rates of one arm (cases drawn with replacement), in chunks."""
    n = due.size
    out = np.empty(reps, dtype=np.float64)
    chunk = max(1, _CHUNK_CELLS // max(n, 1))
    for first in range(0, reps, chunk):
        size = min(chunk, reps - first)
        idx = rng.integers(0, n, size=(size, n))
        sx = due[idx].sum(axis=1)
        sy = recovered[idx].sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[first : first + size] = np.where(sx > 0, sy / sx, np.nan)
    return out


def bootstrap_diff(
    champion_due: Numbers,
    champion_recovered: Numbers,
    challenger_due: Numbers,
    challenger_recovered: Numbers,
    *,
    reps: int = 2000,
    seed: int = 0,
    confidence: float = 0.95,
) -> Diff | None:
    """challenger − champion by a bootstrap over cases: each arm's cases resampled with
    replacement ``reps`` times (``seed``: the same figures every run). The interval is the
    percentiles of the resampled differences; the p-value is the smallest two-sided level at
    which that interval would exclude 0 (twice the share of differences on the far side of
    0), at least ``1/reps``; ``se`` is their standard deviation."""
    xa = np.asarray(champion_due, dtype=np.float64)
    ya = np.asarray(champion_recovered, dtype=np.float64)
    xb = np.asarray(challenger_due, dtype=np.float64)
    yb = np.asarray(challenger_recovered, dtype=np.float64)
    point_a = ArmMoments.of(xa, ya).rate
    point_b = ArmMoments.of(xb, yb).rate
    if point_a is None or point_b is None or xa.size < 2 or xb.size < 2:
        return None
    rng = np.random.default_rng(seed)
    diffs = _resampled_rates(xb, yb, reps, rng) - _resampled_rates(xa, ya, reps, rng)
    diffs = diffs[np.isfinite(diffs)]
    if diffs.size == 0:
        return None
    tail = (1 - confidence) / 2
    low, high = np.quantile(diffs, [tail, 1 - tail])
    below, above = float(np.mean(diffs <= 0)), float(np.mean(diffs >= 0))
    p = min(1.0, max(2 * min(below, above), 1 / diffs.size))
    return Diff(
        metric=METRIC,
        estimate=point_b - point_a,
        ci_low=float(low),
        ci_high=float(high),
        p_value=p,
        se=float(diffs.std(ddof=1)),
        baseline=point_a,
        method="bootstrap",
    )


# --------------------------------------------------------------------------- power


def power_at(delta: float, se: float, *, alpha: float = 0.05) -> float:
    """The chance a two-sided test at level ``alpha`` calls a true difference ``delta``
    significant when the estimate's standard error is ``se``."""
    if se <= 0:
        return 1.0 if delta != 0 else alpha
    z = z_two_sided(1 - alpha)
    shift = abs(delta) / se
    return _NORMAL.cdf(shift - z) + _NORMAL.cdf(-shift - z)


def _z_sum(alpha: float, power: float) -> float:
    return z_two_sided(1 - alpha) + _NORMAL.inv_cdf(power)


def detectable_uplift(
    champion: ArmMoments, challenger: ArmMoments, *, alpha: float = 0.05, power: float = 0.8
) -> float | None:
    """最小可检测提升: the smallest relative uplift of the challenger's recovery rate over the
    champion's that the arms as they are now would detect with probability ``power`` at
    level ``alpha`` (``0.034``: 3.4%), from the observed per-case variances."""
    va, vb = champion.rate_variance, challenger.rate_variance
    base = champion.rate
    if va is None or vb is None or not base:
        return None
    return _z_sum(alpha, power) * math.sqrt(va + vb) / base


def cases_needed(
    champion: ArmMoments,
    challenger: ArmMoments,
    *,
    uplift: float = 0.02,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int | None:
    """How many cases **each** arm needs (arms of equal size) to detect a relative
    ``uplift`` of the champion's recovery rate with probability ``power`` at level
    ``alpha``, given the per-case variances observed so far in each arm."""
    va, vb = champion.case_variance, challenger.case_variance
    base = champion.rate
    if va is None or vb is None or not base or uplift <= 0:
        return None
    delta = uplift * base
    return math.ceil(_z_sum(alpha, power) ** 2 * (va + vb) / (delta * delta))
