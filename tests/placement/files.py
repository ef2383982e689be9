"""Building placement files for tests: rows in canonical names, written as banks write them."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Engine, func, select

from cuishou.kit.ids import id_check_digit
from cuishou.placement.columns import ALL_ACCOUNT_COLUMNS, PAYMENT_COLUMNS
from cuishou.store.tables import (
    Account,
    ContactPoint,
    Creditor,
    Debtor,
    Event,
    ImportFile,
    Payment,
    Placement,
)

AS_OF = date(2026, 11, 20)
TABLES = (Creditor, Placement, Debtor, ContactPoint, Account, Payment, ImportFile, Event)


def id_number(serial: int, *, region: str = "44", born: str = "19880501") -> str:
    first17 = f"{region}0305{born}{serial % 1000:03d}"
    return first17 + id_check_digit(first17)


def account_row(n: int, **overrides: Any) -> dict[str, Any]:
    """A valid account row (canonical column names); ``overrides`` spoil or change it."""
    row: dict[str, Any] = {
        "creditor_code": "ZSBANK",
        "batch_no": "2026-11-A",
        "account_no": f"LN{n:08d}",
        "product": "信用卡",
        "name": f"张{'伟芳娜敏静丽强磊军洋'[n % 10]}",
        "id_number": id_number(n),
        "mobile": f"138{n:08d}",
        "province": "广东省",
        "city": "深圳市",
        "home_address": f"广东省深圳市南山区科技园路{n}号",
        "principal": "12000.00",
        "interest": "860.50",
        "penalty": "120.00",
        "fee": "50.00",
        "overdue_since": "2026-06-15",
        "installment": "2100.00",
        "annual_rate": "18%",
        "snapshot_date": "2026-11-01",
        "contact1_name": "李娜",
        "contact1_relation": "配偶",
        "contact1_phone": f"139{n:08d}",
    }
    row.update(overrides)
    return row


def payment_row(n: int, account_no: str, amount: str, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "creditor_code": "ZSBANK",
        "account_no": account_no,
        "amount": amount,
        "paid_at": "2026-11-05 10:00:00",
        "reference": f"PAY{n:08d}",
        "channel": "银行转账",
    }
    row.update(overrides)
    return row


def _chinese(kind: str) -> dict[str, str]:
    columns = ALL_ACCOUNT_COLUMNS if kind == "accounts" else PAYMENT_COLUMNS
    return {c.name: c.aliases[0] for c in columns}


def frame_of(
    rows: list[dict[str, Any]], *, headers: str = "en", kind: str = "accounts"
) -> pl.DataFrame:
    names: list[str] = []
    for row in rows:
        names.extend(k for k in row if k not in names)
    frame = pl.DataFrame(
        {name: [None if r.get(name) is None else str(r[name]) for r in rows] for name in names},
        schema={name: pl.String for name in names},
    )
    if headers == "zh":
        frame = frame.rename({k: v for k, v in _chinese(kind).items() if k in frame.columns})
    return frame


def write_csv(
    path: Path,
    rows: list[dict[str, Any]],
    *,
    headers: str = "en",
    encoding: str = "utf-8",
    kind: str = "accounts",
) -> Path:
    text = frame_of(rows, headers=headers, kind=kind).write_csv()
    if encoding == "utf-8-bom":
        path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    else:
        path.write_bytes(text.encode(encoding))
    return path


def counts(engine: Engine) -> dict[str, int]:
    with engine.connect() as connection:
        return {
            t.__tablename__: connection.scalar(select(func.count()).select_from(t)) or 0
            for t in TABLES
        }


def quarantine_rows(path: Path) -> pl.DataFrame:
    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf"), "quarantine files carry a BOM for Excel"
    return pl.read_csv(data[3:], infer_schema=False)
