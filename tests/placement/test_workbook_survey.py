"""The workbook survey never measures less than the reader then allocates.

Calamine itself is the oracle: for any sheet (rows and cells with or without their ``r``,
empty ones, references out of order, shared strings that are skipped) the survey's rows,
columns and shared-string text are at least what calamine reads, whether the sheet is
surveyed in one piece or in pieces of a few bytes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import fastexcel
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from cuishou.placement import workbook
from cuishou.placement.limits import ImportLimits
from tests.placement.hostile import column_letters, write_xlsx

LIMITS = ImportLimits(max_rows=10_000_000, max_cells=10**12, max_bytes=1 << 40)
ANCHOR = '<row r="1"><c r="A1"><v>1</v></c></row>'
"""A value at A1, so calamine's range starts at (0, 0) and its size is its extent."""


@st.composite
def cells(draw: st.DrawFn, shared: int) -> str:
    ref = draw(st.none() | st.tuples(st.integers(0, 40), st.integers(1, 30)))
    attr = "" if ref is None else f' r="{column_letters(ref[0])}{ref[1]}"'
    kinds = ["number", "empty", "closed", *(["shared"] if shared else [])]
    kind = draw(st.sampled_from(kinds))
    if kind == "empty":
        return f"<c{attr}/>"
    if kind == "closed":
        return f"<c{attr}></c>"
    if kind == "shared":
        return f'<c{attr} t="s"><v>{draw(st.integers(0, shared - 1))}</v></c>'
    return f"<c{attr}><v>{draw(st.integers(0, 99))}</v></c>"


@st.composite
def rows(draw: st.DrawFn, shared: int) -> str:
    number = draw(st.none() | st.integers(1, 30))
    attr = "" if number is None else f' r="{number}"'
    inner = draw(st.lists(cells(shared), max_size=5))
    if not inner and draw(st.booleans()):
        return f"<row{attr}/>"
    return f"<row{attr}>{''.join(inner)}</row>"


SHARED = st.lists(
    st.sampled_from(
        [
            "<si><t>abc</t></si>",
            "<si><t>长文本长文本</t></si>",
            "<si><t></t></si>",
            "<si><t/></si>",
            "<si/>",
            "<si><r><t>ri</t></r><r><t>ch</t></r></si>",
            "<si><rPh><t>phonetic only</t></rPh></si>",
            "<si><t>" + "x" * 40 + "</t><rPh><t>yy</t></rPh></si>",
            "<si>\n<t>spaced</t></si>",
        ]
    ),
    min_size=0,
    max_size=8,
)


TEXTS = {"abc", "长文本长文本", "rich", "x" * 40, "spaced", "phonetic only"}
"""The texts calamine can make of the shared strings above (numbers never read as these)."""


def _read(path: Path) -> tuple[int, int, int]:
    """Rows, columns and string bytes of the sheet as calamine reads it."""
    sheet = fastexcel.read_excel(str(path)).load_sheet(
        0, header_row=None, dtypes="string", schema_sample_rows=None
    )
    frame = sheet.to_polars()
    text = sum(
        len(value.encode("utf-8"))
        for column in frame.iter_columns()
        for value in column.drop_nulls().to_list()
        if value in TEXTS
    )
    return sheet.height, sheet.width, text


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data(), chunk=st.sampled_from([16, 64, 1 << 20]))
def test_the_survey_is_never_below_what_calamine_reads(
    monkeypatch: pytest.MonkeyPatch, data: st.DataObject, chunk: int
) -> None:
    # given any sheet of rows and cells, and shared strings of every shape
    strings = data.draw(SHARED)
    sheet = [ANCHOR, *data.draw(st.lists(rows(len(strings)), max_size=12))]
    monkeypatch.setattr(workbook, "CHUNK", chunk)
    with tempfile.TemporaryDirectory() as scratch:
        path = write_xlsx(Path(scratch) / "any.xlsx", sheet, strings)
        try:
            height, width, text = _read(path)
        except Exception:  # calamine refuses it (an index past the strings): nothing to measure
            assume(False)
            raise
        # when it is surveyed
        survey = workbook.survey_xlsx(path, LIMITS)
    # then the survey is at least what calamine allocates and copies
    assert survey.rows >= height
    assert survey.columns >= width
    assert survey.shared_text >= text


def test_a_sheet_in_order_is_measured_exactly_in_any_pieces(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    sheet = [ANCHOR] + [
        f'<row r="{n}">'
        + "".join(f'<c r="{column_letters(c)}{n}"><v>{c}</v></c>' for c in range(7))
        + "</row>"
        for n in range(2, 300)
    ]
    path = write_xlsx(tmp_path / "ordered.xlsx", sheet, [])
    for chunk in (64, 4096, 1 << 20):
        monkeypatch.setattr(workbook, "CHUNK", chunk)
        survey = workbook.survey_xlsx(path, LIMITS)
        assert (survey.rows, survey.columns) == (299, 7)
