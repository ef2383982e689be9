"""案件分配 — the daily allocation as pure decisions on plain data.

Which cases enter the pool and why (:func:`pool_reasons`), the collector effect by bucket
shrunk toward the team mean (:func:`collector_effects`), and the assignment that maximises
expected recovery, P(pay within 30 days) × amount due × collector effect, under capacity,
skill and exclusion constraints (:func:`solve`): a min-cost flow (OR-Tools) over blocks of
similar cases of one segment, with its LP bound and a round-robin-by-amount greedy baseline
(:func:`greedy`). No session, no settings file, no clock: ``as_of`` is an argument.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import polars as pl
from numpy.typing import NDArray
from ortools.graph.python import min_cost_flow

#: why a case enters the pool, in the order the rules are checked (the first that fires)
REASONS = (
    "unassigned",  # 无人跟进
    "collector_left",  # 催收员离职/停用
    "no_skill",  # 现催收员不具备该案件的专长
    "rotation_no_rpc",  # N 天未联系到本人, 轮换
    "rotation_bucket",  # 账龄变化, 轮换
    "over_capacity",  # 超出人均案件量
)
#: why a pooled case got no collector
LEFT_REASONS = ("no_skilled_collector", "no_capacity", "conflict")
#: how a file may spell Mandarin (普通话): the same as not giving a language
MANDARIN = frozenset({"普通话", "国语", "汉语", "中文", "mandarin", "Mandarin"})
#: costs are whole hundredths of a fen (OR-Tools wants integers)
COST_SCALE = 100.0

#: the case facts the rules read, one row per open in-house case
CASE_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "debtor_id": pl.Int64(),
    "assigned_user_id": pl.Int64(),
    "assignee_active": pl.Boolean(),
    "bucket": pl.String(),
    "amount_tier": pl.String(),
    "due_fen": pl.Int64(),
    "product": pl.String(),
    "region": pl.String(),
    "language": pl.String(),
    "probability": pl.Float64(),
    "last_touch_on": pl.Date(),
    "bucket_at_move": pl.String(),
    "left_user_id": pl.Int64(),
    "excluded": pl.String(),
}


@dataclass(frozen=True)
class Skills:
    """What a collector may work (专长); ``None`` means any."""

    buckets: frozenset[str] | None = None
    amount_tiers: frozenset[str] | None = None
    products: frozenset[str] | None = None
    regions: frozenset[str] | None = None
    #: languages or dialects spoken besides Mandarin (方言); a debtor who speaks another
    #: goes only to a collector who lists it
    languages: frozenset[str] | None = None
    senior: bool = False

    def allows(self, segment: Segment, *, vip_needs_senior: bool = True) -> bool:
        return (
            (self.buckets is None or segment.bucket in self.buckets)
            and (self.amount_tiers is None or segment.amount_tier in self.amount_tiers)
            and (self.products is None or segment.product in self.products)
            and (self.regions is None or segment.region in self.regions)
            and (
                segment.language == ""
                or (self.languages is not None and segment.language in self.languages)
            )
            and (not segment.vip or self.senior or not vip_needs_senior)
        )


@dataclass(frozen=True)
class Collector:
    user_id: int
    username: str
    team: str | None
    capacity: int
    capacity_by_bucket: Mapping[str, int] = field(default_factory=dict)
    skills: Skills = Skills()


@dataclass(frozen=True)
class Segment:
    """Cases that every collector sees alike: bucket, amount tier, product, region, VIP and
    language (``""``: Mandarin, or language not a dimension of this run)."""

    bucket: str
    amount_tier: str
    product: str
    region: str
    vip: bool
    language: str = ""


@dataclass(frozen=True)
class Policy:
    """The rules' settings as plain data (built from ``allocation.yaml``)."""

    no_rpc_days: int | None = 30
    rotate_on_bucket_change: bool = True
    vip_from_fen: int | None = None
    prior_pay_30d: Mapping[str, float] = field(default_factory=dict)
    prior_default: float = 0.05
    #: (username, debtor_id) pairs that must not meet
    conflicts: frozenset[tuple[str, int]] = frozenset()
    blocks_per_segment: int = 48
    exact_up_to: int = 5000
    #: what is applied: the min-cost flow, or the greedy baseline (:func:`greedy`)
    method: str = "min_cost_flow"
    #: whether region is a segment dimension (only when some collector is restricted)
    by_region: bool = False
    #: whether language is a segment dimension (only when some collector lists languages)
    by_language: bool = False


