"""Importing a payments file (还款导入): post each new payment once through the waterfall.

The checks are the import's; the posting is the repayment domain's one posting path
(:func:`cuishou.repayment.service.post_batch`): the accounts are locked and their balances
read under the lock, each new payment is inserted once by reference, and becomes a ledger
entry and a ``payment.posted`` event — exactly as a payment from the API.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_events
from cuishou.kit.clock import zone as zone_of
from cuishou.kit.errors import Conflict
from cuishou.placement import repository as repo
from cuishou.placement.columns import PAYMENT_COLUMNS
from cuishou.placement.reader import SourceTable
from cuishou.placement.rules import apply_scalar, paid_at_fast_expr, parse_paid_at
from cuishou.placement.schemas import FileResult
from cuishou.placement.service.common import (
    FileOutcome,
    ImportOptions,
    Issues,
    checked_amount,
    choose_creditor,
    column_label,
    common_checks,
    event,
    file_payload,
    record_file,
)
from cuishou.repayment.rules import allocate_frame, parse_waterfall, payment_refusal_exprs
from cuishou.repayment.service import (
    lock_and_read_balances,
    post_batch,
    posted_references,
)


def check_payments(
    source: SourceTable, *, creditor: str, zone: ZoneInfo, now: datetime
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed values of every payment row and every problem found without the store.

    A payment the API would refuse whatever its account (``repayment.rules``: not more
    than zero, above a trillion yuan, dated before 2000 or after ``now`` plus the clock
    skew) is quarantined with the same rule.
    """
    frame = source.frame
    issues = Issues()
    common_checks(source, issues, creditor, PAYMENT_COLUMNS, "reference")
    amount = checked_amount(source, issues, "amount", positive=True)
    label = column_label(source, "paid_at")
    # the usual spelling in Polars; the scalar rule only for the cells it leaves (a million
    # payments have nearly a million distinct times)
    paid_at = frame.select(paid_at_fast_expr(pl.col("paid_at"), zone).alias("v"))["v"]
    needs = frame["paid_at"].is_not_null() & paid_at.is_null()
    if needs.any():
        subset = frame.select("_row", "paid_at").filter(needs)
        values, en, zh = apply_scalar(
            subset["paid_at"],
            lambda t: parse_paid_at(t, zone=zone, field=label),
            dtype=pl.Datetime("us", "UTC"),
        )
        issues.add_reasons(subset, en, zh)
        paid_at = paid_at.scatter(needs.arg_true(), values)
    typed = frame.with_columns(amount.alias("amount_fen"), paid_at.alias("paid_at"))
    labels = {"amount": column_label(source, "amount"), "paid_at": label}
    for refusal, refused in payment_refusal_exprs(pl.col("amount_fen"), pl.col("paid_at"), now=now):
        issues.add(typed.filter(refused), *refusal.explain(labels[refusal.field]))
    return typed, issues.frame()


def import_payments(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Check a payments file; post each new payment once through the allocation waterfall.

    A payment whose reference (流水号) is already posted for the creditor is
    ``unchanged``. A payment for an account that is not stored is quarantined, and so
    is one dated on or before the account's snapshot date (the creditor's balances on
    that date already include it).
    """
    creditor_code = choose_creditor(source, options)
    creditor = repo.creditor_by_code(session, creditor_code)
    # times without a zone, and business dates, are the creditor's (its zone once it exists)
    local = zone_of(creditor.timezone) if creditor is not None else options.zone
    typed, problems = check_payments(source, creditor=creditor_code, zone=local, now=options.now)
    good = typed.filter(~pl.col("_row").is_in(problems["_row"].unique().implode()))
    if creditor is not None and good.height:
        accounts = repo.accounts_for_payments(session, creditor.id, good["account_no"])
        # the same lock as a payment from the API, then the balances as they are under it
        balances = lock_and_read_balances(session, accounts["account_id"])
        accounts = accounts.join(balances, on="account_id", how="left")
        posted = posted_references(session, creditor.id, good["reference"])
    else:
        accounts = pl.DataFrame(
            schema={"account_no": pl.String, "account_id": pl.Int64, "snapshot_date": pl.Date,
                    "fee_fen": pl.Int64, "penalty_fen": pl.Int64, "interest_fen": pl.Int64,
                    "principal_fen": pl.Int64}
        )  # fmt: skip
        posted = set()
    good = good.join(accounts, on="account_no", how="left", maintain_order="left").with_columns(
        pl.col("paid_at").dt.convert_time_zone(str(local)).dt.date().alias("_paid_day")
    )
    unknown = good.filter(pl.col("account_id").is_null())
    early = good.filter(
        pl.col("account_id").is_not_null()
        & (pl.col("_paid_day") <= pl.col("snapshot_date"))
        & ~pl.col("reference").is_in(list(posted))
    )
    label = column_label(source, "account_no")
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
        allocated = allocate_frame(
            fresh, order=parse_waterfall(creditor.waterfall), sort_by=("paid_at", "reference")
        ).with_columns(pl.lit(0, dtype=pl.Int32).alias("part"))
        file_id = record_file(session, source, options, creditor.id, result)
        result.import_file_id = file_id
        posted_all = post_batch(
            session,
            allocated,
            creditor_id=creditor.id,
            tz=creditor.timezone,
            source="file",
            import_file_id=file_id,
            entered_by=None,
            actor=options.actor,
            now=options.now,
            file_name=source.path.name,
        )
        if not posted_all:
            raise Conflict(
                f"{source.path}: every payment in it was posted by someone else while it was "
                "being imported; nothing was written — run it again"
            )
        append_events(
            session,
            [event(options, "import.file_imported", "import_file", file_id, file_payload(result))],
        )
    return FileOutcome(result=result, source=source, problems=problems)
