"""Propensity models (意向预测模型): a scorecard and gradient boosting, fitted and applied.

:func:`fit_model` fits one of two kinds on a feature frame (one row per case and date,
columns as in ``scoring.catalogue``) for one target:

- ``"scorecard"`` — optbinning: each feature binned on the training rows (numeric features
  with a monotonic trend, categorical ones grouped by outcome rate, missing values in a bin
  of their own), weight of evidence, a logistic regression, and points on the
  :class:`PointsScale`. The fitted card is then **plain data** — per feature its split
  points (or category groups) and the points of each bin — and is applied in pure Polars
  (per feature the bin by NumPy's ``searchsorted`` on its split points and its points by
  ``take``; the same rule as a Polars expression, ``StepFunction.expr``), never through
  optbinning again;
- ``"gbm"`` — LightGBM with deterministic parameters and the seed; its log-odds are put on
  the same points scale.

Both give :meth:`FittedModel.predict`: per row ``probability`` (of the target), ``score``
(points, higher = better: more likely to pay/cure/keep, and for an adverse target such as
``roll_30d`` less likely) and ``reasons``, up to :data:`REASONS` feature codes that pulled the
score down the most: for the scorecard the largest gaps between the best points a feature
can give and the points it gave, for the GBM the most negative of LightGBM's own SHAP
contributions (``pred_contrib``), in points. A feature that cost less than
:data:`MIN_REASON_POINTS` (one point) is never a reason.

A fitted model is saved with :meth:`FittedModel.to_bytes` as JSON (the scorecard's bins and
points, or LightGBM's own model text) — no pickle — and read back with :func:`load_model`;
``sha256`` is the hash of those bytes. The artefact also carries the training population's
PSI profile of every feature and of the score (``scoring.drift``). Choices: ADR 0020;
definitions: ``docs/models.md``.

optbinning and LightGBM are imported inside the functions that need them (ADR 0020): a
scorecard is applied without either, and a command that only loads this module pays for
neither.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa

from cuishou.kit.errors import InvalidInput
from cuishou.scoring.drift import (
    PsiReference,
    bins_of_values,
    counts_against,
    psi_of_counts,
    reference_of,
)

if TYPE_CHECKING:  # pragma: no cover
    import lightgbm

ModelKind = Literal["scorecard", "gbm"]
#: how :meth:`FittedModel.predict` gives the reasons: a list of codes, or that list as JSON
#: text (``["dpd","paid_ratio"]``, ``[]`` for none: what the store keeps)
ReasonForm = Literal["list", "json"]
MODEL_KINDS: tuple[ModelKind, ...] = ("scorecard", "gbm")
#: how many reason codes a prediction carries at most
REASONS = 3
#: targets whose positive outcome is bad for the creditor: a higher score = less likely
ADVERSE_TARGETS = frozenset({"roll_30d"})
#: the artefact's format version (bumped when its JSON changes shape)
ARTEFACT_FORMAT = 1
#: a feature must have cost at least this many points to be a reason (smaller pulls are
#: noise: they flip order under the slightest change of the case)
MIN_REASON_POINTS = 1.0


class FeatureSpec(Protocol):
    """What a model needs of a catalogue feature: its code and its kind."""

    @property
    def code(self) -> str: ...

    @property
    def kind(self) -> str: ...


@dataclass(frozen=True, slots=True)
class ModelFeature:
    """A feature as a model keeps it: ``kind`` is ``numeric``, ``categorical`` or ``flag``."""

    code: str
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ("numeric", "categorical", "flag"):
            raise InvalidInput(
                f"feature {self.code!r} has kind {self.kind!r}; "
                "expected numeric, categorical or flag"
            )


@dataclass(frozen=True, slots=True)
class PointsScale:
    """Points from odds: ``base_points`` at odds ``base_odds``:1 (good:bad), and every
    ``pdo`` points the odds double. ``score = offset + factor × ln(odds)``."""

    pdo: float = 20.0
    base_points: float = 600.0
    base_odds: float = 50.0

    def __post_init__(self) -> None:
        if not (self.pdo > 0 and self.base_odds > 0):
            raise InvalidInput("the points scale needs a positive PDO and positive base odds")

    @property
    def factor(self) -> float:
        return self.pdo / math.log(2)

    @property
    def offset(self) -> float:
        return self.base_points - self.factor * math.log(self.base_odds)

    def points(self, log_odds: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
        """The score of the log-odds of the good outcome."""
        return self.offset + self.factor * log_odds


@dataclass(frozen=True, slots=True)
class ScorecardOptions:
    """optbinning's binning and the regression's settings for the scorecard."""

    max_n_prebins: int = 20
    min_prebin_size: float = 0.05
    #: optbinning's ``monotonic_trend`` for numeric features
    monotonic_trend: str = "auto_asc_desc"
    #: the logistic regression's inverse regularisation strength
    c: float = 1.0
    #: leave out features whose information value is below this (None: keep all)
    min_iv: float | None = None
    #: the smallest share of the training rows a bin may hold (optbinning's ``min_bin_size``;
    #: None: no floor)
    min_bin_size: float | None = None


@dataclass(frozen=True, slots=True)
class GbmOptions:
    """LightGBM's settings (deterministic, row-wise, with the model's seed).

    ``additive`` (the default) lets each tree split on one feature only (LightGBM's
    ``interaction_constraints``): the model is then a sum of one function per feature,
    its SHAP contributions are exact step functions read once from ``pred_contrib``, and a
    million rows are scored with reasons in Polars in about a second. Without it the trees
    may combine features and every row's reasons come from ``pred_contrib`` at predict time
    (TreeSHAP: about 0.6 ms per row on this box; see ADR 0020).
    """

    additive: bool = True

    num_boost_round: int = 200
    learning_rate: float = 0.05
    num_leaves: int = 15
    min_data_in_leaf: int = 50
    feature_fraction: float = 0.9
    bagging_fraction: float = 0.8
    lambda_l2: float = 1.0
    #: one thread: OpenMP on a shared 2-core box spins (a 20k-row fit took 15 s on 2, 0.5 s on 1)
    num_threads: int = 1

    def params(self, seed: int) -> dict[str, Any]:
        return {
            "objective": "binary",
            "learning_rate": self.learning_rate,
            "num_leaves": self.num_leaves,
            "min_data_in_leaf": self.min_data_in_leaf,
            "feature_fraction": self.feature_fraction,
            "bagging_fraction": self.bagging_fraction,
            "bagging_freq": 1,
            "lambda_l2": self.lambda_l2,
            "seed": seed,
            "deterministic": True,
            "force_row_wise": True,
            "num_threads": self.num_threads,
            "verbosity": -1,
        }


# --------------------------------------------------------------------------- the interface


@dataclass(frozen=True, slots=True)
class Prediction:
    """What a model's ``_predict`` gives: per row the ``score`` and the ``log_odds`` of the
    good outcome, and (when asked for) the ``reasons``: up to :data:`REASONS` codes of the
    features whose pull on the score (``best − given``: the most a feature can give minus
    what it gave the row) was the largest."""

    score: pl.Series
    log_odds: npt.NDArray[np.float64]
    reasons: pl.Series | None = None


@dataclass(kw_only=True)
class FittedModel(ABC):
    """A fitted model: what it predicts, on which features, and how to apply it."""

    kind: ModelKind
    target: str
    adverse: bool
    features: tuple[ModelFeature, ...]
    scale: PointsScale
    seed: int
    training_rows: int
    training_positives: int
    #: the training population's PSI profile per feature code and for ``score``
    references: dict[str, PsiReference] = field(default_factory=dict)

    @abstractmethod
    def _predict(self, frame: pl.DataFrame, *, reasons: ReasonForm | None = None) -> Prediction:
        """Scores and the log-odds of the good outcome; the reasons in the form asked for."""

    @abstractmethod
    def _payload(self) -> dict[str, Any]:
        """The kind's own part of the artefact."""

    def predict(
        self,
        frame: pl.DataFrame,
        *,
        keys: Sequence[str] = ("case_id",),
        reasons: ReasonForm = "list",
    ) -> pl.DataFrame:
        """``keys…, probability, score, reasons`` for every row of ``frame`` (``reasons`` a
        list of codes, or with ``reasons="json"`` that list as JSON text)."""
        _require_columns(frame, [*keys, *(f.code for f in self.features)], "predict")
        found = self._predict(frame, reasons=reasons)
        assert found.reasons is not None
        p_good = 1.0 / (1.0 + np.exp(-found.log_odds))
        probability = (1.0 - p_good) if self.adverse else p_good
        out = pl.DataFrame(
            [
                pl.Series("probability", probability, dtype=pl.Float64),
                found.score.alias("score"),
                found.reasons,
            ]
        )
        return pl.concat([frame.select(keys), out], how="horizontal") if keys else out

    def drift(self, frame: pl.DataFrame, scores: pl.Series | None = None) -> dict[str, float]:
        """PSI of every feature (and of the score) of ``frame`` against the training rows."""
        return self.drift_of_counts(self.drift_counts(frame, scores))

    def drift_counts(
        self, frame: pl.DataFrame, scores: pl.Series | None = None
    ) -> dict[str, list[int]]:
        """Each profiled column's (and the score's) counts per reference bin: what
        :meth:`drift` measures, in a form parts of a population add up."""
        _require_columns(frame, [f.code for f in self.features], "compare")
        out = {
            f.code: counts_against(self.references[f.code], _model_input(frame, f))
            for f in self.features
            if f.code in self.references
        }
        if "score" in self.references:
            current = scores if scores is not None else self._predict(frame).score
            out["score"] = counts_against(self.references["score"], current)
        return out

    def drift_of_counts(self, counts: Mapping[str, Sequence[int]]) -> dict[str, float]:
        """PSI from :meth:`drift_counts` (of one frame, or summed over several)."""
        return {c: psi_of_counts(self.references[c], n) for c, n in counts.items()}

    def to_bytes(self) -> bytes:
        """The artefact: UTF-8 JSON with sorted keys (the same model gives the same bytes)."""
        document = {
            "format": ARTEFACT_FORMAT,
            "kind": self.kind,
            "target": self.target,
            "adverse": self.adverse,
            "features": [{"code": f.code, "kind": f.kind} for f in self.features],
            "scale": {
                "pdo": self.scale.pdo,
                "base_points": self.scale.base_points,
                "base_odds": self.scale.base_odds,
            },
            "seed": self.seed,
            "training_rows": self.training_rows,
            "training_positives": self.training_positives,
            "references": {c: r.to_dict() for c, r in self.references.items()},
            "model": self._payload(),
        }
        return json.dumps(document, sort_keys=True, ensure_ascii=False, allow_nan=False).encode()

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.to_bytes()).hexdigest()


