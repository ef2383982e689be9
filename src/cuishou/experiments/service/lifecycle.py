"""An experiment's life (策略实验): start, stop, promote by four eyes (asked by one person,
approved or rejected by another), each an event; reading one or all."""

from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.experiments import repository as repo
from cuishou.experiments.config import ExperimentSettings, default_settings, guardrails_with
from cuishou.experiments.rules import (
    ARMS,
    ENTITY,
    NAME,
    overlaps,
    parse_version_ref,
)
from cuishou.experiments.schemas import (
    ExperimentOut,
)
from cuishou.kit.errors import Conflict, InvalidInput, PermissionDenied
from cuishou.store.tables import Experiment, StrategyVersion
from cuishou.strategy.definition import StrategyError, strategy_from_text
from cuishou.strategy.repository.versions import effective_version
from cuishou.strategy.service import lifecycle as strategy_lifecycle

#: the statuses a challenger version may have to be tried
CHALLENGER_STATUSES = ("approved", "active")


def _acting(principal: Principal | None, actor: str, permission: str) -> str:
    """Who acts: a person (who must hold ``permission``) or the command line / the system."""
    if principal is None:
        return actor
    require(principal, permission)
    return principal.username


def _version(session: Session, text: str, *, field: str) -> StrategyVersion:
    ref = parse_version_ref(text)
    if ref is None:
        raise InvalidInput(f"{field}: give a version id or code@version, not {text!r}", field=field)
    found = (
        repo.version(session, ref.id)
        if ref.id is not None
        else repo.version_by_code(session, ref.code or "", ref.version or 0)
    )
    if found is None:
        raise InvalidInput(f"{field}: no strategy version {text}", field=field)
    return found


def _segment_codes(version: StrategyVersion) -> set[str]:
    try:
        strategy = strategy_from_text(version.body, source=f"{version.code}@{version.version}")
    except StrategyError as exc:  # pragma: no cover - a stored version was validated
        raise InvalidInput(f"champion: its document does not parse: {exc}") from exc
    return {segment.code for segment in strategy.segments}


def start_experiment(
    session: Session,
    principal: Principal | None,
    *,
    name: str,
    champion: str,
    challenger: str,
    share_pct: float | None = None,
    segments: tuple[str, ...] = (),
    guardrails: dict[str, Any] | None = None,
    actor: str,
    day: date,
    now: datetime,
    settings: ExperimentSettings | None = None,
) -> Experiment:
    """Start an experiment: ``share_pct`` of the eligible cases (those of the champion's
    ``segments``; none given: every case) are planned by the ``challenger`` from the next
    planning on, the rest by the ``champion``.

    The champion must be the version in force on ``day``; the challenger an approved or
    active version other than it. Experiments run side by side only on disjoint segment sets
    (a case is planned by one experiment), so one over every segment runs alone. The
    guard-rail limits are the configured defaults with ``guardrails`` over them, copied into
    the experiment (a later change of the defaults does not move a running experiment)."""
    actor = _acting(principal, actor, "experiment.manage")
    settings = settings or default_settings()
    if not NAME.match(name):
        raise InvalidInput(
            "name: 1–48 letters, digits, '-', '_' or '.'", field="name"
        )  # fmt: skip
    if repo.by_name(session, name) is not None:
        raise Conflict(f"an experiment named {name} exists already", field="name")
    champ = _version(session, champion, field="champion")
    chall = _version(session, challenger, field="challenger")
    in_force = effective_version(session, day)
    if in_force is None or in_force.id != champ.id:
        current = f"{in_force.code}@{in_force.version}" if in_force else "none"
        raise InvalidInput(
            f"champion: {champ.code}@{champ.version} is not the strategy in force on "
            f"{day} ({current})",
            field="champion",
        )
    if chall.id == champ.id:
        raise InvalidInput("challenger: must differ from the champion", field="challenger")
    if chall.status not in CHALLENGER_STATUSES:
        raise InvalidInput(
            f"challenger: {chall.code}@{chall.version} is {chall.status}; approve it first",
            field="challenger",
        )
    share = settings.share_pct if share_pct is None else share_pct
    if not 0 < share < 100:
        raise InvalidInput("share: a percentage above 0 and below 100", field="share")
    wanted = tuple(dict.fromkeys(s.strip() for s in segments if s.strip()))
    unknown = sorted(set(wanted) - _segment_codes(champ))
    if unknown:
        raise InvalidInput(
            f"segment: {', '.join(unknown)} not in the champion's segments", field="segment"
        )
    for other in repo.running(session):
        if overlaps(wanted, other.segments or ()):
            raise Conflict(
                f"experiment {other.name} is running on "
                f"{', '.join(other.segments) if other.segments else 'every segment'}; "
                "experiments run side by side only on disjoint segments",
                experiment=other.name,
            )
    limits = guardrails_with(settings.guardrails, guardrails or {})
    salt = hashlib.sha256(f"{name}|{now.isoformat()}".encode()).hexdigest()[:16]
    experiment = repo.add(
        session,
        name=name,
        salt=salt,
        champion_id=champ.id,
        challenger_id=chall.id,
        share_pct=float(share),
        segments=list(wanted),
        status="running",
        guardrails=limits.model_dump(),
        started_on=day,
        started_by=actor,
        started_at=now,
    )
    append_event(
        session, at=now, actor=actor, type="experiment.started", entity_type=ENTITY,
        entity_id=experiment.id,
        payload={
            "name": name, "champion": f"{champ.code}@{champ.version}",
            "challenger": f"{chall.code}@{chall.version}", "share_pct": float(share),
            "segments": list(wanted), "guardrails": limits.model_dump(),
        },
    )  # fmt: skip
    return experiment


