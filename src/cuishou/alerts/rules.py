"""Alert rules (预警): kinds with labels, when one may be raised, the handling workflow. Pure.

An alert of a kind is raised on a case at most once per business day, and not while one of
the same kind is still unresolved there (open or acknowledged): the team lead handles one
alert per case and kind at a time. A resolved alert no longer blocks from the next day on.
The scalar form (:func:`may_raise`, one alert online) and the Polars form (:func:`raisable`,
the daily cycle's thousands) are the same rule; ``tests/alerts`` proves they agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

import polars as pl

#: kind -> (中文, English)
ALERT_KINDS: dict[str, tuple[str, str]] = {
    "three_failed_contacts": ("连续三次无法联系", "three failed contact attempts in a row"),
    "refusal": ("明确拒绝还款", "debtor refused to pay"),
    "broken_promise": ("承诺跳票", "broken promise to pay"),
    "entered_m4_plus": ("入M4+", "case entered the alert bucket"),
    "legal_review_candidate": ("移交法务评估", "legal review candidate"),
    "compliance_violation": ("违规联系", "contact the compliance gate would have refused"),
    # about a model, not a case (``subject`` names the model version): for the strategist
    "model_drift": ("模型漂移", "model drift: a population stability index above 0.25"),
    "model_retrain_due": ("模型需重训", "model older than its configured age: retrain"),
    # about a champion/challenger experiment (``subject``: ``experiment:<name>``)
    "experiment_guardrail": (
        "实验护栏触发",
        "experiment stopped: the challenger broke a guard rail (complaints, violations)",
    ),
}

#: kinds raised about a model (no case); seen and handled by those who may read models
MODEL_ALERT_KINDS = frozenset({"model_drift", "model_retrain_due"})
#: kinds raised about an experiment (no case); seen and handled as the model alerts are
EXPERIMENT_ALERT_KINDS = frozenset({"experiment_guardrail"})

#: (current status, action) -> next status. open → acknowledged → resolved; open → resolved.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}


def next_alert_status(status: str, action: str) -> str | None:
    """The status after ``action``, or ``None`` when the action does not apply."""
    return TRANSITIONS.get((status, action))


def alert_label(kind: str) -> tuple[str, str]:
    return ALERT_KINDS.get(kind, (kind, kind))


@dataclass(frozen=True, slots=True)
class ExistingAlert:
    """An alert already on the case: its kind, status and the business day it was raised."""

    kind: str
    status: str
    raised_on: date


def blocks(status: str, raised_on: date, today: date) -> bool:
    """Whether an existing alert stops another of its kind today: it is unresolved, or it
    was raised today."""
    return status != "resolved" or raised_on == today


def may_raise(kind: str, existing: Iterable[ExistingAlert], today: date) -> bool:
    """Whether an alert of ``kind`` may be raised on a case with ``existing`` alerts."""
    return not any(a.kind == kind and blocks(a.status, a.raised_on, today) for a in existing)


def blocks_expr(status: pl.Expr, raised_on: pl.Expr, today: date) -> pl.Expr:
    """The Polars twin of :func:`blocks`."""
    return (status != "resolved") | (raised_on == pl.lit(today, dtype=pl.Date))


def raisable(
    candidates: pl.DataFrame, existing: pl.DataFrame, today: date, *, key: list[str]
) -> pl.DataFrame:
    """The candidate alerts that may be raised (the Polars twin of :func:`may_raise`).

    ``candidates`` has ``key`` columns (the case) and ``kind``; ``existing`` has the same plus
    ``status`` and ``raised_on``. Candidates repeated in one frame are raised once.
    """
    blocking = (
        existing.filter(blocks_expr(pl.col("status"), pl.col("raised_on"), today))
        .select(*key, "kind")
        .unique()
    )
    return candidates.unique([*key, "kind"], keep="first", maintain_order=True).join(
        blocking, on=[*key, "kind"], how="anti"
    )
