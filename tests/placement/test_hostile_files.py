"""Hostile and oversized files are refused before they are read, naming the limit."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine
from typer.testing import CliRunner

from cuishou.kit.errors import ConfigError, UnreadableFile
from cuishou.placement.cli import import_command, run_import
from cuishou.placement.limits import GIB, MIB, ImportLimits, limits_from, load_import_limits
from cuishou.placement.reader import read_source
from cuishou.placement.service import ImportOptions
from cuishou.placement.workbook import survey_xlsx
from tests.placement.files import AS_OF, account_row, counts, frame_of, write_csv
from tests.placement.hostile import (
    bomb_xlsx,
    column_letters,
    repeated,
    shared_string,
    table_rows,
    table_strings,
    write_table_xlsx,
    write_xlsx,
)
from tests.placement.test_import import NOW

OPTIONS = ImportOptions(as_of=AS_OF, now=NOW)


def _rows(n: int) -> list[list[str | None]]:
    frame = frame_of([account_row(i) for i in range(1, n + 1)])
    return [frame.columns, *[list(row) for row in frame.iter_rows()]]


def _refused(path: Path, limits: ImportLimits = ImportLimits()) -> str:
    with pytest.raises(UnreadableFile) as caught:
        read_source(path, limits)
    return caught.value.message


# --- XLSX --------------------------------------------------------------------------------


def test_a_decompression_bomb_is_refused_by_its_ratio_in_bounded_memory(tmp_path: Path) -> None:
    # given a workbook of a few hundred KB whose one cell inflates to 400 MiB
    path = bomb_xlsx(tmp_path / "bomb.xlsx")
    assert path.stat().st_size < 1 * MIB
    # when it is read in a process of its own
    script = textwrap.dedent(
        """
        import json, re, sys
        from pathlib import Path
        from cuishou.kit.errors import UnreadableFile
        from cuishou.placement.reader import read_source
        try:
            read_source(Path(sys.argv[1]))
            message = None
        except UnreadableFile as exc:
            message = exc.message
        # VmHWM is this process's own peak; ru_maxrss would carry over the peak of the
        # pytest worker it was spawned from (Linux keeps it across exec)
        status = Path("/proc/self/status").read_text()
        peak = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) * 1024
        print(json.dumps({"message": message, "peak": peak}))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, check=True
    )
    outcome = json.loads(done.stdout)
    # then it is refused for its ratio, naming the limit, in well under 500 MB
    assert "import.max_ratio" in outcome["message"]
    assert "xl/sharedStrings.xml inflates" in outcome["message"]
    assert outcome["peak"] < 500 * MIB


def test_a_bomb_changes_nothing_in_the_store(engine: Engine, tmp_path: Path) -> None:
    path = bomb_xlsx(tmp_path / "bomb.xlsx", size=64 * MIB)
    result = run_import(engine, [path], OPTIONS)
    assert [e.code for e in result.errors] == ["unreadable_file"]
    assert "max_ratio" in result.errors[0].message
    assert set(counts(engine).values()) == {0}


def test_a_workbook_larger_than_the_uncompressed_limit_is_refused(tmp_path: Path) -> None:
    path = write_table_xlsx(tmp_path / "a.xlsx", _rows(200))
    message = _refused(path, ImportLimits(max_bytes=20_000))
    assert "uncompressed, more than the limit" in message
    assert "import.max_bytes" in message and "--config" in message


def test_rows_past_the_limit_are_refused_before_reading(tmp_path: Path) -> None:
    path = write_table_xlsx(tmp_path / "a.xlsx", _rows(11))
    assert read_source(path, ImportLimits(max_rows=11)).rows == 11
    message = _refused(path, ImportLimits(max_rows=10))
    assert "row 12, more than the limit of 10 data rows" in message
    assert "import.max_rows" in message


