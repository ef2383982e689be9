"""Reading creditor files as tables of text, and writing the template files.

Every cell is read as text so nothing is silently coerced (an ID number never becomes
a float, ``0755`` keeps its zero); the rules decide what a cell means. CSV may be
UTF-8 (with or without BOM) or GBK/GB18030, as Chinese bank exports are; XLSX is
read from its first sheet; Parquet columns are cast to text.

A file is measured against the :class:`ImportLimits` before it is read (its size; an
XLSX workbook's parts, rows and cells, see :mod:`cuishou.placement.workbook`; a Parquet
file's rows, size and column types) and its cells once read, before anything else is
done with them; beyond a limit it is refused with :class:`UnreadableFile`.

Only the columns the import recognises are kept in memory. The rows a file's import
rejects are read again, with every column exactly as written, for the quarantine file
(:func:`original_rows`); an XLSX workbook, slow to read, keeps its table instead.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pyarrow.parquet as pq
from openpyxl import Workbook
from openpyxl.styles import Font

from cuishou.kit.errors import UnreadableFile
from cuishou.kit.spreadsheet import QUOTE, excel_plain_expr, excel_safe_frame
from cuishou.placement.columns import (
    ALL_ACCOUNT_COLUMNS,
    CALL_COLUMNS,
    PAYMENT_COLUMNS,
    Column,
    header_map,
    normalize_header,
)
from cuishou.placement.limits import DEFAULT_LIMITS, ImportLimits, human_size, raise_hint
from cuishou.placement.workbook import survey_xlsx

ACCOUNTS = "accounts"
PAYMENTS = "payments"
CALLS = "calls"
"""A dialer's call results (外呼话单): read by ``cuishou contacts import`` only."""
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
"""Tried in this order; GB18030 is the superset of GBK and GB2312."""
READ_CHUNK = 16 << 20
"""Bytes of a file read at a time (hashing, checking, transcoding)."""
_TEMPLATE_TIME = datetime(2026, 1, 1, tzinfo=UTC).replace(tzinfo=None)
"""Fixed workbook times (openpyxl wants naive ones) so the template is reproducible."""
_ACCOUNT_MAP = header_map(ALL_ACCOUNT_COLUMNS)
_PAYMENT_MAP = header_map(PAYMENT_COLUMNS)
_CALL_MAP = header_map(CALL_COLUMNS)
_KNOWN: dict[str, tuple[Column, ...]] = {
    ACCOUNTS: ALL_ACCOUNT_COLUMNS,
    PAYMENTS: PAYMENT_COLUMNS,
    CALLS: CALL_COLUMNS,
}
#: the kinds ``cuishou import`` reads (a calls file is read by ``cuishou contacts import``)
CREDITOR_FILES = (ACCOUNTS, PAYMENTS)
_TEXT_TYPES = (
    pl.String,
    pl.Categorical,
    pl.Enum,
    pl.Boolean,
    pl.Date,
    pl.Datetime,
    pl.Time,
    pl.Decimal,
    pl.Null,
    pl.Binary,
)
"""Parquet column types read as text (numbers too); any other type is refused."""


@dataclass
class SourceTable:
    """One input file read as text: its kind, how it was decoded, its rows.

    ``frame`` has one String column per recognised column, named canonically, plus
    ``_row`` (the spreadsheet row number: header = 1, first data row = 2). The file's
    other columns are not kept; :func:`original_rows` reads rows again as written. An
    import that is done with the frame lets it go (:meth:`release_frame`); the table keeps
    its row count.
    """

    path: Path
    kind: str
    encoding: str
    frame: pl.DataFrame
    headers: dict[str, str]
    """canonical name → header as written in the file."""
    columns: list[str]
    """Every header of the file, in order."""
    sha256: str
    ignored_columns: list[str] = field(default_factory=list)
    original: pl.DataFrame | None = None
    """Every column as read (an XLSX workbook only; other files are read again)."""
    rows: int = field(init=False)

    def __post_init__(self) -> None:
        self.rows = self.frame.height

    def release_frame(self) -> None:
        """Let the frame go (its columns live on in frames made from them)."""
        self.frame = self.frame.clear()


