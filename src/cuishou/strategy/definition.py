"""A strategy (催收策略) as data: a decision table plus a treatment path per segment.

A strategy file is YAML a strategy manager edits (docs/strategy.md has the format):

* ``rules`` — the decision table (决策表). Each row names the ``segment`` its cases fall in
  and ``when`` conditions on the case: ``bucket``, ``dpd``, ``risk_grade``, ``labels_any`` /
  ``labels_all`` / ``labels_none``, ``amount_tier``, ``product``, ``creditor``,
  ``days_since_placement`` and ``days_in_bucket``. A list condition holds when the case's
  value is one of the list; a range ``{min, max}`` is inclusive at both ends; a missing
  condition holds for every case. Rows are matched under the declared ``hit_policy``, as in
  DMN: ``first`` (the first row that matches wins) or ``unique`` (at most one row may match;
  a case that matches several is a conflict and gets no segment).
* ``segments`` — for each segment its treatment path (处置路径, 催收时间表): actions by day in
  the segment (day 0 is the day the case entered it). An action is ``sms``, ``call``,
  ``ivr`` (robot call), ``letter``, ``email``, ``wechat``, ``visit`` (field-visit request),
  ``agency`` (agency placement candidate), ``legal`` (legal referral candidate) or ``hold``
  (no action). A step runs on one ``day``, or ``from`` a day (``to`` a day) ``every`` N days.
  Messages name a ``template``; calls carry a ``priority`` (1 first); any action may carry a
  ``cap``: at most that many cases of the segment get it a day (the highest priority, then
  the largest amount due).

Validation here is of the document alone (types, names, ranges, every row's segment has a
path, every action has what it needs); what needs the store or a rule pack — overlaps, gaps,
unknown templates, actions a pack never allows — is :mod:`cuishou.strategy.validate`.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import parse_document

#: the shipped strategy packs (``packs/*.yaml``)
PACKS = resources.files("cuishou.strategy") / "packs"
DEFAULT_STRATEGY = "default"

Action = Literal["sms", "call", "ivr", "letter", "email", "wechat", "visit", "agency", "legal",
                 "hold"]  # fmt: skip
ACTIONS: tuple[str, ...] = (
    "sms", "call", "ivr", "letter", "email", "wechat", "visit", "agency", "legal", "hold",
)  # fmt: skip
#: the compliance gate's channel of each contact action; the rest contact nobody
CHANNEL_OF: dict[str, str] = {
    "sms": "sms",
    "call": "call",
    "ivr": "call",  # a robot call is a call to the debtor in law (频次、时段)
    "letter": "letter",
    "email": "email",
    "wechat": "wechat",
    "visit": "visit",
}
#: actions that send a message and so name a template
MESSAGE_ACTIONS = frozenset({"sms", "letter", "email", "wechat"})
#: actions a dialer or a collector makes, ordered by priority
CALL_ACTIONS = frozenset({"call", "ivr"})
#: the contact point kind each contact action goes to
POINT_KIND: dict[str, str] = {
    "sms": "mobile",
    "call": "mobile",
    "ivr": "mobile",
    "wechat": "mobile",
    "email": "email",
    "letter": "address",
    "visit": "address",
}
GRADES = ("A", "B", "C", "D")
#: the grade value of a case the ``pay_30d`` champion has not graded
UNGRADED = "none"
HitPolicy = Literal["first", "unique"]
MAX_DAY = 3650


class StrategyError(ConfigError):
    """A strategy file that cannot be used; the message names the file and the field."""

    code = "invalid_strategy"
    http_status = 422


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Range(_Strict):
    """An inclusive integer range; a missing end is open."""

    min: int | None = Field(default=None, ge=0)
    max: int | None = Field(default=None, ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> Range:
        if self.min is None and self.max is None:
            raise ValueError("a range needs min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    def __str__(self) -> str:
        if self.max is None:
            return f"≥{self.min}"
        if self.min is None:
            return f"≤{self.max}"
        return f"{self.min}–{self.max}"


def _listed(value: Any) -> Any:
    if isinstance(value, str):
        return (value,)
    return value


class When(_Strict):
    """A decision-table row's conditions; a field left out holds for every case."""

    bucket: tuple[str, ...] | None = None
    dpd: Range | None = None
    risk_grade: tuple[str, ...] | None = None
    labels_any: tuple[str, ...] | None = None
    labels_all: tuple[str, ...] | None = None
    labels_none: tuple[str, ...] | None = None
    amount_tier: tuple[str, ...] | None = None
    product: tuple[str, ...] | None = None
    creditor: tuple[str, ...] | None = None
    days_since_placement: Range | None = None
    days_in_bucket: Range | None = None

    @field_validator(
        "bucket", "risk_grade", "labels_any", "labels_all", "labels_none", "amount_tier",
        "product", "creditor", mode="before",
    )  # fmt: skip
    @classmethod
    def _list(cls, value: Any) -> Any:
        value = _listed(value)
        if value is not None and len(value) == 0:
            raise ValueError("an empty list matches no case; leave the condition out instead")
        return value

    @field_validator("risk_grade")
    @classmethod
    def _grades(cls, value: tuple[str, ...] | None) -> tuple[str, ...] | None:
        for grade in value or ():
            if grade not in (*GRADES, UNGRADED):
                raise ValueError(f"unknown risk grade {grade!r} (A, B, C, D or {UNGRADED!r})")
        return value

    def conditions(self) -> Iterator[tuple[str, Any]]:
        """The conditions set, as ``(field, value)`` in field order."""
        for name in type(self).model_fields:
            value = getattr(self, name)
            if value is not None:
                yield name, value


