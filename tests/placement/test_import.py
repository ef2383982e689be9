"""Placement import on a real store (SQLite and PostgreSQL): quarantine, idempotency, updates."""

from __future__ import annotations

import itertools
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from openpyxl import Workbook
from sqlalchemy import Engine, select, text

from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.store.tables import Account, ContactPoint, Debtor, Event, Payment
from tests.placement.files import (
    AS_OF,
    account_row,
    counts,
    frame_of,
    id_number,
    payment_row,
    quarantine_rows,
    write_csv,
)

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
OPTIONS = ImportOptions(as_of=AS_OF, now=NOW)


def _import(engine: Engine, *paths: Path, creditor: str | None = None) -> dict[str, object]:
    options = ImportOptions(as_of=AS_OF, now=NOW, creditor_code=creditor)
    return run_import(engine, list(paths), options).model_dump()


def _events(engine: Engine, type_: str) -> list[Event]:
    with engine.connect() as connection:
        return list(connection.execute(select(Event).where(Event.type == type_)).all())  # type: ignore[arg-type]


BAD_ROWS = [
    # (overrides, English reason fragment, Chinese reason fragment)
    ({"name": None}, "name is missing", "缺少name"),
    ({"id_number": id_number(7)[:17] + ("3" if id_number(7)[-1] != "3" else "4")},
     "check digit is", "身份证号校验位应为"),
    ({"id_number": "4403051988"}, "must have 18 characters", "身份证号应为18位"),
    ({"mobile": "1381234567"}, "not an 11-digit mainland mobile", "不是11位手机号"),
    ({"contact1_phone": "12345"}, "neither a mobile", "既不是11位手机号"),
    ({"contact1_phone": None}, "third party 1 (phone) is missing", "联系人1信息不完整"),
    ({"overdue_since": "2026-02-30"}, "is not a date", "不是有效日期"),
    ({"principal": "-5.00"}, "must not be negative", "不能为负"),
    ({"interest": "12.345"}, "more than two decimals", "超过两位小数"),
    ({"product": "保险分期"}, "unknown product", "未知产品"),
    ({"overdue_since": "2026-11-05"}, "is after the snapshot date", "晚于数据日期"),
    ({"creditor_code": "OTHERBANK"}, "differs from the creditor", "不一致"),
    ({"annual_rate": "abc"}, "is not a rate", "不是有效利率"),
    ({"principal": "1,00"}, "commas may only group thousands", "千分位"),  # was 100.00
    ({"fee": "١٢"}, "digits other than 0-9", "0-9以外的数字"),  # was 12.00
    ({"penalty": "𝟗"}, "digits other than 0-9", "0-9以外的数字"),  # was 9.00
    ({"annual_rate": "١٨%"}, "is not a rate", "不是有效利率"),  # was 18 %
]  # fmt: skip


def test_every_kind_of_bad_row_is_quarantined_with_a_reason(engine: Engine, tmp_path: Path) -> None:
    # given a file of good rows, one bad row of each kind, a duplicate and a name clash
    rows = [account_row(1), account_row(2, contact1_relation="表舅")]
    for i, (overrides, _, _) in enumerate(BAD_ROWS):
        rows.append(account_row(100 + i, **overrides))
    rows.append(account_row(1, principal="1.00"))  # duplicate account number of row 2
    rows.append(account_row(300, id_number=id_number(1), name="王五"))  # ID of row 2, other name
    path = write_csv(tmp_path / "accounts.csv", rows)

    # when it is imported
    result = _import(engine, path)

    # then the good rows are stored and every bad row is in quarantine with its reason
    assert result["rows"] == len(rows)
    assert result["accepted"] == 2
    assert result["accepted"] + result["quarantined"] == result["rows"]  # type: ignore[operator]
    quarantine = quarantine_rows(Path(str(result["quarantine_file"])))
    assert quarantine.columns[:3] == ["row", "reason", "reason_zh"]
    by_row = {int(r["row"]): r for r in quarantine.iter_rows(named=True)}
    assert len(by_row) == len(rows) - 2
    for i, (_, en, zh) in enumerate(BAD_ROWS):
        row = by_row[4 + i]  # header is row 1; the two good rows are rows 2 and 3
        assert en in row["reason"], row
        assert zh in row["reason_zh"], row
        assert row["account_no"] == f"LN{100 + i:08d}"  # original values kept
    dup_row = 4 + len(BAD_ROWS)
    assert "first given in row 2" in by_row[dup_row]["reason"]
    assert "is given with name" in by_row[dup_row + 1]["reason"]
    # and the unknown relation word was kept as "other"
    with engine.connect() as connection:
        relations = set(connection.scalars(select(ContactPoint.relation)))
        assert relations == {None, "spouse", "other"}
        assert float(connection.scalar(select(Account.annual_rate).limit(1)) or 0) == 0.18


