"""Field-visit payloads (外访)."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Literal

from pydantic import BaseModel, Field

from cuishou.agreements.schemas import AgreementIn
from cuishou.kit.text import Text
from cuishou.promises.schemas import PromiseIn, PromiseOut

VisitOutcome = Literal[
    "connected_debtor", "connected_third_party", "no_answer", "promise", "negotiating",
    "refused", "complaint", "lost_contact",
]  # fmt: skip
Relation = Literal[
    "self", "spouse", "parent", "child", "sibling", "relative", "colleague", "neighbour",
    "property", "other",
]  # fmt: skip
_ID = Field(ge=1, le=2**63 - 1)


class VisitRequestIn(BaseModel):
    case_id: int = _ID
    contact_point_id: int | None = Field(
        default=None, ge=1, le=2**63 - 1,
        description="the address to visit (default: the debtor's first active address)",
    )  # fmt: skip
    reason: Text = Field(default="", max_length=500)


class ScheduleIn(BaseModel):
    day: date
    start: time = Field(description="local time in the debtor's zone, e.g. 09:30")
    end: time = Field(description="local time in the debtor's zone, e.g. 11:00")
    collectors: list[Text] = Field(
        min_length=1, max_length=10,
        description="usernames of the team's collectors who go (CN-14: at least two)",
    )  # fmt: skip


class CancelIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=500)


class GateRefusalRule(BaseModel):
    id: str
    reason_zh: str
    reason_en: str


class PersonMet(BaseModel):
    name: Text = Field(default="", max_length=100, description="as they gave it (masked on show)")
    relation: Relation


class RecordIn(BaseModel):
    """The visit record (走访记录表)."""

    visited_at: datetime | None = Field(default=None, description="when (default: now)")
    check_in_lat: float | None = Field(default=None, ge=-90, le=90)
    check_in_lon: float | None = Field(default=None, ge=-180, le=180)
    outcome: VisitOutcome
    persons_met: list[PersonMet] = Field(default_factory=list, max_length=10)
    notes: Text = Field(default="", max_length=2000)
    promise: PromiseIn | None = Field(default=None, description="required when outcome=promise")
    agreement: AgreementIn | None = Field(
        default=None, description="an agreement negotiated on the visit, sent for approval"
    )


class FileOut(BaseModel):
    id: int
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


class VisitOut(BaseModel):
    id: int
    case_id: int
    contact_point_id: int
    address: str = Field(description="masked")
    district: str | None = Field(description="省市区 the address was located in")
    team: str | None
    status: str
    source: str
    reason: str
    requested_by: str
    requested_at: datetime
    day: date | None
    window_start: datetime | None
    window_end: datetime | None
    zone: str
    collectors: list[str]
    scheduled_by: str | None
    route_position: int | None
    recorded_by: str | None
    visited_at: datetime | None
    check_in_lat: float | None
    check_in_lon: float | None
    outcome: str | None
    persons_met: list[PersonMet]
    notes: str
    contact_id: int | None
    files: list[FileOut] = Field(default_factory=list)


class RouteStopOut(BaseModel):
    position: int
    visit_id: int
    case_id: int
    district: str | None
    lat: float | None
    lon: float | None
    window_start: datetime | None
    window_end: datetime | None
    collectors: list[str]


class TeamRouteOut(BaseModel):
    team: str
    day: date
    stops: list[RouteStopOut]
    length_m: int = Field(description="the route's length over district centroids, metres")
    unordered_length_m: int = Field(description="the same visits in scheduling order")
    windows_kept: bool
    unlocated: list[int] = Field(description="visits whose address matched no district")


class RecordOut(BaseModel):
    visit: VisitOut
    contact_id: int
    compliance_allowed: bool
    compliance_rules: list[str]
    promise: PromiseOut | None
    agreement_id: int | None
    alerts_raised: list[str]


class ImportedOut(BaseModel):
    day: date
    created: int
    already: int
    skipped: int = Field(description="planned visits the gate dropped or that had no address")


class VisitAddressOut(BaseModel):
    """A visit's address, unmasked (the reveal is a ``pii.revealed`` event)."""

    visit_id: int
    address: str
