"""The content-screening lexicon (话术筛查词库): versioned YAML, validated when loaded.

The lexicon is data a compliance officer can change without code
(``lexicon/screening.yaml``): one entry per banned-content pattern (a regular expression
over the text after full-width folding, see :func:`fold`), the negation cues that turn a
match into a denial (“我们**不会**通知您的单位”), and for each perspective (rule pack id)
the rule id each category cites. A lexicon that does not validate is refused with a
message naming the field that is wrong — a misspelt category or a regular expression
that does not compile must never silently screen nothing.
"""

from __future__ import annotations

import re
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from cuishou.kit.errors import ConfigError
from cuishou.kit.yamldoc import load_document, parse_document

Category = Literal[
    "threat",
    "insult",
    "false_identity",
    "exposure",
    "extra_fees",
    "new_borrowing",
    "over_promise",
    "debt_to_third_party",
    "time_barred_suit",
]
CATEGORIES: tuple[str, ...] = get_args(Category)
#: categories screened whatever the audience; the other two depend on the call's facts
CONDUCT: tuple[str, ...] = CATEGORIES[:7]
DEFAULT_LEXICON = "screening"


class LexiconError(ConfigError):
    """A screening lexicon that cannot be used; the message names the file and the field."""

    code = "invalid_screening_lexicon"
    http_status = 422


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def fold(text: str) -> str:
    """Full-width ASCII to half-width, ideographic space to space; **same length**.

    Patterns are written for half-width text (``"，"`` is matched as ``","``, ``"ＡＢＣ"``
    as ``"ABC"``); because no character is added or removed, an offset into the folded
    text is the same offset into the original.
    """
    return text.translate(_FOLD)


_FOLD = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}


class Pattern(_Strict):
    """One banned-content pattern: what it matches and why it is banned."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_.-]*$")
    category: Category
    regex: str = Field(min_length=1)
    #: a match preceded by a negation cue in its clause is not a finding (default); a
    #: third party told "we cannot discuss the debt" has still been told there is a debt
    negatable: bool = True
    #: sentences the pattern must match (checked by the test suite, documents intent)
    examples: tuple[str, ...] = ()
    note: str = ""

    @field_validator("regex")
    @classmethod
    def _compiles(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        try:
            compiled = re.compile(value, re.IGNORECASE)
        except re.error as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from exc
        if compiled.match(""):
            raise ValueError(f"regular expression {value!r} matches the empty string")
        return value

    def compiled(self) -> re.Pattern[str]:
        return re.compile(self.regex, re.IGNORECASE)


class Negation(_Strict):
    """NegEx-style scope: a cue token before a match, in the same clause, negates it."""

    #: how many word tokens (spaces not counted) before the match a cue may stand
    window_tokens: int = Field(default=6, ge=1, le=30)
    #: jieba tokens that deny or forbid (不会, 不是, 禁止, 请勿, not, never …)
    cues: frozenset[str] = Field(min_length=1)
    #: tokens after which the match is what others do or a warning (有人, 骗子, 警惕, any …);
    #: unlike a denial, no condition undoes them
    reported: frozenset[str] = frozenset()
    #: a cue followed by one of these is a condition, not a denial (如果**不还**…就…)
    conditions: frozenset[str] = frozenset()
    #: tokens that end a cue's scope (就, 否则, 但是, otherwise, but …)
    breakers: frozenset[str] = frozenset()
    #: a cue after one of these in its clause is part of a condition (如果您不…, if …)
    conditionals: frozenset[str] = frozenset()

    @field_validator("cues", "reported", "conditions", "breakers", "conditionals", mode="before")
    @classmethod
    def _lowercase(cls, value: Any) -> Any:
        if isinstance(value, list | tuple | set | frozenset):
            words = [str(word) for word in value]
            if any(not word.strip() for word in words):
                raise ValueError("must not contain an empty word")
            return frozenset(word.lower() for word in words)
        return value


class Perspective(_Strict):
    """How one rule pack reads the findings: the rule id each category cites."""

    rule_ids: dict[Category, str]

    @model_validator(mode="after")
    def _every_conduct_category_cites_a_rule(self) -> Perspective:
        missing = [c for c in (*CONDUCT, "debt_to_third_party") if c not in self.rule_ids]
        if missing:
            raise ValueError(f"rule_ids has no id for the category(ies) {', '.join(missing)}")
        return self

    def screens_time_barred_suits(self) -> bool:
        return "time_barred_suit" in self.rule_ids


class Lexicon(_Strict):
    """One validated lexicon (see ``lexicon/screening.yaml``, commented)."""

    version: str = Field(min_length=1)
    negation: Negation
    perspectives: dict[str, Perspective] = Field(min_length=1)
    #: words jieba must keep whole so cues and matches fall on token boundaries
    words: tuple[str, ...] = ()
    patterns: tuple[Pattern, ...] = Field(min_length=1)

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int | float) else value

    @model_validator(mode="after")
    def _unique_ids(self) -> Lexicon:
        seen: set[str] = set()
        for entry in self.patterns:
            if entry.id in seen:
                raise ValueError(f"pattern id {entry.id!r} is used twice")
            seen.add(entry.id)
        return self

    @model_validator(mode="after")
    def _every_category_has_a_pattern(self) -> Lexicon:
        covered = {entry.category for entry in self.patterns}
        needed = {c for view in self.perspectives.values() for c in view.rule_ids}
        missing = sorted(needed - covered, key=CATEGORIES.index)
        if missing:
            raise ValueError(f"no pattern for the category(ies) {', '.join(missing)}")
        return self


_NAMED = {"patterns": "id"}


def parse_lexicon(raw: Any, *, source: str) -> Lexicon:
    """Validate a lexicon read from YAML; errors name ``source`` and the field
    (a pattern by its id: ``patterns[threat.violence].regex: …``)."""
    return parse_document(
        Lexicon, raw, what="lexicon", source=source, error=LexiconError, named_lists=_NAMED
    )


def load_lexicon_file(path: Path) -> Lexicon:
    return load_document(Lexicon, path, what="lexicon", error=LexiconError, named_lists=_NAMED)


@cache
def load_lexicon(name: str = DEFAULT_LEXICON) -> Lexicon:
    """The shipped lexicon by name (``screening``) or a lexicon file by path."""
    path = Path(name)
    if path.suffix in {".yaml", ".yml"}:
        return load_lexicon_file(path)
    folder = resources.files("cuishou.compliance") / "lexicon"
    shipped = sorted(p.name.removesuffix(".yaml") for p in folder.iterdir())
    if name not in shipped:
        raise LexiconError(
            f"no lexicon {name!r}; shipped: {', '.join(shipped)} (or give the path of a .yaml)",
            source=name,
        )
    text = (folder / f"{name}.yaml").read_text("utf-8")
    return parse_lexicon(yaml.safe_load(text), source=f"{name}.yaml")
