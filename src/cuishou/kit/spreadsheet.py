"""Cells of the CSV files people open in Excel or WPS (CSV 公式注入防护).

A spreadsheet application reads a cell that starts with ``=``, ``+``, ``-`` or ``@`` (or a
tab or carriage return before one) as a formula, and a formula can run commands or send
the sheet's data away ("CSV injection", OWASP). Every CSV Cuishou writes for people —
the quarantine files, the compliance report, the templates — passes its cells through
:func:`excel_safe` (one value) or :func:`excel_safe_expr` (a Polars column), which put a
single quote ``'`` in front of such a value, as OWASP advises: the application then shows
it as text.

Two refinements, written down in ADR 0013:

- a plain number keeps its sign (``-5.00``, ``+86``): a spreadsheet reads it as a number,
  never a formula, and a quarantined negative amount must read as the file had it;
- a value that already starts with quotes before such a character gets one more, so
  :func:`excel_plain` (the reader's side) can take exactly one away: whatever a cell held,
  ``excel_plain(excel_safe(value)) == value``. The import reads every cell through
  :func:`excel_plain_expr`, so a quarantine file, corrected and imported again, gives the
  values it was written from.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence
from typing import TypeVar

import polars as pl
from openpyxl import Workbook

FORMULA_STARTS = "=+-@\t\r"
"""Characters a spreadsheet application may take as the start of a formula."""
QUOTE = "'"
_NUMBER = r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?"
_NUMBER_RE = re.compile(_NUMBER)
_STARTS_RE = "^[=+\\-@\\t\\r]"

T = TypeVar("T")


def _needs_quote(text: str) -> bool:
    """Whether ``text``, past any leading quotes, would be read as a formula."""
    bare = text.lstrip(QUOTE)
    return bool(bare) and bare[0] in FORMULA_STARTS and _NUMBER_RE.fullmatch(bare) is None


def excel_safe(value: T) -> T | str:
    """``value`` as a spreadsheet shows it as text: ``'=1+1`` for ``=1+1``; others as they are.

    Only text can be a formula; numbers, dates and ``None`` are returned unchanged.
    """
    if isinstance(value, str) and _needs_quote(value):
        return QUOTE + value
    return value


def excel_plain(text: str) -> str:
    """The value :func:`excel_safe` was given: its one added quote taken away."""
    if text.startswith(QUOTE) and _needs_quote(text[1:]):
        return text[1:]
    return text


def _needs_quote_expr(column: pl.Expr) -> pl.Expr:
    bare = column.str.strip_chars_start(QUOTE)
    return bare.str.contains(_STARTS_RE) & ~bare.str.contains(f"^{_NUMBER}$")


def excel_safe_expr(column: pl.Expr) -> pl.Expr:
    """:func:`excel_safe` for a String column (the twin used on whole frames)."""
    return (
        pl.when(_needs_quote_expr(column).fill_null(False))
        .then(pl.lit(QUOTE) + column)
        .otherwise(column)
    )


def excel_plain_expr(column: pl.Expr) -> pl.Expr:
    """:func:`excel_plain` for a String column."""
    rest = column.str.slice(1)
    return (
        pl.when((column.str.starts_with(QUOTE) & _needs_quote_expr(rest)).fill_null(False))
        .then(rest)
        .otherwise(column)
    )


def excel_safe_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of ``frame`` through :func:`excel_safe_expr`."""
    return frame.with_columns(
        excel_safe_expr(pl.col(name)).alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )


#: what a table for people is: a header row, then rows of text, numbers, dates or ``None``
Cells = Sequence[object]
CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def csv_bytes(header: Cells, rows: Iterable[Cells]) -> bytes:
    """A table as the CSV people open in Excel or WPS: UTF-8 with a BOM (so Chinese headers
    read right), every cell through :func:`excel_safe`, ``None`` as an empty cell."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    for cells in (header, *rows):
        writer.writerow(["" if cell is None else excel_safe(cell) for cell in cells])
    return out.getvalue().encode("utf-8")


def xlsx_bytes(header: Cells, rows: Iterable[Cells], *, sheet: str) -> bytes:
    """A table as an XLSX workbook of one sheet. Numbers stay numbers; text goes through
    :func:`excel_safe` (openpyxl would store a text starting with ``=`` as a formula)."""
    workbook = Workbook(write_only=True)
    worksheet = workbook.create_sheet(sheet[:31] or "sheet")
    for cells in (header, *rows):
        worksheet.append([excel_safe(cell) for cell in cells])
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