# --------------------------------------------------------------------------- step functions


@dataclass(frozen=True, slots=True)
class StepFunction:
    """One feature's part of an additive model, as plain data: a value per bin.

    numeric: ``splits`` cut the line into ``len(splits) + 1`` bins; with ``right_closed``
    bin ``i`` holds ``splits[i-1] < x ≤ splits[i]`` (LightGBM's ``x ≤ threshold``), else
    ``splits[i-1] ≤ x < splits[i]`` (optbinning's bins). categorical: bin ``i`` holds the
    categories ``groups[i]``. Missing values (null, NaN, ±infinity) and categories never seen
    in training get ``missing``.
    """

    code: str
    kind: str
    splits: tuple[float, ...]
    groups: tuple[tuple[str, ...], ...]
    values: tuple[float, ...]
    missing: float
    right_closed: bool = False

    @property
    def best(self) -> float:
        return max(*self.values, self.missing)

    def expr(self) -> pl.Expr:
        """This feature's value for every row (Float64), in Polars."""
        col = pl.col(self.code)
        if self.kind == "categorical":
            mapping = {
                c: v for group, v in zip(self.groups, self.values, strict=True) for c in group
            }
            return (
                col.cast(pl.Utf8)
                .replace_strict(
                    list(mapping),
                    list(mapping.values()),
                    default=self.missing,
                    return_dtype=pl.Float64,
                )
                .fill_null(self.missing)
            )
        value = col.cast(pl.Float64)
        # the bin: how many splits lie below x (left-closed bins: at or below x)
        index = pl.lit(pl.Series(self.splits, dtype=pl.Float64)).search_sorted(
            value, side="left" if self.right_closed else "right"
        )
        looked_up = pl.lit(pl.Series(self.values, dtype=pl.Float64)).gather(index)
        # null, NaN and ±infinity are not finite (null: the condition is null, so otherwise)
        return pl.when(value.is_finite()).then(looked_up).otherwise(pl.lit(self.missing))

    @property
    def table(self) -> npt.NDArray[np.float64]:
        """The value of each bin, then the missing value: indexed by :meth:`bins_of`."""
        return np.asarray([*self.values, self.missing], dtype=np.float64)

    def bins_of(self, frame: pl.DataFrame) -> npt.NDArray[np.intp]:
        """Each row's bin, ``len(values)`` for a missing value (the last of :attr:`table`):
        in NumPy, a numeric feature's bin by ``searchsorted`` on its splits — about ten
        times faster than the Polars expression (:meth:`expr`) on a million rows."""
        missing = len(self.values)
        if self.kind == "categorical":
            index = {c: i for i, group in enumerate(self.groups) for c in group}
            found = frame.select(
                pl.col(self.code)
                .cast(pl.Utf8)
                .replace_strict(
                    list(index), list(index.values()), default=missing, return_dtype=pl.Int64
                )
                .fill_null(missing)
            )
            return np.asarray(found.to_series().to_numpy(), dtype=np.intp)
        bins, absent = bins_of_values(
            frame.get_column(self.code),
            np.asarray(self.splits, dtype=np.float64),
            side="left" if self.right_closed else "right",
        )
        if absent is not None:
            bins[absent] = missing
        return bins

    def values_of(self, frame: pl.DataFrame, out: npt.NDArray[np.float64]) -> None:
        """This feature's value for every row into ``out``: the same as :meth:`expr` (a
        test holds them equal), in NumPy (:meth:`bins_of`)."""
        np.take(self.table, self.bins_of(frame), out=out)

    def labels(self) -> list[str]:
        if self.kind == "categorical":
            return [", ".join(g) for g in self.groups]
        edges = [-math.inf, *self.splits, math.inf]
        if self.right_closed:
            return [f"({lo:g}, {hi:g}]" for lo, hi in itertools.pairwise(edges)]
        return [f"[{lo:g}, {hi:g})" for lo, hi in itertools.pairwise(edges)]

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "kind": self.kind,
            "splits": list(self.splits),
            "groups": [list(g) for g in self.groups],
            "values": list(self.values),
            "missing": self.missing,
            "right_closed": self.right_closed,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StepFunction:
        return cls(
            code=str(data["code"]),
            kind=str(data["kind"]),
            splits=tuple(float(s) for s in data["splits"]),
            groups=tuple(tuple(str(c) for c in g) for g in data["groups"]),
            values=tuple(float(v) for v in data["values"]),
            missing=float(data["missing"]),
            right_closed=bool(data["right_closed"]),
        )


