"""What allocation shows: a run (preview or applied batch) and an undo."""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel, Field


class Workload(BaseModel):
    """A collector's open in-house cases before and after the run (人均案件量)."""

    collector: str
    team: str | None
    before: int
    after: int


class Left(BaseModel):
    count: int
    reasons: dict[str, int]
    #: the first few cases left, for a team lead to look at
    case_ids: list[int]


class AllocationOut(BaseModel):
    batch: int | None
    as_of: str
    dry_run: bool
    assigned: int
    reassigned: int
    pooled: dict[str, int]
    excluded: dict[str, int]
    unassigned_left: Left
    by_collector: dict[str, int]
    workload: list[Workload]
    objective: str
    bound: str
    greedy_objective: str
    #: objective ÷ bound
    optimality: float
    warnings: list[str]


class KeptCase(BaseModel):
    case_id: int
    why: str


class UndoOut(BaseModel):
    batch: int
    restored: int
    kept: list[KeptCase]


class AllocateIn(BaseModel):
    """The business date to allocate for (YYYY-MM-DD)."""

    as_of: date = Field(ge=date(2000, 1, 1), le=date(2100, 12, 31))


class BatchRow(BaseModel):
    """An applied (or undone) allocation batch, for the team lead's page."""

    id: int
    as_of: str
    actor: str
    status: str
    assigned: int
    reassigned: int
