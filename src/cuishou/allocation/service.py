"""案件分配 use cases: preview, apply and undo a daily allocation.

Fetch (the repository loads the facts), decide (``rules.plan``), act (the cases domain
assigns — :func:`cuishou.cases.service.assign_many`, the one assignment path — and this
domain records the batch, its moves and a ``case.allocated`` event per case saying why).
Services never commit: the caller's transaction does.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.allocation import repository as repo
from cuishou.allocation.config import AllocationSettings, SkillSpec, default_settings
from cuishou.allocation.rules import Collector, Plan, Policy, Skills, collector_effects, plan
from cuishou.allocation.schemas import (
    AllocationOut,
    BatchRow,
    KeptCase,
    Left,
    UndoOut,
    Workload,
)
from cuishou.auth.rules import Principal
from cuishou.auth.service import principal_named, require
from cuishou.cases import service as cases
from cuishou.kit.errors import InvalidInput, NotFound, PermissionDenied
from cuishou.kit.money import format_yuan, format_yuan_expr
from cuishou.store.db import transaction

#: who may apply or undo an allocation (组长, 主管/经理)
ALLOCATORS = frozenset({"team_lead", "manager"})
LEFT_SHOWN = 50


def require_allocator(principal: Principal) -> None:
    require(principal, "case.assign")
    if principal.role not in ALLOCATORS:
        raise PermissionDenied(
            f"a {principal.role} may not run an allocation; a team lead or manager may",
            permission="case.assign",
        )


def _merge(team: SkillSpec | None, own: SkillSpec | None) -> SkillSpec:
    base = (team or SkillSpec()).model_dump(exclude_none=True)
    base.update((own or SkillSpec()).model_dump(exclude_none=True))
    return SkillSpec.model_validate(base)


def collectors_of(
    settings: AllocationSettings, rows: list[tuple[int, str, str | None]]
) -> list[Collector]:
    """The run's collectors with their capacity and skills: the team's settings, then the
    collector's own over them, then the defaults."""
    out = []
    for user_id, username, team in rows:
        spec = _merge(settings.teams.get(team or ""), settings.collectors.get(username))
        out.append(
            Collector(
                user_id=user_id,
                username=username,
                team=team,
                capacity=settings.capacity if spec.capacity is None else spec.capacity,
                capacity_by_bucket={
                    **settings.capacity_by_bucket, **(spec.capacity_by_bucket or {}),
                },
                skills=Skills(
                    buckets=spec.buckets, amount_tiers=spec.amount_tiers,
                    products=spec.products, regions=spec.regions, languages=spec.languages,
                    senior=bool(spec.senior),
                ),
            )
        )  # fmt: skip
    return out


def policy_of(settings: AllocationSettings, collectors: list[Collector]) -> Policy:
    return Policy(
        no_rpc_days=settings.rotation.no_rpc_days,
        rotate_on_bucket_change=settings.rotation.on_bucket_change,
        vip_from_fen=settings.vip_from_fen,
        prior_pay_30d=dict(settings.prior_pay_30d),
        prior_default=settings.prior_pay_30d_default,
        conflicts=frozenset((c.collector, c.debtor_id) for c in settings.exclusions.conflicts),
        blocks_per_segment=settings.solver.blocks_per_segment,
        exact_up_to=settings.solver.exact_up_to,
        method=settings.solver.method,
        by_region=any(c.skills.regions is not None for c in collectors),
        by_language=any(c.skills.languages is not None for c in collectors),
    )


def _warnings(settings: AllocationSettings, collectors: list[Collector]) -> list[str]:
    out = []
    if not collectors:
        out.append("no active in-house collector in scope: nothing can be allocated")
    return out


def _scope_team(principal: Principal | None) -> int | None:
    if principal is not None and principal.role == "team_lead":
        if principal.team_id is None:
            raise InvalidInput("a team lead without a team has no cases to allocate", field="as")
        return principal.team_id
    return None