def read_source(
    path: Path,
    limits: ImportLimits = DEFAULT_LIMITS,
    kinds: Sequence[str] = CREDITOR_FILES,
    columns: tuple[Column, ...] | None = None,
) -> SourceTable:
    """Read ``path`` and recognise its columns as one of ``kinds``; :class:`UnreadableFile`
    if it is not such a table or goes beyond ``limits``. ``columns``: another domain's file
    of one kind (``kinds[0]``, e.g. a repair vendor's results) read the same way."""
    if not path.exists():
        raise UnreadableFile(f"{path}: no such file", path=str(path))
    if path.is_dir():
        raise UnreadableFile(f"{path}: is a directory, not a file", path=str(path))
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        survey_xlsx(path, limits)
        raw = _read_xlsx(path)
        kind, headers, ignored = _recognise(path, raw.columns, kinds, columns)
        table = _table(path, raw, headers, limits)
        original = raw.with_columns(pl.all().cast(pl.String))
        return SourceTable(path, kind, "xlsx", _frame(table, headers, kind, columns), headers,
                           raw.columns, _digest(path), ignored, original)  # fmt: skip
    if suffix == ".parquet":
        names = _check_parquet(path, limits)
        kind, headers, ignored = _recognise(path, names, kinds, columns)
        raw = _read_parquet(path, list(headers.values()))
        table = _table(path, raw, headers, limits, all_columns=len(names))
        return SourceTable(path, kind, "parquet", _frame(table, headers, kind, columns), headers,
                           names, _digest(path), ignored)  # fmt: skip
    _check_size(path, limits)
    with _utf8_csv(path) as (csv, encoding, digest):
        names = _read_csv(path, csv, n_rows=0).columns
        kind, headers, ignored = _recognise(path, names, kinds, columns)
        raw = _read_csv(path, csv, columns=list(headers.values()))
    table = _table(path, raw, headers, limits, all_columns=len(names))
    del raw
    return SourceTable(path, kind, encoding, _frame(table, headers, kind, columns), headers,
                       names, digest, ignored)  # fmt: skip


def original_rows(source: SourceTable, rows: pl.Series) -> pl.DataFrame:
    """The rows numbered ``rows`` (spreadsheet numbers) with every column as written.

    ``_row`` and the file's columns, as text. Read again from the file (the frame keeps
    only the recognised columns, trimmed); :class:`UnreadableFile` if the file changed
    since it was read.
    """
    wanted = rows.cast(pl.Int64).implode()

    def pick(table: pl.LazyFrame) -> pl.DataFrame:
        return (
            table.with_row_index("_row", offset=2)
            .with_columns(pl.col("_row").cast(pl.Int64))
            .filter(pl.col("_row").is_in(wanted))
            # a column the import ignores may hold bytes that are not text: shown empty
            .select("_row", pl.exclude("_row").cast(pl.String, strict=False))
            .collect()
        )

    if source.original is not None:
        return pick(source.original.lazy())
    if source.encoding == "parquet":
        _same_file(source, _digest(source.path))
        return pick(pl.scan_parquet(source.path))
    with _utf8_csv(source.path) as (csv, _, digest):
        _same_file(source, digest)
        return pick(
            pl.scan_csv(csv, infer_schema=False, has_header=True, truncate_ragged_lines=False)
        )


def _same_file(source: SourceTable, digest: str) -> None:
    if digest != source.sha256:
        raise UnreadableFile(
            f"{source.path}: the file changed while it was imported; its rows were imported as "
            "first read, but the rejected ones can no longer be copied out of it",
            path=str(source.path),
        )


def _refuse(path: Path, message: str, limit: str) -> UnreadableFile:
    return UnreadableFile(
        f"{path}: refused: {message}; if the file is genuine, {raise_hint(limit)}; "
        "nothing was imported",
        path=str(path),
        limit=limit,
    )


