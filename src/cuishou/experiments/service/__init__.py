"""Champion/challenger use cases (策略效果评估): start, stop and promote an experiment (each an
event; promotion by four eyes), record the arms the daily planning step assigns, measure the
arms and compare them, stop a challenger that breaks a guard rail.

Fetch → decide → act: the repository reads; the KPI layer defines every figure
(:func:`cuishou.kpis.service.period_facts` over the experiment's days, cut to each case from
the day it joined by :func:`cuishou.kpis.rules.of_members`, counted by
:func:`cuishou.kpis.rules.compute` with the arm as the slice); :mod:`.stats` compares;
:mod:`.rules` judges the guard rails; this module writes and appends the events.
Services never commit: the edge does.

For the daily planning step (``strategy/service/planning.py``): :func:`running_experiments`
and :func:`record_arms`; for the daily cycle: :func:`check_guardrails`.
"""

from cuishou.experiments.service.guardrails import GuardrailStop, check_guardrails
from cuishou.experiments.service.lifecycle import (
    approve_promotion,
    get_experiment,
    list_experiments,
    promotion_requested_by,
    reject_promotion,
    request_promotion,
    start_experiment,
    stop_experiment,
)
from cuishou.experiments.service.planning import (
    ExperimentPlan,
    experiment_arms,
    record_arms,
    running_experiments,
)
from cuishou.experiments.service.results import (
    ArmFigures,
    DayPoint,
    ExperimentReport,
    report,
    results,
)

__all__ = [
    "ArmFigures",
    "DayPoint",
    "ExperimentPlan",
    "ExperimentReport",
    "GuardrailStop",
    "approve_promotion",
    "check_guardrails",
    "experiment_arms",
    "get_experiment",
    "list_experiments",
    "promotion_requested_by",
    "record_arms",
    "reject_promotion",
    "report",
    "request_promotion",
    "results",
    "running_experiments",
    "start_experiment",
    "stop_experiment",
]