def test_a_row_with_several_problems_lists_them_all(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "a.csv", [account_row(1, mobile="123", principal="1.234", product="x")]
    )
    result = _import(engine, path)
    reason = quarantine_rows(Path(str(result["quarantine_file"])))["reason"][0]
    assert "unknown product" in reason and "mobile" in reason and "two decimals" in reason
    assert counts(engine)["accounts"] == 0


def _formats(tmp_path: Path, rows: list[dict[str, object]]) -> dict[str, Path]:
    zh = frame_of(rows, headers="zh")
    zh_units = zh.rename({"逾期本金": "逾期本金(元)", "罚息": "罚息（元）"})
    paths = {
        "gbk": write_csv(tmp_path / "gbk.csv", rows, headers="zh", encoding="gbk"),
        "bom": write_csv(tmp_path / "bom.csv", rows, headers="zh", encoding="utf-8-bom"),
        "parquet": tmp_path / "rows.parquet",
        "xlsx": tmp_path / "rows.xlsx",
    }
    zh_units.write_parquet(paths["parquet"])
    book = Workbook()
    sheet = book.active
    sheet.append(zh.columns)
    for row in zh.iter_rows():
        sheet.append(list(row))
    book.save(paths["xlsx"])
    return paths


@pytest.mark.parametrize(
    ("fmt", "encoding"),
    [("gbk", "gb18030"), ("bom", "utf-8-bom"), ("parquet", "parquet"), ("xlsx", "xlsx")],
)
def test_gbk_bom_xlsx_and_parquet_with_chinese_headers_import_alike(
    engine: Engine, tmp_path: Path, fmt: str, encoding: str
) -> None:
    # given the same rows (one bad) with Chinese headers in each format banks send
    rows = [account_row(1), account_row(2, name="欧阳娜娜"), account_row(3, mobile="12")]
    path = _formats(tmp_path, rows)[fmt]
    # when imported
    result = _import(engine, path)
    # then it is read as the same table
    file = result["files"][0]  # type: ignore[index]
    assert (file["kind"], file["encoding"]) == ("accounts", encoding)
    assert (result["accepted"], result["quarantined"]) == (2, 1)
    with engine.connect() as connection:
        names = set(connection.scalars(select(Debtor.name)))
        principal = connection.scalar(select(Account.principal_fen).limit(1))
    assert names == {"张强", "欧阳娜娜"} or "欧阳娜娜" in names
    assert principal == 1_200_000
    quarantine = quarantine_rows(Path(str(result["quarantine_file"])))
    assert quarantine["手机号"].to_list() == ["12"]


def test_unknown_columns_are_ignored_and_reported(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1, 备注="VIP", remark2="x")])
    result = _import(engine, path)
    assert result["files"][0]["ignored_columns"] == ["备注", "remark2"]  # type: ignore[index]
    assert result["accepted"] == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00" * 20, "binary"),
        ("借据号,姓名,逾期本金\nLN1,张三,100\n".encode(), "cannot tell what this file is"),
        ("借据号,姓名,身份证号,逾期本金\nLN1,张三,x,100\n".encode(), "missing required column"),
    ],
)
def test_an_unreadable_file_changes_nothing_and_says_why(
    engine: Engine, tmp_path: Path, content: bytes, message: str
) -> None:
    good = write_csv(tmp_path / "good.csv", [account_row(1)])
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    before = counts(engine)
    result = run_import(engine, [bad], OPTIONS)
    assert counts(engine) == before
    assert result.errors and message in result.errors[0].message
    assert str(bad) in result.errors[0].message
    assert not (tmp_path / "bad.csv.quarantine.csv").exists()
    # and a good file in the same call is imported all the same
    both = run_import(engine, [bad, good], ImportOptions(as_of=AS_OF, now=NOW))
    assert both.created == 1 and len(both.errors) == 1