def _digest(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_size(path: Path, limits: ImportLimits) -> None:
    size = path.stat().st_size
    if size > limits.max_bytes:
        raise _refuse(
            path,
            f"it is {human_size(size)}, more than the limit of {human_size(limits.max_bytes)}",
            "max_bytes",
        )


@contextmanager
def _utf8_csv(path: Path) -> Iterator[tuple[Path, str, str]]:
    """``(a UTF-8 copy of the CSV, its encoding, the file's SHA-256)``.

    The file is read once in pieces to hash it and check it is UTF-8; a GBK/GB18030 file is
    transcoded into a temporary UTF-8 file, removed afterwards.
    """
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    utf8, has_text, start = True, False, b""
    with path.open("rb") as handle:
        while chunk := handle.read(READ_CHUNK):
            start = start or chunk[:65536]
            digest.update(chunk)
            has_text = has_text or bool(chunk.strip())
            if utf8:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError:
                    utf8 = False
    if utf8:
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8 = False
    if not has_text:
        raise UnreadableFile(f"{path}: the file is empty (no header row)", path=str(path))
    if b"\x00" in start:
        raise UnreadableFile(
            f"{path}: this is not a text table (binary content); save it as CSV, XLSX or Parquet",
            path=str(path),
        )
    if utf8:
        yield (
            path,
            ("utf-8-bom" if start.startswith(codecs.BOM_UTF8) else "utf-8"),
            (digest.hexdigest()),
        )
        return
    with tempfile.TemporaryDirectory(prefix="cuishou-import-") as scratch:
        target = Path(scratch) / "utf-8.csv"
        transcode = codecs.getincrementaldecoder(CSV_ENCODINGS[1])()
        try:
            with path.open("rb") as source, target.open("wb") as out:
                while chunk := source.read(READ_CHUNK):
                    out.write(transcode.decode(chunk).encode("utf-8"))
                out.write(transcode.decode(b"", final=True).encode("utf-8"))
        except UnicodeDecodeError:
            raise UnreadableFile(
                f"{path}: the text is neither UTF-8 nor GBK/GB18030; save it as UTF-8 CSV",
                path=str(path),
            ) from None
        yield target, CSV_ENCODINGS[1], digest.hexdigest()


def _read_csv(
    path: Path, csv: Path, *, n_rows: int | None = None, columns: list[str] | None = None
) -> pl.DataFrame:
    try:
        return pl.read_csv(
            csv,
            infer_schema=False,
            has_header=True,
            truncate_ragged_lines=False,
            n_rows=n_rows,
            columns=columns,
        )
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnreadableFile(
            f"{path}: not a readable CSV table ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc


def _read_xlsx(path: Path) -> pl.DataFrame:
    try:
        frame = pl.read_excel(path, sheet_id=1, engine="calamine", infer_schema_length=0)
        return frame.with_columns(pl.all().cast(pl.String))
    except Exception as exc:  # fastexcel raises its own error types
        raise UnreadableFile(
            f"{path}: not a readable XLSX workbook ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc


def _check_parquet(path: Path, limits: ImportLimits) -> list[str]:
    """The file's columns, once its metadata is within ``limits`` and every column is text.

    A nested column (list, array, struct) or a duration has no text form: the file is
    refused naming it (before anything is read).
    """
    try:
        schema = pl.read_parquet_schema(path)
        metadata = pq.ParquetFile(path).metadata
    except Exception as exc:  # polars and pyarrow raise their own error types
        raise UnreadableFile(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc
    nested = [
        f"{name} ({dtype})"
        for name, dtype in schema.items()
        if not (dtype.is_numeric() or dtype.base_type() in _TEXT_TYPES)
    ]
    if nested:
        raise UnreadableFile(
            f"{path}: column(s) {', '.join(nested)} hold lists, structures or other values that "
            "are not text, numbers or dates; save the file with one plain value per cell; "
            "nothing was imported",
            path=str(path),
            columns=[n.split(" (")[0] for n in nested],
        )
    rows, columns = metadata.num_rows, len(schema)
    size = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    if rows > limits.max_rows:
        raise _refuse(
            path, f"it has {rows:,} rows, more than the limit of {limits.max_rows:,}", "max_rows"
        )
    if rows * columns > limits.max_cells:
        raise _refuse(
            path,
            f"it has {rows:,} rows × {columns:,} columns = {rows * columns:,} cells, more than "
            f"the limit of {limits.max_cells:,}",
            "max_cells",
        )
    if size > limits.max_bytes:
        raise _refuse(
            path,
            f"its data is {human_size(size)} uncompressed, more than the limit of "
            f"{human_size(limits.max_bytes)}",
            "max_bytes",
        )
    return list(schema)


def _read_parquet(path: Path, columns: list[str]) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(path, columns=columns)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise UnreadableFile(
            f"{path}: not a readable Parquet file ({str(exc).splitlines()[0]})", path=str(path)
        ) from exc
    text: list[pl.Series] = []
    for column in frame.iter_columns():
        try:
            text.append(column.cast(pl.String))
        except pl.exceptions.PolarsError:
            raise UnreadableFile(
                f"{path}: column {column.name} holds bytes that are not UTF-8 text; "
                "nothing was imported",
                path=str(path),
                columns=[column.name],
            ) from None
    return pl.DataFrame(text)


def _recognise(
    path: Path,
    columns: Sequence[str],
    kinds: Sequence[str] = CREDITOR_FILES,
    given: tuple[Column, ...] | None = None,
) -> tuple[str, dict[str, str], list[str]]:
    """``(kind, canonical name → header, ignored headers)`` from the file's header row."""
    if not columns:
        raise UnreadableFile(f"{path}: the file has no columns", path=str(path))
    normalized = [normalize_header(h) for h in columns]
    if given is not None:
        kind, mapping, known = kinds[0], header_map(given), given
    elif tuple(kinds) == (CALLS,):
        kind, mapping, known = CALLS, _CALL_MAP, CALL_COLUMNS
    else:
        account_hits = {_ACCOUNT_MAP[h] for h in normalized if h in _ACCOUNT_MAP}
        payment_hits = {_PAYMENT_MAP[h] for h in normalized if h in _PAYMENT_MAP}
        if "id_number" in account_hits:
            kind, mapping, known = ACCOUNTS, _ACCOUNT_MAP, ALL_ACCOUNT_COLUMNS
        elif {"amount", "reference"} <= payment_hits:
            kind, mapping, known = PAYMENTS, _PAYMENT_MAP, PAYMENT_COLUMNS
        else:
            raise UnreadableFile(
                f"{path}: cannot tell what this file is: an accounts file needs an ID number "
                "column (身份证号/id_number), a payments file needs amount (还款金额) and "
                f"reference (流水号) columns; found {', '.join(columns[:12])}",
                path=str(path),
            )
    headers: dict[str, str] = {}
    ignored: list[str] = []
    for header, key in zip(columns, normalized, strict=True):
        canonical = mapping.get(key)
        if canonical is None or canonical in headers:
            ignored.append(header)
        else:
            headers[canonical] = header
    missing = [c for c in known if c.required and c.name not in headers]
    if missing:
        names = ", ".join(f"{c.name} ({c.aliases[0]})" for c in missing)
        raise UnreadableFile(
            f"{path}: the {kind} file is missing required column(s): {names}; nothing was imported",
            path=str(path),
            missing=[c.name for c in missing],
        )
    return kind, headers, ignored


def _table(
    path: Path,
    raw: pl.DataFrame,
    headers: dict[str, str],
    limits: ImportLimits,
    *,
    all_columns: int | None = None,
) -> pl.DataFrame:
    """The recognised columns of ``raw`` as text, once they are within ``limits``.

    Rows and cells (rows × every column of the file), the longest cell (characters) and
    the text of all of them together (what a Parquet file's dictionary can multiply).
    """
    table = raw.select(headers.values())
    rows, columns = table.height, all_columns or raw.width
    if rows > limits.max_rows:
        raise _refuse(
            path, f"it has {rows:,} rows, more than the limit of {limits.max_rows:,}", "max_rows"
        )
    if rows * columns > limits.max_cells:
        raise _refuse(
            path,
            f"it has {rows:,} rows × {columns:,} columns = {rows * columns:,} cells, more than "
            f"the limit of {limits.max_cells:,}",
            "max_cells",
        )
    sizes = table.select(pl.all().str.len_bytes().max()).row(0)
    for header, size in zip(table.columns, sizes, strict=True):
        if size is not None and size > limits.max_cell_chars:
            chars = table.select(pl.col(header).str.len_chars().alias("n")).with_row_index(
                "_row", offset=2
            )
            longest = chars.filter(pl.col("n") > limits.max_cell_chars)
            if longest.height:
                row, count = longest.row(0)
                raise _refuse(
                    path,
                    f"the cell of column {header} in row {row:,} holds {count:,} characters, "
                    f"more than the limit of {limits.max_cell_chars:,} for one cell",
                    "max_cell_chars",
                )
    total = sum(table.select(pl.all().str.len_bytes().sum()).row(0))
    if total > limits.max_bytes:
        raise _refuse(
            path,
            f"its cells hold {human_size(total)} of text, more than the limit of "
            f"{human_size(limits.max_bytes)}",
            "max_bytes",
        )
    return table


def _frame(
    table: pl.DataFrame,
    headers: dict[str, str],
    kind: str,
    given: tuple[Column, ...] | None = None,
) -> pl.DataFrame:
    """Canonical columns, trimmed, empty cells null, every known column present, ``_row``.

    A cell a CSV export protected from spreadsheets (``'=…``) loses that quote again.
    """
    known = given or _KNOWN[kind]
    # Trimming copies a column's text: only the columns with a cell to trim are trimmed.
    spaced = table.select(pl.all().str.contains(r"^\s|\s$").any()).row(0, named=True)
    quoted = table.select(pl.all().str.contains(rf"^\s*{QUOTE}").any()).row(0, named=True)

    def cell(header: str) -> pl.Expr:
        text = pl.col(header).str.strip_chars() if spaced[header] else pl.col(header)
        return excel_plain_expr(text) if quoted[header] else text

    frame = table.select(
        cell(header).replace("", None).alias(name) for name, header in headers.items()
    )
    missing = [c.name for c in known if c.name not in frame.columns]
    return frame.with_columns(
        *(pl.lit(None, dtype=pl.String).alias(name) for name in missing),
        pl.int_range(2, frame.height + 2, dtype=pl.Int64).alias("_row"),
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
    return excel_safe_frame(frame).write_csv(line_terminator="\n")


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
