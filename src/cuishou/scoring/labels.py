"""Customer labels (客户画像): rules as data over the feature columns, in two forms.

A label pack (``labels.yaml``, or a file given by path) names each label — ``hardship``
暂时困难型, ``dispute`` 争议拒付型, ``evading`` 有意逃避型, ``unreachable`` 失联型,
``cooperative`` 配合型 — with the condition that gives it and the columns recorded as its
facts. A case can carry several labels; each label given carries its facts (the feature
values that made it true), so a person can see why.

The condition language is small and closed, so that a typo is an error when the pack is
loaded, never a label silently not given:

* a comparison ``column OP literal`` with OP one of ``< <= > >= == !=``;
  numeric columns take a number, flag columns ``true``/``false`` (``==``/``!=`` only),
  categorical columns a quoted string (``==``/``!=`` only);
* a null test ``column is null`` / ``column is not null``;
* ``{all: [...]}`` and ``{any: [...]}`` of conditions, nested as deep as needed.

Columns are checked against the columns the caller passes in (the contract's feature
columns with their kind, as in ``scoring.catalogue``: ``numeric``, ``categorical``, ``flag``).

**Missing facts.** A null value (or a float NaN or ±inf, read as null) makes every
comparison false, ``!=`` included; only ``is null`` sees it. ``all``/``any`` then combine
plain true/false.
The scalar form (:func:`labels_of`, the case page) and the Polars form (:func:`label_frame`,
the daily cycle) follow this one definition; a property test holds them equal.
"""

from __future__ import annotations

import difflib
import json
import math
import operator
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from functools import reduce
from pathlib import Path
from typing import Annotated, Any, Literal

import polars as pl
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SkipValidation,
    ValidationInfo,
    field_validator,
    model_validator,
)

from cuishou.kit.errors import ConfigError, InvalidInput
from cuishou.kit.yamldoc import load_document, parse_document

SHIPPED = Path(__file__).with_name("labels.yaml")

ColumnKind = Literal["numeric", "categorical", "flag"]
Op = Literal["<", "<=", ">", ">=", "==", "!="]
Literal_ = int | float | bool | str

ORDERED_OPS: tuple[Op, ...] = ("<", "<=", ">", ">=")
EQUALITY_OPS: tuple[Op, ...] = ("==", "!=")
_PY_OPS: dict[str, Callable[[Any, Any], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
    "==": operator.eq,
    "!=": operator.ne,
}

#: one label in the Polars form: a row per (case, label given)
LABEL_SCHEMA = pl.Schema({"case_id": pl.Int64(), "code": pl.String(), "facts": pl.String()})
#: one change of a case's labels, for the events the lead records
CHANGE_SCHEMA = pl.Schema(
    {"case_id": pl.Int64(), "code": pl.String(), "change": pl.String(), "facts": pl.String()}
)


class LabelPackError(ConfigError):
    """A label pack that cannot be used; the message names the file, the label and the field."""

    code = "invalid_label_pack"
    http_status = 422


# --- the condition language ------------------------------------------------------------


@dataclass(frozen=True)
class Comparison:
    """``column op value``; false when the column's value is missing."""

    column: str
    op: Op
    value: Literal_

    def __str__(self) -> str:
        value = self.value
        shown = (
            ("true" if value else "false")
            if isinstance(value, bool)
            else f'"{value}"'
            if isinstance(value, str)
            else repr(value)
        )
        return f"{self.column} {self.op} {shown}"


@dataclass(frozen=True)
class NullTest:
    """``column is null`` (``missing=True``) or ``column is not null``."""

    column: str
    missing: bool

    def __str__(self) -> str:
        return f"{self.column} is {'' if self.missing else 'not '}null"


@dataclass(frozen=True)
class AllOf:
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class AnyOf:
    conditions: tuple[Condition, ...]


Condition = Comparison | NullTest | AllOf | AnyOf

_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_COMPARISON = re.compile(rf"^\s*({_NAME})\s*(<=|>=|==|!=|<|>)\s*(.*?)\s*$")
_NULL_TEST = re.compile(rf"^\s*({_NAME})\s+is\s+(not\s+)?null\s*$")
_INT = re.compile(r"^[+-]?\d+$")
_FLOAT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][+-]?\d+)$")
_QUOTED = re.compile(r"""^(?:"([^"]*)"|'([^']*)')$""")


def _literal(text: str) -> Literal_:
    if text in {"true", "false"}:
        return text == "true"
    if _INT.match(text):
        return int(text)
    if _FLOAT.match(text):
        return float(text)
    quoted = _QUOTED.match(text)
    if quoted:
        return quoted.group(1) if quoted.group(1) is not None else quoted.group(2)
    if text in {"null", "none", "None", "~"}:
        raise ValueError("compare with null by writing `column is null` or `is not null`")
    if not text:
        raise ValueError("the value to compare with is missing")
    raise ValueError(
        f"cannot read the value {text!r}: write a number, true/false or a quoted string"
    )