def test_without_a_creditor_the_file_is_refused(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1, creditor_code=None)])
    result = run_import(engine, [path], OPTIONS)
    assert "--creditor" in result.errors[0].message
    assert counts(engine)["accounts"] == 0


def test_importing_the_same_file_twice_changes_nothing(engine: Engine, tmp_path: Path) -> None:
    # given an imported file (with one bad row)
    rows = [account_row(n) for n in range(1, 6)] + [account_row(9, mobile="1")]
    accounts = write_csv(tmp_path / "accounts.csv", rows)
    payments = write_csv(
        tmp_path / "payments.csv",
        [payment_row(1, "LN00000001", "100.00"), payment_row(2, "LN00000002", "50.00")],
        kind="payments",
    )
    first = _import(engine, accounts, payments)
    assert (first["created"], first["quarantined"]) == (7, 1)
    before = counts(engine)
    # when the same files are imported again
    second = _import(engine, accounts, payments)
    # then every accepted row is unchanged and no table (not even events) grew
    assert second["unchanged"] == second["accepted"] == 7
    assert (second["created"], second["updated"]) == (0, 0)
    assert counts(engine) == before


def test_a_fixed_file_removes_the_stale_quarantine_file(engine: Engine, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "a.csv", [account_row(1), account_row(2, mobile="1")])
    first = _import(engine, path)
    assert Path(str(first["quarantine_file"])).exists()
    write_csv(path, [account_row(1), account_row(2)])
    second = _import(engine, path)
    assert second["quarantine_file"] is None
    assert not (tmp_path / "a.csv.quarantine.csv").exists()
    assert (second["created"], second["unchanged"]) == (1, 1)


def test_an_updated_snapshot_updates_the_account_and_records_the_change(
    engine: Engine, tmp_path: Path
) -> None:
    _import(engine, write_csv(tmp_path / "d1.csv", [account_row(1), account_row(2)]))
    # when the creditor sends a newer snapshot of account 1 and the same account 2
    newer = write_csv(
        tmp_path / "d2.csv",
        [account_row(1, principal="11000.00", snapshot_date="2026-11-10"), account_row(2)],
    )
    result = _import(engine, newer)
    # then account 1 is updated with an event naming old and new values
    assert (result["updated"], result["unchanged"], result["created"]) == (1, 1, 0)
    with engine.connect() as connection:
        account = connection.execute(
            select(Account).where(Account.account_no == "LN00000001")
        ).one()
        payload = connection.scalar(
            select(Event.payload).where(Event.type == "account.snapshot_updated")
        )
    assert account.principal_fen == 1_100_000
    assert account.snapshot_due_fen == 1_100_000 + 86_050 + 12_000 + 5_000
    assert payload["changes"]["principal_fen"] == [1_200_000, 1_100_000]
    assert payload["changes"]["snapshot_date"] == ["2026-11-01", "2026-11-10"]
    # and an older snapshot than the stored one is quarantined
    older = write_csv(tmp_path / "d3.csv", [account_row(1, snapshot_date="2026-10-01")])
    stale = _import(engine, older)
    reason = quarantine_rows(Path(str(stale["quarantine_file"])))["reason"][0]
    assert "stored snapshot is newer" in reason


def test_a_changed_debtor_name_is_updated_with_an_event(engine: Engine, tmp_path: Path) -> None:
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(1, name="张伟")]))
    _import(engine, write_csv(tmp_path / "b.csv", [account_row(1, name="张伟伟", city="广州市")]))
    with engine.connect() as connection:
        debtor = connection.execute(select(Debtor)).one()
        payload = connection.scalar(select(Event.payload).where(Event.type == "debtor.updated"))
    assert (debtor.name, debtor.city) == ("张伟伟", "广州市")
    assert payload["changes"] == {"name": ["张伟", "张伟伟"], "city": ["深圳市", "广州市"]}