def _step_values(frame: pl.DataFrame, steps: Sequence[StepFunction]) -> npt.NDArray[np.float64]:
    """features × rows: each step function's value (:meth:`StepFunction.values_of`)."""
    out = np.empty((len(steps), frame.height), dtype=np.float64)
    for j, step in enumerate(steps):
        step.values_of(frame, out[j])
    return out


def _apply_steps(frame: pl.DataFrame, steps: Sequence[StepFunction]) -> npt.NDArray[np.float64]:
    """rows × features: each step function's value."""
    return _step_values(frame, steps).T


def _additive(
    frame: pl.DataFrame,
    steps: Sequence[StepFunction],
    *,
    factor: float | None = None,
    reasons: ReasonForm | None,
) -> tuple[npt.NDArray[np.float64], pl.Series | None]:
    """An additive model applied feature by feature: the sum of the step functions' values
    (added in feature order, as NumPy sums a features × rows matrix over its features) and,
    when asked for, the reasons as :func:`_reasons` picks them — each feature's points are
    its value (scorecard) or its value × ``factor`` (the additive GBM, whose contributions
    are log-odds), its pull the most points it can give minus those.

    No features × rows matrix is built: per feature the rows' bins (:meth:`bins_of`) give
    its value and a key that orders its pull among all others (:func:`_pull_keys`; 0 for a
    pull too small to be a reason, and a feature that never pulls enough is skipped); each
    row's three largest keys are kept as the features go by (a running insertion into three
    sorted arrays), and the lists are built once per distinct combination (a few thousand)
    and gathered."""
    codes = [s.code for s in steps]
    points = [s.table if factor is None else s.table * factor for s in steps]
    best = [s.best if factor is None else 0.0 for s in steps]
    pulls = [b - p for b, p in zip(best, points, strict=True)]
    ordered = reasons is not None and all(bool(np.isfinite(p).all()) for p in pulls)
    keys = _pull_keys(pulls) if ordered else []
    top = [np.zeros(frame.height, dtype=np.uint32) for _ in range(min(REASONS, len(steps)))]
    given: list[npt.NDArray[np.float64]] = []  # only when the pulls cannot be ordered by keys
    total = np.zeros(frame.height, dtype=np.float64)
    for j, step in enumerate(steps):
        bins = step.bins_of(frame)
        value = np.take(step.table, bins)
        if j == 0:
            total = value
        else:
            total += value
        if ordered and keys[j].any():
            key = np.take(keys[j], bins)
            for kept in top:  # insert: the larger stays, the smaller moves down
                low = np.minimum(kept, key)
                np.maximum(kept, key, out=kept)
                key = low
        elif reasons is not None and not ordered:
            given.append(np.take(points[j], bins))
    if reasons is None:
        return total, None
    if not ordered:  # a value that is not finite (never from a fit): pick the slow way
        return total, _in_form(_reasons(np.stack(given), np.asarray(best), codes), reasons)
    return total, _reasons_of_keys(top, codes, reasons)


