"""Population stability (PSI, 群体稳定性指数) of a score or a feature. Pure.

PSI compares how a current sample spreads over bins with how a reference sample (the
training population) spread over the same bins::

    PSI = Σ_bins (current_share − reference_share) × ln(current_share / reference_share)

- **numeric** columns are cut on the reference's quantiles (``bins`` equal-frequency bins,
  edges by linear interpolation, repeated edges merged; a bin holds values above its lower
  edge up to and including its upper edge);
- **categorical** columns (text, categorical, boolean) have one bin per reference category
  and one for categories the reference never had;
- missing values (null, NaN, and ±infinity, as the models treat it) have a bin of their own
  in both kinds;
- an empty bin counts as :data:`EPSILON` so the logarithm stays finite.

A :class:`PsiReference` keeps only the bins and the reference shares, so the training
population's profile travels with the model artefact and the daily check never reloads
the training rows. Above :data:`PSI_ALERT_THRESHOLD` the population has shifted enough to
raise a ``model_drift`` alert (the alert itself belongs to the alerts domain).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import numpy.typing as npt
import polars as pl

from cuishou.kit.errors import InvalidInput

#: PSI above this raises ``model_drift`` (0.1–0.25: watch; above 0.25: shifted)
PSI_ALERT_THRESHOLD = 0.25
#: the share an empty bin counts as
EPSILON = 1e-4
#: equal-frequency bins of a numeric column
DEFAULT_BINS = 10

_CATEGORICAL = (pl.Utf8, pl.Categorical, pl.Enum, pl.Boolean)
#: an integer column spanning at most this many values is binned through a lookup table
LOOKUP_SPAN = 1 << 16


@dataclass(frozen=True, slots=True)
class PsiReference:
    """The reference population's bins and shares for one column.

    numeric: ``edges`` (upper edges of all bins but the last), shares per bin then missing;
    categorical: ``categories``, shares per category, then unseen, then missing.
    """

    kind: Literal["numeric", "categorical"]
    edges: tuple[float, ...]
    categories: tuple[str, ...]
    shares: tuple[float, ...]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "edges": list(self.edges),
            "categories": list(self.categories),
            "shares": list(self.shares),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> PsiReference:
        kind = data["kind"]
        if kind not in ("numeric", "categorical"):
            raise InvalidInput(f"unknown PSI reference kind {kind!r}")
        return cls(
            kind=kind,
            edges=tuple(float(e) for e in data["edges"]),
            categories=tuple(str(c) for c in data["categories"]),
            shares=tuple(float(s) for s in data["shares"]),
        )


def _is_categorical(series: pl.Series) -> bool:
    return isinstance(series.dtype, _CATEGORICAL)


def _numeric_values(series: pl.Series) -> tuple[npt.NDArray[np.float64], int]:
    values = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    missing = ~np.isfinite(values)
    return values[~missing], int(missing.sum())


def bins_of_values(
    series: pl.Series, edges: npt.NDArray[np.float64], *, side: Literal["left", "right"]
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.bool_] | None]:
    """``np.searchsorted(edges, values, side)`` for every value of ``series`` taken as a
    float (a null as NaN), and which values are missing (null, NaN, ±infinity; ``None``:
    none is). An integer column spanning few values is looked up instead of searched: the
    bin of every integer from its minimum to its maximum once, then a ``take`` per row —
    the same bins (the same integers as the same floats), several times faster than a
    binary search per row."""
    if series.dtype == pl.Boolean:
        series = series.cast(pl.Int8)
    if series.dtype.is_integer() and series.len() > series.null_count():
        low, high = int(series.min()), int(series.max())  # type: ignore[arg-type]
        if high - low < LOOKUP_SPAN:
            lookup = np.searchsorted(
                edges, np.arange(low, high + 1, dtype=np.int64).astype(np.float64), side=side
            )
            missing = series.is_null().to_numpy() if series.null_count() else None
            values = series.fill_null(low).to_numpy() if missing is not None else series.to_numpy()
            return np.take(lookup, np.subtract(values, low, dtype=np.int64)), missing
    # null → NaN; NaN sorts after every edge, so its index is in range (the caller drops it)
    floats = series.cast(pl.Float64).fill_null(np.nan).to_numpy()
    bins = np.searchsorted(edges, floats, side=side)
    if series.dtype.is_integer() and not series.null_count():
        return bins, None
    return bins, ~np.isfinite(floats)


def _numeric_counts(series: pl.Series, edges: tuple[float, ...]) -> npt.NDArray[np.float64]:
    bins, missing = bins_of_values(series, np.asarray(edges, dtype=np.float64), side="left")
    n_missing = 0
    if missing is not None:
        n_missing = int(missing.sum())
        bins = bins[~missing]
    counts = np.bincount(bins, minlength=len(edges) + 1).astype(np.float64)
    return np.asarray(np.r_[counts, float(n_missing)], dtype=np.float64)


def _categorical_counts(series: pl.Series, categories: tuple[str, ...]) -> npt.NDArray[np.float64]:
    text = series.cast(pl.Utf8)
    present = text.drop_nulls()
    counts = {str(k): int(v) for k, v in present.value_counts().iter_rows()}
    per_category = [float(counts.get(c, 0)) for c in categories]
    unseen = float(present.len()) - sum(per_category)
    return np.asarray([*per_category, unseen, float(text.null_count())], dtype=np.float64)


def _shares(counts: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    total = counts.sum()
    if total == 0:
        raise InvalidInput("no rows to compare: PSI needs a non-empty sample")
    return np.asarray(counts / total, dtype=np.float64)


def reference_of(series: pl.Series, *, bins: int = DEFAULT_BINS) -> PsiReference:
    """The bins and shares of a reference sample (see the module docstring)."""
    if bins < 2:
        raise InvalidInput(f"PSI needs at least 2 bins, got {bins}")
    if _is_categorical(series):
        categories = tuple(sorted(str(c) for c in series.cast(pl.Utf8).drop_nulls().unique()))
        shares = _shares(_categorical_counts(series, categories))
        return PsiReference("categorical", (), categories, tuple(float(s) for s in shares))
    if not series.dtype.is_numeric():
        raise InvalidInput(f"PSI cannot bin column {series.name!r} of type {series.dtype}")
    values, _ = _numeric_values(series)
    edges: tuple[float, ...] = ()
    if values.size:
        quantiles = np.quantile(values, np.arange(1, bins) / bins)
        edges = tuple(float(q) for q in np.unique(quantiles))
    shares = _shares(_numeric_counts(series, edges))
    return PsiReference("numeric", edges, (), tuple(float(s) for s in shares))


def psi_against(reference: PsiReference, current: pl.Series, *, epsilon: float = EPSILON) -> float:
    """PSI of ``current`` against a stored reference profile."""
    return psi_of_counts(reference, counts_against(reference, current), epsilon=epsilon)


def counts_against(reference: PsiReference, current: pl.Series) -> list[int]:
    """How many values of ``current`` fall in each of the reference's bins (then unseen
    and missing, as the shares are kept): counts of parts of a sample add up to the whole
    sample's, so PSI over data spread across machines is :func:`psi_of_counts` of the sums."""
    if reference.kind == "categorical":
        counts = _categorical_counts(current, reference.categories)
    else:
        if _is_categorical(current):
            raise InvalidInput(f"column {current.name!r} was numeric in the reference")
        counts = _numeric_counts(current, reference.edges)
    return [int(c) for c in counts]


