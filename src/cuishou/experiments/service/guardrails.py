"""Guard rails (护栏): stop a challenger that harms complaints or compliance, with an alert."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy.orm import Session

from cuishou.alerts.service import raise_experiment_alert
from cuishou.audit.events import SYSTEM, append_event
from cuishou.experiments import repository as repo
from cuishou.experiments.config import default_settings, guardrails_with
from cuishou.experiments.rules import (
    CHALLENGER,
    CHAMPION,
    ENTITY,
    guardrail_breaches,
)
from cuishou.experiments.service.results import measure
from cuishou.kpis.config import KpiConfig, default_config


@dataclass(frozen=True, slots=True)
class GuardrailStop:
    experiment_id: int
    name: str
    reasons: list[str]


def check_guardrails(
    session: Session, day: date, now: datetime, *, config: KpiConfig | None = None
) -> list[GuardrailStop]:
    """护栏检查 (the daily cycle, after the day's facts are in): every running experiment
    whose challenger's complaints or compliance violations per 1,000 cases exceed the
    champion's by more than the experiment's limit is stopped — every case goes back to the
    champion — with an ``experiment.stopped`` event and an ``experiment_guardrail`` alert for
    the strategy manager. What was stopped, and why."""
    settings = default_settings()
    stopped: list[GuardrailStop] = []
    for experiment in repo.running(session, day):
        arms, _daily_points = measure(
            session, experiment, today=day, costs=(config or default_config()).costs
        )
        limits = guardrails_with(settings.guardrails, dict(experiment.guardrails or {}))
        breaches = guardrail_breaches(
            arms[CHAMPION].guard, arms[CHALLENGER].guard,
            complaints_per_1000=limits.complaints_per_1000,
            violations_per_1000=limits.violations_per_1000, min_cases=limits.min_cases,
        )  # fmt: skip
        if not breaches:
            continue
        reasons = [b.describe() for b in breaches]
        reason = "guard rail: " + "; ".join(reasons)
        if not repo.finish(
            session, experiment.id, status="stopped", on=day, by=SYSTEM, reason=reason,
            allowed_from=("running",),
        ):  # fmt: skip
            continue
        details = {
            "experiment_id": experiment.id,
            "name": experiment.name,
            "breaches": [
                {"metric": b.metric, "champion": round(b.champion, 2),
                 "challenger": round(b.challenger, 2), "limit": b.limit}
                for b in breaches
            ],
        }  # fmt: skip
        append_event(
            session, at=now, actor=SYSTEM, type="experiment.stopped", entity_type=ENTITY,
            entity_id=experiment.id, payload={**details, "reason": reason},
        )  # fmt: skip
        raise_experiment_alert(
            session, experiment=experiment.name, kind="experiment_guardrail", today=day,
            details=details, actor=SYSTEM, now=now,
        )  # fmt: skip
        stopped.append(GuardrailStop(experiment.id, experiment.name, reasons))
    return stopped
