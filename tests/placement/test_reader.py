"""Reading creditor files, the quarantine accounting, and the committed templates."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuishou.kit.errors import UnreadableFile
from cuishou.placement.reader import (
    original_rows,
    read_source,
    template_csv,
    template_xlsx_rows,
    write_templates,
)
from cuishou.placement.schemas import FileResult
from cuishou.placement.service import FileOutcome, check_accounts, write_quarantine
from tests.placement.files import AS_OF, account_row, id_number, write_csv

TEMPLATES = Path(__file__).resolve().parents[2] / "docs" / "templates"
PRODUCTS = {"credit_card", "consumer_loan", "small_business", "auto_loan"}


def test_gbk_is_detected_and_reported(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1)], headers="zh", encoding="gbk")
    source = read_source(path)
    assert (source.kind, source.encoding, source.rows) == ("accounts", "gb18030", 1)
    assert source.frame["name"][0] == account_row(1)["name"]


def test_every_cell_is_read_as_text(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1, mobile="013800000001", principal="007")])
    frame = read_source(path).frame
    assert frame["mobile"][0] == "013800000001"
    assert frame["principal"][0] == "007"
    assert frame["_row"].to_list() == [2]


def test_headers_with_units_and_full_width_brackets_are_recognised(tmp_path: Path) -> None:
    path = tmp_path / "a.csv"
    path.write_text(
        "借据号,产品,姓名,身份证号,逾期本金（元）,最早逾期日, 罚息(元) \n"
        f"LN1,信用卡,张三,{id_number(1)},100,2026-01-01,5\n",
        encoding="utf-8",
    )
    source = read_source(path)
    assert source.headers["principal"] == "逾期本金（元）"
    assert source.headers["penalty"] == " 罚息(元) "


def test_a_payments_file_is_recognised_by_amount_and_reference(tmp_path: Path) -> None:
    path = tmp_path / "p.csv"
    path.write_text("借据号,还款金额,还款时间,流水号\nLN1,1.00,2026-11-01,P1\n", encoding="utf-8")
    assert read_source(path).kind == "payments"


def test_a_missing_file_is_unreadable(tmp_path: Path) -> None:
    with pytest.raises(UnreadableFile, match="no such file"):
        read_source(tmp_path / "nope.csv")


def test_a_corrupt_xlsx_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "a.xlsx"
    path.write_bytes(b"PK\x03\x04 not really a workbook")
    with pytest.raises(UnreadableFile, match="not a readable XLSX"):
        read_source(path)


good_or_bad = st.sampled_from(
    [
        {},
        {"mobile": "12"},
        {"principal": "1.001"},
        {"id_number": "123"},
        {"product": "?"},
        {"name": None},
        {"overdue_since": "x"},
        {"contact1_phone": "abc"},
        {"fee": "-1"},
        {"creditor_code": "X"},
    ]
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(spoils=st.lists(st.tuples(good_or_bad, st.integers(1, 30)), min_size=1, max_size=40))
def test_accepted_plus_quarantined_is_always_the_rows_read(
    tmp_path: Path, spoils: list[tuple[dict[str, str | None], int]]
) -> None:
    # given any mix of good and bad rows, with repeated account numbers
    rows = [account_row(n, **overrides) for overrides, n in spoils]
    path = write_csv(tmp_path / "mix.csv", rows)
    source = read_source(path)
    # when the rows are checked and the bad ones quarantined
    typed, problems = check_accounts(
        source, creditor="ZSBANK", default_snapshot=AS_OF, products=PRODUCTS, as_of=AS_OF
    )
    rejected = problems["_row"].unique()
    accepted = typed.filter(~pl.col("_row").is_in(rejected.implode()))
    outcome = FileOutcome(
        result=FileResult(path=str(path), kind="accounts", encoding="utf-8"),
        source=source,
        problems=problems,
    )
    written = write_quarantine(outcome)
    quarantined = 0 if written is None else pl.read_csv(written, infer_schema=False).height
    # then every row is either accepted or in the quarantine file, never both
    assert accepted.height + quarantined == len(rows)
    assert accepted["account_no"].is_duplicated().sum() == 0
    expected_bad = {i + 2 for i, (o, _) in enumerate(spoils) if o}
    assert expected_bad <= set(rejected.to_list())


def test_committed_templates_are_what_the_format_produces(tmp_path: Path) -> None:
    written = write_templates(tmp_path)
    for path in written:
        committed = TEMPLATES / path.name
        if path.suffix == ".xlsx":
            assert template_xlsx_rows(committed) == template_xlsx_rows(path)
        else:
            assert committed.read_bytes() == path.read_bytes(), f"regenerate {committed}"


def test_the_templates_import_cleanly(tmp_path: Path) -> None:
    write_templates(tmp_path)
    for name in ("accounts-template.csv", "accounts-template.xlsx"):
        source = read_source(tmp_path / name)
        _, problems = check_accounts(
            source, creditor="ZSBANK", default_snapshot=AS_OF, products=PRODUCTS, as_of=AS_OF
        )
        assert problems.height == 0, problems.to_dicts()
        assert source.ignored_columns == []
    assert read_source(tmp_path / "payments-template.csv").kind == "payments"
    assert template_csv("payments").startswith("委托方代码,借据号,还款金额")


def test_rejected_rows_are_read_again_as_written_unless_the_file_changed(tmp_path: Path) -> None:
    # given a GBK file read for import, whose frame keeps only trimmed, recognised columns
    rows = [account_row(1, name=" 张三 "), account_row(2, mobile="12")]
    path = write_csv(tmp_path / "a.csv", rows, headers="zh", encoding="gbk")
    source = read_source(path)
    assert source.frame["name"].to_list() == ["张三", account_row(2)["name"]]
    # when row 3 is read again for the quarantine file, it comes as written, every column
    again = original_rows(source, pl.Series([3]))
    assert again["_row"].to_list() == [3]
    assert again["手机号"].to_list() == ["12"]
    assert original_rows(source, pl.Series([2]))["姓名"].to_list() == [" 张三 "]
    # and once the file has changed, it is not read as if it had not
    path.write_bytes(path.read_bytes() + b"\n")
    with pytest.raises(UnreadableFile, match="changed while it was imported"):
        original_rows(source, pl.Series([3]))
