"""Placement import use cases (委案导入): check every row, quarantine the bad, store the good.

Fetch → decide → act, per file, inside the caller's transaction (the CLI commits once
per file). Checks run over the whole file as Polars expressions (``placement.rules``);
only failing cells go through the scalar rules, which explain the problem in English
and Chinese. ``accepted + quarantined == rows`` for every file.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_events
from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import UnreadableFile
from cuishou.placement import repository as repo
from cuishou.placement.columns import ACCOUNT_COLUMNS, MAX_THIRD_PARTIES, PAYMENT_COLUMNS
from cuishou.placement.reader import ACCOUNTS, SourceTable
from cuishou.placement.rules import (
    SNAPSHOT_FIELDS,
    Reason,
    apply_scalar,
    content_hashes,
    content_text_expr,
    date_fast_expr,
    id_number_reason,
    id_number_valid_expr,
    mobile_reason,
    mobile_valid_expr,
    normalize_id_number_expr,
    normalize_mobile_expr,
    normalize_phone_expr,
    parse_amount,
    parse_business_date,
    parse_paid_at,
    parse_rate,
    phone_reason,
    phone_valid_expr,
    product_code,
    relation_code,
    snapshot_diff,
    yuan_fen_fast_expr,
)
from cuishou.placement.schemas import FileResult
from cuishou.repayment.rules import allocate_frame

QUARANTINE_SUFFIX = ".quarantine.csv"
PLAIN_MOBILE = r"^1[3-9][0-9]{9}$"
MAX_LENGTHS: dict[str, int] = {
    "account_no": 64,
    "batch_no": 64,
    "name": 100,
    "province": 32,
    "city": 64,
    "home_address": 300,
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


class _Issues:
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


def _label(source: SourceTable, name: str) -> str:
    header = source.headers.get(name)
    return name if header is None or header == name else f"{name} ({header})"


def _choose_creditor(source: SourceTable, options: ImportOptions) -> str:
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


def _common_checks(
    source: SourceTable, issues: _Issues, creditor: str, columns: tuple[Any, ...], key: str
) -> None:
    frame = source.frame
    for column in columns:
        if column.required:
            label = _label(source, column.name)
            issues.add(
                frame.filter(pl.col(column.name).is_null()),
                f"{label} is missing",
                f"缺少{label}",
            )
    for name, limit in MAX_LENGTHS.items():
        if name in frame.columns:
            label = _label(source, name)
            issues.add(
                frame.filter(pl.col(name).str.len_chars() > limit),
                f"{label} is longer than {limit} characters",
                f"{label}超过{limit}个字符",
            )
    issues.add(
        frame.filter(pl.col("creditor_code").is_not_null() & (pl.col("creditor_code") != creditor)),
        pl.format("creditor_code {} differs from the creditor of this import {}",
                  pl.col("creditor_code"), pl.lit(creditor)),
        pl.format("委托方代码{}与本次导入的委托方{}不一致",
                  pl.col("creditor_code"), pl.lit(creditor)),
    )  # fmt: skip
    first = pl.col("_row").first().over(key)
    label = _label(source, key)
    issues.add(
        frame.filter(pl.col(key).is_not_null())
        .with_columns(first.alias("_first"))
        .filter(pl.col("_row") != pl.col("_first")),
        pl.format("duplicate {} {}: first given in row {}",
                  pl.lit(label), pl.col(key), pl.col("_first")),
        pl.format("{}{}重复：已在第{}行出现", pl.lit(label), pl.col(key), pl.col("_first")),
    )  # fmt: skip


def _amount(
    source: SourceTable, issues: _Issues, name: str, *, positive: bool = False
) -> pl.Series:
    """Fen for an amount column: Polars fast path, scalar rule for the rest."""
    frame = source.frame
    fast = frame.select(yuan_fen_fast_expr(pl.col(name)).alias("v"))["v"]
    raw = frame[name]
    needs = raw.is_not_null() & (fast.is_null() | (fast < 0) | (fast == 0 if positive else False))
    needs = needs.fill_null(True) & raw.is_not_null()
    if not needs.any():
        return fast
    label = _label(source, name)
    subset = frame.filter(needs)
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


def _date(source: SourceTable, issues: _Issues, name: str) -> pl.Series:
    """A business date column: Polars fast path (ISO), scalar rule for the other cells."""
    frame = source.frame
    fast = frame.select(date_fast_expr(pl.col(name)).alias("v"))["v"]
    needs = frame[name].is_not_null() & fast.is_null()
    if not needs.any():
        return fast
    label = _label(source, name)
    subset = frame.filter(needs)
    values, en, zh = apply_scalar(
        subset[name], lambda text: parse_business_date(text, field=label), dtype=pl.Date
    )
    issues.add_reasons(subset, en, zh)
    return fast.scatter(needs.arg_true(), values)


def _slow_path(
    frame: pl.DataFrame, column: str, valid: Callable[[pl.Expr], pl.Expr]
) -> pl.DataFrame:
    """Rows whose phone in ``column`` is invalid.

    Most cells are already a plain 11-digit mobile (valid under every rule); only the
    others go through the full normalising expression.
    """
    plain = pl.col(column).str.contains(PLAIN_MOBILE)
    others = frame.filter(pl.col(column).is_not_null() & ~plain)
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


# --- accounts --------------------------------------------------------------------------------


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
    invalid cells are null); ``problems`` has ``_row``, ``en``, ``zh`` per problem.
    """
    frame = source.frame
    issues = _Issues()
    _common_checks(source, issues, creditor, ACCOUNT_COLUMNS, "account_no")

    label = _label(source, "product")
    product, en, zh = apply_scalar(
        frame["product"], lambda t: _product_of(t, label, products), dtype=pl.String
    )
    issues.add_reasons(frame, en, zh)

    id_valid = frame.select(id_number_valid_expr(pl.col("id_number"), as_of=as_of)).to_series()
    bad_ids = frame.filter(~id_valid & pl.col("id_number").is_not_null())
    if bad_ids.height:
        _, en, zh = apply_scalar(
            bad_ids["id_number"],
            lambda t: id_number_reason(t, as_of=as_of) or "valid",
            dtype=pl.String,
        )
        issues.add_reasons(bad_ids, en, zh)

    bad_mobiles = _slow_path(frame, "mobile", mobile_valid_expr)
    if bad_mobiles.height:
        label = _label(source, "mobile")
        _, en, zh = apply_scalar(
            bad_mobiles["mobile"],
            lambda t: mobile_reason(t, field=label) or "valid",
            dtype=pl.String,
        )
        issues.add_reasons(bad_mobiles, en, zh)

    amounts = {
        f"{name}_fen": _amount(source, issues, name)
        for name in ("principal", "interest", "penalty", "fee", "installment", "loan_amount")
    }
    dates = {
        name: _date(source, issues, name)
        for name in ("overdue_since", "contract_date", "snapshot_date", "placed_on", "return_on")
    }
    rate_label = _label(source, "annual_rate")
    rate, en, zh = apply_scalar(
        frame["annual_rate"], lambda t: _rate_text(t, rate_label), dtype=pl.String
    )
    issues.add_reasons(frame, en, zh)

    contact_exprs: list[pl.Expr] = []
    for n in range(1, MAX_THIRD_PARTIES + 1):
        name_c, rel_c, phone_c = f"contact{n}_name", f"contact{n}_relation", f"contact{n}_phone"
        present = pl.any_horizontal(pl.col(c).is_not_null() for c in (name_c, rel_c, phone_c))
        for column, word in ((name_c, "name"), (phone_c, "phone")):
            label = _label(source, column)
            issues.add(
                frame.filter(present & pl.col(column).is_null()),
                f"third party {n} ({word}) is missing: {label} is empty",
                f"联系人{n}信息不完整：缺少{label}",
            )
        bad_phones = _slow_path(frame, phone_c, phone_valid_expr)
        if bad_phones.height:
            label = _label(source, phone_c)
            _, en, zh = apply_scalar(
                bad_phones[phone_c],
                lambda t, label=label: phone_reason(t, field=label) or "valid",  # type: ignore[misc]
                dtype=pl.String,
            )
            issues.add_reasons(bad_phones, en, zh)
        contact_exprs.append(
            pl.when(present)
            .then(
                pl.concat_str(
                    [
                        pl.col(name_c).fill_null(""),
                        pl.col(f"_rel{n}").fill_null(""),
                        pl.col(f"_phone{n}").fill_null(""),
                    ],
                    separator="|",
                )
            )
            .otherwise(None)
        )
    phones = {
        f"_phone{n}": _normalized(frame, f"contact{n}_phone", normalize_phone_expr)
        for n in range(1, MAX_THIRD_PARTIES + 1)
    }
    relations = {
        f"_rel{n}": apply_scalar(frame[f"contact{n}_relation"], relation_code, dtype=pl.String)[0]
        for n in range(1, MAX_THIRD_PARTIES + 1)
    }

    typed = (
        frame.with_columns(
            product.alias("product_code"),
            normalize_id_number_expr(pl.col("id_number")).alias("id_number"),
            _normalized(frame, "mobile", normalize_mobile_expr).alias("mobile"),
            rate.alias("annual_rate"),
            *(series.alias(name) for name, series in amounts.items()),
            *(series.alias(name) for name, series in dates.items()),
            *(series.alias(name) for name, series in relations.items()),
            *(series.alias(name) for name, series in phones.items()),
        )
        .with_columns(
            pl.col("snapshot_date").fill_null(
                pl.when(frame["snapshot_date"].is_null()).then(pl.lit(default_snapshot))
            ),
            *(
                pl.col(f"{c}_fen").fill_null(0)
                for c in ("interest", "penalty", "fee", "installment")
            ),
            pl.concat_str(contact_exprs, separator=";", ignore_nulls=True).alias("contacts"),
            pl.col("batch_no").fill_null(pl.lit(source.path.stem)).alias("batch_code"),
        )
        .with_columns(pl.col("placed_on").fill_null(pl.col("snapshot_date")))
    )

    issues.add(
        typed.filter(pl.col("overdue_since") > pl.col("snapshot_date")),
        pl.format("overdue_since {} is after the snapshot date {}",
                  pl.col("overdue_since"), pl.col("snapshot_date")),
        pl.format("最早逾期日{}晚于数据日期{}", pl.col("overdue_since"), pl.col("snapshot_date")),
    )  # fmt: skip
    with_ids = typed.filter(pl.col("id_number").is_not_null() & pl.col("name").is_not_null())
    first_name = pl.col("name").first().over("id_number")
    first_row = pl.col("_row").first().over("id_number")
    issues.add(
        with_ids.with_columns(first_name.alias("_fname"), first_row.alias("_frow")).filter(
            pl.col("name") != pl.col("_fname")
        ),
        pl.format("ID number {} is given with name {} in row {}; this row says {}",
                  pl.col("id_number"), pl.col("_fname"), pl.col("_frow"), pl.col("name")),
        pl.format("身份证号{}在第{}行对应姓名{}，本行为{}",
                  pl.col("id_number"), pl.col("_frow"), pl.col("_fname"), pl.col("name")),
    )  # fmt: skip
    return typed, issues.frame()


