"""Reading creditor files as tables of text, and writing the template files.

Every cell is read as text so nothing is silently coerced (an ID number never becomes
a float, ``0755`` keeps its zero); the rules decide what a cell means. CSV may be
UTF-8 (with or without BOM) or GBK/GB18030, as Chinese bank exports are; XLSX is
read from its first sheet; Parquet columns are cast to text.
"""

from __future__ import annotations

import codecs
import io
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
from openpyxl import Workbook
from openpyxl.styles import Font

from cuishou.kit.errors import UnreadableFile
from cuishou.placement.columns import (
    ALL_ACCOUNT_COLUMNS,
    PAYMENT_COLUMNS,
    Column,
    header_map,
    normalize_header,
)

ACCOUNTS = "accounts"
PAYMENTS = "payments"
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in this order; GB18030 is the superset of GBK and GB2312."""
_TEMPLATE_TIME = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
"""Fixed workbook times (openpyxl wants naive ones) so the template is reproducible."""
_ACCOUNT_MAP = header_map(ALL_ACCOUNT_COLUMNS)
_PAYMENT_MAP = header_map(PAYMENT_COLUMNS)


@dataclass(frozen=True)
class SourceTable:
    """One input file read as text: its kind, how it was decoded, its rows.

    ``frame`` has one String column per recognised column, named canonically, plus
    ``_row`` (the spreadsheet row number: header = 1, first data row = 2);
    ``original`` keeps every column exactly as read, under its header, for quarantine.
    """

    path: Path
    kind: str
    encoding: str
    frame: pl.DataFrame
    original: pl.DataFrame
    headers: dict[str, str]
    """canonical name → header as written in the file."""
    ignored_columns: list[str] = field(default_factory=list)

    @property
    def rows(self) -> int:
        return self.frame.height


def read_source(path: Path) -> SourceTable:
    """Read ``path`` and recognise its columns; :class:`UnreadableFile` if it is not a table."""
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file", path=str(path))
    if path.is_dir():
        raise UnreadableFile(f"{path}: is a directory, not a file", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        raw, encoding = _read_xlsx(path), "xlsx"
    elif suffix == ".parquet":
        raw, encoding = _read_parquet(path), "parquet"
    else:
        raw, encoding = _read_csv(path)
    return _recognise(path, raw, encoding)


def _read_csv(path: Path) -> tuple[pl.DataFrame, str]:
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile(f"{path}: the file is empty (no header row)", path=str(path))
    if b"\x00" in data[:65536]:
        raise UnreadableFile(
            f"{path}: this is not a text table (binary content); save it as CSV, XLSX or Parquet",
            path=str(path),
        )
    if _is_utf8(data):
        used = "utf-8-bom" if data.startswith(b"\xef\xbb\xbf") else "utf-8"
        payload = data[3:] if used == "utf-8-bom" else data
    else:
        try:
            payload = data.decode(CSV_ENCODINGS[1]).encode("utf-8")
        except UnicodeDecodeError:
            raise UnreadableFile(
                f"{path}: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 CSV",
                path=str(path),
            ) from None
        used = CSV_ENCODINGS[1]
    try:
        frame = pl.read_csv(
            io.BytesIO(payload),
            infer_schema=False,
            has_header=True,
            truncate_ragged_lines=False,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnreadableFile(
            f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc
    return frame, used


def _is_utf8(data: bytes, chunk: int = 1 << 24) -> bool:
    """Whether ``data`` is valid UTF-8, checked in pieces (no copy of the whole text)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(data), chunk):
            decoder.decode(view[start : start + chunk])
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _read_xlsx(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_excel(path, sheet_id=1, engine="calamine", infer_schema_length=0)
    except Exception as exc:  # fastexcel raises its own error types
        raise UnreadableFile(
            f"{path}: not a readable XLSX workbook ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc
    return frame.with_columns(pl.all().cast(pl.String))


def _read_parquet(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnreadableFile(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc
    return frame.with_columns(pl.all().cast(pl.String))


def _recognise(path: Path, raw: pl.DataFrame, encoding: str) -> SourceTable:
    if raw.width == 0:
        raise UnreadableFile(f"{path}: the file has no columns", path=str(path))
    normalized = [normalize_header(h) for h in raw.columns]
    account_hits = {_ACCOUNT_MAP[h] for h in normalized if h in _ACCOUNT_MAP}
    payment_hits = {_PAYMENT_MAP[h] for h in normalized if h in _PAYMENT_MAP}
    if "id_number" in account_hits:
        kind, mapping, columns = ACCOUNTS, _ACCOUNT_MAP, ALL_ACCOUNT_COLUMNS
    elif {"amount", "reference"} <= payment_hits:
        kind, mapping, columns = PAYMENTS, _PAYMENT_MAP, PAYMENT_COLUMNS
    else:
        raise UnreadableFile(
            f"{path}: cannot tell what this file is: an accounts file needs an ID number column "
            "(身份证号/id_number), a payments file needs amount (还款金额) and reference (流水号) "
            f"columns; found {', '.join(raw.columns[:12])}",
            path=str(path),
        )
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for header, key in zip(raw.columns, normalized, strict=True):
        canonical = mapping.get(key)
        if canonical is None or canonical in headers:
            ignored.append(header)
        else:
            headers[canonical] = header
    missing = [c for c in columns if c.required and c.name not in headers]
    if missing:
        names = ", ".join(f"{c.name} ({c.aliases[0]})" for c in missing)
        raise UnreadableFile(
            f"{path}: the {kind} file is missing required column(s): {names}; nothing was imported",
            path=str(path),
            missing=[c.name for c in missing],
        )
    original = raw.with_columns(pl.all().cast(pl.String))
    frame = original.select(
        [pl.col(header).str.strip_chars().alias(name) for name, header in headers.items()]
    ).with_columns(
        pl.when(pl.col(name) == "").then(None).otherwise(pl.col(name)).alias(name)
        for name in headers
    )
    for column in columns:
        if column.name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype=pl.String).alias(column.name))
    frame = frame.with_columns(pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias("_row"))
    return SourceTable(
        path=path,
        kind=kind,
        encoding=encoding,
        frame=frame,
        original=original,
        headers=headers,
        ignored_columns=ignored,
    )


# --- templates -------------------------------------------------------------------------------


def _template_frame(columns: tuple[Column, ...]) -> pl.DataFrame:
    """Header row of Chinese names (the first alias) and one example row."""
    return pl.DataFrame(
        {c.aliases[0] if c.aliases else c.name: [c.example] for c in columns},
        schema={c.aliases[0] if c.aliases else c.name: pl.String for c in columns},
    )


def template_csv(kind: str) -> str:
    """A template file's text: Chinese headers as banks use them, and an example row."""
    columns = ALL_ACCOUNT_COLUMNS if kind == ACCOUNTS else PAYMENT_COLUMNS
    frame = _template_frame(columns)
    if kind == ACCOUNTS:
        frame = frame.with_columns(
            pl.lit("李娜").alias("联系人1姓名"),
            pl.lit("配偶").alias("联系人1关系"),
            pl.lit("13900001111").alias("联系人1电话"),
            pl.lit("王强").alias("联系人2姓名"),
            pl.lit("同事").alias("联系人2关系"),
            pl.lit("0755-26001234").alias("联系人2电话"),
        )
    return frame.write_csv(line_terminator="\n")


def write_templates(directory: Path) -> list[Path]:
    """Write ``accounts-template.csv``/``.xlsx`` and ``payments-template.csv`` (UTF-8 BOM)."""
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for kind, name in ((ACCOUNTS, "accounts-template.csv"), (PAYMENTS, "payments-template.csv")):
        target = directory / name
        target.write_bytes(b"\xef\xbb\xbf" + template_csv(kind).encode("utf-8"))
        written.append(target)
    target = directory / "accounts-template.xlsx"
    _write_template_xlsx(target)
    written.append(target)
    return written


def _write_template_xlsx(target: Path) -> None:
    frame = pl.read_csv(io.StringIO(template_csv(ACCOUNTS)), infer_schema=False)
    book = Workbook()
    sheet = book.active
    sheet.title = "委案数据"
    sheet.append(frame.columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.iter_rows():
        sheet.append(list(row))
    for column_cells in sheet.iter_cols(min_row=2, max_row=2):
        for cell in column_cells:
            cell.number_format = "@"  # text: ID numbers and phones keep every digit
    book.properties.creator = "cuishou"
    book.properties.created = _TEMPLATE_TIME
    book.properties.modified = _TEMPLATE_TIME
    book.save(target)


def template_xlsx_rows(path: Path) -> list[list[str]]:
    """The cells of a template workbook (to compare templates without zip timestamps)."""
    frame = pl.read_excel(path, engine="calamine", infer_schema_length=0)
    return [frame.columns, *[[str(v) for v in row] for row in frame.iter_rows()]]
