"""Measuring an XLSX workbook before it is read (工作簿预检).

An XLSX file is a zip of XML parts, and the reader (calamine, through fastexcel) trusts
them: it inflates what the zip holds, copies a shared string into every cell that uses
it and allocates the whole rectangle between the first and the last cell, empty or not.
So :func:`survey_xlsx` measures the parts first, as a stream of bounded pieces, and
refuses (:class:`UnreadableFile`, nothing read or written) a workbook that goes beyond
the :class:`ImportLimits`:

1. the zip directory: the parts' uncompressed size together (``max_bytes``) and each
   part's compression ratio (``max_ratio``); two parts of one name (in any case, as
   calamine looks names up) are refused outright;
2. every part is inflated once, which checks its size and CRC against the directory
   (a part that inflates to more than it declares is corrupt);
3. ``xl/sharedStrings.xml``: the characters of every shared string (``max_cell_chars``);
4. the first sheet: the used range, up to the row and column of its farthest cell
   (``max_rows``, ``max_cells``), and the text of the shared strings its cells use, each
   counted at every use (``max_bytes``).

The XML is matched with regular expressions (Polars' Rust engine, a piece at a time).
That is sound because comments, CDATA, DTDs and processing instructions, which a
spreadsheet application never writes, are refused: in what is left every ``<`` starts a
tag. Each measure errs on the large side, so a crafted file can only be refused more
readily, never slip through. A piece of a sheet gets one pass of one expression that
finds its shared-string indices and anything unusual: a row or cell whose reference is
not its first attribute (``<c r="B7"``), or a reference past the last row and column
seen. Only then are its references read, or, without them, its tags walked as calamine
walks them.
"""

from __future__ import annotations

import re
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import polars as pl

from cuishou.kit.errors import UnreadableFile
from cuishou.placement.limits import MIB, ImportLimits, human_size, raise_hint

CHUNK = 8 * MIB
"""Bytes inflated at a time; a piece is at most this plus one unfinished tag."""
RATIO_FLOOR = MIB
"""Parts smaller than this are not judged by their ratio (tiny parts compress oddly)."""
BYTES_PER_CHAR = 10
"""The most XML bytes one character of text can take (``&#x10FFFF;``)."""
SI_MARKUP = len("<si><t></t></si>")
"""A shared string with any text has at least this much markup around it."""
EXCEL_MAX_ROW_DIGITS = 7
EXCEL_MAX_COLUMN_LETTERS = 3
SHARED_STRINGS = "xl/sharedStrings.xml"
WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"

_WS = r"[ \t\r\n]"
_P = r"(?:[^ \t\r\n<>/:!?=]+:)?"
"""An optional namespace prefix (calamine matches local names)."""
_VALUE = r"""(?:"[^"]*"|'[^']*')"""
_REF = ' r="'
# Anything the one pass cannot vouch for: markup that is not a tag; a row or cell tag
# whose first attribute is not r="…" (or with a prefix); r spelt otherwise (quotes,
# spaces, after a tab); a reference not of the form letters + digits; a <v> with a
# prefix or attributes (its index would be missed).
_UNUSUAL = "|".join(
    (
        r"<[!?]",
        r"<(?:row|c)(?:[>/\t\r\n]| (?:[^r]|r[^=]))",
        rf"<[^ \t\r\n<>/:!?=]+:(?:row|c|v){_WS}",
        r"<[^ \t\r\n<>/:!?=]+:(?:row|c|v)[/>]",
        rf"{_WS}r(?:{_WS}*={_WS}*'|{_WS}+=|={_WS})",
        r"[\t\r\n]r=",
        r""" r="[A-Z]*(?:[^A-Z0-9"]|[0-9]+[^0-9"])""",
        rf"<v{_WS}|<v/",
    )
)
# a piece may end just before </v>: the index then ends the piece
_INDEX = "<v>[0-9]{1,12}(?:<|$)"
_ANY_INDEX = rf"<{_P}v(?:{_WS}[^<]*)?>[0-9]{{1,12}}(?:<|$)"
_TAG = rf"<(?:/?){_P}(?:row|c)(?:{_WS}+[^ \t\r\n<>/=]+{_WS}*={_WS}*{_VALUE})*{_WS}*/?>"
_SI = rf"(?s)<{_P}si(?:{_WS}[^<>]*)?(?:/>|>.*?</{_P}si{_WS}*>)"
# a shared string calamine surely keeps: its first child is a <t> or <r> start tag (one
# without either, or with text only inside <rPh>, is skipped and the later ones move up)
_SI_KEPT = rf"^<{_P}si(?:{_WS}[^<>]*)?>{_WS}*<{_P}[tr](?:{_WS}|/|>)"
_PHONETIC = rf"(?s)<{_P}rPh(?:{_WS}[^<>]*[^/<>])?{_WS}*>.*?</{_P}rPh{_WS}*>"
_ENTITY = r"&[^;&<]*;"