def decide(
    session: Session, principal: Principal | None, as_of: date, settings: AllocationSettings
) -> tuple[Plan, pl.DataFrame, list[Collector], list[str]]:
    """Fetch and decide: the plan for ``as_of`` over the principal's cases and collectors (a
    team lead: their team; a manager or no one (a preview from the command line): all)."""
    team_id = _scope_team(principal)
    people = collectors_of(settings, repo.collectors(session, team_id=team_id))
    facts = repo.case_facts(
        session,
        team_id=team_id,
        labels=sorted(settings.exclusions.labels),
        hold_kinds=sorted(settings.exclusions.hold_kinds),
        alert_kinds=sorted(settings.exclusions.alert_kinds),
    )
    since = repo.lookback_start(as_of, settings.effect.lookback_days)
    effects = collector_effects(
        repo.history(session, since=since),
        people,
        prior_strength=settings.effect.prior_strength,
        low=settings.effect.low,
        high=settings.effect.high,
    )
    policy = policy_of(settings, people)
    decided = plan(facts.drop("team_id"), people, effects, policy, as_of)
    return decided, facts, people, _warnings(settings, people)


def _out(
    decided: Plan,
    people: list[Collector],
    *,
    batch: int | None,
    as_of: date,
    warnings: list[str],
) -> AllocationOut:
    names = {c.user_id: c.username for c in people}
    moves = decided.moves
    moved = moves.filter(pl.col("to_user_id").is_not_null())
    left = moves.filter(pl.col("to_user_id").is_null())
    by_collector = {
        names[int(u)]: int(n)
        for u, n in moved.group_by("to_user_id").len().sort("to_user_id").iter_rows()
    }
    return AllocationOut(
        batch=batch,
        as_of=as_of.isoformat(),
        dry_run=batch is None,
        assigned=moved.filter(pl.col("from_user_id").is_null()).height,
        reassigned=moved.filter(pl.col("from_user_id").is_not_null()).height,
        pooled=decided.pooled,
        excluded=decided.excluded,
        unassigned_left=Left(
            count=left.height,
            reasons={str(k): int(n) for k, n in left.group_by("left_reason").len().iter_rows()},
            case_ids=left["case_id"].head(LEFT_SHOWN).to_list(),
        ),
        by_collector=dict(sorted(by_collector.items())),
        workload=[
            Workload(
                collector=c.username,
                team=c.team,
                before=decided.load_before.get(c.user_id, 0),
                after=decided.load_after.get(c.user_id, 0),
            )
            for c in people
        ],
        objective=format_yuan(round(decided.objective)),
        bound=format_yuan(round(decided.bound)),
        greedy_objective=format_yuan(round(decided.greedy_objective)),
        optimality=round(decided.objective / decided.bound, 6) if decided.bound > 0 else 1.0,
        warnings=warnings,
    )


def preview(
    session: Session, principal: Principal | None, as_of: date, settings: AllocationSettings
) -> AllocationOut:
    """``--dry-run``: what an allocation would do, writing nothing."""
    decided, _, people, warnings = decide(session, principal, as_of, settings)
    return _out(decided, people, batch=None, as_of=as_of, warnings=warnings)


def apply(
    session: Session,
    principal: Principal,
    as_of: date,
    settings: AllocationSettings,
    *,
    now: datetime,
) -> AllocationOut:
    """Allocate and record the batch: the cases domain assigns, each move is a row of the
    batch and a ``case.allocated`` event with its reason and expected recovery."""
    require_allocator(principal)
    decided, facts, people, warnings = decide(session, principal, as_of, settings)
    names = {c.user_id: c.username for c in people}
    moved = (
        decided.moves.filter(pl.col("to_user_id").is_not_null())
        .join(facts.select("case_id", pl.col("team_id").alias("from_team_id")), on="case_id")
        .with_columns(gain_fen=pl.col("gain").round(0).cast(pl.Int64))
    )
    batch = repo.add_batch(session, as_of=as_of, actor=principal.username, now=now, summary={})
    wanted: dict[str, list[int]] = {}
    for case_id, to in moved.select("case_id", "to_user_id").iter_rows():
        wanted.setdefault(names[int(to)], []).append(int(case_id))
    cases.assign_many(session, principal, wanted, now=now)
    payload = pl.struct(
        pl.lit(batch.id).alias("batch"),
        "reason",
        pl.col("to_user_id").replace_strict(names, return_dtype=pl.String).alias("to"),
        format_yuan_expr(pl.col("gain_fen")).alias("gain"),
    ).struct.json_encode()
    repo.record_moves(
        session,
        moved.with_columns(payload=payload),
        batch_id=batch.id,
        actor=principal.username,
        now=now,
    )
    out = _out(decided, people, batch=batch.id, as_of=as_of, warnings=warnings)
    batch.summary = json.loads(out.model_dump_json(exclude={"workload"}))
    return out