def test_a_debtors_language_is_kept_and_a_later_change_is_an_event(
    engine: Engine, tmp_path: Path
) -> None:
    # given a file without the language column: nothing is stored for it
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(1), account_row(2)]))
    # when a later file gives the debtors' languages (方言), one of them in Chinese headers
    rows = [account_row(1, language="粤语"), account_row(2, language="普通话")]
    result = _import(engine, write_csv(tmp_path / "b.csv", rows, headers="zh"))
    # then the accounts are updated (the row's content changed), the languages stored, and
    # each change is a debtor.updated event naming old and new
    assert result["updated"] == 2
    with engine.connect() as connection:
        languages = connection.execute(select(Debtor.language).order_by(Debtor.id)).scalars()
        changes = connection.scalars(
            select(Event.payload).where(Event.type == "debtor.updated").order_by(Event.id)
        ).all()
    assert list(languages) == ["粤语", "普通话"]
    assert [c["changes"] for c in changes] == [
        {"language": [None, "粤语"]},
        {"language": [None, "普通话"]},
    ]
    # and the same file again changes nothing
    assert _import(engine, write_csv(tmp_path / "c.csv", rows, headers="zh"))["unchanged"] == 2


def test_contact_points_of_debtor_and_third_parties(engine: Engine, tmp_path: Path) -> None:
    row = account_row(
        1,
        work_address="深圳市福田区1号",
        contact2_name="王强",
        contact2_relation="同事",
        contact2_phone="0755-2600 1234",
    )
    co_debt = account_row(
        2,
        id_number=row["id_number"],
        name=row["name"],
        mobile=row["mobile"],
        home_address=row["home_address"],
        contact1_phone=row["contact1_phone"],
    )
    _import(engine, write_csv(tmp_path / "a.csv", [row, co_debt]))
    with engine.connect() as connection:
        points = {
            (p.kind, p.value, p.label, p.owner, p.owner_name, p.relation)
            for p in connection.execute(select(ContactPoint)).all()
        }
        debtors = connection.scalar(text("SELECT count(*) FROM debtors"))
    assert debtors == 1  # 共债: two accounts, one debtor
    assert ("mobile", row["mobile"], "", "debtor", "", None) in points
    assert ("address", "深圳市福田区1号", "work", "debtor", "", None) in points
    assert ("phone", "0755-26001234", "", "third_party", "王强", "colleague") in points
    assert ("mobile", row["contact1_phone"], "", "third_party", "李娜", "spouse") in points
    # the second account's contact points were the same and not stored twice
    assert len(points) == 5


