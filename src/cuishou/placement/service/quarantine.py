"""The quarantine file (隔离文件): rejected rows beside the input, with their reasons."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from cuishou.kit.spreadsheet import excel_safe_frame
from cuishou.placement.reader import original_rows
from cuishou.placement.service.common import FileOutcome

QUARANTINE_SUFFIX = ".quarantine.csv"
QUARANTINE_COLUMNS = ("row", "reason", "reason_zh")


def quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + QUARANTINE_SUFFIX)


def write_quarantine(outcome: FileOutcome) -> Path | None:
    """Write rejected rows beside the input (UTF-8 with BOM); remove a stale file if none.

    Columns: ``row`` (spreadsheet row), ``reason``, ``reason_zh``, then the row as read
    (read again from the file: only the rejected rows are ever held). Several problems of
    one row are joined with ``; `` (``；``). A cell a spreadsheet would take for a formula
    gets a leading ``'`` (:func:`cuishou.kit.spreadsheet.excel_safe`), which the import
    takes away again when the corrected file comes back.
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
    original = original_rows(outcome.source, reasons["_row"])
    # a quarantine file imported again brings its old row and reasons: they are replaced
    data = [c for c in original.columns[1:] if c not in QUARANTINE_COLUMNS]
    rows = (
        reasons.join(original.select("_row", *data), on="_row", how="left")
        .sort("_row")
        .rename({"_row": "row"})
        .select(*QUARANTINE_COLUMNS, *data)
    )
    target.write_bytes(b"\xef\xbb\xbf" + excel_safe_frame(rows).write_csv().encode("utf-8"))
    outcome.result.quarantine_file = str(target)
    return target
