"""The import's ``email``/``邮箱`` column (issue 15): an e-mail contact point, checked,
normalised, and without changing the content hash of rows that have none."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import Engine, select

from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.store.tables import Account, ContactPoint
from tests.placement.files import AS_OF, account_row, write_csv

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _import(engine: Engine, path: Path) -> dict[str, object]:
    return run_import(engine, [path], ImportOptions(as_of=AS_OF, now=NOW)).model_dump()


def test_an_email_column_becomes_a_debtor_email_point(engine: Engine, tmp_path: Path) -> None:
    rows = [account_row(1, email=" Zhang.Wei@Example.COM "), account_row(2)]
    path = tmp_path / "a.csv"
    write_csv(path, rows)
    # the Chinese header is recognised as the same column
    path.write_text(path.read_text(encoding="utf-8").replace("email", "邮箱", 1), encoding="utf-8")

    result = _import(engine, path)

    assert result["accepted"] == 2, json.dumps(result, ensure_ascii=False)
    with engine.connect() as connection:
        emails = connection.execute(
            select(ContactPoint.value, ContactPoint.owner).where(ContactPoint.kind == "email")
        ).all()
    assert [tuple(e) for e in emails] == [("Zhang.Wei@example.com", "debtor")]


def test_a_bad_email_is_quarantined_with_a_reason(engine: Engine, tmp_path: Path) -> None:
    result = _import(engine, write_csv(tmp_path / "b.csv", [account_row(1, email="zhang@")]))
    assert result["quarantined"] == 1
    reasons = Path(str(result["quarantine_file"])).read_text(encoding="utf-8-sig")
    assert "not an e-mail address" in reasons and "不是邮箱地址" in reasons


def test_rows_without_an_email_keep_their_content_hash(engine: Engine, tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    write_csv(plain, [account_row(1)])
    _import(engine, plain)
    with engine.connect() as connection:
        before = connection.scalar(select(Account.content_hash))
    with_column = tmp_path / "with_empty_email.csv"
    write_csv(with_column, [account_row(1, email=None)])
    again = _import(engine, with_column)
    with engine.connect() as connection:
        after = connection.scalar(select(Account.content_hash))
    assert before == after and again["unchanged"] == 1