@dataclass(frozen=True)
class Plan:
    """What :func:`plan` decided: one row per pooled case in ``moves`` (``to_user_id`` null
    when none could take it, with ``left_reason``), the totals and the load per collector."""

    moves: pl.DataFrame
    objective: float
    bound: float
    greedy_objective: float
    load_before: dict[int, int]
    load_after: dict[int, int]
    excluded: dict[str, int]
    pooled: dict[str, int]


# ---------------------------------------------------------------------------- the pool


def case_values(cases: pl.DataFrame, policy: Policy) -> pl.DataFrame:
    """Each case's expected recovery before the collector effect: P(pay_30d) × amount due
    (fen), P from the champion's score, else the documented prior for its bucket."""
    prior = pl.col("bucket").replace_strict(
        dict(policy.prior_pay_30d), default=policy.prior_default, return_dtype=pl.Float64
    )
    vip = (
        pl.lit(value=False)
        if policy.vip_from_fen is None
        else pl.col("due_fen") >= policy.vip_from_fen
    )
    return cases.with_columns(
        p=pl.col("probability").fill_null(prior),
        vip=vip,
        region=pl.col("region").fill_null("") if policy.by_region else pl.lit(""),
        language=(
            pl.col("language").fill_null("").replace(list(MANDARIN), "")
            if policy.by_language
            else pl.lit("")
        ),
        product=pl.col("product").fill_null(""),
    ).with_columns(value=pl.col("p") * pl.col("due_fen"))


def segments_of(frame: pl.DataFrame) -> tuple[list[Segment], pl.DataFrame]:
    """The distinct segments of ``frame`` (with ``vip``, ``region``) and ``frame`` with each
    row's segment number ``seg``."""
    keys = ["bucket", "amount_tier", "product", "region", "vip", "language"]
    distinct = frame.select(keys).unique().sort(keys).with_row_index("seg")
    segments = [
        Segment(str(b), str(t), str(p), str(r), bool(v), str(lang))
        for _, b, t, p, r, v, lang in distinct.iter_rows()
    ]
    joined = frame.join(distinct.with_columns(pl.col("seg").cast(pl.Int64)), on=keys, how="left")
    return segments, joined


def eligibility(segments: Sequence[Segment], collectors: Sequence[Collector]) -> NDArray[np.bool_]:
    """``[segment, collector]``: whether the collector has the skill for the segment."""
    return np.array(
        [[c.skills.allows(s) for c in collectors] for s in segments], dtype=np.bool_
    ).reshape(len(segments), len(collectors))