def test_contact_points_stored_in_batches_are_those_stored_at_once(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given co-debtors whose accounts are far apart in the file, and batches of two rows
    from cuishou.placement.service import accounts

    rows = [account_row(n) for n in range(1, 8)]
    rows[5] = account_row(6, id_number=rows[0]["id_number"], name=rows[0]["name"],
                          mobile=rows[0]["mobile"], home_address="深圳市南山区另一处")  # fmt: skip
    monkeypatch.setattr(accounts, "CONTACT_BATCH", 2)
    # when the file is imported
    _import(engine, write_csv(tmp_path / "a.csv", rows))
    # then every debtor has each of its contact points once, stored in debtor order
    with engine.connect() as connection:
        stored = connection.execute(
            text("SELECT d.id_number, c.kind, c.value, c.owner_name FROM contact_points c "
                 "JOIN debtors d ON d.id = c.debtor_id ORDER BY c.id")
        ).all()  # fmt: skip
    expected = {
        (r["id_number"], kind, value, owner)
        for r in rows
        for kind, value, owner in (
            ("mobile", r["mobile"], ""),
            ("address", r["home_address"], ""),
            ("mobile", r["contact1_phone"], "李娜"),
        )
    }
    assert sorted(tuple(s) for s in stored) == sorted(expected)
    first_seen = list(dict.fromkeys(r["id_number"] for r in rows))
    runs = [key for key, _ in itertools.groupby(s[0] for s in stored)]
    assert runs == first_seen  # each debtor's points together, debtors in file order


def test_payments_are_posted_through_the_waterfall_exactly_once(
    engine: Engine, tmp_path: Path
) -> None:
    # given an account owing fee 50, penalty 120, interest 860.50, principal 12000
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(1), account_row(2)]))
    payments = [
        payment_row(1, "LN00000001", "1000.00", paid_at="2026-11-05 09:00:00"),
        payment_row(2, "LN00000001", "500.00", paid_at="2026-11-06 09:00:00"),
        payment_row(2, "LN00000001", "500.00"),  # same reference again in the file
        payment_row(3, "LN99999999", "10.00"),  # unknown account
        payment_row(4, "LN00000002", "10.00", paid_at="2026-11-01 18:00:00"),  # in the snapshot
        payment_row(5, "LN00000002", "0"),  # not a payment
        payment_row(6, "LN00000002", "20000.00"),  # pays everything, the rest is credit
    ]
    path = write_csv(tmp_path / "p.csv", payments, headers="zh", kind="payments")
    # when imported
    result = _import(engine, path)
    # then valid new payments are posted, the others quarantined with reasons
    assert (result["created"], result["quarantined"]) == (3, 4)
    reasons = quarantine_rows(Path(str(result["quarantine_file"])))["reason"].to_list()
    assert "first given in row 3" in reasons[0]
    assert "unknown account" in reasons[1]
    assert "already include it" in reasons[2]
    assert "greater than zero" in reasons[3]
    with engine.connect() as connection:
        posted = {
            p.reference: p for p in connection.execute(select(Payment).order_by(Payment.id)).all()
        }
        one = connection.execute(select(Account).where(Account.account_no == "LN00000001")).one()
        two = connection.execute(select(Account).where(Account.account_no == "LN00000002")).one()
    first = posted["PAY00000001"]
    assert (first.to_fee_fen, first.to_penalty_fen, first.to_interest_fen) == (
        5_000,
        12_000,
        83_000,
    )
    second = posted["PAY00000002"]
    assert (second.to_interest_fen, second.to_principal_fen) == (3_050, 46_950)
    assert (one.fee_fen, one.penalty_fen, one.interest_fen) == (0, 0, 0)
    assert one.principal_fen == 1_200_000 - 46_950
    overpaid = posted["PAY00000006"]
    assert overpaid.to_credit_fen == 2_000_000 - 1_303_050
    assert (two.principal_fen, two.credit_fen) == (0, 2_000_000 - 1_303_050)
    for p in posted.values():
        total = p.to_fee_fen + p.to_penalty_fen + p.to_interest_fen + p.to_principal_fen
        assert total + p.to_credit_fen == p.amount_fen
    assert len(_events(engine, "payment.posted")) == 3
    # and importing the file again posts nothing twice
    again = _import(engine, path)
    assert (again["created"], again["unchanged"]) == (0, 3)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM payments")) == 3