_LAST_ROW_RE = re.compile(rb"<(?:[^\s<>/:!?=]+:)?row\b[^<>]*?\sr\s*=\s*[\"'](\d{1,7})[\"']")
_DECLARATION_RE = re.compile(rb"^(?:\xef\xbb\xbf)?\s*<\?xml[^>]*\?>")
_ENCODING_RE = re.compile(rb"""encoding\s*=\s*["']([^"']*)["']""")
_SHEET_RE = re.compile(
    rb"<(?:[^\s<>/:!?=]+:)?sheet\b[^<>]*?\s(?:r|relationships):id\s*=\s*[\"']([^\"']*)[\"']"
)
_REL_RE = re.compile(rb"<(?:[^\s<>/:!?=]+:)?Relationship\b[^<>]*>")
_ATTR_RE = re.compile(rb"""([\w:.-]+)\s*=\s*["']([^"']*)["']""")
_CLOSING_PREFIX_RE = re.compile(rb"</(?:[^\s<>/:!?=]+:)?")


@dataclass(frozen=True, slots=True)
class WorkbookSurvey:
    """What the survey measured (upper bounds; for messages and tests)."""

    sheet: str
    uncompressed: int
    rows: int
    """Rows of the used range, the header row included."""
    columns: int
    shared_strings: int
    shared_text: int
    """Bytes of shared-string text the cells use, each string counted at each use."""