def _pull_keys(pulls: Sequence[npt.NDArray[np.float64]]) -> list[npt.NDArray[np.uint32]]:
    """Per feature and bin a key that orders every (feature, bin) pull as :func:`_reasons`
    does — the larger pull first, between equal pulls the earlier feature — with 0 for a
    pull below :data:`MIN_REASON_POINTS` (never a reason). For feature ``j`` of ``n`` a key
    is ``rank × n + (n − j)``, ``rank`` the pull's place among all distinct pulls: no two
    features of a row share a key."""
    n = len(pulls)
    distinct = np.unique(np.concatenate(pulls))
    if distinct.size * n + n >= 2**32:  # pragma: no cover - millions of bins
        raise InvalidInput("too many bins to order the reasons")
    return [
        np.where(
            p >= MIN_REASON_POINTS, np.searchsorted(distinct, p).astype(np.int64) * n + (n - j), 0
        ).astype(np.uint32)
        for j, p in enumerate(pulls)
    ]


def _reasons_of_keys(
    top: Sequence[npt.NDArray[np.uint32]], codes: Sequence[str], form: ReasonForm
) -> pl.Series:
    """The reasons from each row's largest keys (largest first, 0 for none): one list per
    distinct combination of features, gathered for every row."""
    n = len(codes)
    combination = np.zeros(top[0].size if top else 0, dtype=np.int64)
    for kept in top:
        feature = np.where(kept > 0, (n - 1) - (kept.astype(np.int64) - 1) % n, n)
        combination = combination * (n + 1) + feature
    distinct, row_of = _distinct(combination, (n + 1) ** len(top))
    lists: list[list[str]] = []
    for value in distinct.tolist():
        picked = []
        for _ in top:
            value, feature = divmod(value, n + 1)
            picked.append(feature)
        lists.append([codes[f] for f in reversed(picked) if f < n])
    if form == "json":
        one: pl.Series = pl.Series("reasons", [_json_list(c) for c in lists], dtype=pl.Utf8)
    else:
        one = pl.Series("reasons", lists, dtype=pl.List(pl.Utf8))
    return one.gather(row_of)


def _distinct(
    values: npt.NDArray[np.int64], bound: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """``np.unique(values, return_inverse=True)`` for values in ``0 … bound − 1``: by a
    table of which values occur when ``bound`` is small (one pass, no sort of the rows)."""
    if bound > 1 << 24:  # pragma: no cover - hundreds of features
        distinct, inverse = np.unique(values, return_inverse=True)
        return distinct, inverse.astype(np.int64)
    seen = np.zeros(bound, dtype=np.bool_)
    seen[values] = True
    rank = np.cumsum(seen, dtype=np.int64) - 1
    return np.flatnonzero(seen), np.take(rank, values)


def _json_list(codes: Sequence[str]) -> str:
    """``["a","b"]`` (``[]`` for none): reason codes are plain identifiers."""
    return '["' + '","'.join(codes) + '"]' if codes else "[]"


def _in_form(lists: pl.Series, form: ReasonForm) -> pl.Series:
    """Reason lists as asked for: as they are, or each as JSON text (:func:`_json_list`)."""
    if form == "list":
        return lists
    joined = lists.list.join('","')
    text = pl.select(
        pl.when(lists.list.len() == 0)
        .then(pl.lit("[]"))
        .otherwise(pl.concat_str(pl.lit('["'), joined, pl.lit('"]')))
    ).to_series()
    return text.alias("reasons")


def _reason_lists(
    picked: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_], codes: Sequence[str]
) -> pl.Series:
    """A list of codes per row: the valid picks (a prefix of each row), in order."""
    n_rows = picked.shape[0]
    offsets = np.zeros(n_rows + 1, dtype=np.int64)
    np.cumsum(valid.sum(axis=1), out=offsets[1:])
    values = pl.Series(list(codes), dtype=pl.Utf8).gather(picked[valid]).to_arrow()
    lists = pa.LargeListArray.from_arrays(pa.array(offsets, type=pa.int64()), values)
    series = pl.from_arrow(lists)
    assert isinstance(series, pl.Series)
    return series.cast(pl.List(pl.Utf8)).alias("reasons")