def _column(name: str, columns: Mapping[str, ColumnKind]) -> ColumnKind:
    if name in columns:
        return columns[name]
    close = difflib.get_close_matches(name, list(columns), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    raise ValueError(f"unknown column {name}{hint}")


def _comparison(text: str, columns: Mapping[str, ColumnKind]) -> Condition:
    null_test = _NULL_TEST.match(text)
    if null_test:
        _column(null_test.group(1), columns)
        return NullTest(null_test.group(1), missing=null_test.group(2) is None)
    match = _COMPARISON.match(text)
    if not match:
        raise ValueError(
            "expected `column OP value` with OP one of < <= > >= == !=, "
            "or `column is null` / `column is not null`"
        )
    name, op, raw_value = match.groups()
    kind = _column(name, columns)
    value = _literal(raw_value)
    if kind == "numeric":
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"{name} is a number: compare it with a number")
    elif kind == "flag":
        if not isinstance(value, bool):
            raise ValueError(f"{name} is a flag: compare it with true or false")
        if op not in EQUALITY_OPS:
            raise ValueError(f"{name} is a flag: use == or != (not {op})")
    else:
        if not isinstance(value, str):
            raise ValueError(f"{name} is a category: compare it with a quoted string")
        if op not in EQUALITY_OPS:
            raise ValueError(f"{name} is a category: use == or != (not {op})")
    return Comparison(name, op, value)  # type: ignore[arg-type]  # op matched the set above


def parse_condition(raw: Any, columns: Mapping[str, ColumnKind], where: str = "") -> Condition:
    """A condition from its YAML form; a mistake names where it is (``any[1]``) and what."""
    at = f"{where}: " if where else ""
    if isinstance(raw, str):
        try:
            return _comparison(raw, columns)
        except ValueError as exc:
            raise ValueError(f"{at}{raw!r}: {exc}") from None
    if isinstance(raw, dict):
        if len(raw) != 1 or next(iter(raw)) not in {"all", "any"}:
            keys = ", ".join(str(key) for key in raw) or "nothing"
            raise ValueError(f"{at}expected one key, all or any (got {keys})")
        ((key, items),) = raw.items()
        if not isinstance(items, list) or not items:
            raise ValueError(f"{at}{key} needs a non-empty list of conditions")
        prefix = f"{where}." if where else ""
        parts = tuple(
            parse_condition(item, columns, f"{prefix}{key}[{index}]")
            for index, item in enumerate(items)
        )
        return AllOf(parts) if key == "all" else AnyOf(parts)
    raise ValueError(
        f"{at}expected a condition such as `partial_payments_90d >= 1`, "
        f"or all/any of conditions (got {type(raw).__name__})"
    )


def columns_of(condition: Condition) -> Iterator[str]:
    """The columns a condition reads, in the order written (repeats included)."""
    if isinstance(condition, Comparison | NullTest):
        yield condition.column
    else:
        for part in condition.conditions:
            yield from columns_of(part)


# --- the pack ----------------------------------------------------------------------------


def _columns_in(info: ValidationInfo) -> Mapping[str, ColumnKind]:
    columns = (info.context or {}).get("columns")
    if columns is None:  # a programming error, not a pack error
        raise TypeError("a label pack is validated against the feature columns (context)")
    return columns  # type: ignore[no-any-return]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LabelRule(_Strict):
    """One label: its names, what it means, when it is given and which facts it records."""

    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    zh: str = Field(min_length=1)
    en: str = Field(min_length=1)
    description: str = Field(min_length=1)
    when: Annotated[Condition, SkipValidation]
    #: the columns recorded with the label; by default those its condition reads
    facts: tuple[str, ...] = ()

    @field_validator("when", mode="before")
    @classmethod
    def _condition(cls, value: Any, info: ValidationInfo) -> Condition:
        return parse_condition(value, _columns_in(info))

    @field_validator("facts")
    @classmethod
    def _known_facts(cls, value: tuple[str, ...], info: ValidationInfo) -> tuple[str, ...]:
        columns = _columns_in(info)
        for name in value:
            _column(name, columns)
        repeated = sorted({name for name in value if value.count(name) > 1})
        if repeated:
            raise ValueError(f"names {', '.join(repeated)} more than once")
        return value

    @model_validator(mode="after")
    def _default_facts(self) -> LabelRule:
        if not self.facts:
            object.__setattr__(self, "facts", tuple(dict.fromkeys(columns_of(self.when))))
        return self