def survey_xlsx(path: Path, limits: ImportLimits) -> WorkbookSurvey:
    """Measure ``path`` against ``limits``; :class:`UnreadableFile` beyond any of them."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnreadableFile(
            f"{path}: not a readable XLSX workbook ({exc})", path=str(path)
        ) from None
    with archive:
        return _Survey(path, archive, limits).run()


class _Survey:
    def __init__(self, path: Path, archive: zipfile.ZipFile, limits: ImportLimits) -> None:
        self.path = path
        self.archive = archive
        self.limits = limits
        self.parts: dict[str, str] = {}
        self.shared_bytes = pl.Series("bytes", [], dtype=pl.Int64)

    def refuse(self, message: str, limit: str | None = None) -> UnreadableFile:
        hint = f"; if the file is genuine, {raise_hint(limit)}" if limit else ""
        return UnreadableFile(
            f"{self.path}: refused unread: {message}{hint}; nothing was imported",
            path=str(self.path),
            limit=limit,
        )

    def unreadable(self, why: str) -> UnreadableFile:
        return UnreadableFile(
            f"{self.path}: not a readable XLSX workbook ({why})", path=str(self.path)
        )

    def run(self) -> WorkbookSurvey:
        infos = self.archive.infolist()
        names = [info.filename for info in infos]
        self.parts = {name.lower(): name for name in names}
        if len(self.parts) != len(names):
            raise self.refuse("its zip holds two parts of the same name")
        total = sum(info.file_size for info in infos)
        if total > self.limits.max_bytes:
            raise self.refuse(
                f"it holds {human_size(total)} uncompressed, more than the limit of "
                f"{human_size(self.limits.max_bytes)}",
                "max_bytes",
            )
        for info in infos:
            if info.file_size > RATIO_FLOOR and info.file_size > self.limits.max_ratio * max(
                info.compress_size, 1
            ):
                ratio = info.file_size / max(info.compress_size, 1)
                raise self.refuse(
                    f"its part {info.filename} inflates {ratio:,.0f} times "
                    f"({human_size(info.compress_size)} → {human_size(info.file_size)}), "
                    f"more than the limit of {self.limits.max_ratio} times: a zip bomb?",
                    "max_ratio",
                )
        sheet = self._first_sheet()
        shared = self.parts.get(SHARED_STRINGS.lower())
        for name in names:
            if name not in (shared, sheet):
                for _ in self._chunks(name):  # inflating checks the size and the CRC
                    pass
        if shared is not None:
            self._shared_strings(shared)
        rows, columns, shared_text = self._sheet(sheet)
        return WorkbookSurvey(
            sheet=sheet,
            uncompressed=total,
            rows=rows,
            columns=columns,
            shared_strings=self.shared_bytes.len(),
            shared_text=shared_text,
        )

    # --- parts --------------------------------------------------------------------------

    def _chunks(self, name: str) -> Iterator[bytes]:
        """The part's bytes, inflated a chunk at a time (size and CRC checked at the end)."""
        try:
            with self.archive.open(name) as stream:
                while chunk := stream.read(CHUNK):
                    yield chunk
        except (
            zipfile.BadZipFile,
            zlib.error,
            NotImplementedError,  # an unknown compression method
            RuntimeError,  # an encrypted part
            EOFError,
            OSError,
        ) as exc:
            raise self.unreadable(f"{name}: {exc}") from None

    def _small_part(self, name: str) -> bytes:
        return self._check_markup(name, b"".join(self._chunks(name)), at_start=True)

    def _first_sheet(self) -> str:
        """The part of the first sheet, found as calamine finds it (workbook order, rels)."""
        workbook = self.parts.get(WORKBOOK.lower())
        rels = self.parts.get(WORKBOOK_RELS.lower())
        if workbook is None or rels is None:
            raise self.unreadable(f"no {WORKBOOK} or no {WORKBOOK_RELS}")
        sheet = _SHEET_RE.search(self._small_part(workbook))
        if sheet is None:
            raise self.unreadable("it has no sheet")
        targets: dict[bytes, bytes] = {}
        for tag in _REL_RE.findall(self._small_part(rels)):
            attrs = dict(_ATTR_RE.findall(tag))
            if b"Id" in attrs and b"Target" in attrs:
                targets[attrs[b"Id"]] = attrs[b"Target"]
        target = targets.get(sheet.group(1), b"").decode("utf-8", "replace")
        if target.startswith("/xl/"):
            part = target[1:]
        elif target.startswith("xl/"):
            part = target
        else:
            part = str(PurePosixPath("xl") / target)
        found = self.parts.get(part.lower()) if target else None
        if found is None:
            raise self.unreadable("the first sheet has no part")
        return found

    def _check_markup(self, name: str, data: bytes, *, at_start: bool) -> bytes:
        """``data`` without its XML declaration; refuse DTDs, comments, CDATA, PIs, UTF-16."""
        if at_start:
            if data.startswith((b"\xff\xfe", b"\xfe\xff")):
                raise self.refuse(f"its part {name} is not UTF-8 XML")
            declaration = _DECLARATION_RE.match(data)
            if declaration:
                encoding = _ENCODING_RE.search(declaration.group(0))
                if encoding and encoding.group(1).lower() not in (b"utf-8", b"utf8"):
                    raise self.refuse(f"its part {name} is not UTF-8 XML")
                data = data[declaration.end() :]
        if b"<!" in data or b"<?" in data:
            raise self.not_a_spreadsheet(name)
        return data

    def not_a_spreadsheet(self, name: str) -> UnreadableFile:
        return self.refuse(
            f"its part {name} holds a DTD, comment, CDATA section or processing "
            "instruction, which a spreadsheet application does not write"
        )

    def _pieces(self, name: str, cut: bytes = b"<") -> Iterator[bytes]:
        """The part as text, a piece at a time, each ending at a ``cut`` boundary.

        ``cut`` ``<``: pieces end before a tag; ``si>``: after a shared string's end tag.
        Only the first piece is checked here for markup that is not a tag; the callers'
        one pass finds it in the others. An unfinished piece longer than any cell may be
        is refused as a long cell.
        """
        carry = b""
        first = True
        longest = BYTES_PER_CHAR * self.limits.max_cell_chars + 4096
        for chunk in self._chunks(name):
            data = carry + chunk
            if first:
                if len(data) < 4096 and b"?>" not in data:  # the declaration is not all here
                    carry = data
                    continue
                data = self._check_markup(name, data, at_start=True)
                first = False
            end = _cut_point(data, cut)
            if end <= 0:
                if len(data) > longest:
                    raise self._long_cell(name)
                carry = data
                continue
            piece, carry = data[:end], data[end:]
            yield piece
        if carry:
            if first:
                carry = self._check_markup(name, carry, at_start=True)
            yield carry

    def _text(self, name: str, piece: bytes) -> pl.Series:
        try:
            return pl.Series([piece], dtype=pl.Binary).cast(pl.String)
        except pl.exceptions.PolarsError:
            raise self.refuse(f"its part {name} is not UTF-8 XML") from None

    def _long_cell(self, name: str, chars: int | None = None) -> UnreadableFile:
        limit = self.limits.max_cell_chars
        holds = f"{chars:,} characters" if chars else "more characters"
        return self.refuse(
            f"a cell in {name} holds {holds}, more than the limit of {limit:,} for one cell",
            "max_cell_chars",
        )

    # --- shared strings -----------------------------------------------------------------

    def _shared_strings(self, name: str) -> None:
        """The text bytes of each shared string, as calamine numbers them.

        Calamine skips a string without text, so its string ``i`` is one of ours from ``i``
        to ``i + skipped``: each index is given the longest of that window (exact when, as
        in every file a spreadsheet application writes, none is skipped).
        """
        parts: list[pl.Series] = []
        skipped = 0
        for data in self._pieces(name, cut=b"si>"):
            if b"<!" in data or b"<?" in data:
                raise self.not_a_spreadsheet(name)
            ends = data.count(b"</si>")
            if data.count(b"<si>") == ends and not any(
                form in data for form in (b"<si ", b"<si/", b"<si\t", b"<si\n", b"<si\r", b":si")
            ):
                # <si>…</si> throughout: split at the end tags (what follows the last is not one)
                spans = pl.Series([len(s) + 5 for s in data.split(b"</si>")[:ends]], dtype=pl.Int64)
                kept = data.count(b"<si><t>")
                if kept < ends:
                    kept += sum(data.count(b"<si><" + t) for t in (b"t ", b"t/", b"r>", b"r "))
                strings = None
            else:
                strings = self._text(name, data).str.extract_all(_SI)
                spans = strings.list.eval(pl.element().str.len_bytes()).explode().cast(pl.Int64)
                kept = int(strings.list.eval(pl.element().str.contains(_SI_KEPT)).explode().sum())
                strings = strings.explode()
            spans = spans.drop_nulls()
            skipped += spans.len() - kept
            if spans.len() and int(spans.max()) > self.limits.max_cell_chars:  # type: ignore[arg-type]
                if strings is None:
                    strings = pl.Series(
                        [s.decode("utf-8", "replace") for s in data.split(b"</si>")[:ends]]
                    )
                self._check_chars(name, strings)
            parts.append((spans - SI_MARKUP).clip(0))
        if not parts:
            return
        sizes = pl.concat(parts)
        if skipped > 0:
            sizes = sizes.reverse().rolling_max(skipped + 1, min_samples=1).reverse()
        self.shared_bytes = sizes.rename("bytes")

    def _check_chars(self, name: str, strings: pl.Series) -> None:
        """Characters of the long shared strings: text only, an entity as one."""
        long = strings.filter(strings.str.len_bytes() > self.limits.max_cell_chars)
        chars = (
            long.str.replace_all(_PHONETIC, "")
            .str.replace_all("<[^<>]*>", "")
            .str.replace_all(_ENTITY, "x")
            .str.len_chars()
            .max()
        )
        if chars is not None and int(chars) > self.limits.max_cell_chars:  # type: ignore[arg-type]
            raise self._long_cell(name, int(chars))  # type: ignore[arg-type]

    # --- the sheet ----------------------------------------------------------------------

    def _sheet(self, name: str) -> tuple[int, int, int]:
        """Rows, columns and shared-string text of the sheet (upper bounds), a piece at a time.

        The shared-string text is counted at the longest string for each ``<v>`` while that
        stays within ``max_bytes`` (most files), and by the strings the indices name after.
        """
        walk = _Walk()
        shared_text = 0
        shared = self.shared_bytes
        longest = int(shared.max() or 0) if shared.len() else 0  # type: ignore[arg-type]
        for data in self._pieces(name):
            piece = self._text(name, data)
            guess_row = max(walk.max_row, _last_row(data))
            past = (
                f"{_REF}(?:{_greater_column(walk.max_col)}[0-9]+"
                f'|[A-Z]*{_greater_number(guess_row + 1)})"'
            )
            found = piece.str.extract_all(f"{_UNUSUAL}|{past}").explode().drop_nulls()
            usual = found.str.contains(r'^ r="[A-Z]*[0-9]+"$').all()
            if not usual:
                if b"<!" in data or b"<?" in data:
                    raise self.not_a_spreadsheet(name)
                walk.walk(piece, self)
            elif found.len():
                # every position in the piece is explicit; the ones past the guess are found
                walk.explicit(found.str.slice(4).str.head(-1), guess_row, self)
            else:
                walk.max_row = guess_row
                walk.row, walk.col = guess_row + 1, walk.max_col + 1
            self._check_extent(walk.max_row + 1, walk.max_col + 1)
            if not longest:
                continue
            values = data.count(b"<v>") if usual else 0  # an unusual piece is read exactly
            if usual and shared_text + values * longest <= self.limits.max_bytes:
                shared_text += values * longest
            else:
                index = _INDEX if usual else _ANY_INDEX
                refs = (
                    piece.str.extract_all(index).explode().drop_nulls()
                    .str.extract(r"([0-9]+)<?$", 1).cast(pl.Int64)
                )  # fmt: skip
                refs = refs.filter(refs < shared.len())
                if refs.len():
                    shared_text += int(shared.gather(refs).sum())
            if shared_text > self.limits.max_bytes:
                raise self.refuse(
                    "its cells repeat shared strings whose text adds up to more than "
                    f"{human_size(self.limits.max_bytes)}",
                    "max_bytes",
                )
        return walk.max_row + 1, walk.max_col + 1, shared_text

    def _check_extent(self, rows: int, columns: int) -> None:
        limits = self.limits
        if rows - 1 > limits.max_rows:
            raise self.refuse(
                f"its sheet goes on to row {rows:,}, more than the limit of "
                f"{limits.max_rows:,} data rows",
                "max_rows",
            )
        if rows * columns > limits.max_cells:
            raise self.refuse(
                f"its sheet spans {rows:,} rows × {columns:,} columns = {rows * columns:,} "
                f"cells, more than the limit of {limits.max_cells:,} (one cell far from the "
                "others makes the whole rectangle count)",
                "max_cells",
            )

    def beyond_excel(self, reference: str) -> UnreadableFile:
        return self.refuse(
            f"a cell reference {reference[:20]!r} lies beyond what a sheet can hold "
            "(1,048,576 rows × 16,384 columns)"
        )


