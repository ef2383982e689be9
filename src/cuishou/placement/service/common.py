"""Shared pieces of both placement imports: options, outcome, the problem collector, checks.

Checks run over the whole file as Polars expressions (``placement.rules``); only failing
cells go through the scalar rules, which explain the problem in English and Chinese. The
checks here (required cells, lengths, creditor, duplicate keys, amounts, dates) are made by
both the accounts and the payments import, and both writes record the import file and its
audit event with the helpers at the end.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import UnreadableFile
from cuishou.placement import repository as repo
from cuishou.placement.columns import MAX_THIRD_PARTIES
from cuishou.placement.reader import SourceTable
from cuishou.placement.rules import (
    apply_scalar,
    date_fast_expr,
    parse_amount,
    parse_business_date,
    yuan_fen_expr,
)
from cuishou.placement.schemas import FileResult

MAX_LENGTHS: dict[str, int] = {
    "account_no": 64,
    "batch_no": 64,
    "name": 100,
    "province": 32,
    "city": 64,
    "language": 16,
    "home_address": 300,
    "email": 254,
    "work_address": 300,
    "employer": 300,
    "reference": 100,
    "channel": 32,
    **{f"contact{n}_name": 100 for n in range(1, MAX_THIRD_PARTIES + 1)},
}


@dataclass(frozen=True)
class ImportOptions:
    """What the person asked for: creditor, business date, who is importing, when."""

    as_of: date
    now: datetime
    creditor_code: str | None = None
    actor: str = "import"
    zone: ZoneInfo = CHINA_TZ


@dataclass(frozen=True)
class FileOutcome:
    """The result of one file and its rejected rows (written after the commit)."""

    result: FileResult
    source: SourceTable
    problems: pl.DataFrame


class Issues:
    """Problems found so far: one row per (row number, problem), in the order found."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []

    def add(self, rows: pl.DataFrame, en: str | pl.Expr, zh: str | pl.Expr) -> None:
        if rows.height == 0:
            return
        en_expr = pl.lit(en) if isinstance(en, str) else en
        zh_expr = pl.lit(zh) if isinstance(zh, str) else zh
        self.parts.append(
            rows.select(
                pl.col("_row"),
                pl.lit(len(self.parts), dtype=pl.Int64).alias("_order"),
                en_expr.cast(pl.String).alias("en"),
                zh_expr.cast(pl.String).alias("zh"),
            )
        )

    def add_reasons(self, rows: pl.DataFrame, en: pl.Series, zh: pl.Series) -> None:
        """Rows with a per-row reason (null reason = no problem)."""
        flagged = rows.select("_row").with_columns(en.alias("_en"), zh.alias("_zh"))
        self.add(flagged.filter(pl.col("_en").is_not_null()), pl.col("_en"), pl.col("_zh"))

    def frame(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(
                schema={"_row": pl.Int64, "_order": pl.Int64, "en": pl.String, "zh": pl.String}
            )
        return pl.concat(self.parts)

    def rows(self) -> pl.Series:
        return self.frame()["_row"].unique()


def column_label(source: SourceTable, name: str) -> str:
    header = source.headers.get(name)
    return name if header is None or header == name else f"{name} ({header})"


def choose_creditor(source: SourceTable, options: ImportOptions) -> str:
    if options.creditor_code:
        return options.creditor_code.strip()
    codes = source.frame["creditor_code"].drop_nulls()
    if codes.len() == 0:
        raise UnreadableFile(
            f"{source.path}: no creditor: give --creditor CODE or a creditor_code (委托方代码) "
            "column; nothing was imported",
            path=str(source.path),
        )
    return str(codes[0])


def common_checks(
    source: SourceTable, issues: Issues, creditor: str, columns: tuple[Any, ...], key: str
) -> None:
    """Required cells, lengths, the creditor and duplicate keys.

    Each check filters only the columns it reads (filtering the whole frame, even to no
    rows, costs memory in proportion to its width).
    """
    frame = source.frame
    for column in columns:
        if column.required:
            label = column_label(source, column.name)
            issues.add(
                frame.select("_row", column.name).filter(pl.col(column.name).is_null()),
                f"{label} is missing",
                f"缺少{label}",
            )
    for name, limit in MAX_LENGTHS.items():
        if name in frame.columns:
            label = column_label(source, name)
            issues.add(
                frame.select("_row", name).filter(pl.col(name).str.len_chars() > limit),
                f"{label} is longer than {limit} characters",
                f"{label}超过{limit}个字符",
            )
    issues.add(
        frame.select("_row", "creditor_code").filter(
            pl.col("creditor_code").is_not_null() & (pl.col("creditor_code") != creditor)
        ),
        pl.format("creditor_code {} differs from the creditor of this import {}",
                  pl.col("creditor_code"), pl.lit(creditor)),
        pl.format("委托方代码{}与本次导入的委托方{}不一致",
                  pl.col("creditor_code"), pl.lit(creditor)),
    )  # fmt: skip
    label = column_label(source, key)
    issues.add(
        repeated_rows(frame, key),
        pl.format("duplicate {} {}: first given in row {}",
                  pl.lit(label), pl.col(key), pl.col("_first")),
        pl.format("{}{}重复：已在第{}行出现", pl.lit(label), pl.col(key), pl.col("_first")),
    )  # fmt: skip


def repeated_rows(frame: pl.DataFrame, key: str, *columns: str) -> pl.DataFrame:
    """Rows whose ``key`` was given in an earlier row, with ``_first`` (that row's number).

    ``columns`` of the first row come along as ``_first_<column>``. Only rows of repeated
    keys are grouped (a window over a million distinct keys costs hundreds of megabytes).
    """
    keyed = frame.select("_row", key, *columns).filter(pl.col(key).is_not_null())
    repeated = keyed.filter(pl.col(key).is_duplicated())
    firsts = repeated.filter(pl.col(key).is_first_distinct()).select(
        key,
        pl.col("_row").alias("_first"),
        *(pl.col(c).alias(f"_first_{c}") for c in columns),
    )
    return repeated.join(firsts, on=key, how="left", maintain_order="left").filter(
        pl.col("_row") != pl.col("_first")
    )


def checked_amount(
    source: SourceTable, issues: Issues, name: str, *, positive: bool = False
) -> pl.Series:
    """Fen for an amount column: the Polars form of the grammar, the scalar rule to explain
    (in English and Chinese) the cells it refuses or that are out of range."""
    frame = source.frame
    fast = frame.select(yuan_fen_expr(pl.col(name)).alias("v"))["v"]
    raw = frame[name]
    needs = raw.is_not_null() & (fast.is_null() | (fast < 0) | (fast == 0 if positive else False))
    needs = needs.fill_null(True) & raw.is_not_null()
    if not needs.any():
        return fast
    label = column_label(source, name)
    subset = frame.select("_row", name).filter(needs)
    values, en, zh = apply_scalar(
        subset[name],
        lambda text: parse_amount(text, field=label, positive=positive),
        dtype=pl.Int64,
    )
    issues.add_reasons(subset, en, zh)
    patch = subset.select("_row").with_columns(values.alias("_v"))
    return (
        frame.select("_row")
        .with_columns(fast.alias("_fast"))
        .join(patch, on="_row", how="left", maintain_order="left")
        .select(pl.when(needs).then(pl.col("_v")).otherwise(pl.col("_fast")))
        .to_series()
    )


def checked_date(source: SourceTable, issues: Issues, name: str) -> pl.Series:
    """A business date column: Polars fast path (ISO), scalar rule for the other cells."""
    frame = source.frame
    fast = frame.select(date_fast_expr(pl.col(name)).alias("v"))["v"]
    needs = frame[name].is_not_null() & fast.is_null()
    if not needs.any():
        return fast
    label = column_label(source, name)
    subset = frame.select("_row", name).filter(needs)  # every row, when dates are not ISO
    values, en, zh = apply_scalar(
        subset[name], lambda text: parse_business_date(text, field=label), dtype=pl.Date
    )
    issues.add_reasons(subset, en, zh)
    return fast.scatter(needs.arg_true(), values)


def event(
    options: ImportOptions, type_: str, entity_type: str, entity_id: int, payload: dict[str, Any]
) -> dict[str, Any]:
    return {
        "at": options.now,
        "actor": options.actor,
        "type": type_,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "case_id": None,
        "payload": payload,
    }


def file_payload(result: FileResult) -> dict[str, Any]:
    return {
        "file": Path(result.path).name,
        "kind": result.kind,
        "rows": result.rows,
        "accepted": result.accepted,
        "quarantined": result.quarantined,
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
    }


def record_file(
    session: Session, source: SourceTable, options: ImportOptions, creditor_id: int, r: FileResult
) -> int:
    return repo.add_import_file(
        session,
        creditor_id=creditor_id,
        kind=r.kind,
        file_name=str(source.path.name),
        sha256=source.sha256,
        rows=r.rows,
        accepted=r.accepted,
        quarantined=r.quarantined,
        created=r.created,
        updated=r.updated,
        unchanged=r.unchanged,
        imported_at=options.now,
        actor=options.actor,
    )


def day_before(day: date) -> date:
    return day - timedelta(days=1)