def _table(steps: Sequence[StepFunction], value: str) -> pl.DataFrame:
    rows: list[dict[str, Any]] = []
    for s in steps:
        rows += [
            {"feature": s.code, "bin": b, value: v}
            for b, v in zip(s.labels(), s.values, strict=True)
        ]
        rows.append({"feature": s.code, "bin": "missing", value: s.missing})
    return pl.DataFrame(rows, schema={"feature": pl.Utf8, "bin": pl.Utf8, value: pl.Float64})


# --------------------------------------------------------------------------- the scorecard


@dataclass(kw_only=True)
class ScorecardModel(FittedModel):
    """optbinning's card as step functions of points (bins left-closed, as optbinning's)."""

    variables: tuple[StepFunction, ...]

    def _predict(self, frame: pl.DataFrame, *, reasons: ReasonForm | None = None) -> Prediction:
        # summed feature by feature in order, as a rows × features matrix's rows were
        score, found = _additive(frame, self.variables, reasons=reasons)
        log_odds = (score - self.scale.offset) / self.scale.factor
        return Prediction(pl.Series("score", score), log_odds, found)

    def _payload(self) -> dict[str, Any]:
        return {"variables": [v.to_dict() for v in self.variables]}

    def table(self) -> pl.DataFrame:
        """The card for people: one row per feature and bin, with its points."""
        return _table(self.variables, "points")


# --------------------------------------------------------------------------- the GBM


@dataclass(kw_only=True)
class GbmModel(FittedModel):
    """A LightGBM booster. Additive (the default: each tree splits on one feature) it is
    applied as step functions of LightGBM's own contributions, read once from
    ``pred_contrib``; with interactions every prediction calls ``pred_contrib``."""

    booster_text: str
    #: per categorical feature the categories seen in training, in code order
    categories: dict[str, tuple[str, ...]]
    #: the additive model's contribution per feature and bin, and the expected value
    contributions: tuple[StepFunction, ...] = ()
    bias: float = 0.0
    _booster: lightgbm.Booster | None = field(default=None, repr=False, compare=False)

    @property
    def additive(self) -> bool:
        return bool(self.contributions)

    @property
    def booster(self) -> lightgbm.Booster:
        if self._booster is None:
            import lightgbm  # heavy (≈3 s): only when a booster is needed; ADR 0020

            self._booster = lightgbm.Booster(model_str=self.booster_text)
        return self._booster

    def _predict(self, frame: pl.DataFrame, *, reasons: ReasonForm | None = None) -> Prediction:
        found = None
        if self.additive:
            raw, found = _additive(
                frame, self.contributions, factor=self.scale.factor, reasons=reasons
            )
            log_odds = raw + self.bias
        else:
            contrib = self.pred_contrib(frame)
            log_odds = contrib.sum(axis=1)
            if reasons is not None:
                # in points; a feature's pull is minus what it gave
                given = contrib[:, :-1].T * self.scale.factor
                best = np.zeros(given.shape[0], dtype=np.float64)
                found = _in_form(_reasons(given, best, [f.code for f in self.features]), reasons)
        return Prediction(pl.Series("score", self.scale.points(log_odds)), log_odds, found)

    def pred_contrib(self, frame: pl.DataFrame) -> npt.NDArray[np.float64]:
        """LightGBM's own SHAP contributions: rows × (features + expected value)."""
        matrix = _gbm_matrix(frame, self.features, self.categories)
        return np.asarray(self.booster.predict(matrix, pred_contrib=True), dtype=np.float64)

    def _payload(self) -> dict[str, Any]:
        return {
            "booster": self.booster_text,
            "categories": {c: list(v) for c, v in self.categories.items()},
            "contributions": [c.to_dict() for c in self.contributions],
            "bias": self.bias,
        }

    def table(self) -> pl.DataFrame:
        """An additive model's contributions (log-odds) per feature and bin."""
        return _table(self.contributions, "contribution")


def _gbm_matrix(
    frame: pl.DataFrame,
    features: Sequence[ModelFeature],
    categories: Mapping[str, tuple[str, ...]],
) -> npt.NDArray[np.float64]:
    """Features as LightGBM reads them: floats, NaN when missing; categories as their codes
    (a category unseen in training is missing)."""
    columns = []
    for f in features:
        if f.kind == "categorical":
            vocab = categories[f.code]
            columns.append(
                pl.col(f.code)
                .cast(pl.Utf8)
                .replace_strict(
                    vocab, list(range(len(vocab))), default=None, return_dtype=pl.Float64
                )
                .alias(f.code)
            )
        else:
            value = pl.col(f.code).cast(pl.Float64)
            columns.append(pl.when(value.is_infinite()).then(None).otherwise(value).alias(f.code))
    return frame.select(columns).fill_null(float("nan")).to_numpy().astype(np.float64, copy=False)