class _Walk:
    """Rows and cells positioned as calamine positions them: by ``r``, else by counting.

    calamine reads ``<row/>`` and ``<c/>`` as a start and an end tag; a row's number is
    its ``r`` or one past the previous row's, a cell's column its ``r`` or one past the
    previous cell's in the row. ``row``/``col`` carry the counters from piece to piece.
    """

    def __init__(self) -> None:
        self.row = 0
        self.col = 0
        self.max_row = 0
        self.max_col = 0

    def explicit(self, past: pl.Series, guess_row: int, survey: _Survey) -> None:
        """A piece whose references are all explicit: ``past`` are those past the guesses.

        The counters for a later walk are put at or past where calamine's would be.
        """
        frame = _references(past.unique(), survey)
        for value in (frame["ref_row"].max(), guess_row):
            if value is not None:
                self.max_row = max(self.max_row, int(value))  # type: ignore[arg-type]
        col = frame["ref_col"].max()
        if col is not None:
            self.max_col = max(self.max_col, int(col))  # type: ignore[arg-type]
        self.row, self.col = self.max_row + 1, self.max_col + 1

    def walk(self, piece: pl.Series, survey: _Survey) -> None:
        """Every row and cell tag of the piece, in order, with calamine's counters."""
        tags = (
            pl.select(piece.str.extract_all(_TAG).alias("tag"))
            .explode("tag")
            .drop_nulls()
            .select(
                pl.col("tag").str.starts_with("</").alias("closing"),
                (pl.col("tag").str.extract(rf"^</?{_P}(row|c)\b", 1) == "row").alias("is_row"),
                pl.col("tag").str.contains(r"/[ \t\r\n]*>$").alias("empty"),
                pl.col("tag").str.extract(rf"""{_WS}r{_WS}*={_WS}*["']([^"']*)["']""", 1)
                .alias("r"),
            )
            .filter(pl.col("is_row") | ~pl.col("closing"))  # a cell's end tag counts nothing
        )  # fmt: skip
        if tags.height == 0:
            return
        refs = _references(tags["r"].drop_nulls().unique(), survey)
        is_cell = ~pl.col("is_row")
        has_r = pl.col("r").is_not_null()
        frame = (
            tags.join(refs, on="r", how="left", maintain_order="left")
            .with_columns(
                (pl.col("is_row") & ~pl.col("closing")).alias("row_start"),
                is_cell.cast(pl.Int64).cum_sum().alias("cells"),
            )
            .with_columns(
                ((pl.col("is_row") & pl.col("closing")) | (pl.col("row_start") & pl.col("empty")))
                .cast(pl.Int64).alias("row_end"),
            )
            # the row counter: set by a row's r, one more at each row's end
            .with_columns((pl.col("row_end").cum_sum() - pl.col("row_end")).alias("ends"))
            .with_columns(
                pl.when(pl.col("row_start") & has_r).then(pl.col("ref_row")).forward_fill()
                .fill_null(self.row).alias("row_base"),
                pl.when(pl.col("row_start") & has_r).then(pl.col("ends")).forward_fill()
                .fill_null(0).alias("ends_base"),
            )
            .with_columns(
                (pl.col("row_base") + pl.col("ends") - pl.col("ends_base")).alias("row_now")
            )
            # the column counter: reset by a row tag, set by a cell's r, one more per cell
            .with_columns(
                pl.when(pl.col("is_row")).then(0)
                .when(has_r).then(pl.col("ref_col"))
                .forward_fill().fill_null(self.col).alias("col_base"),
                pl.when(pl.col("is_row")).then(pl.col("cells"))
                .when(has_r).then(pl.col("cells") - 1)
                .forward_fill().fill_null(0).alias("cells_base"),
            )
            .with_columns(
                (pl.col("col_base") + pl.col("cells") - 1 - pl.col("cells_base")).alias("col_now"),
                pl.when(has_r).then(pl.col("ref_row")).otherwise(pl.col("row_now"))
                .alias("cell_row"),
            )
        )  # fmt: skip
        rows = frame.filter(pl.col("row_start"))["row_now"].max()
        # a self-closing <c/> holds no value, so it is not in the range
        cells = frame.filter(is_cell & ~pl.col("empty"))
        for value in (rows, cells["cell_row"].max()):
            if value is not None:
                self.max_row = max(self.max_row, int(value))  # type: ignore[arg-type]
        last_col = cells["col_now"].max()
        if last_col is not None:
            self.max_col = max(self.max_col, int(last_col))  # type: ignore[arg-type]
        last = frame.row(-1, named=True)
        self.row = int(last["row_now"]) + int(last["row_end"])
        self.col = 0 if last["is_row"] else int(last["col_now"]) + 1


