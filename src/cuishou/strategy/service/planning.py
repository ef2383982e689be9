"""The daily planning step (策略执行): every open case's segment and today's actions.

After the cycle and scoring, for business date D and the strategy version in force on D:

1. read every open case with what the decision table looks at (bucket, DPD, grade, labels,
   amount tier, products, creditor, days since placement, days in the bucket);
2. segment them (:func:`cuishou.strategy.rules.segment_cases`) and carry each case's day in
   its segment from yesterday (a new segment starts at day 0);
3. list the path's steps due today and apply each step's daily cap;
4. send every planned contact through the compliance gate's bulk form
   (:func:`cuishou.compliance.planned.judge_planned`): allowed from the window's start,
   moved later in the day, or dropped with the rules; a contact with nothing to contact it
   on is ``no_point``;
5. write the segments (an event per change) and replace the day's plan, in one transaction.

The outputs are read by the work queue (call priority), the dialer list
(:func:`calls_list`), the message batches, visit requests and the agency/legal candidate
lists (:func:`task_list`), and the case page (:func:`case_plan`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.cases.service import record_reveal, require_reveal
from cuishou.compliance.planned import judge_planned
from cuishou.compliance.service import creditor_pack
from cuishou.experiments.rules import CHALLENGER, CHAMPION, arm_expr
from cuishou.experiments.service import (
    ExperimentPlan,
    experiment_arms,
    record_arms,
    running_experiments,
)
from cuishou.kit.errors import InvalidInput
from cuishou.kit.masking import mask_mobile_expr
from cuishou.store.bulk import Bulk, BulkStore, SessionBulk
from cuishou.store.db import transaction
from cuishou.strategy import TASK_ACTIONS
from cuishou.strategy.definition import ACTIONS, POINT_KIND, Strategy, strategy_from_text
from cuishou.strategy.repository import planning as repo
from cuishou.strategy.repository.versions import effective_version, version_by_id
from cuishou.strategy.rules import apply_caps, plan_actions, segment_cases, segment_days
from cuishou.strategy.schemas import CasePlanOut, PlannedActionOut, SegmentOut

NO_STRATEGY = "no strategy in force"
#: the statuses of a planned action the gate allows today
ALLOWED = frozenset({"planned", "moved"})
#: every status a planned action can have
PLAN_STATUSES = ("planned", "moved", "dropped", "capped", "no_point", "hold")


@dataclass
class PlanningSummary:
    """What the planning step did (the ``strategy`` key of ``cuishou daily --json``)."""

    strategy: str | None = None
    cases: int = 0
    unsegmented: int = 0
    conflicts: int = 0
    segments: dict[str, int] = field(default_factory=dict)
    segments_changed: int = 0
    actions: dict[str, int] = field(default_factory=dict)
    statuses: dict[str, int] = field(default_factory=dict)
    #: cases in a running experiment's arms (champion, challenger)
    arms: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    step_seconds: float = 0.0
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "strategy": self.strategy,
            "cases": self.cases,
            "unsegmented": self.unsegmented,
            "conflicts": self.conflicts,
            "segments": self.segments,
            "segments_changed": self.segments_changed,
            "actions": self.actions,
            "statuses": self.statuses,
            "arms": self.arms,
            "seconds": round(self.seconds, 3),
            "step_seconds": round(self.step_seconds, 3),
            "note": self.note,
        }


@dataclass(frozen=True)
class Trial:
    """A running experiment as planning uses it: its challenger's strategy and the arms
    its cases already hold."""

    experiment: ExperimentPlan
    challenger_id: int
    challenger: Strategy
    arms: pl.DataFrame  # case_id, arm


@dataclass(frozen=True)
class VersionInForce:
    id: int
    label: str  # code@version
    strategy: Strategy
    #: the rule pack of each creditor with open cases (creditor id → pack name)
    packs: dict[int, str]
    #: the running experiments whose champion is this version
    trials: tuple[Trial, ...] = ()


def version_in_force(engine: Engine, day: date) -> VersionInForce | None:
    with transaction(engine) as session:
        version = effective_version(session, day)
        if version is None:
            return None
        label = f"{version.code}@{version.version}"
        packs = {cid: creditor_pack(session, cid) for cid in repo.open_creditor_ids(session)}
        strategy = strategy_from_text(version.body, source=label)
        trials = []
        for experiment in running_experiments(session, day):
            challenger = version_by_id(session, experiment.challenger_id)
            # an experiment against a champion no longer in force plans nothing
            if experiment.champion_id != version.id or challenger is None:
                continue
            trials.append(
                Trial(
                    experiment=experiment,
                    challenger_id=challenger.id,
                    challenger=_document(challenger.sha256, challenger.body),
                    arms=experiment_arms(session, experiment.id),
                )
            )
        return VersionInForce(version.id, label, strategy, packs, tuple(trials))


def assign_arms(champion: Strategy, cases: pl.DataFrame, trials: tuple[Trial, ...]) -> pl.DataFrame:
    """``case_id, experiment_id, arm, new``: each open case in a running experiment — the
    arm it already holds, or, for an eligible case not yet in it (its champion segment is
    one the experiment takes part with), the arm of the hash of its id and the salt. A case
    takes part in one experiment at most (the oldest that takes it)."""
    schema = {"case_id": pl.Int64, "experiment_id": pl.Int64, "arm": pl.String,
              "new": pl.Boolean}  # fmt: skip
    if not trials:
        return pl.DataFrame(schema=schema)
    segmented = segment_cases(champion, cases).select("case_id", "segment")
    taken: list[pl.DataFrame] = []
    for trial in trials:
        plan = trial.experiment
        open_ids = cases.select("case_id")
        held = (
            trial.arms.join(open_ids, on="case_id", how="semi")
            .select("case_id", pl.lit(plan.id, dtype=pl.Int64).alias("experiment_id"), "arm",
                    pl.lit(False).alias("new"))
        )  # fmt: skip
        eligible = segmented.filter(
            pl.col("segment").is_in(list(plan.segments))
            if plan.segments
            else pl.col("segment").is_not_null()
        ).join(held, on="case_id", how="anti")
        for earlier in taken:
            eligible = eligible.join(earlier, on="case_id", how="anti")
            held = held.join(earlier, on="case_id", how="anti")
        joined = eligible.select(
            "case_id",
            pl.lit(plan.id, dtype=pl.Int64).alias("experiment_id"),
            pl.when(arm_expr(pl.col("case_id"), salt=plan.salt, share_pct=plan.share_pct))
            .then(pl.lit(CHALLENGER))
            .otherwise(pl.lit(CHAMPION))
            .alias("arm"),
            pl.lit(True).alias("new"),
        )
        taken.append(pl.concat([held, joined]).select(list(schema)))
    return pl.concat(taken).select(*[pl.col(c).cast(t) for c, t in schema.items()])


def decide_plan(
    strategy: Strategy,
    version_id: int,
    cases: pl.DataFrame,
    previous: pl.DataFrame,
    *,
    day: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The pure part: ``(segments, actions)`` for the cases planned by one version.

    ``segments``: ``case_id, version_id, segment, rule_no, since, changed, from_segment,
    conflict``; ``actions``: :data:`cuishou.strategy.rules.ACTION_SCHEMA` with ``capped``
    and ``version_id``.
    """
    segmented = segment_cases(strategy, cases)
    dated = segment_days(segmented, previous, today=day, version_id=version_id)
    actions = apply_caps(plan_actions(strategy, dated)).with_columns(
        pl.lit(version_id, dtype=pl.Int64).alias("version_id")
    )
    before = previous.select("case_id", pl.col("segment").alias("from_segment"))
    segments = (
        dated.join(before, on="case_id", how="left")
        .select(
            "case_id",
            pl.lit(version_id, dtype=pl.Int64).alias("version_id"),
            "segment", "rule_no", "since", "changed", "from_segment", "conflict",
        )
    )  # fmt: skip
    return segments, actions


