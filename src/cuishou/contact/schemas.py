"""Contact payloads (催记)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from cuishou.kit.text import Text
from cuishou.placement.schemas import FileError, FileResult
from cuishou.promises.schemas import PromiseIn, PromiseOut

Channel = Literal["call", "sms", "email", "letter", "visit", "wechat"]
OutcomeCode = Literal[
    "connected_debtor",
    "connected_third_party",
    "no_answer",
    "powered_off",
    "invalid_number",
    "rejected",
    "promise",
    "refused",
    "negotiating",
    "complaint",
    "lost_contact",
    "message_sent",
]


COLLECTORS_HELP = (
    "how many collectors go (went) on a field visit (外访人数): required for channel visit, "
    "which the rule packs judge by it (cn: at least 2, CN-14); ignored for other channels"
)


def no_default_in_schema(schema: dict[str, Any]) -> None:
    """OpenAPI: ``collectors`` has no default — a visit must say it, others leave it out."""
    schema.pop("default", None)


def collectors_of(channel: object, value: object) -> object:
    """The number of collectors: required for a field visit, 1 (one person) otherwise.

    A visit is judged by how many went (CN-14 wants two); a missing number must not be
    taken for one person and raise a false violation, nor for two and hide a real one.
    """
    if value is None or value == "":
        if channel == "visit":
            raise PydanticCustomError(
                "missing", "a field visit needs the number of collectors going (外访人数)"
            )
        return 1
    return value


def collectors_field() -> Any:
    """The ``collectors`` field of every input that may be a field visit (declare it after
    ``channel``, and give the model ``collectors_for_visits``)."""
    return Field(
        default=None,
        validate_default=True,
        ge=1,
        le=20,
        description=COLLECTORS_HELP,
        json_schema_extra=no_default_in_schema,
    )


def _collectors_for_visits(cls: type[BaseModel], value: object, info: ValidationInfo) -> object:
    return collectors_of(info.data.get("channel"), value)


#: the validator of :func:`collectors_field` (one rule for the contact, gate and override inputs)
collectors_for_visits = field_validator("collectors", mode="before")(_collectors_for_visits)


class ContactIn(BaseModel):
    contact_point_id: int = Field(ge=1, le=2**63 - 1)
    channel: Channel
    outcome: OutcomeCode
    at: datetime | None = Field(default=None, description="when it happened (default: now)")
    notes: Text = Field(default="", max_length=2000)
    promise: PromiseIn | None = Field(default=None, description="required when outcome=promise")
    callback_at: datetime | None = None
    collectors: int = collectors_field()
    _collectors_for_visits = collectors_for_visits


class ComplianceOut(BaseModel):
    """The gate's judgement of the logged contact against the history before it."""

    allowed: bool
    rules: list[str]


class ContactOut(BaseModel):
    id: int
    case_id: int
    contact_point_id: int
    channel: str
    outcome: str
    outcome_zh: str
    party: str
    notes: str
    at: datetime
    callback_at: datetime | None
    user: str


class ContactLogged(BaseModel):
    contact: ContactOut
    promise: PromiseOut | None
    alerts_raised: list[str]
    compliance: ComplianceOut
    note_findings: list[str] = Field(
        default_factory=list,
        description="categories of banned content found in the notes (a QA item is raised)",
    )


class CallFileResult(FileResult):
    """One dialer result file (``cuishou contacts import``): what became of its rows.

    ``accepted + quarantined == rows``; ``created + unchanged == accepted`` (``unchanged``:
    calls of this source already imported). ``violations``: new calls the compliance gate
    would have refused (recorded all the same, each with a ``compliance.violation`` event);
    ``alerts``: alerts raised, by kind; ``promises``: promises taken.
    """

    source: str = "dialer"
    violations: int = 0
    promises: int = 0
    alerts: dict[str, int] = Field(default_factory=dict)


class CallImportResult(BaseModel):
    """Totals over the files of one ``cuishou contacts import`` call, and each file."""

    rows: int = 0
    accepted: int = 0
    quarantined: int = 0
    quarantine_file: str | list[str] | None = None
    created: int = 0
    unchanged: int = 0
    violations: int = 0
    promises: int = 0
    alerts: dict[str, int] = Field(default_factory=dict)
    files: list[CallFileResult] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)

    @classmethod
    def of(cls, files: list[CallFileResult], errors: list[FileError]) -> CallImportResult:
        quarantine = [f.quarantine_file for f in files if f.quarantine_file]
        single = quarantine[0] if quarantine else None
        alerts: dict[str, int] = {}
        for item in files:
            for kind, n in item.alerts.items():
                alerts[kind] = alerts.get(kind, 0) + n
        return cls(
            rows=sum(f.rows for f in files),
            accepted=sum(f.accepted for f in files),
            quarantined=sum(f.quarantined for f in files),
            quarantine_file=single if len(files) <= 1 else (quarantine or None),
            created=sum(f.created for f in files),
            unchanged=sum(f.unchanged for f in files),
            violations=sum(f.violations for f in files),
            promises=sum(f.promises for f in files),
            alerts=dict(sorted(alerts.items())),
            files=files,
            errors=errors,
        )


# --- contact points (联系方式) and their review (失联修复) --------------------------------------

PointKind = Literal["mobile", "phone", "email", "address", "wechat"]
PointSource = Literal["debtor", "third_party", "public_record", "repair_vendor"]
PointOwner = Literal["debtor", "third_party"]


class ContactPointIn(BaseModel):
    kind: PointKind
    value: Text = Field(min_length=1, max_length=300)
    owner: PointOwner
    relation: Text | None = Field(
        default=None, max_length=32, description="a third party's relation: 配偶/spouse …"
    )
    owner_name: Text = Field(default="", max_length=100, description="a third party's name")
    source: PointSource = Field(description="who told us of it")


class VerifyIn(BaseModel):
    status: Literal["verified", "invalid"]
    reason: Text = Field(default="", max_length=200, description="required for invalid")


class PointHistoryOut(BaseModel):
    at: datetime
    actor: str
    type: str
    payload: dict[str, Any]


class ContactPointOut(BaseModel):
    id: int
    debtor_id: int
    kind: str
    value: str = Field(description="masked")
    owner: str
    owner_name: str = Field(description="masked")
    relation: str | None
    source: str
    status: str = Field(description="active | invalid: what the gate and the dialer read")
    verification: str = Field(description="new | verified | invalid")
    verified_at: datetime | None
    history: list[PointHistoryOut] = Field(default_factory=list)