def _references(refs: pl.Series, survey: _Survey) -> pl.DataFrame:
    """Distinct ``r`` values with their zero-based row and column (as calamine reads them).

    A reference without a row part (calamine refuses it) counts as row 1; one past the
    largest sheet is refused here.
    """
    parts = pl.DataFrame({"r": refs}, schema={"r": pl.String}).with_columns(
        pl.col("r").str.extract(r"^([A-Za-z]*)[0-9]*$", 1).alias("letters"),
        pl.col("r").str.extract(r"^[A-Za-z]*([0-9]*)$", 1).alias("digits"),
    )
    too_long = parts.filter(
        (pl.col("letters").str.len_bytes() > EXCEL_MAX_COLUMN_LETTERS)
        | (pl.col("digits").str.len_bytes() > EXCEL_MAX_ROW_DIGITS)
    )
    if too_long.height:
        raise survey.beyond_excel(str(too_long["r"][0]))
    letters = parts["letters"].drop_nulls().unique().to_list()
    columns = pl.DataFrame(
        {"letters": letters, "number": [_column_number(x) for x in letters]},
        schema={"letters": pl.String, "number": pl.Int64},
    )
    return parts.join(columns, on="letters", how="left").select(
        "r",
        (pl.col("digits").replace("", None).cast(pl.Int64).fill_null(1).clip(1) - 1).alias(
            "ref_row"
        ),
        (pl.col("number").fill_null(1).clip(1) - 1).alias("ref_col"),
    )