def decide_day(
    version: VersionInForce, cases: pl.DataFrame, previous: pl.DataFrame, *, day: date
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """``(segments, actions, arms)`` for every open case: the champion plans the cases in no
    experiment's challenger arm, each experiment's challenger plans its arm; ``actions`` carry
    the ``arm`` of cases in an experiment."""
    arms = assign_arms(version.strategy, cases, version.trials)
    challenged = arms.filter(pl.col("arm") == CHALLENGER)
    parts = [
        (version.strategy, version.id, cases.join(challenged, on="case_id", how="anti")),
        *(
            (
                trial.challenger,
                trial.challenger_id,
                cases.join(
                    challenged.filter(pl.col("experiment_id") == trial.experiment.id),
                    on="case_id",
                    how="semi",
                ),
            )
            for trial in version.trials
        ),
    ]
    decided = [decide_plan(s, vid, subset, previous, day=day) for s, vid, subset in parts]
    segments = pl.concat([d[0] for d in decided])
    actions = pl.concat([d[1] for d in decided]).join(
        arms.select("case_id", "arm"), on="case_id", how="left"
    )
    return segments, actions, arms


def _plan_rows(
    actions: pl.DataFrame,
    points: pl.DataFrame,
    packs: dict[int, str],
    cases: pl.DataFrame,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """``(rows, contacts)``: every action with its point and a provisional status, and the
    contacts the gate must judge (``candidate_id`` = the row's index)."""
    kinds = pl.DataFrame(
        {"action": list(POINT_KIND), "kind": list(POINT_KIND.values())},
        schema={"action": pl.String, "kind": pl.String},
    )
    creditor = cases.select("case_id", "creditor_id")
    pack_of = pl.DataFrame(
        {"creditor_id": list(packs), "pack": list(packs.values())},
        schema={"creditor_id": pl.Int64, "pack": pl.String},
    )
    rows = (
        actions.join(kinds, on="action", how="left")
        .join(points, on=["debtor_id", "kind"], how="left")
        .join(creditor, on="case_id", how="left")
        .join(pack_of, on="creditor_id", how="left")
        .with_row_index("candidate_id")
        .with_columns(
            pl.col("candidate_id").cast(pl.Int64),
            pl.when(pl.col("action") == "hold").then(pl.lit("hold"))
            .when(pl.col("capped")).then(pl.lit("capped"))
            .when(pl.col("channel").is_not_null() & pl.col("contact_point_id").is_null())
            .then(pl.lit("no_point"))
            .otherwise(pl.lit("planned"))
            .alias("status"),
        )
    )  # fmt: skip
    contacts = rows.filter(pl.col("channel").is_not_null() & (pl.col("status") == "planned"))
    return rows, contacts


def plan_open_cases(engine: Engine, day: date, *, now: datetime) -> PlanningSummary:
    """The planning step for ``day`` (module docstring); without a strategy in force it
    plans nothing and says so."""
    started = time.perf_counter()
    summary = PlanningSummary()
    version = version_in_force(engine, day)
    if version is None:
        summary.note = NO_STRATEGY
        return summary
    summary.strategy = version.label
    with BulkStore(engine).write() as bulk:
        cases = repo.open_cases(bulk, day)
        previous = repo.previous_segments(bulk)
        points = repo.debtor_points(bulk, tuple(sorted(set(POINT_KIND.values()))))
        step_started = time.perf_counter()
        segments, actions, arms = decide_day(version, cases, previous, day=day)
        rows, contacts = _plan_rows(actions, points, version.packs, cases)
        step_seconds = time.perf_counter() - step_started
        gate_started = time.perf_counter()
        judged = judge_planned(
            bulk,
            contacts.select(
                "candidate_id", "case_id", "debtor_id", "channel", "contact_point_id", "pack"
            ),
            day=day,
        )
        summary.step_seconds = step_seconds + (time.perf_counter() - gate_started)
        plan = (
            rows.join(judged, on="candidate_id", how="left")
            .select(
                "case_id", "version_id", "segment", "step", "action", "channel", "template",
                "priority", "contact_point_id", "window_start", "window_end",
                pl.coalesce(pl.col("status_right"), pl.col("status")).alias("status"),
                _json_list(pl.col("rule_ids")).alias("rule_ids"),
                "arm",
            )
        )  # fmt: skip
        kept = segments.filter(pl.col("segment").is_not_null())
        written = repo.write_segments(bulk, kept, day=day, now=now)
        repo.write_plan(bulk, plan, day=day)
    joined = arms.filter(pl.col("new"))
    if joined.height:
        with transaction(engine) as session:
            for (experiment_id,), group in joined.group_by("experiment_id"):
                record_arms(session, int(experiment_id), group.select("case_id", "arm"), day)
    summary.arms = _counts(arms, "arm")
    summary.cases = cases.height
    summary.unsegmented = segments.filter(pl.col("segment").is_null()).height
    summary.conflicts = int(segments.get_column("conflict").sum())
    summary.segments = _counts(kept, "segment")
    summary.segments_changed = written["changed"]
    summary.actions = _counts(plan, "action")
    summary.statuses = _counts(plan, "status")
    summary.seconds = time.perf_counter() - started
    return summary


def _json_list(ids: pl.Expr) -> pl.Expr:
    """A list of rule ids (plain codes such as ``CN-01``) as JSON text."""
    return (
        pl.when(ids.is_null() | (ids.list.len() == 0))
        .then(pl.lit("[]"))
        .otherwise(pl.concat_str(pl.lit('["'), ids.list.join('", "'), pl.lit('"]')))
    )


def _counts(frame: pl.DataFrame, column: str) -> dict[str, int]:
    return {str(k): int(n) for k, n in frame.group_by(column).len().sort(column).rows()}


# --------------------------------------------------------------------------- one case


@cache
def _document(sha256: str, body: str) -> Strategy:
    return strategy_from_text(body, source=sha256[:12])


def case_segment(session: Session, case_id: int) -> SegmentOut | None:
    """The case's segment with its names (``GET /api/v1/cases/{id}``'s ``segment``)."""
    found = repo.case_segment(session, case_id)
    if found is None:
        return None
    row, version = found
    try:
        segment = _document(version.sha256, version.body).segment(row.segment)
        zh, en = segment.zh, segment.en
    except KeyError:  # pragma: no cover - a stored version always names its segments
        zh = en = row.segment
    plans = repo.case_actions(session, case_id)
    on = plans[0].day if plans else row.updated_on
    return SegmentOut(
        code=row.segment, name=zh, name_en=en,
        strategy_version=f"{version.code}@{version.version}",
        since=row.since, day=max((on - row.since).days, 0),
    )  # fmt: skip


def case_plan(session: Session, case_id: int) -> CasePlanOut | None:
    """The case's plan for the latest day it has one (``plan`` of the case API)."""
    rows = repo.case_actions(session, case_id)
    if not rows:
        return None
    return CasePlanOut(
        day=rows[0].day,
        actions=[
            PlannedActionOut(
                action=r.action, channel=r.channel, template=r.template, priority=r.priority,
                status=r.status, allowed=r.status in ALLOWED, window_start=r.window_start,
                window_end=r.window_end, rule_ids=list(r.rule_ids or []),
            )
            for r in rows
        ],
    )  # fmt: skip


# --------------------------------------------------------------------------- lists

#: the dialer list's columns (``cuishou strategy calls``), in file order
DIALER_COLUMNS = (
    "case_id", "contact_point_id", "number", "priority", "window_start", "window_end",
    "action", "segment", "collector", "due", "dpd", "bucket",
)  # fmt: skip
#: the task lists' columns (``cuishou strategy tasks``), in file order
TASK_COLUMNS = (
    "case_id", "action", "segment", "template", "status", "contact_point_id", "point_kind",
    "window_start", "window_end", "collector", "due", "dpd", "bucket", "rule_ids",
)  # fmt: skip


def _iso_local(frame: pl.DataFrame, column: str) -> pl.Expr:
    """``column`` (aware UTC) as ISO 8601 text with the offset of each row's home zone."""
    result: pl.Expr = pl.lit(None, dtype=pl.String)
    for name in sorted(frame.get_column("home_zone").drop_nulls().unique().to_list()):
        local = pl.col(column).dt.convert_time_zone(name).dt.strftime("%Y-%m-%dT%H:%M:%S%:z")
        result = pl.when(pl.col("home_zone") == name).then(local).otherwise(result)
    return result.alias(column)


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Fen as a yuan decimal string (``123456`` → ``1234.56``)."""
    return pl.concat_str(
        (fen // 100).cast(pl.String), pl.lit("."), (fen % 100).cast(pl.String).str.zfill(2)
    )


def dialer_list(
    engine: Engine, day: date, *, revealer: Principal | None = None, now: datetime
) -> pl.DataFrame:
    """The day's dialer list (外呼名单): every call and robot call the gate allows, in call
    priority order, with its window (ISO 8601 with the debtor's offset: the gate allows the
    call at any instant from ``window_start`` up to ``window_end``, as far as is known now).

    Numbers are masked unless ``revealer`` may reveal them; then each case listed gets a
    ``pii.revealed`` event (audit), as the case page's reveal does.
    """
    if revealer is not None:
        require_reveal(revealer)
    with BulkStore(engine).read() as bulk:
        rows = repo.plan_list(bulk, day, actions=("call", "ivr"), statuses=tuple(ALLOWED))
    number = (
        pl.col("point_value") if revealer is not None else mask_mobile_expr(pl.col("point_value"))
    )
    listed = rows.with_columns(
        number.alias("number"),
        _iso_local(rows, "window_start"),
        _iso_local(rows, "window_end"),
        _yuan(pl.col("due_fen")).alias("due"),
    ).select(DIALER_COLUMNS)
    if revealer is not None and listed.height:
        with transaction(engine) as session:
            for case_id, point_id in listed.select("case_id", "contact_point_id").iter_rows():
                record_reveal(
                    session, revealer, case_id=case_id, now=now, field="contact_point",
                    contact_point_id=point_id, reason="dialer list",
                )  # fmt: skip
    return listed


def task_list(
    engine: Engine, day: date, *, actions: tuple[str, ...] = TASK_ACTIONS
) -> pl.DataFrame:
    """The day's other planned work: message batches (SMS, letters, e-mail, WeChat) for the
    channel adapters, visit requests, and agency-placement and legal-referral candidates —
    with the gate's decision (``status``, ``rule_ids``); points are named by id only."""
    with BulkStore(engine).read() as bulk:
        return _tasks(bulk, day, actions)


def task_list_in(
    session: Session, day: date, *, actions: tuple[str, ...] = TASK_ACTIONS
) -> pl.DataFrame:
    """:func:`task_list` read inside the caller's transaction (a request's session)."""
    return _tasks(SessionBulk(session), day, actions)


def _tasks(bulk: Bulk, day: date, actions: tuple[str, ...]) -> pl.DataFrame:
    unknown = sorted(set(actions) - set(ACTIONS))
    if unknown:
        raise InvalidInput(
            f"unknown action {', '.join(unknown)} (one of {', '.join(ACTIONS)})", field="action"
        )
    rows = repo.plan_list(bulk, day, actions=actions, statuses=PLAN_STATUSES)
    return rows.with_columns(
        _iso_local(rows, "window_start"),
        _iso_local(rows, "window_end"),
        _yuan(pl.col("due_fen")).alias("due"),
    ).select(TASK_COLUMNS)


# --------------------------------------------------------------------------- for a lake


def lake_strategy(engine: Engine, day: date) -> dict[str, Any] | None:
    """The version in force on ``day`` as a JSON document for a Parquet lake (its id,
    label, text and each running experiment with its challenger's text and the arms its
    cases hold), or ``None`` when none is in force; read back by :func:`strategy_from_lake`.
    Creditors' compliance packs are not carried: a lake run segments, the store plans."""
    with transaction(engine) as session:
        version = effective_version(session, day)
        if version is None:
            return None
        trials = []
        for experiment in running_experiments(session, day):
            challenger = version_by_id(session, experiment.challenger_id)
            if experiment.champion_id != version.id or challenger is None:
                continue
            arms = experiment_arms(session, experiment.id)
            trials.append(
                {
                    "experiment": {
                        "id": experiment.id, "name": experiment.name, "salt": experiment.salt,
                        "share_pct": experiment.share_pct,
                        "champion_id": experiment.champion_id,
                        "challenger_id": experiment.challenger_id,
                        "segments": list(experiment.segments),
                    },
                    "challenger": {"id": challenger.id, "sha256": challenger.sha256,
                                   "body": challenger.body},
                    "arms": {
                        "case_id": arms.get_column("case_id").to_list(),
                        "arm": arms.get_column("arm").to_list(),
                    },
                }
            )  # fmt: skip
        return {
            "day": day.isoformat(),
            "id": version.id,
            "label": f"{version.code}@{version.version}",
            "sha256": version.sha256,
            "body": version.body,
            "trials": trials,
        }


def strategy_from_lake(document: dict[str, Any]) -> VersionInForce:
    """A :func:`lake_strategy` document as the planning step's :class:`VersionInForce`."""
    trials = tuple(
        Trial(
            experiment=ExperimentPlan(
                **{**t["experiment"], "segments": tuple(t["experiment"]["segments"])}
            ),
            challenger_id=int(t["challenger"]["id"]),
            challenger=_document(t["challenger"]["sha256"], t["challenger"]["body"]),
            arms=pl.DataFrame(t["arms"], schema={"case_id": pl.Int64, "arm": pl.String}),
        )
        for t in document["trials"]
    )
    strategy = _document(document["sha256"], document["body"])
    return VersionInForce(int(document["id"]), str(document["label"]), strategy, {}, trials)


def segments_held(bulk: Bulk) -> pl.DataFrame:
    """Every case's segment as held now (``case_id, segment, since, version_id``)."""
    return repo.previous_segments(bulk)