class LabelPack(_Strict):
    """A validated label pack (see ``labels.yaml``, commented)."""

    id: str = Field(pattern=r"^[a-z][a-z0-9-]*$")
    version: str = Field(min_length=1)
    labels: tuple[LabelRule, ...]
    #: the kind of every column the pack reads (from the columns it was checked against)
    _kinds: dict[str, ColumnKind] = PrivateAttr(default_factory=dict)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @field_validator("labels", mode="before")
    @classmethod
    def _some_labels(cls, value: Any) -> Any:
        if isinstance(value, list | tuple) and not value:
            raise ValueError("a pack gives at least one label")
        return value

    @field_validator("labels")
    @classmethod
    def _codes_unique(cls, value: tuple[LabelRule, ...]) -> tuple[LabelRule, ...]:
        codes = [rule.code for rule in value]
        repeated = sorted({code for code in codes if codes.count(code) > 1})
        if repeated:
            raise ValueError(f"the code(s) {', '.join(repeated)} name more than one label")
        return value

    @model_validator(mode="after")
    def _kinds_read(self, info: ValidationInfo) -> LabelPack:
        columns = _columns_in(info)
        used = {
            name: columns[name]
            for rule in self.labels
            for name in (*columns_of(rule.when), *rule.facts)
        }
        self._kinds = used
        return self

    @property
    def kinds(self) -> Mapping[str, ColumnKind]:
        return self._kinds

    def rule(self, code: str) -> LabelRule:
        for rule in self.labels:
            if rule.code == code:
                return rule
        raise KeyError(code)


def parse_label_pack(raw: Any, *, source: str, columns: Mapping[str, ColumnKind]) -> LabelPack:
    """Validate a pack read from YAML against the feature ``columns`` (name → kind)."""
    return parse_document(
        LabelPack,
        raw,
        what="label pack",
        source=source,
        error=LabelPackError,
        named_lists={"labels": "code"},
        context={"columns": columns},
    )


def load_label_pack(path: Path | None = None, *, columns: Mapping[str, ColumnKind]) -> LabelPack:
    """The shipped pack (``labels.yaml``) or a pack file, checked against ``columns``."""
    return load_document(
        LabelPack,
        path or SHIPPED,
        what="label pack",
        error=LabelPackError,
        named_lists={"labels": "code"},
        context={"columns": columns},
    )


# --- the scalar form (one case) ----------------------------------------------------------


@dataclass(frozen=True)
class GivenLabel:
    """A label given to one case, with the facts that made it true."""

    code: str
    zh: str
    en: str
    facts: dict[str, object]


def _value(row: Mapping[str, object], name: str, kind: ColumnKind) -> object:
    if name not in row:
        raise InvalidInput(f"the case's features have no column {name}", column=name)
    value = row[name]
    if value is None:
        return None
    fits = {
        "numeric": isinstance(value, int | float) and not isinstance(value, bool),
        "flag": isinstance(value, bool),
        "categorical": isinstance(value, str),
    }[kind]
    if not fits:
        raise InvalidInput(
            f"feature {name} should be {kind}, not {type(value).__name__} ({value!r})",
            column=name,
        )
    if isinstance(value, float) and not math.isfinite(value):
        return None  # NaN or ±inf is a missing fact, as in the Polars form
    return value


def holds(condition: Condition, row: Mapping[str, object], kinds: Mapping[str, ColumnKind]) -> bool:
    """Whether ``condition`` holds for one case's features (missing facts: see module)."""
    if isinstance(condition, Comparison):
        value = _value(row, condition.column, kinds[condition.column])
        return value is not None and _PY_OPS[condition.op](value, condition.value)
    if isinstance(condition, NullTest):
        missing = _value(row, condition.column, kinds[condition.column]) is None
        return missing if condition.missing else not missing
    if isinstance(condition, AllOf):
        return all(holds(part, row, kinds) for part in condition.conditions)
    return any(holds(part, row, kinds) for part in condition.conditions)


def labels_of(row: Mapping[str, object], pack: LabelPack) -> list[GivenLabel]:
    """The labels one case carries, in pack order, each with its facts (客户画像)."""
    given = []
    for rule in pack.labels:
        if holds(rule.when, row, pack.kinds):
            facts = {name: _value(row, name, pack.kinds[name]) for name in rule.facts}
            given.append(GivenLabel(rule.code, rule.zh, rule.en, facts))
    return given


def facts_json(facts: Mapping[str, object]) -> str:
    """Facts as the JSON text the store holds (the Polars form writes the same values)."""
    return json.dumps(facts, ensure_ascii=False, separators=(",", ":"))


# --- the Polars form (every case) ---------------------------------------------------------


