"""The approval matrix (审批权限): who may approve which agreement, by waiver share and
amount. Data, not code: ``approval_matrix.yaml`` ships the default; a deployment passes
its own. Pure (no store, no clock).

Levels rise ``collector`` → ``team_lead`` → ``manager`` → ``creditor``. An agreement needs
the lowest level whose limits cover both its waiver share and its waived amount; anyone
at that level or above may approve it — except the person who requested it. The
``creditor`` level is the creditor's own consent, recorded by a manager with the
creditor's reference.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import yaml

from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.money import parse_percent_bp, parse_yuan

LEVELS = ("collector", "team_lead", "manager", "creditor")
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

    def __post_init__(self) -> None:
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


def may_approve(role: str, level: str) -> bool:
    """Whether a user of ``role`` acts at ``level`` or above."""
    acting = [lvl for lvl in LEVELS if ACTING_ROLE[lvl] == role]
    return bool(acting) and LEVELS.index(acting[-1]) >= LEVELS.index(level)


def _percent_bp(value: Any, field: str) -> int | None:
    if value is None:
        return None
    return parse_percent_bp(str(value), field=field)


def parse_matrix(raw: Any, *, source: str) -> ApprovalMatrix:
    """``levels: [{level, max_share: "10%", max_amount: "2000.00"}, …]``, lowest first."""
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
        return ApprovalMatrix(limits)
    except (KeyError, TypeError, ValueError, InvalidInput) as exc:
        raise ConfigError(f"{source}: approval matrix: {exc}") from exc


@cache
def default_matrix() -> ApprovalMatrix:
    text = (resources.files("cuishou.agreements") / "approval_matrix.yaml").read_text("utf-8")
    return parse_matrix(yaml.safe_load(text), source="approval_matrix.yaml")