def test_one_far_cell_cannot_make_the_reader_allocate_the_whole_sheet(tmp_path: Path) -> None:
    # given a 2 KB workbook with a cell at A1 and one at XFD1048576 (17 billion cells between)
    sheet = [
        '<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
        '<row r="1048576"><c r="XFD1048576"><v>1</v></c></row>',
    ]
    path = write_xlsx(tmp_path / "far.xlsx", sheet, [shared_string("身份证号")])
    # then it is refused by its rows and cells, before calamine would allocate them
    message = _refused(path, ImportLimits(max_rows=2_000_000))
    assert "1,048,576 rows × 16,384 columns" in message and "import.max_cells" in message


def test_a_shared_string_repeated_in_many_cells_is_counted_at_every_use(tmp_path: Path) -> None:
    # given one 30,000-character string used by 2,000 cells (60 MB once read, 60 KB on disk)
    rows = ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>']
    rows += [f'<row r="{n}"><c r="A{n}" t="s"><v>1</v></c></row>' for n in range(2, 2002)]
    strings = [shared_string("身份证号"), shared_string("x" * 30_000)]
    path = write_xlsx(tmp_path / "repeat.xlsx", rows, strings)
    # then the cells' text is counted as read, not as stored
    survey = survey_xlsx(path, ImportLimits())
    assert survey.shared_text >= 2000 * 30_000
    message = _refused(path, ImportLimits(max_bytes=32 * MIB))
    assert "repeat shared strings" in message and "import.max_bytes" in message


def test_a_shared_string_longer_than_a_cell_may_hold_is_refused(tmp_path: Path) -> None:
    strings = [shared_string("身份证号"), "<si><t>", *repeated("长", 40_000), "</t></si>"]
    sheet = ['<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
             '<row r="2"><c r="A2" t="s"><v>1</v></c></row>']  # fmt: skip
    message = _refused(write_xlsx(tmp_path / "long.xlsx", sheet, strings))
    assert "holds 40,000 characters" in message and "import.max_cell_chars" in message


def test_an_inline_cell_longer_than_a_cell_may_hold_names_its_column_and_row(
    tmp_path: Path,
) -> None:
    # given a workbook whose row 3 has a 33,000-character home address written in the cell
    rows = _rows(3)
    column = rows[0].index("home_address")
    sheet = list(table_rows(rows))
    ref = f"{column_letters(column)}3"
    cell = f'<c r="{ref}" t="inlineStr"><is><t>{"路" * 33_000}</t></is></c>'
    start = sheet[2].index(f'<c r="{ref}"')
    sheet[2] = sheet[2][:start] + cell + sheet[2][sheet[2].index("</c>", start) + 4 :]
    path = write_xlsx(tmp_path / "inline.xlsx", sheet, table_strings(rows))
    # then it is refused once read, before anything is done with it, naming column and row
    message = _refused(path)
    assert "column home_address in row 3 holds 33,000 characters" in message
    assert "import.max_cell_chars" in message


@pytest.mark.parametrize(
    "markup",
    [
        '<!DOCTYPE x [<!ENTITY a "aaaa">]>',
        "<!-- <v>0</v> -->",
        "<?pi something?>",
    ],
)
def test_markup_a_spreadsheet_never_writes_is_refused(tmp_path: Path, markup: str) -> None:
    rows = _rows(2)
    sheet = [markup, *table_rows(rows)]
    message = _refused(write_xlsx(tmp_path / "odd.xlsx", sheet, table_strings(rows)))
    assert "DTD, comment, CDATA section or processing instruction" in message


def test_two_parts_of_one_name_in_any_case_are_refused(tmp_path: Path) -> None:
    rows = _rows(2)
    path = write_xlsx(
        tmp_path / "twice.xlsx",
        table_rows(rows),
        table_strings(rows),
        extra=[("XL/sharedStrings.XML", "<sst/>")],
    )
    assert "two parts of the same name" in _refused(path)


