"""Building workbooks by hand for tests: valid ones, odd ones and hostile ones.

An XLSX file is a zip of XML parts; these helpers write the few parts a reader needs, the
sheet and the shared strings streamed from iterables, so a test can make a 400 KB file
that inflates to 400 MiB, or a sheet whose one cell sits at XFD1048576.
"""

from __future__ import annotations

import zipfile
from collections.abc import Iterable, Sequence
from pathlib import Path
from xml.sax.saxutils import escape

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    '<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sharedStrings+xml"/></Types>'
)
PACKAGE_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{OFFICE}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{OFFICE}">'
    '<sheets><sheet name="委案数据" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{RELS}">'
    f'<Relationship Id="rId1" Type="{OFFICE}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{OFFICE}/sharedStrings" Target="sharedStrings.xml"/>'
    "</Relationships>"
)
SHEET_START = f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN}"><sheetData>'
SHEET_END = "</sheetData></worksheet>"
MIB = 1 << 20


def column_letters(index: int) -> str:
    """0 → ``A``, 27 → ``AB``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def write_xlsx(
    path: Path,
    sheet: Iterable[str],
    shared: Iterable[str] | None = None,
    *,
    extra: Sequence[tuple[str, str]] = (),
) -> Path:
    """A workbook of one sheet whose ``<sheetData>`` content is ``sheet`` (XML text pieces)
    and, given ``shared``, whose ``<sst>`` content is ``shared``; ``extra`` parts added."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", PACKAGE_RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        if shared is not None:
            with book.open("xl/sharedStrings.xml", "w", force_zip64=True) as part:
                part.write(f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{MAIN}">'.encode())
                for piece in shared:
                    part.write(piece.encode("utf-8"))
                part.write(b"</sst>")
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as part:
            part.write(SHEET_START.encode())
            for piece in sheet:
                part.write(piece.encode("utf-8"))
            part.write(SHEET_END.encode())
        for name, text in extra:
            book.writestr(name, text)
    return path


def shared_string(text: str) -> str:
    return f"<si><t>{escape(text)}</t></si>"


def table_rows(rows: Sequence[Sequence[str | None]]) -> Iterable[str]:
    """``<row>``s of shared-string cells: ``rows[0]`` is the header; strings are indexed in
    the order given by :func:`table_strings`."""
    index: dict[str, int] = {}
    for number, row in enumerate(rows, start=1):
        cells = []
        for col, value in enumerate(row):
            if value is None:
                continue
            ref = f"{column_letters(col)}{number}"
            cells.append(f'<c r="{ref}" t="s"><v>{index.setdefault(value, len(index))}</v></c>')
        yield f'<row r="{number}">{"".join(cells)}</row>'


def table_strings(rows: Sequence[Sequence[str | None]]) -> list[str]:
    """The shared strings :func:`table_rows` refers to, in index order."""
    seen: dict[str, None] = {}
    for row in rows:
        for value in row:
            if value is not None:
                seen.setdefault(value)
    return [shared_string(text) for text in seen]


def write_table_xlsx(path: Path, rows: Sequence[Sequence[str | None]]) -> Path:
    """A plain workbook as Excel writes one: shared strings, every cell with its reference."""
    return write_xlsx(path, table_rows(rows), table_strings(rows))


def repeated(text: str, size: int, piece: int = MIB) -> Iterable[str]:
    """``size`` characters of ``text`` repeated, in pieces (never all in memory at once)."""
    unit = (text * (piece // len(text) + 1))[:piece]
    left = size
    while left > 0:
        yield unit[: min(piece, left)]
        left -= piece


def bomb_xlsx(path: Path, size: int = 400 * MIB) -> Path:
    """A workbook of a few hundred KB whose one shared string inflates to ``size`` bytes."""
    header = '<row r="1"><c r="A1" t="s"><v>0</v></c></row>'
    data = '<row r="2"><c r="A2" t="s"><v>1</v></c></row>'
    strings = ["<si><t>身份证号</t></si><si><t>", *repeated("A", size), "</t></si>"]
    return write_xlsx(path, [header, data], strings)
