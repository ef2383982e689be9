"""The quarantine file (隔离文件): rejected rows beside the input, with their reasons."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cuishou.placement.service.common import FileOutcome

QUARANTINE_SUFFIX = ".quarantine.csv"


def quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + QUARANTINE_SUFFIX)


def write_quarantine(outcome: FileOutcome) -> Path | None:
    """Write rejected rows beside the input (UTF-8 with BOM); remove a stale file if none.

    Columns: ``row`` (spreadsheet row), ``reason``, ``reason_zh``, then the row exactly
    as read. Several problems of one row are joined with ``; `` (``；``).
    """
    target = quarantine_path(outcome.source.path)
    if outcome.problems.height == 0:
        target.unlink(missing_ok=True)
        return None
    reasons = (
        outcome.problems.sort("_row", "_order")
        .group_by("_row", maintain_order=True)
        .agg(
            pl.col("en").unique(maintain_order=True).str.join("; ").alias("reason"),
            pl.col("zh").unique(maintain_order=True).str.join("；").alias("reason_zh"),
        )
    )
    original = outcome.source.original.with_columns(
        pl.int_range(2, outcome.source.rows + 2, dtype=pl.Int64).alias("_row")
    )
    rows = reasons.join(original, on="_row", how="left").sort("_row")
    rows = rows.rename({"_row": "row"}).select(
        "row", "reason", "reason_zh", *outcome.source.original.columns
    )
    target.write_bytes(b"\xef\xbb\xbf" + rows.write_csv().encode("utf-8"))
    outcome.result.quarantine_file = str(target)
    return target