class Step(_Strict):
    """One action of a treatment path, on one day or on a repeating schedule."""

    action: Action
    day: int | None = Field(default=None, ge=0, le=MAX_DAY)
    from_: int | None = Field(default=None, ge=0, le=MAX_DAY, alias="from")
    to: int | None = Field(default=None, ge=0, le=MAX_DAY)
    every: int | None = Field(default=None, ge=1, le=365)
    template: str | None = None
    priority: int | None = Field(default=None, ge=1, le=9)
    cap: int | None = Field(default=None, ge=0)

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    @model_validator(mode="after")
    def _schedule(self) -> Step:
        if (self.day is None) == (self.from_ is None):
            raise ValueError("a step runs on one `day` or `from` a day (with `every`), not both")
        if self.day is not None and (self.to is not None or self.every is not None):
            raise ValueError("`to` and `every` go with `from`, not with `day`")
        if self.from_ is not None and self.to is not None and self.to < self.from_:
            raise ValueError(f"`to` {self.to} is before `from` {self.from_}")
        if self.action in MESSAGE_ACTIONS and not self.template:
            raise ValueError(f"a {self.action} step needs a template")
        if self.action not in MESSAGE_ACTIONS and self.template:
            raise ValueError(f"a {self.action} step sends no message, so it takes no template")
        if self.priority is not None and self.action not in CALL_ACTIONS:
            raise ValueError("only call and ivr steps take a priority")
        return self

    @property
    def first(self) -> int:
        return self.day if self.day is not None else (self.from_ or 0)

    @property
    def last(self) -> int | None:
        """The last day it can run (``None``: no end)."""
        return self.day if self.day is not None else self.to

    @property
    def step(self) -> int:
        return 1 if self.day is not None else (self.every or 1)

    def runs_on(self, day: int) -> bool:
        """Does this step run on ``day`` in the segment?"""
        last = self.last
        return (
            day >= self.first
            and (last is None or day <= last)
            and (day - self.first) % self.step == 0
        )

    @property
    def channel(self) -> str | None:
        return CHANNEL_OF.get(self.action)

    def describe(self) -> str:
        """``day 3: call (priority 2)``, ``days 1–30 every 2: sms SMS_REMINDER``."""
        if self.day is not None:
            when = f"day {self.day}"
        else:
            end = f"–{self.to}" if self.to is not None else "+"
            when = f"days {self.from_}{end}" + (f" every {self.every}" if self.every else "")
        what: str = self.action
        if self.template:
            what += f" {self.template}"
        if self.priority is not None:
            what += f" (priority {self.priority})"
        if self.cap is not None:
            what += f" (cap {self.cap}/day)"
        return f"{when}: {what}"


