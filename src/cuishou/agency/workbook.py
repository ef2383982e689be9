"""A commission statement as an .xlsx workbook (one sheet, header row, one row per line, a
totals row), through the one safe writer (``kit.spreadsheet.xlsx_bytes``)."""

from __future__ import annotations

from pathlib import Path

from cuishou.agency.schemas import StatementOut
from cuishou.kit.errors import InvalidInput
from cuishou.kit.spreadsheet import xlsx_bytes

HEADER = ("date", "case", "kind", "reference", "cash (yuan)", "rate", "commission (yuan)")


def statement_xlsx(found: StatementOut) -> bytes:
    rows: list[tuple[object, ...]] = [
        (line.effective_on.isoformat(), line.case_id, line.kind, line.reference, line.cash,
         line.rate, line.commission)
        for line in found.lines
    ]  # fmt: skip
    rows.append(("total", "", found.status, f"{found.agency} {found.month}", found.collected,
                 "", found.commission))  # fmt: skip
    return xlsx_bytes(HEADER, rows, sheet=f"{found.agency} {found.month}"[:31])


def write_statement(found: StatementOut, path: Path) -> None:
    try:
        path.write_bytes(statement_xlsx(found))
    except OSError as exc:
        raise InvalidInput(f"cannot write {path}: {exc.strerror or exc}", field="xlsx") from exc