def test_a_part_that_inflates_past_what_it_declares_is_unreadable(tmp_path: Path) -> None:
    # given a workbook whose sheet claims to be 100 bytes in the zip directory
    path = write_table_xlsx(tmp_path / "liar.xlsx", _rows(50))
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as book:
        info = book.getinfo("xl/worksheets/sheet1.xml")
        true_size = info.file_size
    small = (100).to_bytes(4, "little")
    data = data.replace(true_size.to_bytes(4, "little"), small)
    path.write_bytes(bytes(data))
    # then inflating it (which checks size and CRC) refuses it
    message = _refused(path)
    assert "not a readable XLSX workbook" in message


def test_a_plain_workbook_is_measured_exactly(tmp_path: Path) -> None:
    rows = _rows(30)
    survey = survey_xlsx(write_table_xlsx(tmp_path / "a.xlsx", rows), ImportLimits())
    assert (survey.rows, survey.columns) == (31, len(rows[0]))
    texts = [v for row in rows for v in row if v is not None]
    assert survey.shared_text >= sum(len(v.encode()) for v in texts)


def test_a_workbook_without_cell_references_is_read_and_measured(tmp_path: Path) -> None:
    # given a workbook whose rows and cells carry no r attribute (some writers omit them)
    rows = _rows(5)
    sheet = [row.replace(' r="', ' data-r="') for row in table_rows(rows)]
    path = write_xlsx(tmp_path / "plain.xlsx", sheet, table_strings(rows))
    # then it is measured by counting, as the reader places them, and reads as usual
    survey = survey_xlsx(path, ImportLimits())
    assert (survey.rows, survey.columns) == (6, len(rows[0]))
    assert read_source(path).rows == 5


def test_the_generator_workbook_passes_its_survey(tmp_path: Path) -> None:
    from cuishou.generator.portfolio import generate_portfolio, write_portfolio

    portfolio = generate_portfolio(accounts=300, seed=3, as_of=AS_OF)
    path = write_portfolio(portfolio, tmp_path, fmt="xlsx")[0]
    survey = survey_xlsx(path, ImportLimits())
    source = read_source(path)
    assert survey.rows == source.rows + 1
    assert survey.columns == len(source.columns)


# --- CSV and Parquet ----------------------------------------------------------------------


def test_a_csv_larger_than_the_limit_is_refused_unread(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(n) for n in range(1, 40)])
    message = _refused(path, ImportLimits(max_bytes=1000))
    assert "more than the limit of 1,000 bytes" in message and "import.max_bytes" in message


def test_csv_rows_cells_and_cell_length_have_limits(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(n) for n in range(1, 6)])
    assert "import.max_rows" in _refused(path, ImportLimits(max_rows=4))
    assert "import.max_cells" in _refused(path, ImportLimits(max_cells=20))
    long = write_csv(tmp_path / "b.csv", [account_row(1), account_row(2, home_address="路" * 70)])
    message = _refused(long, ImportLimits(max_cell_chars=60))
    assert "column home_address in row 3 holds 70 characters" in message


def test_a_parquet_list_column_is_refused_naming_it(engine: Engine, tmp_path: Path) -> None:
    # given a Parquet file with a list-typed and a struct-typed column
    path = tmp_path / "nested.parquet"
    frame_of([account_row(1)]).with_columns(
        pl.Series("phones", [["13800000001", "13800000002"]]),
        pl.Series("extra", [{"a": 1}]),
    ).write_parquet(path)
    # when it is imported
    result = run_import(engine, [path], OPTIONS)
    # then it is refused (not an internal error) naming both columns, and nothing is stored
    assert [e.code for e in result.errors] == ["unreadable_file"]
    assert "phones (List(String))" in result.errors[0].message
    assert "extra (Struct" in result.errors[0].message
    assert set(counts(engine).values()) == {0}


def test_parquet_bytes_that_are_not_text_are_refused_naming_the_column(tmp_path: Path) -> None:
    path = tmp_path / "binary.parquet"
    frame_of([account_row(1)]).with_columns(
        pl.Series("name", [b"\xff\xfe"], dtype=pl.Binary)
    ).write_parquet(path)
    assert "column name holds bytes that are not UTF-8 text" in _refused(path)