class Segment(_Strict):
    """A segment (客群) and its treatment path."""

    code: str = Field(pattern=r"^[A-Za-z][A-Za-z0-9_]{0,31}$")
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)
    description: str = ""
    path: tuple[Step, ...] = ()


class Rule(_Strict):
    """A row of the decision table."""

    segment: str
    when: When = When()
    note: str = ""


class Strategy(_Strict):
    """A whole strategy document (see the module docstring)."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_-]{0,31}$")
    zh: str = Field(min_length=1, max_length=100)
    en: str = Field(min_length=1, max_length=100)
    description: str = ""
    hit_policy: HitPolicy = "first"
    segments: tuple[Segment, ...]
    rules: tuple[Rule, ...]

    @field_validator("segments", "rules")
    @classmethod
    def _some(cls, value: tuple[Any, ...]) -> tuple[Any, ...]:
        if not value:
            raise ValueError("at least one is needed")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Strategy:
        codes = [s.code for s in self.segments]
        twice = sorted({c for c in codes if codes.count(c) > 1})
        if twice:
            raise ValueError(f"segment codes used twice: {', '.join(twice)}")
        for number, rule in enumerate(self.rules, start=1):
            if rule.segment not in codes:
                raise ValueError(
                    f"row {number} names segment {rule.segment!r}, which has no path "
                    f"(segments: {', '.join(codes)})"
                )
        return self

    def segment(self, code: str) -> Segment:
        for segment in self.segments:
            if segment.code == code:
                return segment
        raise KeyError(code)

    @property
    def templates(self) -> set[str]:
        return {s.template for seg in self.segments for s in seg.path if s.template}


#: a decision-table row in a validation message (``rules.0.when``: 0-based, from pydantic)
_ROW_FIELD = re.compile(r"\brules\.(\d+)\b")


def parse_strategy(raw: Any, *, source: str) -> Strategy:
    """Validate a strategy read from YAML; errors name ``source`` and the field, a row of
    the decision table by its 1-based number as everywhere else (``rules[row 1].when``)."""
    try:
        return parse_document(
            Strategy,
            raw,
            what="strategy",
            source=source,
            error=StrategyError,
            named_lists={"segments": "code"},
        )
    except StrategyError as exc:
        message = _ROW_FIELD.sub(lambda m: f"rules[row {int(m.group(1)) + 1}]", exc.message)
        raise StrategyError(message, **exc.details) from exc


def strategy_from_text(text: str, *, source: str) -> Strategy:
    """A strategy from its YAML text (a file's or the store's)."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise StrategyError(f"strategy {source}: not valid YAML ({exc})", source=source) from exc
    return parse_strategy(raw, source=source)


def read_strategy_file(path: Path) -> tuple[str, Strategy]:
    """The text of a strategy file and the strategy it holds."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise StrategyError(f"cannot read strategy {path}: {exc}", source=str(path)) from exc
    return text, strategy_from_text(text, source=str(path))


def shipped_text(name: str = DEFAULT_STRATEGY) -> str:
    """The text of a shipped strategy pack (``packs/NAME.yaml``)."""
    resource = PACKS / f"{name}.yaml"
    if not resource.is_file():
        raise StrategyError(f"no shipped strategy {name!r}", source=name)
    return resource.read_text(encoding="utf-8")


@cache
def shipped(name: str = DEFAULT_STRATEGY) -> Strategy:
    return strategy_from_text(shipped_text(name), source=f"packs/{name}.yaml")


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