def _column_number(letters: str) -> int:
    """``"AB"`` → 28 (one-based; calamine reads lower case as upper case)."""
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def _cut_point(data: bytes, cut: bytes) -> int:
    """Where a piece ends: before the last ``<``, or after the last ``</si>``-like tag."""
    if cut == b"<":
        return data.rfind(b"<")
    end = len(data)
    while (at := data.rfind(cut, 0, end)) >= 0:
        start = data.rfind(b"<", 0, at)
        if start >= 0 and _CLOSING_PREFIX_RE.fullmatch(data, start, at):
            return at + len(cut)
        end = at
    return -1


def _last_row(data: bytes) -> int:
    """Zero-based row of the last row tag in ``data``'s last 64 KiB (0 if none)."""
    rows = _LAST_ROW_RE.findall(data, max(0, len(data) - 65536))
    return int(rows[-1]) - 1 if rows else 0


def _greater_number(n: int) -> str:
    """A regex for a decimal number (leading zeros allowed) greater than ``n``."""
    digits = str(n)
    options = [f"[1-9][0-9]{{{len(digits)},}}"]
    for i, d in enumerate(digits):
        if d != "9":
            rest = len(digits) - i - 1
            options.append(f"{digits[:i]}[{int(d) + 1}-9]" + (f"[0-9]{{{rest}}}" if rest else ""))
    return "0*(?:" + "|".join(options) + ")"


def _greater_column(n: int) -> str:
    """A regex for column letters (upper case) past the zero-based column ``n``."""
    letters = ""
    value = n + 1
    while value:
        value, rest = divmod(value - 1, 26)
        letters = chr(ord("A") + rest) + letters
    options = [f"[A-Z]{{{len(letters) + 1},}}"]
    for i, c in enumerate(letters):
        if c != "Z":
            rest = len(letters) - i - 1
            options.append(
                f"{letters[:i]}[{chr(ord(c) + 1)}-Z]" + (f"[A-Z]{{{rest}}}" if rest else "")
            )
    return "(?:" + "|".join(options) + ")"
