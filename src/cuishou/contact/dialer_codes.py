"""The dialer result-code table (外呼结果代码映射): dialer codes → outcome codes.

Shipped as data (``dialer_codes.yaml`` beside this module); a deployment lays its own file
over it (``cuishou contacts import --codes FILE``). Every outcome code of
:data:`cuishou.contact.rules.OUTCOMES` and its Chinese label map to themselves, and the
value ``answered`` means "someone picked up": who, follows from whose number was dialled
(:func:`cuishou.contact.rules.answered_outcome`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cuishou.contact.rules import ANSWERED, OUTCOMES
from cuishou.kit.errors import InvalidInput
from cuishou.kit.yamldoc import describe

DEFAULT_CODES = Path(__file__).with_name("dialer_codes.yaml")
TARGETS = frozenset({*OUTCOMES, ANSWERED})


class CodesFile(BaseModel):
    """A codes file: ``codes`` (dialer code → outcome code or ``answered``)."""

    model_config = ConfigDict(extra="forbid")

    codes: dict[str, str] = Field(default_factory=dict)
    replace: bool = False

    @field_validator("codes")
    @classmethod
    def _known_targets(cls, codes: dict[str, str]) -> dict[str, str]:
        wrong = sorted(f"{k}: {v}" for k, v in codes.items() if v not in TARGETS)
        if wrong:
            raise ValueError(
                f"unknown outcome code(s) {', '.join(wrong)}; use one of "
                f"{', '.join(sorted(TARGETS))}"
            )
        blank = [k for k in codes if not str(k).strip()]
        if blank:
            raise ValueError("a dialer code must not be blank")
        return codes


def code_key(code: str) -> str:
    """A code as matched: trimmed, upper case."""
    return code.strip().upper()


def code_key_expr(code: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`code_key`."""
    return code.str.strip_chars().str.to_uppercase()


@dataclass(frozen=True)
class ResultCodes:
    """Matched dialer code → outcome code (or ``answered``)."""

    mapping: dict[str, str]

    def outcome_of(self, code: str) -> str | None:
        return self.mapping.get(code_key(code))

    def outcome_expr(self, code: pl.Expr) -> pl.Expr:
        """The outcome (or ``answered``) of each code; null for an unknown code."""
        return code_key_expr(code).replace_strict(
            self.mapping, default=None, return_dtype=pl.String
        )


def _read(path: Path) -> CodesFile:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(f"{path}: cannot read the dialer codes file ({exc})") from exc
    try:
        return CodesFile.model_validate(raw or {})
    except ValidationError as exc:
        raise InvalidInput(f"{path}: {describe(exc, raw)}") from exc


def load_codes(path: Path | None = None) -> ResultCodes:
    """The shipped table, with ``path``'s entries laid over it (``replace: true``: only the
    outcome codes themselves and ``path``'s entries)."""
    mapping: dict[str, str] = {}
    for code, outcome in OUTCOMES.items():
        mapping[code_key(code)] = code
        mapping[code_key(outcome.zh)] = code
    override = _read(path) if path is not None else None
    if override is None or not override.replace:
        mapping.update({code_key(k): v for k, v in _read(DEFAULT_CODES).codes.items()})
    if override is not None:
        mapping.update({code_key(k): v for k, v in override.codes.items()})
    return ResultCodes(mapping)
