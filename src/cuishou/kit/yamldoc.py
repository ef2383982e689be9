"""Validated YAML documents (rule packs, lexicons …): one way to load, one way to complain.

A document is read, validated as a whole by a Pydantic model, and refused with a message
that names the file and every wrong field (``limits.unanswered_per_number_per_day: …``);
items of named lists are called by their id (``patterns[threat.violence].regex: …``).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from cuishou.kit.errors import CuishouError

M = TypeVar("M", bound=BaseModel)


def describe(
    error: ValidationError, raw: Any = None, *, named_lists: Mapping[str, str] | None = None
) -> str:
    """Every problem as ``where: what``; ``named_lists`` maps a list field to its id key."""
    parts = []
    for item in error.errors():
        loc = [str(p) for p in item["loc"]]
        key = (named_lists or {}).get(loc[0]) if loc else None
        if key and len(loc) > 1 and loc[1].isdigit() and isinstance(raw, dict):
            entries = raw.get(loc[0])
            entry = entries[int(loc[1])] if isinstance(entries, list) else None
            name = entry.get(key) if isinstance(entry, dict) else None
            loc[:2] = [f"{loc[0]}[{name if isinstance(name, str) else loc[1]}]"]
        where = ".".join(loc) or "(top level)"
        message = str(item["msg"]).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


def parse_document(
    model: type[M],
    raw: Any,
    *,
    what: str,
    source: str,
    error: type[CuishouError],
    named_lists: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> M:
    """Validate a document read from YAML; errors name ``source`` and the field.

    ``context`` reaches the model's validators (``info.context``): what a document is
    checked against that is not in it, such as the feature columns a label pack may name.
    """
    if not isinstance(raw, dict):
        raise error(f"{what} {source}: expected a mapping of fields at the top level")
    try:
        return model.model_validate(raw, context=dict(context) if context is not None else None)
    except ValidationError as exc:
        detail = describe(exc, raw, named_lists=named_lists)
        raise error(f"{what} {source}: {detail}", source=source) from exc


def load_document(
    model: type[M],
    path: Path,
    *,
    what: str,
    error: type[CuishouError],
    named_lists: Mapping[str, str] | None = None,
    context: Mapping[str, Any] | None = None,
) -> M:
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise error(f"cannot read {what} {path}: {exc}", source=str(path)) from exc
    return parse_document(
        model,
        raw,
        what=what,
        source=str(path),
        error=error,
        named_lists=named_lists,
        context=context,
    )
