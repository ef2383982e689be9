"""Rule packs (合规规则包): versioned YAML, validated, selectable per creditor.

A pack is data a compliance officer can change without code: contact hours, daily caps,
third-party conditions, the holiday calendar, what suspends contact. ``cn`` ships as the
default and ``us-regf`` beside it (``packs/*.yaml``); a pack file anywhere else can be
loaded by path. A pack that does not validate is refused with a message naming the
field that is wrong — never loaded half-way, never silently allowing.

Some checks no pack can switch off (:data:`UNIVERSAL_CHECKS`): an opt-out of an electronic
channel (退订) is honoured under every pack, so every pack must cite a rule id for it and
may not make that rule overridable.
"""

from __future__ import annotations

from datetime import date, time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import load_document, parse_document

DEFAULT_PACK = "cn"
CHANNELS = ("call", "sms", "wechat", "email", "letter", "visit")
Channel = Literal["call", "sms", "wechat", "email", "letter", "visit"]
SuspendReason = Literal["dispute", "complaint", "cease"]
#: checks every pack makes, whatever it says (each pack still cites its own rule id)
UNIVERSAL_CHECKS = frozenset(
    {"hours", "visit_hours", "third_party_named", "third_party_unreachable", "opt_out"}
)


class RulePackError(ConfigError):
    """A rule pack that cannot be used; the message names the file and the field."""

    code = "invalid_rule_pack"
    http_status = 422


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Window(_Strict):
    """A daily window ``[start, end)`` in local wall-clock time."""

    start: time
    end: time

    @field_validator("start", "end", mode="before")
    @classmethod
    def _clock_text(cls, value: Any) -> Any:
        if isinstance(value, int) and not isinstance(value, bool):  # YAML 08:00 → 480 (base 60)
            return time(value // 60, value % 60)
        return value

    @field_validator("start", "end")
    @classmethod
    def _whole_minutes(cls, value: time) -> time:
        if value.second or value.microsecond or value.tzinfo is not None:
            raise ValueError(f"{value} must be a local time in whole minutes (HH:MM)")
        return value

    @model_validator(mode="after")
    def _ordered(self) -> Window:
        if self.start >= self.end:
            raise ValueError(f"start {self.start:%H:%M} must be before end {self.end:%H:%M}")
        return self

    def contains(self, moment: time) -> bool:
        return self.start <= moment < self.end

    def inside(self, other: Window) -> bool:
        return other.start <= self.start and self.end <= other.end


class ContactHours(Window):
    channels: tuple[Channel, ...] = ("call", "sms", "wechat", "email", "visit")
    regulation_limit: Window | None = None

    @model_validator(mode="after")
    def _within_regulation(self) -> ContactHours:
        limit = self.regulation_limit
        if limit is not None and not self.inside(limit):
            raise ValueError(
                f"{self.start:%H:%M}–{self.end:%H:%M} goes outside the regulation's "
                f"{limit.start:%H:%M}–{limit.end:%H:%M}"
            )
        return self


class Holidays(_Strict):
    hours: Window
    no_visits: bool = True
    dates: frozenset[date] = frozenset()


class Limits(_Strict):
    unanswered_per_number_per_day: int | None = Field(default=None, ge=1)
    connected_calls_per_debtor_per_day: int | None = Field(default=None, ge=1)
    calls_per_7_days: int | None = Field(default=None, ge=1)
    quiet_days_after_conversation: int | None = Field(default=None, ge=1)


class ThirdParties(_Strict):
    named_only: bool = True
    only_when_debtor_unreachable: bool = True
    unreachable_after_failed_attempts: int = Field(default=3, ge=1)
    attempts_per_third_party_per_day: int | None = Field(default=None, ge=1)


class RulePack(_Strict):
    """One validated rule pack (see ``packs/cn.yaml`` for every field, commented)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str
    name_zh: str
    name_en: str
    default_timezone: str = "Asia/Shanghai"
    contact_hours: ContactHours
    visit_hours: Window
    visit_min_collectors: int = Field(default=1, ge=1)
    holidays: Holidays | None = None
    limits: Limits = Limits()
    third_parties: ThirdParties = ThirdParties()
    #: opt-outs of sms, email and wechat are honoured under every pack; kept so that older
    #: pack files saying ``electronic_opt_out: true`` still load — ``false`` is refused
    electronic_opt_out: bool = True
    #: how long contact records are kept (CN-16: ≥ 5 years; US-12: 3 years after last activity)
    retention_years: int = Field(default=5, ge=1, le=30)
    suspend_on: frozenset[SuspendReason] = frozenset()
    #: check name → the rule id cited when that check denies (ids of compliance_rules.csv)
    rule_ids: dict[str, str]
    #: rule ids a team lead, manager or compliance officer may override case by case, with a
    #: recorded reason (e.g. CN-01: a time agreed with the debtor)
    overridable: frozenset[str] = frozenset()

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("electronic_opt_out")
    @classmethod
    def _opt_out_always(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "opt-outs cannot be switched off: a debtor who opted out of a channel gets "
                "nothing more on it under every pack (remove this line)"
            )
        return value

    @field_validator("default_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _visits_inside_contact_limit(self) -> RulePack:
        limit = self.contact_hours.regulation_limit
        if limit is not None and not self.visit_hours.inside(limit):
            raise ValueError("visit_hours go outside contact_hours.regulation_limit")
        return self

    @model_validator(mode="after")
    def _every_check_cites_a_rule(self) -> RulePack:
        missing = sorted(self.checks() - set(self.rule_ids))
        if missing:
            raise ValueError(f"rule_ids has no id for the check(s) {', '.join(missing)}")
        return self

    @model_validator(mode="after")
    def _overridable_rules_exist(self) -> RulePack:
        unknown = sorted(self.overridable - set(self.rule_ids.values()))
        if unknown:
            raise ValueError(f"overridable names rule ids not in rule_ids: {', '.join(unknown)}")
        return self

    @model_validator(mode="after")
    def _opt_out_is_never_overridden(self) -> RulePack:
        cited = self.rule_ids.get("opt_out")
        if cited is not None and cited in self.overridable:
            raise ValueError(f"overridable names {cited}, the opt-out rule: an opt-out is final")
        return self

    def checks(self) -> set[str]:
        """The checks this pack makes (each must cite a rule id): the universal ones and
        those its parameters switch on."""
        on = set(UNIVERSAL_CHECKS)
        optional = {
            "holiday": self.holidays is not None,
            "visit_collectors": self.visit_min_collectors > 1,
            "unanswered": self.limits.unanswered_per_number_per_day is not None,
            "connected": self.limits.connected_calls_per_debtor_per_day is not None,
            "calls_7_days": self.limits.calls_per_7_days is not None,
            "conversation_quiet": self.limits.quiet_days_after_conversation is not None,
            "third_party_cap": self.third_parties.attempts_per_third_party_per_day is not None,
        }
        on |= {name for name, enabled in optional.items() if enabled}
        on |= {f"suspended_{reason}" for reason in self.suspend_on}
        return on

    def rule_id(self, check: str) -> str:
        return self.rule_ids[check]


def parse_pack(raw: Any, *, source: str) -> RulePack:
    """Validate a pack read from YAML; errors name ``source`` and the field."""
    return parse_document(RulePack, raw, what="rule pack", source=source, error=RulePackError)


def load_pack_file(path: Path) -> RulePack:
    return load_document(RulePack, path, what="rule pack", error=RulePackError)


def shipped_packs() -> tuple[str, ...]:
    folder = resources.files("cuishou.compliance") / "packs"
    return tuple(
        sorted(p.name.removesuffix(".yaml") for p in folder.iterdir() if p.name.endswith(".yaml"))
    )


@cache
def load_pack(name: str = DEFAULT_PACK) -> RulePack:
    """A shipped pack by id (``cn``, ``us-regf``) or a pack file by path."""
    path = Path(name)
    if path.suffix in {".yaml", ".yml"}:
        return load_pack_file(path)
    if name not in shipped_packs():
        raise RulePackError(
            f"no rule pack {name!r}; shipped packs: {', '.join(shipped_packs())} "
            "(or give the path of a .yaml pack)",
            source=name,
        )
    text = (resources.files("cuishou.compliance") / "packs" / f"{name}.yaml").read_text("utf-8")
    return parse_pack(yaml.safe_load(text), source=f"{name}.yaml")
