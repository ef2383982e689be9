"""Allocation settings as plain data (``allocation.yaml``, 分案规则): capacity, skills, region
and language, rotation, VIP, exclusions, the prior P(pay within 30 days) by bucket, how the
collector effect is estimated and how finely the solver splits segments. Every mistake names
the file and the field. ``CUISHOU_ALLOCATION_CONFIG=PATH`` replaces the shipped file."""

from __future__ import annotations

import os
from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import load_document

SHIPPED = Path(__file__).with_name("allocation.yaml")
#: ``CUISHOU_ALLOCATION_CONFIG=PATH``: the settings used instead of the shipped file
CONFIG_ENV = "CUISHOU_ALLOCATION_CONFIG"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SkillSpec(_Strict):
    """What a team or a collector may work (专长); a missing list means "any"."""

    buckets: frozenset[str] | None = None
    amount_tiers: frozenset[str] | None = None
    products: frozenset[str] | None = None
    #: provinces (地域), as ``debtors.province`` spells them
    regions: frozenset[str] | None = None
    #: languages or dialects spoken besides Mandarin (方言, as the import's 语言 column
    #: spells them); a debtor who speaks another goes only to a collector who lists it
    languages: frozenset[str] | None = None
    #: may take VIP / large cases (资深催收员)
    senior: bool | None = None
    capacity: int | None = Field(None, ge=0)
    capacity_by_bucket: dict[str, int] | None = None


class Rotation(_Strict):
    """轮换: reassign after this many days without right-party contact (本人接通) since the
    last contact or assignment (``null``: never), or when the bucket changed since the case
    was last allocated."""

    no_rpc_days: int | None = Field(30, ge=1)
    on_bucket_change: bool = True


class Vip(_Strict):
    """Cases owing at least ``from_yuan`` go only to senior collectors (``null``: no rule)."""

    from_yuan: Decimal | None = Field(Decimal("50000"), ge=0)


class Conflict(_Strict):
    """A collector who must not work a debtor (回避: a relative, a neighbour, a complaint)."""

    collector: str
    debtor_id: int


class Exclusions(_Strict):
    """Cases left alone: case labels, open contact-hold kinds and open alert kinds (the
    legal-review alert is the store's legal hold, 法务暂停)."""

    labels: frozenset[str] = frozenset()
    hold_kinds: frozenset[str] = frozenset({"cease"})
    alert_kinds: frozenset[str] = frozenset({"legal_review_candidate"})
    conflicts: tuple[Conflict, ...] = ()


class Effect(_Strict):
    """The collector effect per bucket from history (paying cases ÷ cases worked over the
    lookback), shrunk toward the team mean with ``prior_strength`` pseudo-cases (empirical
    Bayes), relative to the all-collector mean and clipped to ``[low, high]``."""

    lookback_days: int = Field(90, ge=1)
    prior_strength: float = Field(30.0, gt=0)
    low: float = Field(0.5, gt=0)
    high: float = Field(2.0, gt=0)


class Solver(_Strict):
    """Cases of one segment are split into at most ``blocks_per_segment`` blocks by value;
    up to ``exact_up_to`` pool cases every case is its own block (exact optimum).
    ``method`` is what is applied: the min-cost flow (``min_cost_flow``), or the documented
    round-robin-by-amount baseline (``greedy``), e.g. for the simulator's comparison."""

    blocks_per_segment: int = Field(48, ge=1)
    exact_up_to: int = Field(5000, ge=0)
    method: Literal["min_cost_flow", "greedy"] = "min_cost_flow"


class AllocationSettings(_Strict):
    enabled_in_daily_cycle: bool = False
    #: who the daily cycle allocates as (a team lead or manager)
    run_as: str | None = None
    capacity: int = Field(500, ge=0)
    capacity_by_bucket: dict[str, int] = {}
    rotation: Rotation = Rotation()
    vip: Vip = Vip()
    exclusions: Exclusions = Exclusions()
    #: P(pay within 30 days) when a case has no ``pay_30d`` score, by bucket
    prior_pay_30d: dict[str, float] = {}
    prior_pay_30d_default: float = Field(0.05, ge=0, le=1)
    effect: Effect = Effect()
    solver: Solver = Solver()
    teams: dict[str, SkillSpec] = {}
    collectors: dict[str, SkillSpec] = {}

    @property
    def vip_from_fen(self) -> int | None:
        if self.vip.from_yuan is None:
            return None
        return int(self.vip.from_yuan * 100)


def load_settings(path: Path | None = None) -> AllocationSettings:
    return load_document(
        AllocationSettings, path or SHIPPED, what="allocation settings", error=ConfigError
    )


def default_settings() -> AllocationSettings:
    """The deployment's settings: ``CUISHOU_ALLOCATION_CONFIG`` or the shipped file."""
    named = os.environ.get(CONFIG_ENV)
    return load_settings(Path(named) if named else None)
