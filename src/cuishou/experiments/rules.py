"""Champion/challenger's pure rules (策略效果评估): which arm a case is in, which experiments
may run side by side, how a strategy version is named, when a guard rail stops one.

:func:`in_challenger` and :func:`arm_expr` split cases between an experiment's arms by a
fixed hash of the case id and the experiment's salt: deterministic, so a case keeps its arm
and a new case joins by the same rule. (The store also records each case's arm the day it
joins, so the split never depends on a library's hash staying the same.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

#: the event log's entity type of an experiment
ENTITY = "experiment"
CHAMPION = "champion"
CHALLENGER = "challenger"
ARMS = (CHAMPION, CHALLENGER)
#: running → stopped (by hand or a guard rail) → promoted (four eyes); ``ended`` when its
#: champion is no longer in force
STATUSES = ("running", "stopped", "promoted", "ended")
#: an experiment's name: what a person types on the command line and reads on the page
NAME = re.compile(r"^[A-Za-z0-9_\-.]{1,48}$")
_VERSION_REF = re.compile(r"^(?P<code>[A-Za-z0-9_\-]{1,32})@(?P<version>[0-9]{1,9})$")

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


@dataclass(frozen=True, slots=True)
class VersionRef:
    """A strategy version as a person names it: its id (``12``) or ``code@version``."""

    id: int | None = None
    code: str | None = None
    version: int | None = None


def parse_version_ref(text: str) -> VersionRef | None:
    """``12`` → by id; ``default@3`` → by code and version; anything else ``None``."""
    text = text.strip()
    if text.isdigit():
        return VersionRef(id=int(text))
    match = _VERSION_REF.match(text)
    if match is None:
        return None
    return VersionRef(code=match["code"], version=int(match["version"]))


def version_label(code: str, version: int) -> str:
    return f"{code}@{version}"


def overlaps(segments: Collection[str], other: Collection[str]) -> bool:
    """Whether two experiments on the same champion would both claim some case: either takes
    every segment (an empty list) or they share one. A case is planned by one experiment at
    a time, so only experiments with disjoint segment sets run side by side."""
    return not segments or not other or not set(segments).isdisjoint(other)


@dataclass(frozen=True, slots=True)
class GuardFigures:
    """One arm's guard-rail counts since its cases joined (护栏指标)."""

    cases: int
    complaints: int
    violations: int

    def per_1000(self, count: int) -> float | None:
        return count * 1000 / self.cases if self.cases else None


@dataclass(frozen=True, slots=True)
class Breach:
    """A guard rail the challenger broke: the metric, both arms' figures per 1,000 cases and
    the limit on their difference."""

    metric: str
    champion: float
    challenger: float
    limit: float

    def describe(self) -> str:
        return (
            f"{self.metric}: challenger {self.challenger:.2f} vs champion {self.champion:.2f} "
            f"per 1,000 cases (limit +{self.limit:g})"
        )


def guardrail_breaches(
    champion: GuardFigures,
    challenger: GuardFigures,
    *,
    complaints_per_1000: float,
    violations_per_1000: float,
    min_cases: int,
) -> list[Breach]:
    """The guard rails the challenger breaks: its complaints or compliance violations per
    1,000 cases above the champion's by more than the limit. Nothing is judged until each
    arm has ``min_cases`` (a handful of cases proves nothing either way)."""
    if min(champion.cases, challenger.cases) < max(min_cases, 1):
        return []
    breaches: list[Breach] = []
    for metric, limit in (
        ("complaints_per_1000", complaints_per_1000),
        ("violations_per_1000", violations_per_1000),
    ):
        count = metric.removesuffix("_per_1000")
        a = champion.per_1000(getattr(champion, count)) or 0.0
        b = challenger.per_1000(getattr(challenger, count)) or 0.0
        if b - a > limit:
            breaches.append(Breach(metric, a, b, limit))
    return breaches
