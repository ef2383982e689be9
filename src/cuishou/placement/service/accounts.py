"""Importing an accounts file (委案账户导入): quarantine bad rows, create or update the good.

An account whose content is the same as stored is ``unchanged``; one whose stored snapshot
is newer than the row's is quarantined. The write creates the creditor and placement batches
the rows need, stores debtors and contact points, then creates and updates the accounts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import polars as pl
from sqlalchemy.orm import Session

from cuishou.audit.events import append_events
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import refresh_changes
from cuishou.placement import repository as repo
from cuishou.placement.columns import MAX_THIRD_PARTIES
from cuishou.placement.reader import ACCOUNTS, SourceTable
from cuishou.placement.rules import (
    OPTIONAL_SNAPSHOT_FIELDS,
    SNAPSHOT_FIELDS,
    content_hashes,
    content_text_expr,
    snapshot_diff,
)
from cuishou.placement.schemas import FileResult
from cuishou.placement.service.account_checks import (
    PLAIN_MOBILE,
    check_accounts,
    contacts_expr,
)
from cuishou.placement.service.common import (
    FileOutcome,
    ImportOptions,
    choose_creditor,
    event,
    file_payload,
    record_file,
)
from cuishou.repayment.rules import parse_waterfall
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import Creditor


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


def _kept_columns() -> list[str]:
    """The columns of a checked file the write needs (the raw text columns are let go)."""
    contacts = [
        name
        for n in range(1, MAX_THIRD_PARTIES + 1)
        for name in (f"contact{n}_name", f"_phone{n}", f"_rel{n}")
    ]
    write = ["_row", "account_no", "batch_code", "placed_on", "return_on"]
    snapshot = [name for name in SNAPSHOT_FIELDS if name != "contacts"]  # made when hashed
    return list(dict.fromkeys([*write, *snapshot, *OPTIONAL_SNAPSHOT_FIELDS, *contacts]))


KEPT_COLUMNS = _kept_columns()
HASH_BATCH = 200_000
"""Rows whose content texts are hashed at a time (the texts are large; the hashes small)."""
CONTACT_BATCH = 250_000
"""Rows (a batch of whole debtors) whose contact points are built and stored at a time."""
WRITE_BATCH = 250_000
"""Accounts staged and written at a time."""


def _content_hashes(rows: pl.DataFrame) -> pl.Series:
    """SHA-256 of every row's snapshot content, computed a batch of rows at a time."""
    hashes: list[str] = []
    for start in range(0, rows.height, HASH_BATCH):
        texts = (
            rows.slice(start, HASH_BATCH)
            .with_columns(contacts_expr())
            .select(content_text_expr(SNAPSHOT_FIELDS, OPTIONAL_SNAPSHOT_FIELDS))
        )
        hashes.extend(content_hashes(texts.to_series().to_list()))
    return pl.Series("content_hash", hashes, dtype=pl.String)


def _without(rows: pl.DataFrame, drop: pl.Series) -> pl.DataFrame:
    """``rows`` without the rows numbered in ``drop`` (no copy when there are none)."""
    if drop.len() == 0:
        return rows
    return rows.filter(~pl.col("_row").is_in(drop.unique().implode()))


def import_accounts(session: Session, source: SourceTable, options: ImportOptions) -> FileOutcome:
    """Check an accounts file, quarantine bad rows, create/update the good ones.

    Memory: the checked frame keeps only the columns the write needs, and no step copies
    the whole frame when it would keep every row (a first import keeps them all).
    """
    creditor_code = choose_creditor(source, options)
    creditor = repo.creditor_by_code(session, creditor_code)
    typed, problems = check_accounts(
        source,
        creditor=creditor_code,
        default_snapshot=options.as_of,
        products=repo.product_codes(session),
        as_of=options.as_of,
    )
    good = _without(typed.select(KEPT_COLUMNS), problems["_row"])
    del typed
    source.release_frame()  # the raw text columns the write does not need go with it
    good = good.with_columns(
        pl.sum_horizontal("principal_fen", "interest_fen", "penalty_fen", "fee_fen")
        .alias("snapshot_due_fen"),
    ).with_columns(
        pl.when(pl.col("snapshot_due_fen") > 0).then(pl.lit("open")).otherwise(pl.lit("settled"))
        .alias("status"),
        _content_hashes(good),
    )  # fmt: skip
    if creditor is not None and good.height:
        stored = repo.existing_accounts(session, creditor.id, good["account_no"])
        # a narrow join (account numbers are unique here), put beside the rows: no copy
        matched = good.select("account_no").join(
            stored, on="account_no", how="left", maintain_order="left"
        )
        good = good.hstack(matched.drop("account_no"))
        del stored, matched
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
        good = _without(good, stale["_row"])
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
    created, updated, same = count.get("create", 0), count.get("update", 0), count.get("same", 0)
    result = FileResult(
        path=str(source.path),
        kind=ACCOUNTS,
        encoding=source.encoding,
        rows=source.rows,
        accepted=good.height,
        quarantined=source.rows - good.height,
        created=created,
        updated=updated,
        unchanged=same,
        ignored_columns=source.ignored_columns,
        creditor=creditor_code,
    )
    if created + updated:
        # handed over in a list, so the write holds the only reference and lets it go early
        changed = [good.filter(pl.col("action") != "same") if same else good]
        del good
        result.import_file_id = _write_accounts(
            session, source, options, changed, creditor_code, result
        )
    return FileOutcome(result=result, source=source, problems=problems)