def _thresholds(booster: lightgbm.Booster, n_features: int) -> list[list[float]]:
    """Every numeric threshold the booster splits each feature on, sorted."""
    found: list[set[float]] = [set() for _ in range(n_features)]

    def walk(node: Mapping[str, Any]) -> None:
        if "split_feature" not in node:
            return
        if node["decision_type"] == "<=":
            found[int(node["split_feature"])].add(float(node["threshold"]))
        walk(node["left_child"])
        walk(node["right_child"])

    for tree in booster.dump_model()["tree_info"]:
        walk(tree["tree_structure"])
    return [sorted(t) for t in found]


def _additive_contributions(
    booster: lightgbm.Booster,
    features: Sequence[ModelFeature],
    categories: Mapping[str, tuple[str, ...]],
) -> tuple[tuple[StepFunction, ...], float]:
    """An additive booster's contributions as step functions, read from ``pred_contrib`` on
    one probe row per bin (a point inside each interval between thresholds, each category,
    and a missing value). In an additive model a feature's contribution depends on its own
    value only, so the probes give it exactly."""
    thresholds = _thresholds(booster, len(features))
    probes: list[tuple[int, float]] = []  # (feature index, value)
    for j, f in enumerate(features):
        if f.kind == "categorical":
            probes += [(j, float(code)) for code in range(len(categories[f.code]))]
        else:
            cuts = thresholds[j]
            inner = [(a + b) / 2 for a, b in itertools.pairwise(cuts)]
            ends = [cuts[0] - 1.0, *inner, cuts[-1] + 1.0] if cuts else [0.0]
            probes += [(j, v) for v in ends]
        probes.append((j, math.nan))
    matrix = np.full((len(probes), len(features)), np.nan)
    for row, (j, value) in enumerate(probes):
        matrix[row, j] = value
    contrib = np.asarray(booster.predict(matrix, pred_contrib=True), dtype=np.float64)
    out: list[StepFunction] = []
    row = 0
    for j, f in enumerate(features):
        n_bins = len(categories[f.code]) if f.kind == "categorical" else len(thresholds[j]) + 1
        values = contrib[row : row + n_bins, j]
        missing = float(contrib[row + n_bins, j])
        row += n_bins + 1
        out.append(
            StepFunction(
                code=f.code,
                kind=f.kind,
                splits=() if f.kind == "categorical" else tuple(thresholds[j]),
                groups=tuple((c,) for c in categories[f.code]) if f.kind == "categorical" else (),
                values=tuple(float(v) for v in values),
                missing=missing,
                right_closed=True,
            )
        )
    return tuple(out), float(contrib[0, -1])


# --------------------------------------------------------------------------- reasons


#: rows per block when reasons are picked (a block of pulls stays in the CPU's cache)
REASON_BLOCK = 1 << 15


def _reasons(
    given: npt.NDArray[np.float64],
    best: npt.NDArray[np.float64],
    codes: Sequence[str],
    *,
    block: int = REASON_BLOCK,
) -> pl.Series:
    """Up to :data:`REASONS` codes per row, the largest pull-down (``best − given``, features
    × rows) first (ties: feature order); only features that cost at least
    :data:`MIN_REASON_POINTS`. Worked in blocks of rows: one reused rows × features buffer
    instead of a matrix of pulls the size of the frame."""
    n_features, n_rows = given.shape
    picked = np.empty((n_rows, min(REASONS, n_features)), dtype=np.int64)
    valid = np.empty(picked.shape, dtype=bool)
    buffer = np.empty((min(block, n_rows), n_features), dtype=np.float64)
    for start in range(0, n_rows, block):
        stop = min(n_rows, start + block)
        work = buffer[: stop - start]
        np.subtract(best[None, :], given[:, start:stop].T, out=work)
        rows = np.arange(stop - start)
        for k in range(picked.shape[1]):
            index = np.argmax(work, axis=1)
            picked[start:stop, k] = index
            valid[start:stop, k] = work[rows, index] >= MIN_REASON_POINTS
            work[rows, index] = -np.inf
    # valid picks come first in each row (they are the largest), so a row's list is a prefix
    return _reason_lists(picked, valid, codes)


# --------------------------------------------------------------------------- fitting


def fit_model(
    kind: ModelKind,
    frame: pl.DataFrame,
    target: str,
    features: Sequence[FeatureSpec],
    seed: int = 0,
    *,
    scale: PointsScale | None = None,
    adverse: bool | None = None,
    scorecard: ScorecardOptions | None = None,
    gbm: GbmOptions | None = None,
) -> FittedModel:
    """Fit a model of ``kind`` for ``target`` on ``frame`` (rows whose target is null — an
    outcome not known yet — are left out). ``adverse`` defaults to the target being in
    :data:`ADVERSE_TARGETS`."""
    if kind not in MODEL_KINDS:
        raise InvalidInput(f"unknown model kind {kind!r}; expected scorecard or gbm")
    specs = tuple(ModelFeature(code=f.code, kind=f.kind) for f in features)
    if not specs:
        raise InvalidInput("a model needs at least one feature")
    codes = [f.code for f in specs]
    if len(set(codes)) != len(codes):
        raise InvalidInput("a feature is listed twice")
    _require_columns(frame, [target, *codes], "fit")
    rows = frame.filter(pl.col(target).is_not_null())
    y = _outcomes(rows[target], target)
    is_adverse = target in ADVERSE_TARGETS if adverse is None else adverse
    good = (1 - y) if is_adverse else y
    common: dict[str, Any] = {
        "target": target,
        "adverse": is_adverse,
        "features": specs,
        "scale": scale or PointsScale(),
        "seed": seed,
        "training_rows": int(y.size),
        "training_positives": int(y.sum()),
    }
    model: FittedModel
    if kind == "scorecard":
        variables = fit_optbinning(
            rows, good, specs, common["scale"], seed, scorecard or ScorecardOptions()
        )
        kept = {v.code for v in variables}
        common["features"] = tuple(f for f in specs if f.code in kept)
        model = ScorecardModel(kind="scorecard", variables=variables, **common)
    else:
        model = _fit_gbm(rows, good, specs, seed, gbm or GbmOptions(), common)
    model.references = {f.code: reference_of(_model_input(rows, f)) for f in model.features}
    model.references["score"] = reference_of(model._predict(rows).score)
    return model