def test_payments_the_api_refuses_are_quarantined_and_change_no_balance(
    engine: Engine, tmp_path: Path
) -> None:
    # given an account, and a payments file imported at 2026-11-20 10:00 Beijing time
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(1)]))
    with engine.connect() as connection:
        before = connection.execute(select(Account)).one()
    payments = [
        payment_row(1, "LN00000001", "5.00", paid_at="2099-11-25"),  # drove a balance to −5.00
        payment_row(2, "LN00000001", "5.00", paid_at="2026-11-20 10:06:00"),  # 6 min ahead
        payment_row(3, "LN00000001", "5.00", paid_at="1999-12-31 23:00:00"),
        payment_row(4, "LN00000001", "5.00", paid_at="0001-01-01"),  # overflowed on the way
        payment_row(5, "LN00000001", "1,00"),  # was posted as 100.00
        payment_row(6, "LN00000001", "١٢"),  # was posted as 12.00
        payment_row(7, "LN00000001", "𝟗"),  # was posted as 9.00
        payment_row(8, "LN00000001", "1.00", paid_at="2026-11-20 10:04:00"),  # within the skew
    ]
    path = write_csv(tmp_path / "p.csv", payments, headers="zh", kind="payments")
    # when it is imported
    result = _import(engine, path)
    # then only the last payment is posted; every other row is quarantined, saying why
    assert (result["created"], result["quarantined"]) == (1, 7)
    quarantine = quarantine_rows(Path(str(result["quarantine_file"])))
    reasons = dict(zip(quarantine["row"].to_list(), quarantine["reason"].to_list(), strict=True))
    zh = dict(zip(quarantine["row"].to_list(), quarantine["reason_zh"].to_list(), strict=True))
    future = "paid_at (还款时间): a payment cannot be dated in the future"
    assert reasons["2"].startswith(future) and reasons["3"].startswith(future)
    assert "还款时间不能晚于入账时间" in zh["2"]
    assert "not a plausible payment date (before 2000-01-01)" in reasons["4"]
    assert "早于2000-01-01" in zh["4"]
    assert "not a plausible payment time" in reasons["5"]
    assert "commas may only group thousands" in reasons["6"] and "千分位" in zh["6"]
    assert "digits other than 0-9" in reasons["7"] and "digits other than 0-9" in reasons["8"]
    with engine.connect() as connection:
        after = connection.execute(select(Account)).one()
        posted = connection.scalars(select(Payment.reference)).all()
    assert posted == ["PAY00000008"]
    assert after.fee_fen == before.fee_fen - 100  # only the 1.00 was taken (fees first)
    assert (after.principal_fen, after.credit_fen) == (before.principal_fen, 0)


def test_a_new_snapshot_keeps_payments_made_after_it(engine: Engine, tmp_path: Path) -> None:
    # given an account and two payments, one on 11-05 and one on 11-12
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(1)]))
    pays = [
        payment_row(1, "LN00000001", "100.00", paid_at="2026-11-05 10:00:00"),
        payment_row(2, "LN00000001", "300.00", paid_at="2026-11-12 10:00:00"),
    ]
    _import(engine, write_csv(tmp_path / "p.csv", pays, kind="payments"))
    # when the creditor's snapshot of 11-10 arrives (it includes the first payment only)
    newer = account_row(1, fee="0.00", penalty="70.00", snapshot_date="2026-11-10")
    result = _import(engine, write_csv(tmp_path / "b.csv", [newer]))
    # then balances are that snapshot less what the 11-12 payment paid
    # (that payment took penalty 70.00 and interest 230.00 when it was posted)
    assert result["updated"] == 1
    with engine.connect() as connection:
        account = connection.execute(select(Account)).one()
    assert (account.fee_fen, account.penalty_fen) == (0, 7_000 - 7_000)
    assert (account.interest_fen, account.principal_fen) == (86_050 - 23_000, 1_200_000)
    assert account.credit_fen == 0
    assert account.snapshot_due_fen == 7_000 + 86_050 + 1_200_000


def test_a_failure_while_writing_leaves_nothing_of_the_file(engine: Engine, tmp_path: Path) -> None:
    # given a store that refuses the file's last write (a real trigger, not a mock)
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events "
                "WHEN NEW.type = 'import.file_imported' BEGIN SELECT RAISE(ABORT, 'refused'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN "
                "IF NEW.type = 'import.file_imported' THEN RAISE EXCEPTION 'refused'; END IF; "
                "RETURN NEW; END $$ LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER refuse BEFORE INSERT ON events "
                "FOR EACH ROW EXECUTE FUNCTION refuse()"
            )
    path = write_csv(tmp_path / "a.csv", [account_row(n) for n in range(1, 20)])
    before = counts(engine)
    # when the import fails mid-write
    with pytest.raises(Exception, match="refused"):
        run_import(engine, [path], OPTIONS)
    # then nothing of the file remains
    assert counts(engine) == before