def psi_of_counts(
    reference: PsiReference, counts: Sequence[int], *, epsilon: float = EPSILON
) -> float:
    """PSI of a sample given as its :func:`counts_against` the reference."""
    actual = np.maximum(_shares(np.asarray(counts, dtype=np.float64)), epsilon)
    expected = np.maximum(np.asarray(reference.shares, dtype=np.float64), epsilon)
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def psi(
    reference: pl.Series,
    current: pl.Series,
    *,
    bins: int = DEFAULT_BINS,
    epsilon: float = EPSILON,
) -> float:
    """PSI of ``current`` against ``reference`` (a score or one feature)."""
    return psi_against(reference_of(reference, bins=bins), current, epsilon=epsilon)


def references_of(
    frame: pl.DataFrame, columns: Sequence[str], *, bins: int = DEFAULT_BINS
) -> dict[str, PsiReference]:
    """One reference profile per column of ``frame``."""
    _require(frame, columns)
    return {c: reference_of(frame[c], bins=bins) for c in columns}


def feature_psi(
    references: Mapping[str, PsiReference], current: pl.DataFrame, *, epsilon: float = EPSILON
) -> dict[str, float]:
    """PSI of every profiled column of ``current`` against its reference."""
    _require(current, list(references))
    return {c: psi_against(ref, current[c], epsilon=epsilon) for c, ref in references.items()}


def drifted(value: float) -> bool:
    """True when a PSI is past :data:`PSI_ALERT_THRESHOLD` (raise ``model_drift``)."""
    return not math.isnan(value) and value > PSI_ALERT_THRESHOLD


def _require(frame: pl.DataFrame, columns: Sequence[str]) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"the frame has no column(s) {', '.join(missing)} to compare")