def _account_payloads(rows: pl.DataFrame, file_name: str) -> pl.Series:
    return rows.select(
        pl.struct(
            pl.col("account_no"),
            pl.col("batch_code").alias("batch"),
            pl.col("product_code").alias("product"),
            pl.col("snapshot_date").cast(pl.String),
            pl.col("snapshot_due_fen"),
            pl.col("employer"),
            pl.lit(file_name).alias("file"),
        ).struct.json_encode()
    ).to_series()


def _new_values(row: dict[str, Any]) -> dict[str, Any]:
    values = {name: row.get(name) for name in repo.STORED_SNAPSHOT_COLUMNS}
    values["id_number"] = row.get("id_number")
    return values


def _jsonable(value: Any) -> Any:
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")
    return value


def _update_payload(old: dict[str, Any], new: dict[str, Any], file_name: str) -> str:
    old = {**old, "annual_rate": _jsonable(old.get("annual_rate"))}
    fields = (*repo.STORED_SNAPSHOT_COLUMNS, "id_number")
    diff = snapshot_diff(old, new, fields)
    payload: dict[str, Any] = {k: [_jsonable(a), _jsonable(b)] for k, a, b in
                               ((k, v[0], v[1]) for k, v in diff.items())}  # fmt: skip
    if not payload:
        payload["debtor_or_contacts"] = ["changed", "see debtor events and contact points"]
    return json.dumps({"changes": payload, "file": file_name}, ensure_ascii=False)