def undo(session: Session, principal: Principal, batch_id: int, *, now: datetime) -> UndoOut:
    """``--undo BATCH``: put every case of the batch back with the collector (and team) it
    had, unless it was worked since (a contact, a promise, a later assignment, another
    collector now) or its collector has left: those are kept as they are and listed."""
    require_allocator(principal)
    batch = repo.batch(session, batch_id, for_update=True)
    if batch is None:
        raise NotFound(f"no allocation batch {batch_id}", field="batch")
    if batch.status != "applied":
        raise InvalidInput(f"allocation batch {batch_id} is already {batch.status}", field="batch")
    moves = repo.batch_moves(session, batch_id, since=batch.created_at)
    moves = moves.with_columns(
        why=pl.when(pl.col("assigned_user_id").ne_missing(pl.col("to_user_id")))
        .then(pl.lit("reassigned"))
        .when(pl.col("worked").is_not_null())
        .then(pl.col("worked"))
        .when(pl.col("from_user_id").is_not_null() & ~pl.col("from_active").fill_null(False))
        .then(pl.lit("collector_left"))  # cases are never given back to someone who left
        .otherwise(None)
    )
    kept = moves.filter(pl.col("why").is_not_null())
    back = moves.filter(pl.col("why").is_null())
    to_collector: dict[str, list[int]] = {}
    for case_id, name in (
        back.filter(pl.col("from_user_id").is_not_null())
        .select("case_id", "from_username")
        .iter_rows()
    ):
        to_collector.setdefault(str(name), []).append(int(case_id))
    cases.assign_many(session, principal, to_collector, now=now)
    queues = {
        int(c): (None if t is None else int(t))
        for c, t in back.filter(pl.col("from_user_id").is_null())
        .select("case_id", "from_team_id")
        .iter_rows()
    }
    cases.unassign_many(session, principal, queues, now=now)
    kept_list = [
        KeptCase(case_id=int(c), why=str(w)) for c, w in kept.select("case_id", "why").iter_rows()
    ]
    batch.status = "undone"
    batch.undone_at = now
    batch.undone_by = principal.username
    batch.summary = {**batch.summary, "undo": {"restored": back.height, "kept": kept.height}}
    return UndoOut(batch=batch_id, restored=back.height, kept=kept_list)


def allocate_in_cycle(
    engine: Engine,
    as_of: date,
    *,
    now: datetime,
    force: bool | None = None,
    settings: AllocationSettings | None = None,
) -> dict[str, object] | None:
    """The daily cycle's allocation step (its own transaction): runs when ``force`` is true,
    or when ``force`` is None and the settings say ``enabled_in_daily_cycle``; acts as the
    settings' ``run_as`` (a team lead or manager). None when it did not run."""
    settings = settings or default_settings()
    if not (settings.enabled_in_daily_cycle if force is None else force):
        return None
    if not settings.run_as:
        raise InvalidInput(
            "the daily cycle allocates as allocation.yaml's run_as (a team lead or manager)",
            field="run_as",
        )
    with transaction(engine) as session:
        who = principal_named(session, settings.run_as)
        return apply(session, who, as_of, settings, now=now).model_dump(mode="json")


def recent_batches(session: Session, principal: Principal) -> list[BatchRow]:
    """The latest allocation batches, newest first (team leads and managers)."""
    require_allocator(principal)
    return [
        BatchRow(
            id=b.id, as_of=b.as_of.isoformat(), actor=b.actor, status=b.status,
            assigned=int(b.summary.get("assigned", 0)),
            reassigned=int(b.summary.get("reassigned", 0)),
        )
        for b in repo.recent_batches(session)
    ]  # fmt: skip