def _write_accounts(
    session: Session,
    source: SourceTable,
    options: ImportOptions,
    handed: list[pl.DataFrame],
    creditor_code: str,
    result: FileResult,
) -> int:
    changed = handed.pop()
    now, actor = options.now, options.actor
    events: list[dict[str, Any]] = []
    creditor = repo.creditor_by_code(session, creditor_code)
    if creditor is None:
        creditor = repo.add_creditor(session, code=creditor_code, now=now)
        events.append(event(options, "creditor.created", "creditor", creditor.id,
                             {"code": creditor_code, "source": source.path.name}))  # fmt: skip
    batches = (
        changed.select("action", "batch_code", "placed_on", "return_on")
        .filter(pl.col("action") == "create")
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
            events.append(event(options, "placement.created", "placement", placement.id, detail))

    debtors = (
        changed.select("id_number", "name", "province", "city", "language").unique(
            "id_number", keep="first", maintain_order=True
        )
    ).select(
        "id_number",
        "name",
        pl.when(pl.col("id_number").str.slice(16, 1).cast(pl.Int64) % 2 == 1)
        .then(pl.lit("M"))
        .otherwise(pl.lit("F"))
        .alias("gender"),
        pl.col("id_number").str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d").alias("birth_date"),
        "province",
        "city",
        "language",
    )
    inserted, staged_debtors = repo.insert_debtors(session, debtors, now=now)
    # Only debtors stored before this file can have changed.
    changes = repo.changed_debtors(session, staged_debtors) if inserted < debtors.height else []
    if changes:
        repo.update_changed_debtors(session, staged_debtors, now=now)
        events.extend(
            event(options, "debtor.updated", "debtor", c["debtor_id"], {"changes": c["diff"]})
            for c in changes
        )
    repo.drop_stage(session, staged_debtors)
    new_debtors_only = inserted == debtors.height
    del debtors
    for contacts in _contact_point_batches(changed):
        repo.insert_contact_points(session, contacts, now=now, new_debtors_only=new_debtors_only)
        del contacts
    # By account number: new accounts then fill the (creditor, account_no) index at its
    # end and get ids in that order, which the events statement reads in order too. The
    # rows are put in that order a column at a time (the frame is never held twice) and
    # written a batch at a time (each batch staged with its event payloads).
    stage_columns = [c for c in repo.ACCOUNT_STAGE_TYPES if c not in ("payload", "snapshot_end")]
    rows = changed.select(*stage_columns, "account_id", "employer")
    del changed
    order = rows["account_no"].arg_sort()
    for name in rows.columns:
        rows = rows.with_columns(rows[name].gather(order))
    del order
    updated = [int(i) for i in rows.filter(pl.col("action") == "update")["account_id"].to_list()]
    old = repo.stored_snapshots(session, updated) if updated else {}
    file_id = record_file(session, source, options, creditor.id, result)
    for start in range(0, rows.height, WRITE_BATCH):
        part = rows.slice(start, WRITE_BATCH)
        payloads = _account_payloads(part, source.path.name)
        is_update = part["action"] == "update"
        if is_update.any():
            payloads = payloads.scatter(
                is_update.arg_true(),
                [
                    _update_payload(old[int(row["account_id"])], _new_values(row),
                                    source.path.name)
                    for row in part.filter(is_update).iter_rows(named=True)
                ],
            )  # fmt: skip
        staged = part.with_columns(
            payloads.alias("payload"),
            _day_end_utc(pl.col("snapshot_date"), options.zone).alias("snapshot_end"),
        ).select(list(repo.ACCOUNT_STAGE_TYPES))
        table = repo.write_accounts(session, staged, creditor_id=creditor.id, now=now, actor=actor)
        # the ledger: new accounts open with the file's figures; stored ones move to them
        ledger.record_openings(
            SessionBulk(session),
            repo.created_accounts_sql(table),
            source="import",
            source_id=file_id,
            actor=actor,
            reason=f"placed by {source.path.name}",
            now=now,
            creditor_id=creditor.id,
        )
        if is_update.any():
            _refresh_balances(session, table, creditor, file_id, source.path.name, options)
        repo.account_events(session, table, creditor_id=creditor.id, actor=actor, now=now)
        del part, staged, payloads
    del rows, old
    events.append(event(options, "import.file_imported", "import_file", file_id,
                         file_payload(result)))  # fmt: skip
    append_events(session, events)
    return file_id


def _refresh_balances(
    session: Session,
    table: str,
    creditor: Creditor,
    file_id: int,
    file_name: str,
    options: ImportOptions,
) -> None:
    """余额更新: a ``refresh`` ledger entry per updated account, bringing its balances to the
    creditor's new figures less what was paid after their date (through the waterfall)."""
    facts = repo.refresh_facts(session, table, creditor_id=creditor.id)
    changes = refresh_changes(facts, parse_waterfall(creditor.waterfall))
    entries = changes.join(facts.select("account_id", "snapshot_date"), on="account_id").select(
        "account_id",
        pl.lit("refresh").alias("kind"),
        "fee_fen", "penalty_fen", "interest_fen", "principal_fen", "credit_fen",
        pl.col("snapshot_date").alias("effective_on"),
        pl.lit("import").alias("source"),
        pl.lit(file_id, dtype=pl.Int64).alias("source_id"),
        pl.lit(None, dtype=pl.String).alias("reference"),
        pl.lit(options.actor).alias("actor"),
        pl.lit(f"snapshot updated by {file_name}").alias("reason"),
    )  # fmt: skip
    ledger.post(SessionBulk(session), entries, now=options.now, name="refresh")


def _day_end_utc(day: pl.Expr, zone: ZoneInfo) -> pl.Expr:
    """The first instant after the local business day ``day`` ends, in UTC."""
    return (
        (day + pl.duration(days=1))
        .cast(pl.Datetime("us"))
        .dt.replace_time_zone(str(zone))
        .dt.convert_time_zone("UTC")
    )


def _contact_point_batches(rows: pl.DataFrame) -> Iterator[pl.DataFrame]:
    """The contact points of ``rows``, a batch of debtors at a time, in debtor order.

    Debtors are taken in the order they were just inserted in (first appearance), so the
    contact points' unique index (debtor, kind, value, owner) grows at its end instead of
    at random; a batch holds every row of its debtors, so a repeated contact point of a
    debtor is always within one batch. Batches keep a million-row file's 3–4 million
    contact points from being built all at once.
    """
    columns = ["id_number", "mobile", "email", "home_address", "work_address"] + [
        name
        for n in range(1, MAX_THIRD_PARTIES + 1)
        for name in (f"contact{n}_name", f"_phone{n}", f"_rel{n}")
    ]
    rows = (
        rows.select(columns)
        .with_row_index("_debtor")
        .with_columns(pl.col("_debtor").min().over("id_number"))
    )
    if rows.height <= CONTACT_BATCH:
        yield _contact_points(rows)
        return
    for start in range(0, rows.height, CONTACT_BATCH):
        batch = rows.filter(pl.col("_debtor").is_between(start, start + CONTACT_BATCH - 1))
        if batch.height:
            yield _contact_points(batch)


def _contact_points(rows: pl.DataFrame) -> pl.DataFrame:
    """The debtor's own phone and addresses and the named third parties, one row each.

    ``rows`` carry ``_debtor`` (the debtor's first row): points come in debtor order, then
    kind, value and owner; a repeated contact point is given once (the first). The frame
    is put in order and cut down with one gather of its rows.
    """
    schema = list(repo.CONTACT_STAGE_TYPES)
    own = [
        rows.filter(pl.col("mobile").is_not_null()).select(
            "_debtor", "id_number", pl.lit("mobile").alias("kind"), pl.col("mobile").alias("value"),
            pl.lit("").alias("label"), pl.lit("debtor").alias("owner"),
            pl.lit("").alias("owner_name"), pl.lit(None, dtype=pl.String).alias("relation"),
        ),
        rows.filter(pl.col("email").is_not_null()).select(
            "_debtor", "id_number", pl.lit("email").alias("kind"), pl.col("email").alias("value"),
            pl.lit("").alias("label"), pl.lit("debtor").alias("owner"),
            pl.lit("").alias("owner_name"), pl.lit(None, dtype=pl.String).alias("relation"),
        ),
        *(
            rows.filter(pl.col(column).is_not_null()).select(
                "_debtor", "id_number", pl.lit("address").alias("kind"),
                pl.col(column).alias("value"), pl.lit(label).alias("label"),
                pl.lit("debtor").alias("owner"), pl.lit("").alias("owner_name"),
                pl.lit(None, dtype=pl.String).alias("relation"),
            )
            for column, label in (("home_address", "home"), ("work_address", "work"))
        ),
    ]  # fmt: skip
    third: list[pl.DataFrame] = []
    for n in range(1, MAX_THIRD_PARTIES + 1):
        phone = pl.col(f"_phone{n}")
        third.append(
            rows.filter(phone.is_not_null()).select(
                "_debtor",
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
    points = pl.concat([*own, *third])
    del rows, own, third
    keys = ["_debtor", "kind", "value", "owner_name"]
    order = (
        points.select(keys)
        .with_row_index("_i")
        .sort(keys, maintain_order=True)
        .filter(pl.any_horizontal(pl.col(k).ne_missing(pl.col(k).shift()) for k in keys))
    )["_i"]
    return points.select(schema)[order]
