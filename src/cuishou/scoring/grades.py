"""Risk grades A–D (风险分级) from a score. Pure.

A grade is read from the ``pay_30d`` champion's score (points: higher = more likely to pay):
A is the best, D the worst. :class:`GradeCutoffs` holds the lowest score of A, of B and of
C; D takes the rest, and a score exactly on a cut-off takes the better grade. Cut-offs are
set by score points (:func:`cutoffs_by_points`) or by population share
(:func:`cutoffs_by_share`, default A 20 %, B 30 %, C 30 %, D 20 % from best to worst).

One rule, two forms: :func:`grade_of` grades one score, :func:`grade_expr` a Polars column;
a Hypothesis property holds them equal. A missing score (null or NaN) has no grade.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from cuishou.kit.errors import InvalidInput

GRADES: tuple[str, str, str, str] = ("A", "B", "C", "D")
#: the default population shares of A, B, C and D, best to worst
DEFAULT_SHARES: tuple[float, float, float, float] = (0.20, 0.30, 0.30, 0.20)


@dataclass(frozen=True, slots=True)
class GradeCutoffs:
    """The lowest score of grades A, B and C; below ``c`` is D."""

    a: float
    b: float
    c: float

    def __post_init__(self) -> None:
        values = (self.a, self.b, self.c)
        if any(math.isnan(v) for v in values):
            raise InvalidInput("grade cut-offs must be numbers")
        if not self.a >= self.b >= self.c:
            raise InvalidInput(
                f"grade cut-offs must fall from A to C (A ≥ B ≥ C), got "
                f"A {self.a}, B {self.b}, C {self.c}"
            )


def cutoffs_by_points(a: float, b: float, c: float) -> GradeCutoffs:
    """Cut-offs given in score points: A from ``a`` up, B from ``b``, C from ``c``."""
    return GradeCutoffs(a=float(a), b=float(b), c=float(c))


def cutoffs_by_share(
    scores: Sequence[float] | pl.Series, shares: Sequence[float] = DEFAULT_SHARES
) -> GradeCutoffs:
    """Cut-offs that give each grade its share of ``scores`` (missing scores left out).

    The best ``round(n × share_A)`` scores are A, the next ``round(n × (share_A + share_B))``
    cumulatively B or better, and so on; each cut-off is the lowest score inside its group,
    so ties on a boundary all take the better grade and the shares hold as closely as the
    ties allow.
    """
    if len(shares) != len(GRADES):
        raise InvalidInput(f"give {len(GRADES)} shares (A, B, C, D), got {len(shares)}")
    if any(s <= 0 for s in shares) or not math.isclose(sum(shares), 1.0, abs_tol=1e-9):
        raise InvalidInput(f"grade shares must be positive and add up to 1, got {list(shares)}")
    values = np.asarray(pl.Series(scores, dtype=pl.Float64).drop_nulls().to_numpy())
    values = np.sort(values[~np.isnan(values)])[::-1]
    if values.size == 0:
        raise InvalidInput("no scores to set grade cut-offs from")
    cumulative = np.cumsum(shares)[:3]
    positions = [max(1, round(values.size * share)) - 1 for share in cumulative]
    a, b, c = (float(values[p]) for p in positions)
    return GradeCutoffs(a=a, b=b, c=c)


def grade_of(score: float | None, cutoffs: GradeCutoffs) -> str | None:
    """The grade of one score (None when the score is missing)."""
    if score is None or math.isnan(score):
        return None
    if score >= cutoffs.a:
        return "A"
    if score >= cutoffs.b:
        return "B"
    if score >= cutoffs.c:
        return "C"
    return "D"


def grade_expr(score: str | pl.Expr, cutoffs: GradeCutoffs) -> pl.Expr:
    """:func:`grade_of` as a Polars expression over a score column: ``risk_grade`` (Utf8,
    null when the score is missing)."""
    col = pl.col(score) if isinstance(score, str) else score
    col = col.cast(pl.Float64)
    return (
        pl.when(col.is_null() | col.is_nan())
        .then(pl.lit(None, dtype=pl.Utf8))
        .when(col >= cutoffs.a)
        .then(pl.lit("A"))
        .when(col >= cutoffs.b)
        .then(pl.lit("B"))
        .when(col >= cutoffs.c)
        .then(pl.lit("C"))
        .otherwise(pl.lit("D"))
        .alias("risk_grade")
    )