def _outcomes(column: pl.Series, target: str) -> npt.NDArray[np.float64]:
    if column.dtype == pl.Boolean or (column.dtype.is_integer() and column.is_in([0, 1]).all()):
        y = column.cast(pl.Float64).to_numpy()
    else:
        raise InvalidInput(f"target {target!r} must be true/false (or 0/1), got {column.dtype}")
    if y.size == 0 or y.min() == y.max():
        raise InvalidInput(
            f"target {target!r} has {int(y.sum())} positives in {y.size} rows; "
            "a model needs both outcomes"
        )
    return np.asarray(y, dtype=np.float64)


def _model_input(frame: pl.DataFrame, feature: ModelFeature) -> pl.Series:
    column = frame[feature.code]
    if feature.kind == "flag":
        return column.cast(pl.Int8)
    if feature.kind == "categorical":
        return column.cast(pl.Utf8)
    return column


def fit_optbinning(
    frame: pl.DataFrame,
    good: npt.NDArray[np.float64],
    features: Sequence[ModelFeature],
    scale: PointsScale,
    seed: int,
    options: ScorecardOptions,
) -> tuple[StepFunction, ...]:
    """The scorecard's variables (the features kept, in order), as optbinning's
    ``Scorecard(BinningProcess(...), LogisticRegression(...))`` with ``pdo_odds`` scaling
    would give them, for a third of its time.

    Each feature is binned by optbinning's own ``OptimalBinning`` with the parameters
    ``BinningProcess`` passes it (its event is the bad outcome, so that more points mean
    better odds, as credit scorecards have them); the weight of evidence and information
    value of each bin are optbinning's formulas on its counts; features below
    ``options.min_iv`` are left out (``BinningProcess``'s ``selection_criteria``); a logistic
    regression on the weights of evidence; and points per bin by optbinning's ``pdo_odds``
    scaling (the intercept spread evenly over the features). What is skipped is what the card
    never reads: ``BinningProcess`` computes Gini, Jensen–Shannon, p-values and a quality
    score for every feature, and ``Scorecard`` builds pandas tables (on German credit ≈ 0.4
    of 0.6 CPU seconds). A test holds the result equal to optbinning's own ``Scorecard``.
    """
    from optbinning import OptimalBinning  # heavy, fit-time only (ADR 0020)
    from sklearn.linear_model import LogisticRegression

    bad = (1 - good).astype(np.int64)
    columns = _optbinning_columns(frame, features)
    binned: list[StepFunction] = []  # per kept feature its bins' weights of evidence
    for f in features:
        categorical = f.kind == "categorical"
        optb = OptimalBinning(
            name=f.code,
            dtype="categorical" if categorical else "numerical",
            max_n_prebins=options.max_n_prebins,
            min_prebin_size=options.min_prebin_size,
            min_bin_size=options.min_bin_size,
        )
        if not categorical:
            optb.set_params(monotonic_trend=options.monotonic_trend)
        optb.fit(columns[f.code], bad)
        # counts per bin, then the special and the missing bin (optbinning's table rows)
        woe, iv = _woe_and_iv(
            np.asarray(optb.binning_table.n_nonevent, dtype=np.float64),
            np.asarray(optb.binning_table.n_event, dtype=np.float64),
        )
        if options.min_iv is not None and iv < options.min_iv:
            continue
        if categorical:
            groups = tuple(tuple(str(c) for c in g) for g in optb.splits)
            splits: tuple[float, ...] = ()
            n_bins = len(groups)
        else:
            groups = ()
            splits = tuple(float(s) for s in optb.splits)
            n_bins = len(splits) + 1
        binned.append(
            StepFunction(
                code=f.code,
                kind=f.kind,
                splits=splits,
                groups=groups,
                values=tuple(float(w) for w in woe[:n_bins]),
                missing=float(woe[-1]),
            )
        )
    if not binned:
        raise InvalidInput("no feature reached the minimum information value")
    # the weights of evidence of the training rows: the same Polars step functions
    x = _apply_steps(frame, binned)
    regression = LogisticRegression(C=options.c, max_iter=1000, random_state=seed).fit(x, bad)
    coefficients = regression.coef_.ravel()
    intercept = float(regression.intercept_[0])
    n = len(binned)

    def points(woe: float, coefficient: float) -> float:
        # optbinning's pdo_odds: -(WoE × coefficient + intercept / n) × factor + offset / n
        return -(woe * coefficient + intercept / n) * scale.factor + scale.offset / n

    return tuple(
        StepFunction(
            code=b.code,
            kind=b.kind,
            splits=b.splits,
            groups=b.groups,
            values=tuple(points(w, float(c)) for w in b.values),
            missing=points(b.missing, float(c)),
        )
        for b, c in zip(binned, coefficients, strict=True)
    )