def test_accounts_files_are_imported_before_payments_files(engine: Engine, tmp_path: Path) -> None:
    accounts = write_csv(tmp_path / "a.csv", [account_row(1)])
    payments = write_csv(
        tmp_path / "p.csv", [payment_row(1, "LN00000001", "1.00")], kind="payments"
    )
    result = _import(engine, payments, accounts)
    assert [f["kind"] for f in result["files"]] == ["accounts", "payments"]  # type: ignore[index]
    assert result["created"] == 2
    events = {e.type for e in _events(engine, "import.file_imported")}
    assert events == {"import.file_imported"}
    payload = json.loads(json.dumps(_events(engine, "account.placed")[0].payload))
    assert payload["account_no"] == "LN00000001"


def test_quarantine_cells_cannot_run_as_formulas_and_come_back_as_they_were(
    engine: Engine, tmp_path: Path
) -> None:
    # given rows rejected for a bad mobile (whose name starts like a formula) and a
    # negative principal
    formula = '=HYPERLINK("http://evil.example","点我")'
    rows = [account_row(1, name=formula, mobile="1"), account_row(2, principal="-5.00")]
    result = _import(engine, write_csv(tmp_path / "a.csv", rows), creditor="ZSBANK")
    quarantine = Path(str(result["quarantine_file"]))
    # then in the quarantine file the name is text for Excel and the amount still a number
    kept = quarantine_rows(quarantine)
    assert kept["name"].to_list()[0] == "'" + formula
    assert kept["principal"].to_list()[1] == "-5.00"
    # and once corrected and imported again, the rows are stored as they were written
    fixed = kept.with_columns(
        pl.Series("mobile", ["13800000001", kept["mobile"][1]]),
        pl.Series("principal", [kept["principal"][0], "5.00"]),
    )
    again = tmp_path / "a.fixed.csv"
    again.write_bytes(b"\xef\xbb\xbf" + fixed.write_csv().encode("utf-8"))
    second = _import(engine, again, creditor="ZSBANK")
    assert (second["accepted"], second["quarantined"]) == (2, 0)
    assert set(second["files"][0]["ignored_columns"]) == {"row", "reason", "reason_zh"}  # type: ignore[index]
    with engine.connect() as connection:
        names = set(connection.scalars(select(Debtor.name)))
        principal = connection.scalar(
            select(Account.principal_fen).where(Account.account_no == "LN00000002")
        )
    assert formula in names
    assert principal == 500


def test_accounts_written_in_batches_keep_their_payloads_and_order(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given three stored accounts, and batches of two accounts
    from cuishou.placement.service import accounts

    monkeypatch.setattr(accounts, "WRITE_BATCH", 2)
    _import(engine, write_csv(tmp_path / "a.csv", [account_row(n) for n in (5, 3, 1)]))
    # when a newer file updates two of them, leaves one and adds two, in no order
    rows = [
        account_row(4),
        account_row(5, principal="11000.00", snapshot_date="2026-11-10"),
        account_row(2),
        account_row(3),
        account_row(1, principal="10000.00", snapshot_date="2026-11-10"),
    ]
    result = _import(engine, write_csv(tmp_path / "b.csv", rows))
    # then each account has its own event and values, new ones numbered in account order
    assert (result["created"], result["updated"], result["unchanged"]) == (2, 2, 1)
    with engine.connect() as connection:
        ids = dict(connection.execute(select(Account.account_no, Account.id)).all())
        principal = dict(
            connection.execute(select(Account.account_no, Account.principal_fen)).all()
        )
        events = connection.execute(
            select(Event.type, Event.entity_id, Event.payload).where(Event.type.like("account.%"))
        ).all()
    assert ids["LN00000002"] < ids["LN00000004"]
    assert (principal["LN00000001"], principal["LN00000005"]) == (1_000_000, 1_100_000)
    updated = {e.entity_id: e.payload for e in events if e.type == "account.snapshot_updated"}
    assert updated[ids["LN00000001"]]["changes"]["principal_fen"] == [1_200_000, 1_000_000]
    assert updated[ids["LN00000005"]]["changes"]["principal_fen"] == [1_200_000, 1_100_000]
    placed = {e.entity_id: e.payload for e in events if e.type == "account.placed"}
    assert placed[ids["LN00000004"]]["account_no"] == "LN00000004"
    assert len(placed) == 5
