"""How big a file the import agrees to read (导入文件限制), and where a deployment sets it.

A creditor's file is untrusted input. A 400 KB workbook can hold a 400 MiB cell (a zip
"bomb"), a 10 KB one can ask for a table of 16,384 columns by 1,048,576 rows, and one
shared string can be repeated in a million cells; read naively, each takes gigabytes of
memory or the process itself. So every file is measured **before** it is read, against
the limits below, and refused with a message naming the limit and how to raise it:

- ``max_rows``: data rows in one file (any format);
- ``max_cells``: rows × columns of the table (a workbook's used range, whatever is empty);
- ``max_bytes``: the data uncompressed — a CSV's size, the XML inside an XLSX (and, on its
  own, the text its cells hold when shared strings are counted at every use), a Parquet
  file's uncompressed column data and the text it holds once read;
- ``max_ratio``: XLSX only, uncompressed ÷ compressed size of each part of the zip;
- ``max_cell_chars``: characters in one cell (32,767 is Excel's own limit).

The defaults let a 1,000,000-row file of the placement format through in every format.
They are set in the ``import:`` section of the deployment's config file, given with
``cuishou import --config FILE`` (the same file as ``cuishou daily --config``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

import yaml

from cuishou.kit.errors import ConfigError

KIB = 1 << 10
MIB = 1 << 20
GIB = 1 << 30
_UNITS = {
    "b": 1,
    "kb": 1000,
    "mb": 1000**2,
    "gb": 1000**3,
    "kib": KIB,
    "mib": MIB,
    "gib": GIB,
}
_SIZE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$", re.IGNORECASE)
CONFIG_SECTION = "import"


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """The largest file the import reads; beyond any limit the file is refused unread."""

    max_rows: int = 2_000_000
    max_cells: int = 100_000_000
    max_bytes: int = 2 * GIB
    max_ratio: int = 100
    max_cell_chars: int = 32_767

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ConfigError(
                    f"{CONFIG_SECTION}.{item.name} must be a positive whole number, not {value!r}"
                )


DEFAULT_LIMITS = ImportLimits()

HOW_TO_RAISE = "raise {name} in the import: section of the config file given with --config"
"""Appended to every refusal, so the person who reads it knows what to change."""


def raise_hint(name: str) -> str:
    return HOW_TO_RAISE.format(name=f"{CONFIG_SECTION}.{name}")


def human_size(size: int) -> str:
    """``2147483648`` → ``2.0 GiB``; bytes below 1 KiB as they are."""
    for unit, factor in (("GiB", GIB), ("MiB", MIB), ("KiB", KIB)):
        if size >= factor:
            return f"{size / factor:,.1f} {unit}"
    return f"{size:,} bytes"


def parse_size(value: Any, *, name: str) -> int:
    """A size in bytes: a whole number, or text such as ``"2 GiB"``, ``"500 MB"``."""
    if isinstance(value, bool):
        raise ConfigError(f"{CONFIG_SECTION}.{name} must be a size such as 2 GiB, not {value!r}")
    if isinstance(value, int):
        return value
    match = _SIZE_RE.match(str(value))
    unit = (match.group(2) or "b").lower() if match else ""
    if match is None or unit not in _UNITS:
        raise ConfigError(
            f"{CONFIG_SECTION}.{name} must be a size such as 2 GiB or 500 MB "
            f"(units: B, KB, MB, GB, KiB, MiB, GiB), not {value!r}"
        )
    return int(float(match.group(1)) * _UNITS[unit])


def limits_from(spec: Any, *, source: str = "config") -> ImportLimits:
    """``ImportLimits`` from the ``import:`` mapping of a config file (missing keys: defaults)."""
    if spec is None:
        return DEFAULT_LIMITS
    known = {item.name for item in fields(ImportLimits)}
    if not isinstance(spec, dict) or set(spec) - known:
        raise ConfigError(
            f"{source}: the {CONFIG_SECTION}: section takes {', '.join(sorted(known))} only"
        )
    values: dict[str, int] = {}
    for name, value in spec.items():
        if name == "max_bytes":
            values[name] = parse_size(value, name=name)
        elif isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(
                f"{source}: {CONFIG_SECTION}.{name} must be a whole number, not {value!r}"
            )
        else:
            values[name] = value
    try:
        return ImportLimits(**values)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc.message}") from exc


def load_import_limits(path: Path | None) -> ImportLimits:
    """The ``import:`` section of the deployment's config YAML; defaults without a file."""
    if path is None:
        return DEFAULT_LIMITS
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read config {path}: {exc}") from exc
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    return limits_from(raw.get(CONFIG_SECTION), source=str(path))
