"""Tables for people as CSV and XLSX (kit/spreadsheet.py): formula-safe text, typed cells."""

from __future__ import annotations

import io
from decimal import Decimal

import polars as pl
from openpyxl import load_workbook

from cuishou.kit.spreadsheet import csv_bytes, xlsx_bytes

HEADER = ["团队", "回款金额", "回款率", "电话量"]
ROWS: list[list[object]] = [
    ['=HYPERLINK("x")', Decimal("1050.00"), 0.1, 5],
    ["一组", Decimal("-5.00"), None, 0],
]


def test_csv_has_a_bom_and_no_cell_a_spreadsheet_would_run() -> None:
    text = csv_bytes(HEADER, ROWS).decode("utf-8")
    assert text.startswith("\ufeff团队,回款金额,回款率,电话量\r\n")
    assert "'=HYPERLINK" in text
    assert text.splitlines()[2] == "一组,-5.00,,0"  # a negative amount keeps its sign


def test_xlsx_keeps_numbers_as_numbers_and_text_as_text() -> None:
    data = xlsx_bytes(HEADER, ROWS, sheet="teams")
    cells = list(load_workbook(io.BytesIO(data)).active.iter_rows(values_only=True))  # type: ignore[union-attr]
    assert cells[0] == tuple(HEADER)
    assert cells[1] == ('\'=HYPERLINK("x")', 1050, 0.1, 5)
    assert cells[2] == ("一组", -5, None, 0)
    frame = pl.read_excel(io.BytesIO(data), engine="calamine")
    assert frame.columns == HEADER and frame["回款金额"].to_list() == [1050.0, -5.0]
