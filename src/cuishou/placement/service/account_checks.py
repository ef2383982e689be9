"""Checking an accounts file (委案账户校验): typed values of every row and every problem.

Nothing here reads the store; ``import_accounts`` adds the problems only the store can
find (a stored snapshot newer than the row's).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import polars as pl

from cuishou.placement.columns import ACCOUNT_COLUMNS, MAX_THIRD_PARTIES
from cuishou.placement.reader import SourceTable
from cuishou.placement.rules import (
    Reason,
    apply_scalar,
    email_reason,
    email_valid_expr,
    id_number_reason,
    id_number_valid_expr,
    mobile_reason,
    mobile_valid_expr,
    normalize_email_expr,
    normalize_id_number_expr,
    normalize_mobile_expr,
    normalize_phone_expr,
    parse_rate,
    phone_reason,
    phone_valid_expr,
    product_code,
    relation_code,
)
from cuishou.placement.service.common import (
    Issues,
    checked_amount,
    checked_date,
    column_label,
    common_checks,
    repeated_rows,
)

PLAIN_MOBILE = r"^1[3-9][0-9]{9}$"
CHECK_BATCH = 100_000
"""Rows whose ID numbers are validated at a time (the expression is wide)."""


def _slow_path(
    frame: pl.DataFrame, column: str, valid: Callable[[pl.Expr], pl.Expr]
) -> pl.DataFrame:
    """Rows whose phone in ``column`` is invalid.

    Most cells are already a plain 11-digit mobile (valid under every rule); only the
    others go through the full normalising expression.
    """
    plain = pl.col(column).str.contains(PLAIN_MOBILE)
    others = frame.select("_row", column).filter(pl.col(column).is_not_null() & ~plain)
    return others.filter(~others.select(valid(pl.col(column))).to_series())


def _normalized(
    frame: pl.DataFrame, column: str, normalize: Callable[[pl.Expr], pl.Expr]
) -> pl.Series:
    """``column`` normalised; plain 11-digit mobiles (most cells) are left as they are."""
    values = frame[column]
    others = (
        frame.select(column)
        .with_row_index("_i")
        .filter(pl.col(column).is_not_null() & ~pl.col(column).str.contains(PLAIN_MOBILE))
    )
    if others.height == 0:
        return values
    fixed = others.select(normalize(pl.col(column))).to_series()
    return values.scatter(others["_i"], fixed)


def _rate_text(text: str, label: str) -> str | Reason:
    parsed = parse_rate(text, field=label)
    if isinstance(parsed, Reason):
        return parsed
    return format(parsed.normalize(), "f")


def _product_of(text: str, label: str, known: set[str]) -> str | Reason:
    code = product_code(text)
    if code is None or code not in known:
        choices = ", ".join(sorted(known))
        return Reason(
            f"{label}: unknown product {text.strip()!r} (known: {choices})",
            f"{label}：未知产品「{text.strip()}」（可用：{choices}）",
        )
    return code


def _let_go(source: SourceTable, *names: str) -> pl.DataFrame:
    """The source's frame without ``names`` (raw text whose typed form is made)."""
    source.frame = source.frame.drop(names, strict=False)
    return source.frame


def contacts_expr() -> pl.Expr:
    """The named third parties as one text (``name|relation|phone;…``), for the content hash.

    Over the checked columns (``contact{n}_name``, ``_rel{n}``, ``_phone{n}``); made where it
    is hashed, a batch of rows at a time, not kept with the rows.
    """
    parts: list[pl.Expr] = []
    for n in range(1, MAX_THIRD_PARTIES + 1):
        cells = [pl.col(f"contact{n}_name"), pl.col(f"_rel{n}"), pl.col(f"_phone{n}")]
        parts.append(
            pl.when(pl.any_horizontal(c.is_not_null() for c in cells))
            .then(pl.concat_str([c.fill_null("") for c in cells], separator="|"))
            .otherwise(None)
        )
    return pl.concat_str(parts, separator=";", ignore_nulls=True).alias("contacts")