def pool_reasons(
    cases: pl.DataFrame,
    collectors: Sequence[Collector],
    eligible: NDArray[np.bool_],
    policy: Policy,
    as_of: date,
) -> pl.DataFrame:
    """``cases`` (valued, with ``seg``) with ``reason``: why the case must be (re)allocated,
    the first of :data:`REASONS` that fires, or null to keep it with its collector
    (continuity, 保持原催收员). Excluded cases are never pooled."""
    index = {c.user_id: i for i, c in enumerate(collectors)}
    skilled = pl.DataFrame(
        [
            (s, c.user_id)
            for s in range(eligible.shape[0])
            for i, c in enumerate(collectors)
            if eligible[s, i]
        ],
        schema={"seg": pl.Int64, "assigned_user_id": pl.Int64},
        orient="row",
    ).with_columns(skilled=pl.lit(value=True))
    known = pl.col("assigned_user_id").is_in(list(index))
    stale = (
        pl.lit(value=False)
        if policy.no_rpc_days is None
        else pl.col("last_touch_on").is_not_null()
        & (pl.col("last_touch_on") <= as_of - timedelta(days=policy.no_rpc_days))
    )
    bucket_moved = (
        pl.lit(policy.rotate_on_bucket_change)
        & pl.col("bucket_at_move").is_not_null()
        & (pl.col("bucket_at_move") != pl.col("bucket"))
    )
    framed = cases.join(skilled, on=["seg", "assigned_user_id"], how="left").with_columns(
        pl.col("skilled").fill_null(value=False)
    )
    reason = (
        pl.when(pl.col("excluded").is_not_null())
        .then(pl.lit(None, dtype=pl.String))
        .when(pl.col("assigned_user_id").is_null())
        .then(pl.lit("unassigned"))
        .when(~pl.col("assignee_active").fill_null(value=False))
        .then(pl.lit("collector_left"))
        .when(~known)
        .then(pl.lit(None, dtype=pl.String))  # someone outside this run's collectors: theirs
        .when(~pl.col("skilled"))
        .then(pl.lit("no_skill"))
        .when(stale)
        .then(pl.lit("rotation_no_rpc"))
        .when(bucket_moved)
        .then(pl.lit("rotation_bucket"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )
    framed = framed.with_columns(reason=reason).drop("skilled")
    return _over_capacity(framed, collectors)


def _over_capacity(framed: pl.DataFrame, collectors: Sequence[Collector]) -> pl.DataFrame:
    """Kept cases beyond a collector's capacity by bucket, then overall, are pooled as
    ``over_capacity`` — the least valuable first, so a collector keeps their best cases."""
    caps = pl.DataFrame(
        [(c.user_id, c.capacity) for c in collectors],
        schema={"assigned_user_id": pl.Int64, "cap": pl.Int64},
        orient="row",
    )
    by_bucket = pl.DataFrame(
        [(c.user_id, b, n) for c in collectors for b, n in c.capacity_by_bucket.items()],
        schema={"assigned_user_id": pl.Int64, "bucket": pl.String, "bucket_cap": pl.Int64},
        orient="row",
    )
    kept = (
        pl.col("reason").is_null()
        & pl.col("excluded").is_null()
        & pl.col("assigned_user_id").is_in(caps["assigned_user_id"].to_list())
    )
    order = [pl.col("value").rank("ordinal", descending=True)]
    framed = framed.join(by_bucket, on=["assigned_user_id", "bucket"], how="left").with_columns(
        rank_b=pl.when(kept)
        .then(order[0].over(pl.when(kept).then(pl.col("assigned_user_id")), "bucket"))
        .otherwise(None)
    )
    framed = framed.with_columns(
        reason=pl.when(
            kept & pl.col("bucket_cap").is_not_null() & (pl.col("rank_b") > pl.col("bucket_cap"))
        )
        .then(pl.lit("over_capacity"))
        .otherwise(pl.col("reason"))
    )
    framed = framed.join(caps, on="assigned_user_id", how="left").with_columns(
        rank_c=pl.when(kept).then(order[0].over(pl.when(kept).then(pl.col("assigned_user_id"))))
    )
    return framed.with_columns(
        reason=pl.when(kept & (pl.col("rank_c") > pl.col("cap")))
        .then(pl.lit("over_capacity"))
        .otherwise(pl.col("reason"))
    ).drop("rank_b", "rank_c", "cap", "bucket_cap")


# ------------------------------------------------------------------- collector effect


def collector_effects(
    history: pl.DataFrame,
    collectors: Sequence[Collector],
    *,
    prior_strength: float,
    low: float,
    high: float,
) -> pl.DataFrame:
    """The collector effect by bucket (``user_id``, ``bucket``, ``effect``) from ``history``
    (``user_id``, ``bucket``, ``worked``, ``paid``: cases worked and cases that paid):
    each collector's paying rate shrunk toward their team's (itself shrunk toward all
    collectors') with ``prior_strength`` pseudo-cases — empirical Bayes, so a collector with
    few cases is neither over- nor under-rated — relative to the all-collector rate, clipped
    to ``[low, high]``. Collectors and buckets without history get 1."""
    teams = pl.DataFrame(
        [(c.user_id, c.team or "") for c in collectors],
        schema={"user_id": pl.Int64, "team": pl.String},
        orient="row",
    )
    worked = history.join(teams, on="user_id", how="inner").with_columns(
        pl.col("worked").cast(pl.Float64), pl.col("paid").cast(pl.Float64)
    )
    k = prior_strength
    overall = worked.group_by("bucket").agg(
        all_rate=(pl.col("paid").sum() + 0.5) / (pl.col("worked").sum() + 1.0)
    )
    team = (
        worked.group_by("team", "bucket")
        .agg(pl.col("paid").sum().alias("t_paid"), pl.col("worked").sum().alias("t_worked"))
        .join(overall, on="bucket")
        .with_columns(
            team_rate=(pl.col("t_paid") + k * pl.col("all_rate")) / (pl.col("t_worked") + k)
        )
    )
    return (
        worked.join(team, on=["team", "bucket"])
        .with_columns(rate=(pl.col("paid") + k * pl.col("team_rate")) / (pl.col("worked") + k))
        .select(
            "user_id",
            "bucket",
            effect=(pl.col("rate") / pl.col("all_rate")).clip(low, high),
        )
    )


def effect_matrix(
    effects: pl.DataFrame, segments: Sequence[Segment], collectors: Sequence[Collector]
) -> NDArray[np.float64]:
    """``[segment, collector]`` effect (1 where history is silent)."""
    lookup = {(int(u), str(b)): float(e) for u, b, e in effects.iter_rows()}
    return np.array(
        [[lookup.get((c.user_id, s.bucket), 1.0) for c in collectors] for s in segments],
        dtype=np.float64,
    ).reshape(len(segments), len(collectors))


# -------------------------------------------------------------------------- the solver


@dataclass(frozen=True)
class Problem:
    """The pooled cases as arrays (``value``, ``seg``, ``bucket`` index) and the
    collectors' remaining room; ``excluded`` holds, per case position, the collector
    positions it must not go to."""

    value: NDArray[np.float64]
    seg: NDArray[np.int64]
    seg_bucket: NDArray[np.int64]
    eligible: NDArray[np.bool_]
    effect: NDArray[np.float64]
    room: NDArray[np.int64]
    room_by_bucket: NDArray[np.int64]
    excluded: Mapping[int, frozenset[int]] = field(default_factory=dict)


@dataclass(frozen=True)
class Solution:
    #: collector position per case, -1 for none
    assigned: NDArray[np.int64]
    objective: float
    bound: float


def _blocks(
    problem: Problem, per_segment: int, single: Sequence[int] = ()
) -> tuple[NDArray[np.int64], list[NDArray[np.int64]]]:
    """Case positions sorted by (segment, value descending) and split into blocks of at
    most ``ceil(n_segment / per_segment)`` cases, the cases in ``single`` each a block of
    its own; returns each block's segment and members."""
    alone = np.zeros(len(problem.value), dtype=np.bool_)
    alone[list(single)] = True
    block_seg: list[int] = [int(problem.seg[i]) for i in single]
    members: list[NDArray[np.int64]] = [np.array([i], dtype=np.int64) for i in single]
    rest = np.flatnonzero(~alone)
    order = rest[np.lexsort((-problem.value[rest], problem.seg[rest]))]
    segs = problem.seg[order]
    starts = np.flatnonzero(np.r_[True, segs[1:] != segs[:-1]]) if len(order) else order
    ends = np.r_[starts[1:], len(order)] if len(order) else order
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        n = end - start
        size = max(1, -(-n // per_segment))
        for lo in range(start, end, size):
            block_seg.append(int(segs[start]))
            members.append(order[lo : min(lo + size, end)].astype(np.int64))
    return np.array(block_seg, dtype=np.int64), members


@dataclass(frozen=True)
class _Network:
    """The min-cost flow's arcs (tail, head, unit cost, capacity, flow) and its layout."""

    tail: NDArray[np.int64]
    head: NDArray[np.int64]
    cost: NDArray[np.int64]
    cap: NDArray[np.int64]
    flow: NDArray[np.int64]
    n_assign: int  # the first n_assign arcs are block → (collector, bucket)
    blk: NDArray[np.int64]
    col: NDArray[np.int64]
    cb0: int
    c0: int
    sink: int


def _flow(
    problem: Problem,
    block_seg: NDArray[np.int64],
    block_value: NDArray[np.float64],
    block_size: NDArray[np.int64],
    banned: frozenset[tuple[int, int]] = frozenset(),
) -> _Network:
    """Min-cost flow: block → (collector, bucket) → collector → sink, plus block → sink
    (left unassigned, cost 0); cost is minus the gain (block value × effect)."""
    n_blocks = len(block_seg)
    n_col = problem.eligible.shape[1]
    n_buckets = problem.room_by_bucket.shape[1]
    cb0 = n_blocks
    c0 = cb0 + n_col * n_buckets
    sink = c0 + n_col
    blk, col = np.nonzero(problem.eligible[block_seg])
    blk = blk.astype(np.int64)
    col = col.astype(np.int64)
    if banned:
        drop = np.array([(b, c) in banned for b, c in zip(blk.tolist(), col.tolist(), strict=True)]
                        , dtype=np.bool_)  # fmt: skip
        blk, col = blk[~drop], col[~drop]
    gain = block_value[blk] * problem.effect[block_seg[blk], col]
    cols = np.repeat(np.arange(n_col, dtype=np.int64), n_buckets)
    buckets = np.tile(np.arange(n_buckets, dtype=np.int64), n_col)
    idle = np.arange(n_blocks, dtype=np.int64)
    tail = np.concatenate([blk, idle, cb0 + cols * n_buckets + buckets, c0 + np.arange(n_col)])
    head = np.concatenate(
        [
            cb0 + col * n_buckets + problem.seg_bucket[block_seg[blk]],
            np.full(n_blocks, sink),
            c0 + cols,
            np.full(n_col, sink),
        ]
    ).astype(np.int64)
    cap = np.concatenate(
        [block_size[blk], block_size, problem.room_by_bucket.reshape(-1), problem.room]
    ).astype(np.int64)
    cost = np.concatenate(
        [-np.rint(gain * COST_SCALE), np.zeros(n_blocks + n_col * n_buckets + n_col)]
    ).astype(np.int64)
    solver = min_cost_flow.SimpleMinCostFlow()
    arcs = solver.add_arcs_with_capacity_and_unit_cost(tail.astype(np.int64), head, cap, cost)
    supplies = np.zeros(sink + 1, dtype=np.int64)
    supplies[:n_blocks] = block_size
    supplies[sink] = -int(block_size.sum())
    solver.set_nodes_supplies(np.arange(sink + 1, dtype=np.int64), supplies)
    status = solver.solve()
    if status != solver.OPTIMAL:  # pragma: no cover - idling always makes a feasible flow
        raise RuntimeError(f"min-cost flow failed with status {status}")
    return _Network(
        tail=tail.astype(np.int64), head=head, cost=cost, cap=cap,
        flow=solver.flows(arcs).astype(np.int64), n_assign=len(blk), blk=blk, col=col,
        cb0=cb0, c0=c0, sink=sink,
    )  # fmt: skip


def _distances_to_sink(net: _Network, max_rounds: int = 5000) -> NDArray[np.float64]:
    """Shortest residual distance from every node to the sink (Bellman-Ford, one vector
    relaxation of every arc per round): the optimal flow's node potentials."""
    forward = net.flow < net.cap
    backward = net.flow > 0
    tails = np.concatenate([net.tail[forward], net.head[backward]])
    heads = np.concatenate([net.head[forward], net.tail[backward]])
    costs = np.concatenate([net.cost[forward], -net.cost[backward]]).astype(np.float64)
    order = np.argsort(tails, kind="stable")
    tails, heads, costs = tails[order], heads[order], costs[order]
    starts = np.flatnonzero(np.r_[True, tails[1:] != tails[:-1]]) if len(tails) else tails
    owners = tails[starts] if len(tails) else tails
    dist = np.full(net.sink + 1, np.inf)
    dist[net.sink] = 0.0
    for _ in range(max_rounds):
        if not len(tails):
            break
        best = np.minimum.reduceat(dist[heads] + costs, starts)
        new = dist.copy()
        new[owners] = np.minimum(dist[owners], best)
        if np.array_equal(new, dist):
            break
        dist = new
    return dist


def _dual_bound(problem: Problem, net: _Network) -> float:
    """An upper bound on every feasible assignment of the cases themselves (weak LP
    duality): with prices λ ≥ 0 on each collector's room and μ ≥ 0 on each (collector,
    bucket)'s, ``Σ room × price + Σ_case max(0, max_c value × effect − μ − λ)``. The prices
    are the block flow's shadow prices (from its node potentials), so the bound is close to
    the exact LP optimum — and equal to it when every case is its own block."""
    dist = _distances_to_sink(net)
    # a node that cannot reach the sink has no room left: price it above any gain
    top = float(problem.value.max() * problem.effect.max()) * COST_SCALE + COST_SCALE
    dist = np.where(np.isfinite(dist), dist, top) / COST_SCALE
    n_col = problem.eligible.shape[1]
    n_buckets = problem.room_by_bucket.shape[1]
    lam = np.maximum(dist[net.c0 : net.c0 + n_col], 0.0)
    cb = dist[net.cb0 : net.c0].reshape(n_col, n_buckets)
    mu = np.maximum(cb - dist[net.c0 : net.c0 + n_col, None], 0.0)
    total = float((lam * problem.room).sum() + (mu * problem.room_by_bucket).sum())
    for s in np.unique(problem.seg).tolist():
        cols = np.flatnonzero(problem.eligible[s])
        if not len(cols):
            continue
        values = problem.value[problem.seg == s]
        price = lam[cols] + mu[cols, problem.seg_bucket[s]]
        for lo in range(0, len(values), 20_000):
            chunk = values[lo : lo + 20_000, None] * problem.effect[s, cols][None, :] - price
            total += float(np.maximum(chunk.max(axis=1), 0.0).sum())
    return total


def solve(problem: Problem, *, per_segment: int, exact: bool, exact_up_to: int = 5000) -> Solution:
    """The assignment maximising Σ value × effect (expected recovery) under the collectors'
    room overall and by bucket, skills (``eligible``) and per-case exclusions.

    Cases of one segment are alike but for their value, so the flow runs on blocks of
    similar value (every case its own block when ``exact``); within a block the most
    valuable cases go to the collectors with the largest effect (rearrangement), skipping
    a case's excluded collectors (a case with exclusions is its own block, its excluded
    arcs left out, when exact or when there are at most ``exact_up_to`` such cases).
    ``bound`` is the LP relaxation's dual value over the cases themselves (without the
    per-case exclusions): no feasible assignment is worth more; it equals the optimum when
    exact and nothing is excluded."""
    n = len(problem.value)
    assigned = np.full(n, -1, dtype=np.int64)
    if n == 0 or problem.eligible.shape[1] == 0:
        return Solution(assigned, 0.0, 0.0)
    single = sorted(problem.excluded) if exact or len(problem.excluded) <= exact_up_to else []
    block_seg, members = _blocks(problem, n if exact else per_segment, single)
    size = np.array([len(m) for m in members], dtype=np.int64)
    mean = np.array([problem.value[m].mean() for m in members], dtype=np.float64)
    banned = frozenset(
        (b, c) for b, i in enumerate(single) for c in problem.excluded[i]
    )  # the first len(single) blocks are those cases, in that order
    net = _flow(problem, block_seg, mean, size, banned)
    bound = _dual_bound(problem, net)
    used = net.flow[: net.n_assign] > 0
    by_block: dict[int, list[tuple[float, int, int]]] = {}
    for b, c, a in zip(
        net.blk[used].tolist(),
        net.col[used].tolist(),
        net.flow[: net.n_assign][used].tolist(),
        strict=True,
    ):
        by_block.setdefault(b, []).append((-float(problem.effect[block_seg[b], c]), c, a))
    for b, slots in by_block.items():
        slots.sort()
        cases = members[b]  # already by value, descending
        if not any(int(i) in problem.excluded for i in cases):
            assigned[cases[: sum(a for _, _, a in slots)]] = np.repeat(
                [c for _, c, _ in slots], [a for _, _, a in slots]
            )
            continue
        left = [[c, a] for _, c, a in slots]
        for i in cases.tolist():
            barred = problem.excluded.get(i, frozenset())
            for slot in left:
                if slot[1] > 0 and slot[0] not in barred:
                    assigned[i] = slot[0]
                    slot[1] -= 1
                    break
    _repair(problem, assigned)
    return Solution(assigned, objective_of(problem, assigned), bound)


def _repair(problem: Problem, assigned: NDArray[np.int64]) -> None:
    """Cases the flow placed with a collector they may not go to are left over: each, most
    valuable first, goes to the best skilled collector (largest effect) still with room."""
    unplaced = np.flatnonzero(assigned < 0)
    if not len(unplaced) or not problem.excluded:
        return
    n_col = problem.eligible.shape[1]
    taken = assigned[assigned >= 0]
    room = problem.room - np.bincount(taken, minlength=n_col)
    room_b = problem.room_by_bucket.copy()
    buckets = problem.seg_bucket[problem.seg[assigned >= 0]]
    np.subtract.at(room_b, (taken, buckets), 1)
    for i in unplaced[np.argsort(-problem.value[unplaced], kind="stable")].tolist():
        s = int(problem.seg[i])
        b = int(problem.seg_bucket[s])
        banned = problem.excluded.get(i, frozenset())
        options = [
            c for c in np.flatnonzero(problem.eligible[s]).tolist()
            if room[c] > 0 and room_b[c, b] > 0 and c not in banned
        ]  # fmt: skip
        if options:
            c = max(options, key=lambda c: (problem.effect[s, c], -c))
            assigned[i] = c
            room[c] -= 1
            room_b[c, b] -= 1


def objective_of(problem: Problem, assigned: NDArray[np.int64]) -> float:
    """Σ value × effect over the assigned cases (fen)."""
    mask = assigned >= 0
    return float((problem.value[mask] * problem.effect[problem.seg[mask], assigned[mask]]).sum())


def greedy(problem: Problem, order_by: NDArray[np.int64]) -> NDArray[np.int64]:
    """The documented baseline (轮流分案): cases by amount due, largest first, dealt to the
    collectors in turn; each case goes to the next collector in the rotation with the skill,
    room overall and in its bucket and no exclusion; the rotation moves past them.

    Each segment keeps the sorted list of collectors who may still take its cases (skilled,
    with room), so finding "the next one from the rotation's position" is a binary search."""
    n_col = problem.eligible.shape[1]
    assigned = np.full(len(problem.value), -1, dtype=np.int64)
    room = problem.room.astype(np.int64).tolist()
    room_b = problem.room_by_bucket.astype(np.int64).tolist()
    seg_bucket = problem.seg_bucket.tolist()
    open_for: list[list[int]] = [
        [c for c in np.flatnonzero(problem.eligible[s]).tolist()
         if room[c] > 0 and room_b[c][seg_bucket[s]] > 0]
        for s in range(problem.eligible.shape[0])
    ]  # fmt: skip
    segs_of_bucket: dict[int, list[int]] = {}
    for s, b in enumerate(seg_bucket):
        segs_of_bucket.setdefault(b, []).append(s)
    segs = problem.seg.tolist()
    cursor = 0
    for i in np.argsort(-order_by, kind="stable").tolist():
        s = segs[i]
        options = open_for[s]
        if not options:
            continue
        banned = problem.excluded.get(i, frozenset())
        start = bisect_left(options, cursor)
        chosen = -1
        for k in range(len(options)):
            c = options[(start + k) % len(options)]
            if c not in banned:
                chosen = c
                break
        if chosen < 0:
            continue
        b = seg_bucket[s]
        assigned[i] = chosen
        room[chosen] -= 1
        room_b[chosen][b] -= 1
        cursor = (chosen + 1) % max(n_col, 1)
        if room[chosen] == 0:
            for lst in open_for:
                _discard(lst, chosen)
        elif room_b[chosen][b] == 0:
            for t in segs_of_bucket[b]:
                _discard(open_for[t], chosen)
    return assigned


def _discard(sorted_list: list[int], item: int) -> None:
    at = bisect_left(sorted_list, item)
    if at < len(sorted_list) and sorted_list[at] == item:
        del sorted_list[at]


# ------------------------------------------------------------------------ the whole plan


def plan(
    cases: pl.DataFrame,
    collectors: Sequence[Collector],
    effects: pl.DataFrame,
    policy: Policy,
    as_of: date,
) -> Plan:
    """The day's allocation: pool the cases a rule fires for, value them, solve, and say for
    each pooled case where it goes (``to_user_id``) and why (``reason``, ``gain`` — its
    expected recovery with that collector, fen) or why it is left (``left_reason``)."""
    valued = case_values(cases, policy)
    segments, valued = segments_of(valued)
    eligible = eligibility(segments, collectors)
    framed = pool_reasons(valued, collectors, eligible, policy, as_of)
    excluded = {
        str(k): int(n)
        for k, n in framed.filter(pl.col("excluded").is_not_null())
        .group_by("excluded")
        .len()
        .iter_rows()
    }
    pool = framed.filter(pl.col("reason").is_not_null()).sort("case_id")
    kept = framed.filter(
        pl.col("reason").is_null()
        & pl.col("excluded").is_null()
        & pl.col("assigned_user_id").is_not_null()
    )
    buckets = sorted({s.bucket for s in segments})
    b_index = {b: i for i, b in enumerate(buckets)}
    c_index = {c.user_id: i for i, c in enumerate(collectors)}
    load = np.zeros(len(collectors), dtype=np.int64)
    load_b = np.zeros((len(collectors), max(1, len(buckets))), dtype=np.int64)
    for user_id, bucket, n in kept.group_by("assigned_user_id", "bucket").len().iter_rows():
        if user_id in c_index:
            load[c_index[user_id]] += n
            load_b[c_index[user_id], b_index[bucket]] += n
    room = np.array([max(0, c.capacity) for c in collectors], dtype=np.int64) - load
    room_b = np.array(
        [[c.capacity_by_bucket.get(b, c.capacity) for b in buckets] or [c.capacity]
         for c in collectors],
        dtype=np.int64,
    ).reshape(len(collectors), max(1, len(buckets))) - load_b  # fmt: skip
    room = np.maximum(room, 0)
    room_b = np.maximum(room_b, 0)
    banned = _banned(pool, collectors, policy)
    problem = Problem(
        value=pool["value"].to_numpy().astype(np.float64),
        seg=pool["seg"].to_numpy().astype(np.int64),
        seg_bucket=np.array([b_index[s.bucket] for s in segments], dtype=np.int64),
        eligible=eligible,
        effect=effect_matrix(effects, segments, collectors),
        room=room,
        room_by_bucket=room_b,
        excluded=banned,
    )
    solution = solve(
        problem,
        per_segment=policy.blocks_per_segment,
        exact=pool.height <= policy.exact_up_to,
        exact_up_to=policy.exact_up_to,
    )
    baseline = greedy(problem, pool["due_fen"].to_numpy().astype(np.int64))
    chosen = baseline if policy.method == "greedy" else solution.assigned
    ids = np.array([c.user_id for c in collectors] + [0], dtype=np.int64)
    to = ids[chosen]  # -1 indexes the 0 sentinel
    gain = np.where(
        chosen >= 0,
        problem.value * problem.effect[problem.seg, np.maximum(chosen, 0)],
        0.0,
    )
    left = _left_reasons(problem, chosen)
    moves = pool.select(
        "case_id",
        "debtor_id",
        "bucket",
        pl.col("assigned_user_id").alias("from_user_id"),
        "reason",
        "value",
    ).with_columns(
        to_user_id=pl.Series(to, dtype=pl.Int64).replace(0, None),
        gain=pl.Series(gain, dtype=pl.Float64),
        left_reason=pl.Series(left, dtype=pl.String),
    )
    before = dict.fromkeys(c_index, 0)
    for user_id, n in (
        framed.filter(pl.col("assigned_user_id").is_not_null())
        .group_by("assigned_user_id")
        .len()
        .iter_rows()
    ):
        if user_id in before:
            before[user_id] = int(n)
    after = {c.user_id: int(load[i]) for i, c in enumerate(collectors)}
    for user_id, n in (
        moves.filter(pl.col("to_user_id").is_not_null()).group_by("to_user_id").len().iter_rows()
    ):
        after[user_id] += int(n)
    for user_id, n in (
        moves.filter(pl.col("to_user_id").is_null() & pl.col("from_user_id").is_not_null())
        .group_by("from_user_id")
        .len()
        .iter_rows()
    ):
        if user_id in after:  # a case no one else could take stays where it is
            after[user_id] += int(n)
    pooled = {str(k): int(n) for k, n in pool.group_by("reason").len().iter_rows()}
    return Plan(
        moves=moves,
        objective=objective_of(problem, chosen),
        bound=max(solution.bound, solution.objective),
        greedy_objective=objective_of(problem, baseline),
        load_before=before,
        load_after=after,
        excluded=excluded,
        pooled=pooled,
    )


def _banned(
    pool: pl.DataFrame, collectors: Sequence[Collector], policy: Policy
) -> dict[int, frozenset[int]]:
    """Per pooled case position, the collectors it may not go to: the one it leaves, the
    one it left last time (never straight back) and any conflict (回避)."""
    index = {c.user_id: i for i, c in enumerate(collectors)}
    by_name = {c.username: i for i, c in enumerate(collectors)}
    conflicts: dict[int, set[int]] = {}
    for name, debtor_id in policy.conflicts:
        if name in by_name:
            conflicts.setdefault(debtor_id, set()).add(by_name[name])
    banned: dict[int, frozenset[int]] = {}
    rows = pool.select("assigned_user_id", "left_user_id", "debtor_id").iter_rows()
    for i, (current, previous, debtor_id) in enumerate(rows):
        out = set(conflicts.get(debtor_id, ()))
        for user_id in (current, previous):
            if user_id is not None and user_id in index:
                out.add(index[user_id])
        if out:
            banned[i] = frozenset(out)
    return banned


def _left_reasons(problem: Problem, assigned: NDArray[np.int64]) -> list[str | None]:
    """Why each unassigned pooled case is left: no collector has the skill, or the skilled
    ones are full, or only a collector it may not go to had room."""
    out: list[str | None] = []
    has_skill: NDArray[np.bool_] = np.asarray(problem.eligible.any(axis=1), dtype=np.bool_)
    for i, c in enumerate(assigned.tolist()):
        if c >= 0:
            out.append(None)
            continue
        s = int(problem.seg[i])
        if not has_skill[s]:
            out.append("no_skilled_collector")
            continue
        b = int(problem.seg_bucket[s])
        open_ = np.flatnonzero(
            problem.eligible[s] & (problem.room > 0) & (problem.room_by_bucket[:, b] > 0)
        )
        banned = problem.excluded.get(i, frozenset())
        out.append("conflict" if len(open_) and set(open_.tolist()) <= banned else "no_capacity")
    return out