def condition_expr(condition: Condition) -> pl.Expr:
    """The condition as a Boolean expression that is never null (missing facts → false).

    Float columns must have had NaN and ±inf turned into null first (:func:`label_frame`
    does).
    """
    if isinstance(condition, Comparison):
        column = pl.col(condition.column)
        value = pl.lit(condition.value)
        compared = {
            "<": column < value,
            "<=": column <= value,
            ">": column > value,
            ">=": column >= value,
            "==": column == value,
            "!=": column != value,
        }[condition.op]
        return compared.fill_null(False)
    if isinstance(condition, NullTest):
        return pl.col(condition.column).is_null() == condition.missing
    parts = [condition_expr(part) for part in condition.conditions]
    if isinstance(condition, AllOf):
        return reduce(operator.and_, parts)
    return reduce(operator.or_, parts)


_KIND_OK: dict[ColumnKind, Callable[[pl.DataType], bool]] = {
    "numeric": lambda dtype: dtype.is_numeric(),
    "flag": lambda dtype: dtype == pl.Boolean,
    "categorical": lambda dtype: dtype in (pl.String, pl.Categorical, pl.Enum),
}


def _checked_schema(features: pl.DataFrame, pack: LabelPack) -> None:
    schema = features.schema
    if "case_id" not in schema:
        raise InvalidInput("the feature frame has no case_id column")
    for name, kind in pack.kinds.items():
        if name not in schema:
            raise InvalidInput(f"the feature frame has no column {name}", column=name)
        dtype = schema[name]
        if dtype != pl.Null and not _KIND_OK[kind](dtype):
            raise InvalidInput(
                f"feature {name} should be {kind}, not {dtype} in the feature frame",
                column=name,
            )


def label_frame(features: pl.DataFrame, pack: LabelPack) -> pl.DataFrame:
    """Every case's labels, set-based: ``case_id, code, facts`` (facts: JSON text).

    One row per label given, ordered by case and then pack order; a case with no label has
    no row. ``facts`` is a JSON object (column → value) in the rule's fact order, text so
    that SQLite and PostgreSQL hold it alike; it decodes to the scalar form's facts.
    """
    _checked_schema(features, pack)
    schema = features.schema
    floats = [name for name in pack.kinds if schema[name].is_float()]
    categories = [name for name in pack.kinds if schema[name] in (pl.Categorical, pl.Enum)]
    cases = (
        features.lazy()
        .select("case_id", *pack.kinds)
        .with_columns(
            *(pl.when(pl.col(name).is_finite()).then(pl.col(name)).alias(name) for name in floats),
            pl.col(categories).cast(pl.String),
        )
    )
    per_label = [
        cases.filter(condition_expr(rule.when)).select(
            pl.col("case_id").cast(pl.Int64),
            pl.lit(rule.code, pl.String).alias("code"),
            pl.lit(index, pl.UInt32).alias("_order"),
            pl.struct(list(rule.facts)).struct.json_encode().alias("facts"),
        )
        for index, rule in enumerate(pack.labels)
    ]
    return (
        pl.concat(per_label).sort("case_id", "_order").drop("_order").collect().cast(LABEL_SCHEMA)
    )


def label_changes(before: pl.DataFrame, after: pl.DataFrame) -> pl.DataFrame:
    """What changed between a case's labels before and after: one row per label given or
    removed, ``case_id, code, change ("given"|"removed"), facts`` — one event each.

    ``before`` holds ``case_id, code`` (and ``facts`` if known: a removed label then
    carries the facts it was given with); ``after`` is a :func:`label_frame`. A label held
    in both is no change, even if its facts moved. Both must cover the same cases: restrict
    ``before`` to the cases labelled this time, or a case left out loses its labels.
    """
    for name, frame in (("before", before), ("after", after)):
        missing = [c for c in ("case_id", "code") if c not in frame.columns]
        if missing:
            raise InvalidInput(f"label_changes: {name} has no column {', '.join(missing)}")
    keys = ["case_id", "code"]

    def side(frame: pl.DataFrame, present: str) -> pl.LazyFrame:
        facts = pl.col("facts") if "facts" in frame.columns else pl.lit(None)
        return frame.lazy().select(
            pl.col("case_id").cast(pl.Int64),
            pl.col("code").cast(pl.String),
            facts.cast(pl.String).alias(f"facts_{present}"),
            pl.lit(True).alias(present),
        )

    # one full join; a key on one side only is a change (a repeated key: one change)
    both = side(before, "was").join(side(after, "is"), on=keys, how="full", coalesce=True)
    changed = both.filter(pl.col("was").is_null() | pl.col("is").is_null()).select(
        *keys,
        change=pl.when(pl.col("is")).then(pl.lit("given")).otherwise(pl.lit("removed")),
        facts=pl.when(pl.col("is")).then("facts_is").otherwise("facts_was"),
    )
    return (
        changed.unique(keys, keep="first", maintain_order=True)
        .sort(keys)
        .collect()
        .cast(CHANGE_SCHEMA)
    )