def stop_experiment(
    session: Session,
    principal: Principal | None,
    experiment_id: int,
    *,
    reason: str,
    actor: str,
    day: date,
    now: datetime,
) -> Experiment:
    """Stop a running experiment: from the next planning every case is the champion's again
    (the arms stay recorded, so the results still read)."""
    actor = _acting(principal, actor, "experiment.manage")
    experiment = repo.get(session, experiment_id)
    reason = reason.strip() or "stopped by hand"
    if not repo.finish(
        session, experiment.id, status="stopped", on=day, by=actor, reason=reason,
        allowed_from=("running",),
    ):  # fmt: skip
        raise Conflict(f"experiment {experiment.name} is {experiment.status}, not running")
    append_event(
        session, at=now, actor=actor, type="experiment.stopped", entity_type=ENTITY,
        entity_id=experiment.id, payload={"name": experiment.name, "reason": reason},
    )  # fmt: skip
    return repo.get(session, experiment.id)


def promotion_requested_by(session: Session, experiment_id: int) -> str | None:
    """Who asked for the promotion still waiting for a second person (``None``: nobody)."""
    events = repo.promotion_events(session, experiment_id)
    if events and events[-1].type == "experiment.promotion_requested":
        return events[-1].actor
    return None


def request_promotion(
    session: Session,
    principal: Principal | None,
    experiment_id: int,
    *,
    note: str = "",
    actor: str,
    now: datetime,
) -> Experiment:
    """Ask for the challenger to become the strategy (first pair of eyes)."""
    actor = _acting(principal, actor, "experiment.manage")
    experiment = repo.get(session, experiment_id)
    if experiment.status not in ("running", "stopped"):
        raise Conflict(f"experiment {experiment.name} is {experiment.status}")
    waiting = promotion_requested_by(session, experiment.id)
    if waiting is not None:
        raise Conflict(f"{waiting} has asked already; a second person approves or rejects")
    append_event(
        session, at=now, actor=actor, type="experiment.promotion_requested", entity_type=ENTITY,
        entity_id=experiment.id, payload={"name": experiment.name, "note": note.strip()},
    )  # fmt: skip
    return experiment


def _answerable(session: Session, principal: Principal | None, experiment_id: int,
                actor: str) -> tuple[Experiment, str, str]:  # fmt: skip
    actor = _acting(principal, actor, "experiment.approve")
    experiment = repo.get(session, experiment_id, for_update=True)
    requested = promotion_requested_by(session, experiment.id)
    if requested is None:
        raise Conflict(f"no promotion of {experiment.name} is waiting for approval")
    if requested == actor:
        raise PermissionDenied(
            "four eyes: the person who asked for the promotion may not approve or reject it",
            permission="experiment.approve",
        )
    return experiment, actor, requested


