"""The approval matrix (审批权限): who may approve which agreement, by waiver share and
amount. Data, not code: ``approval_matrix.yaml`` ships the default; a deployment passes
its own. Pure (no store, no clock).

Levels rise ``collector`` → ``team_lead`` → ``manager`` → ``creditor``. An agreement needs
the lowest level whose limits cover both its waiver share and its waived amount; anyone
at that level or above may approve it — except the person who requested it. The
``creditor`` level is the creditor's own consent, recorded by a manager with the
creditor's reference.

The matrix judges the **cumulative** waiver on a case (累计减免), never a request alone:
this request's waiver plus the waivers still standing on the case from its other
agreements approved within the window (``window_days``; none: the case's whole life).
Three waivers each within a team lead's limit add up, and the second one already needs
whoever may approve the sum (:func:`cumulative`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache
from importlib import resources
from typing import Any

import yaml

from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.money import parse_percent_bp, parse_yuan

LEVELS = ("collector", "team_lead", "manager", "creditor")
BASIS_POINTS = 10_000
#: the user role that acts at each level (the creditor's consent is recorded by a manager)
ACTING_ROLE = {"collector": "collector", "team_lead": "team_lead", "manager": "manager",
               "creditor": "manager"}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Limit:
    level: str
    max_share_bp: int | None  # None: no limit
    max_amount_fen: int | None


@dataclass(frozen=True, slots=True)
class ApprovalMatrix:
    limits: tuple[Limit, ...]
    #: waivers approved this many days back count towards a new request; None: all of the
    #: case's life
    window_days: int | None = None

    def __post_init__(self) -> None:
        if self.window_days is not None and self.window_days < 1:
            raise ValueError("window_days must be a whole number of days, at least 1, or null")
        levels = [limit.level for limit in self.limits]
        if levels != [level for level in LEVELS if level in levels] or not levels:
            raise ValueError(f"levels must be a non-empty subset of {LEVELS}, in that order")
        if self.limits[-1].max_share_bp is not None or self.limits[-1].max_amount_fen is not None:
            raise ValueError("the highest level must have no limit")


def required_level(matrix: ApprovalMatrix, *, waived_fen: int, share_bp: int) -> str:
    """The lowest level whose limits cover the waiver."""
    for limit in matrix.limits:
        share_ok = limit.max_share_bp is None or share_bp <= limit.max_share_bp
        amount_ok = limit.max_amount_fen is None or waived_fen <= limit.max_amount_fen
        if share_ok and amount_ok:
            return limit.level
    return matrix.limits[-1].level


@dataclass(frozen=True, slots=True)
class StandingWaiver:
    """What one earlier agreement of the case still waives (its ``waiver`` ledger entries
    less any ``reinstatement``), in fen, and the day its waiver was taken off."""

    agreement_id: int
    waived_on: date
    standing_fen: int


@dataclass(frozen=True, slots=True)
class Cumulative:
    """The waiver the matrix judges: this request's and the earlier ones in the window."""

    #: this request's waiver
    this_fen: int
    #: waivers standing on the case from its other agreements approved in the window
    earlier_fen: int
    #: ``this_fen + earlier_fen``
    waived_fen: int
    #: what the case would owe without any of them: owed now (the quote's base) + earlier
    base_fen: int
    #: ``waived_fen`` ÷ ``base_fen`` in basis points, rounded up (never understated)
    share_bp: int
    #: the first day of the window (None: the case's life)
    since: date | None


def window_start(matrix: ApprovalMatrix, today: date) -> date | None:
    """The first day whose waivers still count on ``today`` (None: every day)."""
    if matrix.window_days is None:
        return None
    return today - timedelta(days=matrix.window_days)


def cumulative(
    matrix: ApprovalMatrix,
    *,
    this_fen: int,
    owed_fen: int,
    standing: Sequence[StandingWaiver],
    today: date,
    amends_id: int | None = None,
) -> Cumulative:
    """累计减免: ``this_fen`` waived from ``owed_fen`` (what the request is quoted against),
    plus what the case's other agreements still waive, when they were approved on or after
    :func:`window_start`. The plan an amendment replaces (``amends_id``) does not count: its
    waiver is reinstated when the amendment is approved and is part of ``owed_fen``."""
    since = window_start(matrix, today)
    earlier = sum(
        s.standing_fen
        for s in standing
        if s.agreement_id != amends_id
        and s.standing_fen > 0
        and (since is None or s.waived_on >= since)
    )
    waived = this_fen + earlier
    base = owed_fen + earlier
    share = -(-waived * BASIS_POINTS // base) if base > 0 else 0
    return Cumulative(this_fen, earlier, waived, base, share, since)


def level_of(matrix: ApprovalMatrix, figures: Cumulative) -> str:
    """The level the cumulative waiver needs."""
    return required_level(matrix, waived_fen=figures.waived_fen, share_bp=figures.share_bp)


def higher(a: str, b: str) -> str:
    """The higher of two levels."""
    return a if LEVELS.index(a) >= LEVELS.index(b) else b


def may_approve(role: str, level: str) -> bool:
    """Whether a user of ``role`` acts at ``level`` or above."""
    acting = [lvl for lvl in LEVELS if ACTING_ROLE[lvl] == role]
    return bool(acting) and LEVELS.index(acting[-1]) >= LEVELS.index(level)


def _percent_bp(value: Any, field: str) -> int | None:
    if value is None:
        return None
    return parse_percent_bp(str(value), field=field)


def _window_days(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"window_days must be a whole number of days or null, not {value!r}")
    return value


def parse_matrix(raw: Any, *, source: str) -> ApprovalMatrix:
    """``levels: [{level, max_share: "10%", max_amount: "2000.00"}, …]``, lowest first, and
    ``window_days`` (null: the case's life)."""
    try:
        limits = tuple(
            Limit(
                level=str(row["level"]),
                max_share_bp=_percent_bp(row.get("max_share"), "max_share"),
                max_amount_fen=None
                if row.get("max_amount") is None
                else parse_yuan(str(row["max_amount"]), field="max_amount"),
            )
            for row in raw["levels"]
        )
        return ApprovalMatrix(limits, window_days=_window_days(raw.get("window_days")))
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise ConfigError(f"{source}: approval matrix: {exc}") from exc


@cache
def default_matrix() -> ApprovalMatrix:
    text = (resources.files("cuishou.agreements") / "approval_matrix.yaml").read_text("utf-8")
    return parse_matrix(yaml.safe_load(text), source="approval_matrix.yaml")