def test_parquet_rows_are_judged_from_its_metadata(tmp_path: Path) -> None:
    path = tmp_path / "a.parquet"
    frame_of([account_row(n) for n in range(1, 8)]).write_parquet(path)
    assert "it has 7 rows, more than the limit of 6" in _refused(path, ImportLimits(max_rows=6))


def test_a_parquet_dictionary_cannot_multiply_its_text_unchecked(tmp_path: Path) -> None:
    # given 50,000 rows sharing one 20,000-character name: 1 GB of text in a small file
    path = tmp_path / "dictionary.parquet"
    frame_of([account_row(1)]).sample(50_000, with_replacement=True).with_columns(
        pl.lit("名" * 20_000).alias("name")
    ).write_parquet(path)
    assert path.stat().st_size < 1 * MIB
    message = _refused(path)
    assert "of text, more than the limit" in message and "import.max_bytes" in message


# --- the limits themselves ---------------------------------------------------------------


def test_limits_come_from_the_import_section_of_the_config_file(tmp_path: Path) -> None:
    config = tmp_path / "cuishou.yaml"
    config.write_text(
        "promises: {horizon_days: 30}\n"
        "import:\n  max_rows: 5000\n  max_bytes: 500 MB\n  max_cell_chars: 1000\n",
        encoding="utf-8",
    )
    limits = load_import_limits(config)
    assert (limits.max_rows, limits.max_bytes, limits.max_cell_chars) == (5000, 500_000_000, 1000)
    assert limits.max_ratio == ImportLimits().max_ratio
    assert load_import_limits(None) == ImportLimits()
    assert limits_from({"max_bytes": "2 GiB"}).max_bytes == 2 * GIB


@pytest.mark.parametrize(
    ("spec", "fragment"),
    [
        ({"max_row": 5}, "takes max_bytes, max_cell_chars"),
        ({"max_rows": "many"}, "max_rows must be a whole number"),
        ({"max_rows": 0}, "max_rows must be a positive whole number"),
        ({"max_bytes": "2 TB"}, "max_bytes must be a size such as 2 GiB"),
        ({"max_ratio": True}, "max_ratio must be a whole number"),
    ],
)
def test_a_wrong_limit_names_what_is_wrong(spec: dict[str, object], fragment: str) -> None:
    with pytest.raises(ConfigError, match=fragment):
        limits_from(spec)


def test_the_daily_cycle_accepts_the_same_file(tmp_path: Path) -> None:
    from cuishou.engine.config import load_cycle_config

    config = tmp_path / "cuishou.yaml"
    config.write_text("legal_review_dpd: 90\nimport: {max_rows: 10}\n", encoding="utf-8")
    assert load_cycle_config(config).legal_review_dpd == 90


def test_cuishou_import_config_refuses_beyond_its_limits(store_env: str, tmp_path: Path) -> None:
    # given a deployment config allowing 2 rows per file and a file of 3
    config = tmp_path / "cuishou.yaml"
    config.write_text("import:\n  max_rows: 2\n", encoding="utf-8")
    path = write_csv(tmp_path / "a.csv", [account_row(n) for n in range(1, 4)])
    # when it is imported with --config
    import typer

    app = typer.Typer()
    app.command("import")(import_command)
    app.command("noop")(lambda: None)
    result = CliRunner().invoke(app, ["import", str(path), "--config", str(config), "--json"])
    # then it exits 2 with one red line naming the limit, and no traceback
    assert result.exit_code == 2
    squeezed = "".join(result.output.split())
    assert "morethanthelimitof2" in squeezed and "import.max_rows" in squeezed
    assert "Traceback" not in result.output


def test_column_letters_helper() -> None:
    assert [column_letters(i) for i in (0, 25, 26, 16383)] == ["A", "Z", "AA", "XFD"]