def check_accounts(
    source: SourceTable,
    *,
    creditor: str,
    default_snapshot: date,
    products: set[str],
    as_of: date,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed values of every row and every problem found without the store.

    Returns ``(typed, problems)``: ``typed`` has one row per input row (values of
    invalid cells are null; the third parties' text for the content hash is
    :func:`contacts_expr`); ``problems`` has ``_row``, ``en``, ``zh`` per problem.

    Memory: as soon as a column's typed form is made, its raw text is let go, from the
    source's frame too (a million rows of text cost 16 bytes a cell at least).
    """
    frame = source.frame
    issues = Issues()
    common_checks(source, issues, creditor, ACCOUNT_COLUMNS, "account_no")

    label = column_label(source, "product")
    product, en, zh = apply_scalar(
        frame["product"], lambda t: _product_of(t, label, products), dtype=pl.String
    )
    issues.add_reasons(frame, en, zh)
    frame = _let_go(source, "product", "creditor_code")

    # the check digit takes a column per digit: a batch of rows at a time
    id_valid = pl.concat(
        frame.slice(start, CHECK_BATCH)
        .select(id_number_valid_expr(pl.col("id_number"), as_of=as_of))
        .to_series()
        for start in range(0, max(frame.height, 1), CHECK_BATCH)
    )
    bad_ids = frame.select("_row", "id_number").filter(
        ~id_valid & pl.col("id_number").is_not_null()
    )
    if bad_ids.height:
        _, en, zh = apply_scalar(
            bad_ids["id_number"],
            lambda t: id_number_reason(t, as_of=as_of) or "valid",
            dtype=pl.String,
        )
        issues.add_reasons(bad_ids, en, zh)

    bad_mobiles = _slow_path(frame, "mobile", mobile_valid_expr)
    if bad_mobiles.height:
        label = column_label(source, "mobile")
        _, en, zh = apply_scalar(
            bad_mobiles["mobile"],
            lambda t: mobile_reason(t, field=label) or "valid",
            dtype=pl.String,
        )
        issues.add_reasons(bad_mobiles, en, zh)

    emails = frame.select("_row", "email").filter(
        pl.col("email").is_not_null() & ~email_valid_expr(pl.col("email"))
    )
    if emails.height:
        label = column_label(source, "email")
        _, en, zh = apply_scalar(
            emails["email"], lambda t: email_reason(t, field=label) or "valid", dtype=pl.String
        )
        issues.add_reasons(emails, en, zh)
    email = frame.select(normalize_email_expr(pl.col("email"))).to_series()
    frame = _let_go(source, "email")

    amount_names = ("principal", "interest", "penalty", "fee", "installment", "loan_amount")
    amounts = {f"{name}_fen": checked_amount(source, issues, name) for name in amount_names}
    frame = _let_go(source, *amount_names)
    date_names = ("overdue_since", "contract_date", "snapshot_date", "placed_on", "return_on")
    dates = {name: checked_date(source, issues, name) for name in date_names}
    snapshot_missing = frame["snapshot_date"].is_null()
    frame = _let_go(source, *date_names)
    rate_label = column_label(source, "annual_rate")
    rate, en, zh = apply_scalar(
        frame["annual_rate"], lambda t: _rate_text(t, rate_label), dtype=pl.String
    )
    issues.add_reasons(frame, en, zh)
    frame = _let_go(source, "annual_rate")

    for n in range(1, MAX_THIRD_PARTIES + 1):
        name_c, rel_c, phone_c = f"contact{n}_name", f"contact{n}_relation", f"contact{n}_phone"
        present = pl.any_horizontal(pl.col(c).is_not_null() for c in (name_c, rel_c, phone_c))
        for column, word in ((name_c, "name"), (phone_c, "phone")):
            label = column_label(source, column)
            issues.add(
                frame.select("_row", name_c, rel_c, phone_c).filter(
                    present & pl.col(column).is_null()
                ),
                f"third party {n} ({word}) is missing: {label} is empty",
                f"联系人{n}信息不完整：缺少{label}",
            )
        bad_phones = _slow_path(frame, phone_c, phone_valid_expr)
        if bad_phones.height:
            label = column_label(source, phone_c)
            _, en, zh = apply_scalar(
                bad_phones[phone_c],
                lambda t, label=label: phone_reason(t, field=label) or "valid",  # type: ignore[misc]
                dtype=pl.String,
            )
            issues.add_reasons(bad_phones, en, zh)
    phones = {
        f"_phone{n}": _normalized(frame, f"contact{n}_phone", normalize_phone_expr)
        for n in range(1, MAX_THIRD_PARTIES + 1)
    }
    relations = {
        f"_rel{n}": apply_scalar(frame[f"contact{n}_relation"], relation_code, dtype=pl.String)[0]
        for n in range(1, MAX_THIRD_PARTIES + 1)
    }
    frame = _let_go(
        source,
        *(f"contact{n}_{part}" for n in range(1, MAX_THIRD_PARTIES + 1)
          for part in ("relation", "phone")),
    )  # fmt: skip
    mobile = _normalized(frame, "mobile", normalize_mobile_expr)
    id_number = frame.select(normalize_id_number_expr(pl.col("id_number"))).to_series()
    batch_code = frame["batch_no"].fill_null(source.path.stem)
    frame = _let_go(source, "mobile", "id_number", "batch_no")

    typed = (
        frame.with_columns(
            product.alias("product_code"),
            id_number.alias("id_number"),
            mobile.alias("mobile"),
            email.alias("email"),
            rate.alias("annual_rate"),
            *(series.alias(name) for name, series in amounts.items()),
            *(series.alias(name) for name, series in dates.items()),
            *(series.alias(name) for name, series in relations.items()),
            *(series.alias(name) for name, series in phones.items()),
        )
        .with_columns(
            pl.col("snapshot_date").fill_null(
                pl.when(snapshot_missing).then(pl.lit(default_snapshot))
            ),
            *(
                pl.col(f"{c}_fen").fill_null(0)
                for c in ("interest", "penalty", "fee", "installment")
            ),
            batch_code.alias("batch_code"),
        )
        .with_columns(pl.col("placed_on").fill_null(pl.col("snapshot_date")))
    )

    issues.add(
        typed.select("_row", "overdue_since", "snapshot_date").filter(
            pl.col("overdue_since") > pl.col("snapshot_date")
        ),
        pl.format("overdue_since {} is after the snapshot date {}",
                  pl.col("overdue_since"), pl.col("snapshot_date")),
        pl.format("最早逾期日{}晚于数据日期{}", pl.col("overdue_since"), pl.col("snapshot_date")),
    )  # fmt: skip
    with_ids = typed.select("_row", "id_number", "name").filter(pl.col("name").is_not_null())
    issues.add(
        repeated_rows(with_ids, "id_number", "name").filter(
            pl.col("name") != pl.col("_first_name")
        ),
        pl.format("ID number {} is given with name {} in row {}; this row says {}",
                  pl.col("id_number"), pl.col("_first_name"), pl.col("_first"), pl.col("name")),
        pl.format("身份证号{}在第{}行对应姓名{}，本行为{}",
                  pl.col("id_number"), pl.col("_first"), pl.col("_first_name"), pl.col("name")),
    )  # fmt: skip
    return typed, issues.frame()