def approve_promotion(
    session: Session,
    principal: Principal | None,
    experiment_id: int,
    *,
    actor: str,
    day: date,
    now: datetime,
) -> Experiment:
    """Approve a requested promotion (second pair of eyes, not the requester): the experiment
    ends as ``promoted`` and the challenger becomes the strategy in force."""
    experiment, actor, requested = _answerable(session, principal, experiment_id, actor)
    if experiment.status not in ("running", "stopped"):
        raise Conflict(f"experiment {experiment.name} is {experiment.status}")
    repo.finish(
        session, experiment.id, status="promoted", on=day, by=actor,
        reason=f"promoted: asked by {requested}, approved by {actor}",
        allowed_from=("running", "stopped"),
    )  # fmt: skip
    labels = repo.version_labels(session, {experiment.champion_id, experiment.challenger_id})
    append_event(
        session, at=now, actor=actor, type="experiment.promoted", entity_type=ENTITY,
        entity_id=experiment.id,
        payload={"name": experiment.name, "requested_by": requested,
                 "champion": labels.get(experiment.champion_id),
                 "challenger": labels.get(experiment.challenger_id)},
    )  # fmt: skip
    promoted = repo.get(session, experiment.id)
    _activate_challenger(session, promoted, actor=actor, day=day, now=now)
    return promoted


def _activate_challenger(
    session: Session, experiment: Experiment, *, actor: str, day: date, now: datetime
) -> None:
    """The one place promotion hands the challenger to the strategy lifecycle: an approved
    challenger is activated from ``day`` (four eyes were this experiment's request and
    approval), the champion it replaces retires, each with its own event. A challenger
    already active (scheduled) is left as it stands."""
    del day
    challenger = strategy_lifecycle.version_status(session, experiment.challenger_id)
    if challenger == "approved":
        strategy_lifecycle.activate(session, experiment.challenger_id, actor=actor, now=now)


def reject_promotion(
    session: Session,
    principal: Principal | None,
    experiment_id: int,
    *,
    note: str = "",
    actor: str,
    now: datetime,
) -> Experiment:
    """Turn a requested promotion down (not the requester); the experiment goes on."""
    experiment, actor, requested = _answerable(session, principal, experiment_id, actor)
    append_event(
        session, at=now, actor=actor, type="experiment.promotion_rejected", entity_type=ENTITY,
        entity_id=experiment.id,
        payload={"name": experiment.name, "requested_by": requested, "note": note.strip()},
    )  # fmt: skip
    return experiment


# --------------------------------------------------------------------------- reading


def experiment_out(session: Session, experiment: Experiment) -> ExperimentOut:
    labels = repo.version_labels(session, {experiment.champion_id, experiment.challenger_id})
    counts = repo.arm_counts(session, experiment.id)
    return ExperimentOut(
        id=experiment.id,
        name=experiment.name,
        status=experiment.status,
        champion_id=experiment.champion_id,
        champion=labels.get(experiment.champion_id, str(experiment.champion_id)),
        challenger_id=experiment.challenger_id,
        challenger=labels.get(experiment.challenger_id, str(experiment.challenger_id)),
        share_pct=experiment.share_pct,
        segments=list(experiment.segments or []),
        guardrails=dict(experiment.guardrails or {}),
        started_on=experiment.started_on,
        started_by=experiment.started_by,
        started_at=experiment.started_at,
        stopped_on=experiment.stopped_on,
        stopped_by=experiment.stopped_by,
        stop_reason=experiment.stop_reason,
        cases={arm: counts.get(arm, 0) for arm in ARMS},
        promotion_requested_by=promotion_requested_by(session, experiment.id),
    )


def list_experiments(session: Session, principal: Principal | None) -> list[ExperimentOut]:
    if principal is not None:
        require(principal, "experiment.read")
    return [experiment_out(session, e) for e in repo.list_all(session)]


def get_experiment(
    session: Session, principal: Principal | None, experiment_id: int
) -> ExperimentOut:
    if principal is not None:
        require(principal, "experiment.read")
    return experiment_out(session, repo.get(session, experiment_id))