def _woe_and_iv(
    n_nonevent: npt.NDArray[np.float64], n_event: npt.NDArray[np.float64]
) -> tuple[npt.NDArray[np.float64], float]:
    """Weight of evidence per bin and the information value, as optbinning's binning table
    has them: a bin without events or without non-events has WoE 0 and adds no IV."""
    mask = (n_event > 0) & (n_nonevent > 0)
    woe = np.zeros(n_event.size)
    rate = n_event[mask] / (n_event[mask] + n_nonevent[mask])
    woe[mask] = np.log(1 / rate - 1) + np.log(n_event.sum() / n_nonevent.sum())
    p_event = n_event[mask] / n_event.sum()
    p_nonevent = n_nonevent[mask] / n_nonevent.sum()
    iv = float(np.sum((p_event - p_nonevent) * np.log(p_event / p_nonevent)))
    return woe, iv


def _optbinning_columns(
    frame: pl.DataFrame, features: Sequence[ModelFeature]
) -> dict[str, npt.NDArray[Any]]:
    columns: dict[str, npt.NDArray[Any]] = {}
    for f in features:
        if f.kind == "categorical":
            columns[f.code] = np.asarray(frame[f.code].cast(pl.Utf8).to_list(), dtype=object)
        else:
            values = frame[f.code].cast(pl.Float64).fill_null(np.nan).to_numpy()
            columns[f.code] = np.where(np.isinf(values), np.nan, values)
    return columns


def _fit_gbm(
    frame: pl.DataFrame,
    good: npt.NDArray[np.float64],
    features: tuple[ModelFeature, ...],
    seed: int,
    options: GbmOptions,
    common: dict[str, Any],
) -> GbmModel:
    import lightgbm  # heavy (≈3 s): only when a GBM is fitted; ADR 0020

    categories = {
        f.code: tuple(sorted(str(v) for v in frame[f.code].cast(pl.Utf8).drop_nulls().unique()))
        for f in features
        if f.kind == "categorical"
    }
    matrix = _gbm_matrix(frame, features, categories)
    dataset = lightgbm.Dataset(
        matrix,
        label=good,
        feature_name=[f.code for f in features],
        categorical_feature=[i for i, f in enumerate(features) if f.kind == "categorical"],
        free_raw_data=True,
    )
    params = options.params(seed)
    if options.additive:
        params["interaction_constraints"] = [[j] for j in range(len(features))]
    booster = lightgbm.train(params, dataset, num_boost_round=options.num_boost_round)
    contributions, bias = (
        _additive_contributions(booster, features, categories) if options.additive else ((), 0.0)
    )
    return GbmModel(
        kind="gbm",
        booster_text=booster.model_to_string(),
        categories=categories,
        contributions=contributions,
        bias=bias,
        _booster=booster,
        **common,
    )


# --------------------------------------------------------------------------- loading


def load_model(data: bytes) -> FittedModel:
    """A model back from :meth:`FittedModel.to_bytes`."""
    try:
        document = json.loads(data.decode())
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidInput(f"not a model artefact: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != ARTEFACT_FORMAT:
        raise InvalidInput(f"not a model artefact of format {ARTEFACT_FORMAT}")
    scale = document["scale"]
    common: dict[str, Any] = {
        "target": str(document["target"]),
        "adverse": bool(document["adverse"]),
        "features": tuple(
            ModelFeature(code=f["code"], kind=f["kind"]) for f in document["features"]
        ),
        "scale": PointsScale(
            pdo=float(scale["pdo"]),
            base_points=float(scale["base_points"]),
            base_odds=float(scale["base_odds"]),
        ),
        "seed": int(document["seed"]),
        "training_rows": int(document["training_rows"]),
        "training_positives": int(document["training_positives"]),
        "references": {c: PsiReference.from_dict(r) for c, r in document["references"].items()},
    }
    payload = document["model"]
    if document["kind"] == "scorecard":
        return ScorecardModel(
            kind="scorecard",
            variables=tuple(StepFunction.from_dict(v) for v in payload["variables"]),
            **common,
        )
    if document["kind"] == "gbm":
        return GbmModel(
            kind="gbm",
            booster_text=str(payload["booster"]),
            categories={c: tuple(v) for c, v in payload["categories"].items()},
            contributions=tuple(StepFunction.from_dict(c) for c in payload["contributions"]),
            bias=float(payload["bias"]),
            **common,
        )
    raise InvalidInput(f"unknown model kind {document['kind']!r} in the artefact")


# --------------------------------------------------------------------------- validation


def split_out_of_time(
    frame: pl.DataFrame,
    *,
    validation_from: date,
    horizon_days: int = 30,
    date_column: str = "as_of",
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Training and out-of-time validation rows.

    Validation: rows dated ``validation_from`` or later. Training: rows whose outcome window
    ``(D, D + horizon_days]`` closed before ``validation_from`` (``D + horizon < from``), so
    no training label was observed inside the validation period.
    """
    _require_columns(frame, [date_column], "split")
    last_training_day = validation_from - timedelta(days=horizon_days + 1)
    train = frame.filter(pl.col(date_column) <= last_training_day)
    validation = frame.filter(pl.col(date_column) >= validation_from)
    if train.is_empty() or validation.is_empty():
        raise InvalidInput(
            f"the split at {validation_from.isoformat()} leaves {train.height} training and "
            f"{validation.height} validation rows; both need some"
        )
    return train, validation


def _require_columns(frame: pl.DataFrame, columns: Sequence[str], verb: str) -> None:
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(f"cannot {verb}: the frame has no column(s) {', '.join(missing)}")
