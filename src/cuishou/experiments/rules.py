"""Champion/challenger's pure rules (策略效果评估): which arm a case is in.

:func:`in_challenger` and :func:`arm_expr` split cases between an experiment's arms by a
fixed hash of the case id and the experiment's salt: deterministic, so a case keeps its arm
and a new case joins by the same rule. (The store also records each case's arm the day it
joins, so the split never depends on a library's hash staying the same.)
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import polars as pl

#: an arm's share is in basis points of the hash space
_BUCKETS = 10_000
_MASK = (1 << 64) - 1


def _salted(salt: str) -> int:
    """A 64-bit seed from the experiment's salt (stable across processes and versions)."""
    return int.from_bytes(hashlib.sha256(salt.encode("utf-8")).digest()[:8], "little")


def _splitmix64(values: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser on unsigned 64-bit integers: a fixed, well-mixed hash that no
    library upgrade can change (a case must keep its arm for the experiment's life)."""
    with np.errstate(over="ignore"):
        z = values + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def in_challenger(
    case_ids: np.ndarray | Sequence[int], *, salt: str, share_pct: float
) -> np.ndarray:
    """``True`` for each case in the challenger arm: the case id hashed with the salt falls
    in the first ``share_pct`` percent of the hash space (basis-point resolution)."""
    ids = np.asarray(case_ids, dtype=np.int64).astype(np.uint64)
    hashed = _splitmix64(ids ^ np.uint64(_salted(salt) & _MASK))
    return (hashed % np.uint64(_BUCKETS)) < np.uint64(round(share_pct * _BUCKETS / 100))


def arm_expr(case_id: pl.Expr, *, salt: str, share_pct: float) -> pl.Expr:
    """The Polars form of :func:`in_challenger` (the same hash, a whole column at once)."""
    return case_id.map_batches(
        lambda s: pl.Series(s.name, in_challenger(s.to_numpy(), salt=salt, share_pct=share_pct)),
        return_dtype=pl.Boolean,
    )