def import_accounts(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Check an accounts file, quarantine bad rows, create/update the good ones."""
    creditor_code = _choose_creditor(source, options)
    creditor = repo.creditor_by_code(session, creditor_code)
    typed, problems = check_accounts(
        source,
        creditor=creditor_code,
        default_snapshot=options.as_of,
        products=repo.product_codes(session),
        as_of=options.as_of,
    )
    good = typed.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    good = good.with_columns(
        pl.sum_horizontal("principal_fen", "interest_fen", "penalty_fen", "fee_fen")
        .alias("snapshot_due_fen"),
    ).with_columns(
        pl.when(pl.col("snapshot_due_fen") > 0).then(pl.lit("open")).otherwise(pl.lit("settled"))
        .alias("status"),
        pl.Series("content_hash",
                  content_hashes(good.select(content_text_expr(SNAPSHOT_FIELDS)).to_series().to_list()),
                  dtype=pl.String),
    )  # fmt: skip
    if creditor is not None and good.height:
        stored = repo.existing_accounts(session, creditor.id, good["account_no"])
        good = good.join(stored, on="account_no", how="left", maintain_order="left")
    else:
        good = good.with_columns(
            pl.lit(None, dtype=pl.Int64).alias("account_id"),
            pl.lit(None, dtype=pl.Date).alias("stored_snapshot_date"),
            pl.lit(None, dtype=pl.String).alias("stored_hash"),
        )
    stale = good.filter(pl.col("stored_snapshot_date") > pl.col("snapshot_date"))
    if stale.height:
        problems = pl.concat(
            [
                problems,
                stale.select(
                    "_row",
                    pl.lit(999, dtype=pl.Int64).alias("_order"),
                    pl.format("stored snapshot is newer: account {} is stored as of {}, this row "
                              "is as of {}", pl.col("account_no"), pl.col("stored_snapshot_date"),
                              pl.col("snapshot_date")).alias("en"),
                    pl.format("系统中已有更新的数据：借据{}已存数据日期为{}，本行为{}",
                              pl.col("account_no"), pl.col("stored_snapshot_date"),
                              pl.col("snapshot_date")).alias("zh"),
                ),
            ]
        )  # fmt: skip
        good = good.filter(~pl.col("_row").is_in(stale["_row"].implode()))
    action = (
        pl.when(pl.col("account_id").is_null())
        .then(pl.lit("create"))
        .when(pl.col("stored_hash") == pl.col("content_hash"))
        .then(pl.lit("same"))
        .otherwise(pl.lit("update"))
    )
    good = good.with_columns(action.alias("action"))
    counts = good["action"].value_counts()
    count = dict(zip(counts["action"].to_list(), counts["count"].to_list(), strict=True))
    created, updated = count.get("create", 0), count.get("update", 0)
    result = FileResult(
        path=str(source.path),
        kind=ACCOUNTS,
        encoding=source.encoding,
        rows=source.rows,
        accepted=good.height,
        quarantined=source.rows - good.height,
        created=created,
        updated=updated,
        unchanged=count.get("same", 0),
        ignored_columns=source.ignored_columns,
        creditor=creditor_code,
    )
    if created + updated:
        result.import_file_id = _write_accounts(
            session, source, options, good.filter(pl.col("action") != "same"), creditor_code, result
        )
    return FileOutcome(result=result, source=source, problems=problems)


def _write_accounts(
    session: Session,
    source: SourceTable,
    options: ImportOptions,
    changed: pl.DataFrame,
    creditor_code: str,
    result: FileResult,
) -> int:
    now, actor = options.now, options.actor
    events: list[dict[str, Any]] = []
    creditor = repo.creditor_by_code(session, creditor_code)
    if creditor is None:
        creditor = repo.add_creditor(session, code=creditor_code, now=now)
        events.append(_event(options, "creditor.created", "creditor", creditor.id,
                             {"code": creditor_code, "source": source.path.name}))  # fmt: skip
    batches = (
        changed.filter(pl.col("action") == "create")
        .group_by("batch_code", maintain_order=True)
        .agg(pl.col("placed_on").first(), pl.col("return_on").first())
    )
    for batch in batches.iter_rows(named=True):
        if repo.placement_by_batch(session, creditor.id, batch["batch_code"]) is None:
            placement = repo.add_placement(
                session,
                creditor_id=creditor.id,
                batch_code=batch["batch_code"],
                placed_on=batch["placed_on"],
                return_on=batch["return_on"],
                now=now,
            )
            detail = {"batch": batch["batch_code"], "placed_on": str(batch["placed_on"])}
            events.append(_event(options, "placement.created", "placement", placement.id, detail))

    debtors = changed.unique("id_number", keep="first", maintain_order=True).select(
        "id_number",
        "name",
        pl.when(pl.col("id_number").str.slice(16, 1).cast(pl.Int64) % 2 == 1)
        .then(pl.lit("M"))
        .otherwise(pl.lit("F"))
        .alias("gender"),
        pl.col("id_number").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d").alias("birth_date"),
        "province",
        "city",
    )
    inserted, staged_debtors = repo.insert_debtors(session, debtors, now=now)
    # Only debtors stored before this file can have changed.
    changes = repo.changed_debtors(session, staged_debtors) if inserted < debtors.height else []
    if changes:
        repo.update_changed_debtors(session, staged_debtors, now=now)
        events.extend(
            _event(options, "debtor.updated", "debtor", c["debtor_id"], {"changes": c["diff"]})
            for c in changes
        )
    repo.drop_stage(session, staged_debtors)
    # In debtor order (the order debtors were just inserted in), so the contact points'
    # unique index (debtor, kind, value, owner) grows at its end instead of at random.
    order = debtors.select("id_number").with_row_index("_debtor_seq")
    contacts = (
        _contact_points(changed)
        .join(order, on="id_number", how="left")
        .sort("_debtor_seq", "kind", "value", "owner_name")
        .drop("_debtor_seq")
    )
    repo.insert_contact_points(
        session, contacts, now=now, new_debtors_only=inserted == debtors.height
    )

    creates = changed.filter(pl.col("action") == "create")
    updates = changed.filter(pl.col("action") == "update")
    create_payloads = _account_payloads(creates, source.path.name)
    old = repo.stored_snapshots(session, [int(i) for i in updates["account_id"].to_list()])
    update_payloads = [
        _update_payload(old[int(row["account_id"])], _new_values(row), source.path.name)
        for row in updates.iter_rows(named=True)
    ]
    staged = pl.concat(
        [
            creates.with_columns(create_payloads.alias("payload")),
            updates.with_columns(pl.Series("payload", update_payloads, dtype=pl.String)),
        ]
    ).with_columns(_day_end_utc(pl.col("snapshot_date"), options.zone).alias("snapshot_end"))
    # By account number: new accounts then fill the (creditor, account_no) index at its
    # end and get ids in that order, which the events statement reads in order too.
    staged = staged.sort("account_no")
    repo.write_accounts(
        session,
        staged.select(list(repo.ACCOUNT_STAGE_TYPES)),
        creditor_id=creditor.id,
        now=now,
        actor=actor,
        updates=updates.height > 0,
    )
    file_id = _record_file(session, source, options, creditor.id, result)
    events.append(_event(options, "import.file_imported", "import_file", file_id,
                         _file_payload(result)))  # fmt: skip
    append_events(session, events)
    return file_id


def _day_end_utc(day: pl.Expr, zone: ZoneInfo) -> pl.Expr:
    """The first instant after the local business day ``day`` ends, in UTC."""
    return (
        (day + pl.duration(days=1))
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(str(zone))
        .dt.convert_time_zone("UTC")
    )


def _contact_points(rows: pl.DataFrame) -> pl.DataFrame:
    """The debtor's own phone and addresses and the named third parties, one row each."""
    schema = list(repo.CONTACT_STAGE_TYPES)
    own = [
        rows.filter(pl.col("mobile").is_not_null()).select(
            "id_number", pl.lit("mobile").alias("kind"), pl.col("mobile").alias("value"),
            pl.lit("").alias("label"), pl.lit("debtor").alias("owner"),
            pl.lit("").alias("owner_name"), pl.lit(None, dtype=pl.String).alias("relation"),
        ),
        *(
            rows.filter(pl.col(column).is_not_null()).select(
                "id_number", pl.lit("address").alias("kind"), pl.col(column).alias("value"),
                pl.lit(label).alias("label"), pl.lit("debtor").alias("owner"),
                pl.lit("").alias("owner_name"), pl.lit(None, dtype=pl.String).alias("relation"),
            )
            for column, label in (("home_address", "home"), ("work_address", "work"))
        ),
    ]  # fmt: skip
    third: list[pl.DataFrame] = []
    for n in range(1, MAX_THIRD_PARTIES + 1):
        phone = pl.col(f"_phone{n}")
        third.append(
            rows.filter(pl.col(f"contact{n}_phone").is_not_null()).select(
                "id_number",
                pl.when(phone.str.contains(PLAIN_MOBILE))
                .then(pl.lit("mobile"))
                .otherwise(pl.lit("phone"))
                .alias("kind"),
                phone.alias("value"),
                pl.lit("").alias("label"),
                pl.lit("third_party").alias("owner"),
                pl.col(f"contact{n}_name").alias("owner_name"),
                pl.col(f"_rel{n}").alias("relation"),
            )
        )
    return (
        pl.concat([*own, *third])
        .select(schema)
        .unique(["id_number", "kind", "value", "owner_name"], keep="first", maintain_order=True)
    )


def _event(
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


def _file_payload(result: FileResult) -> dict[str, Any]:
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


def _record_file(
    session: Session, source: SourceTable, options: ImportOptions, creditor_id: int, r: FileResult
) -> int:
    import hashlib

    digest = hashlib.sha256(source.path.read_bytes()).hexdigest()
    return repo.add_import_file(
        session,
        creditor_id=creditor_id,
        kind=r.kind,
        file_name=str(source.path.name),
        sha256=digest,
        rows=r.rows,
        accepted=r.accepted,
        quarantined=r.quarantined,
        created=r.created,
        updated=r.updated,
        unchanged=r.unchanged,
        imported_at=options.now,
        actor=options.actor,
    )


# --- payments --------------------------------------------------------------------------------


def check_payments(
    source: SourceTable, *, creditor: str, zone: ZoneInfo
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed values of every payment row and every problem found without the store."""
    frame = source.frame
    issues = _Issues()
    _common_checks(source, issues, creditor, PAYMENT_COLUMNS, "reference")
    amount = _amount(source, issues, "amount", positive=True)
    label = _label(source, "paid_at")
    paid_at, en, zh = apply_scalar(
        frame["paid_at"],
        lambda t: parse_paid_at(t, zone=zone, field=label),
        dtype=pl.Datetime("us", "UTC"),
    )
    issues.add_reasons(frame, en, zh)
    typed = frame.with_columns(amount.alias("amount_fen"), paid_at.alias("paid_at"))
    return typed, issues.frame()


def import_payments(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Check a payments file; post each new payment once through the allocation waterfall.

    A payment whose reference (流水号) is already posted for the creditor is
    ``unchanged``. A payment for an account that is not stored is quarantined, and so
    is one dated on or before the account's snapshot date (the creditor's balances on
    that date already include it).
    """
    creditor_code = _choose_creditor(source, options)
    creditor = repo.creditor_by_code(session, creditor_code)
    typed, problems = check_payments(source, creditor=creditor_code, zone=options.zone)
    good = typed.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    if creditor is not None and good.height:
        accounts = repo.accounts_for_payments(session, creditor.id, good["account_no"])
        posted = repo.posted_references(session, creditor.id, good["reference"])
    else:
        accounts = pl.DataFrame(
            schema={"account_no": pl.String, "account_id": pl.Int64, "snapshot_date": pl.Date,
                    "fee_fen": pl.Int64, "penalty_fen": pl.Int64, "interest_fen": pl.Int64,
                    "principal_fen": pl.Int64}
        )  # fmt: skip
        posted = set()
    good = good.join(accounts, on="account_no", how="left", maintain_order="left").with_columns(
        pl.col("paid_at").dt.convert_time_zone(str(options.zone)).dt.date().alias("_paid_day")
    )
    unknown = good.filter(pl.col("account_id").is_null())
    early = good.filter(
        pl.col("account_id").is_not_null()
        & (pl.col("_paid_day") <= pl.col("snapshot_date"))
        & ~pl.col("reference").is_in(list(posted))
    )
    label = _label(source, "account_no")
    store_problems = [
        unknown.select(
            "_row", pl.lit(900, dtype=pl.Int64).alias("_order"),
            pl.format("unknown account: {} {} is not stored for creditor {} nor imported earlier",
                      pl.lit(label), pl.col("account_no"), pl.lit(creditor_code)).alias("en"),
            pl.format("未知借据：委托方{}下没有借据号{}（系统中不存在，本次也未导入）",
                      pl.lit(creditor_code), pl.col("account_no")).alias("zh"),
        ),
        early.select(
            "_row", pl.lit(901, dtype=pl.Int64).alias("_order"),
            pl.format("paid on {}, not after the account's snapshot date {}: the creditor's "
                      "balances of that date already include it", pl.col("_paid_day"),
                      pl.col("snapshot_date")).alias("en"),
            pl.format("还款日期{}不晚于该借据的数据日期{}：该日余额已包含此笔还款",
                      pl.col("_paid_day"), pl.col("snapshot_date")).alias("zh"),
        ),
    ]  # fmt: skip
    problems = pl.concat([problems, *store_problems])
    good = good.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    fresh = good.filter(~pl.col("reference").is_in(list(posted)))
    result = FileResult(
        path=str(source.path),
        kind="payments",
        encoding=source.encoding,
        rows=source.rows,
        accepted=good.height,
        quarantined=source.rows - good.height,
        created=fresh.height,
        unchanged=good.height - fresh.height,
        ignored_columns=source.ignored_columns,
        creditor=creditor_code,
    )
    if fresh.height and creditor is not None:
        allocated = allocate_frame(fresh, sort_by=("paid_at", "reference"))
        payload = allocated.select(
            pl.struct(
                "reference", "account_no", "amount_fen",
                pl.col("paid_at").dt.to_string("%Y-%m-%dT%H:%M:%SZ").alias("paid_at"),
                "to_fee_fen", "to_penalty_fen", "to_interest_fen", "to_principal_fen",
                "to_credit_fen", pl.lit(source.path.name).alias("file"),
            ).struct.json_encode()
        ).to_series()  # fmt: skip
        file_id = _record_file(session, source, options, creditor.id, result)
        result.import_file_id = file_id
        repo.post_payments(
            session,
            allocated.with_columns(payload.alias("payload")).select(list(repo.PAYMENT_STAGE_TYPES)),
            creditor_id=creditor.id,
            import_file_id=file_id,
            now=options.now,
            actor=options.actor,
        )
        append_events(
            session,
            [
                _event(
                    options, "import.file_imported", "import_file", file_id, _file_payload(result)
                )
            ],
        )
    return FileOutcome(result=result, source=source, problems=problems)


def import_source(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Import one file that has been read (inside the caller's transaction)."""
    repo.tune_for_bulk(session)
    if source.kind == ACCOUNTS:
        return import_accounts(session, source, options)
    return import_payments(session, source, options)


# --- quarantine ------------------------------------------------------------------------------


def quarantine_path(path: Path) -> Path:
    return path.with_name(path.name + QUARANTINE_SUFFIX)


def write_quarantine(outcome: FileOutcome) -> Path | None:
    """Write rejected rows beside the input (UTF-8 with BOM); remove a stale file if none.

    Columns: ``row`` (spreadsheet row), ``reason``, ``reason_zh``, then the row exactly
    as read. Several problems of one row are joined with ``; `` (``；``).
    """
    target = quarantine_path(outcome.source.path)
    if outcome.problems.height == 0:
        target.unlink(missing_ok=True)
        return None
    reasons = (
        outcome.problems.sort("_row", "_order")
        .group_by("_row", maintain_order=True)
        .agg(
            pl.col("en").unique(maintain_order=True).str.join("; ").alias("reason"),
            pl.col("zh").unique(maintain_order=True).str.join("；").alias("reason_zh"),
        )
    )
    original = outcome.source.original.with_columns(
        pl.int_range(2, outcome.source.rows + 2, dtype=pl.Int64).alias("_row")
    )
    rows = reasons.join(original, on="_row", how="left").sort("_row")
    rows = rows.rename({"_row": "row"}).select(
        "row", "reason", "reason_zh", *outcome.source.original.columns
    )
    target.write_bytes(b"\xef\xbb\xbf" + rows.write_csv().encode("utf-8"))
    outcome.result.quarantine_file = str(target)
    return target


def day_before(day: date) -> date:
    return day - timedelta(days=1)
