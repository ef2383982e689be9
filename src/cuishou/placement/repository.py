"""All store access of the placement import: lookups, staging tables, set-based writes.

Bulk rows go into a temporary staging table on the import's own connection
(:class:`cuishou.store.bulk.SessionBulk`: ``COPY`` on PostgreSQL, an attached private
scratch database on SQLite), then one ``INSERT … SELECT`` or ``UPDATE … FROM`` statement
moves them. Everything runs on the session's connection,
inside the one transaction of the file: if anything fails, nothing of the file remains.
Balances change only by relative set-based statements (``fee_fen = fee_fen - s.fee``).
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import polars as pl
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from cuishou.placement.rules import ACCOUNT_SNAPSHOT_FIELDS
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import Creditor, ImportFile, Placement, Product

Schema = dict[str, pl.DataType]


def dialect_name(session: Session) -> str:
    return session.get_bind().dialect.name


def tune_for_bulk(session: Session) -> None:
    """On SQLite, give this connection a large page cache and in-memory temp tables.

    Index maintenance of a million-row insert (3–4 million contact points with a unique
    index on their value) is dominated by page cache misses with SQLite's 2 MB default;
    up to 256 MB of cache is used only while a file is written (pages are allocated as
    needed) and the settings last only for this connection. The rows are written in the
    order of their indexes, so a larger cache only holds more of the new pages: 1 GB of it
    took a million-row import past 2 GB of memory (bench/README.md).
    """
    if dialect_name(session) == "sqlite":
        connection = session.connection()
        connection.exec_driver_sql("PRAGMA cache_size=-262144")
        connection.exec_driver_sql("PRAGMA temp_store=MEMORY")
        SessionBulk(session).detach_leftovers()


# --- plain lookups ---------------------------------------------------------------------------


def product_codes(session: Session) -> set[str]:
    return set(session.scalars(select(Product.code)))


def creditor_by_code(session: Session, code: str) -> Creditor | None:
    return session.scalar(select(Creditor).where(Creditor.code == code))


def add_creditor(session: Session, *, code: str, now: datetime) -> Creditor:
    creditor = Creditor(code=code, name=code, timezone="Asia/Shanghai", created_at=now)
    session.add(creditor)
    session.flush()
    return creditor


def placement_by_batch(session: Session, creditor_id: int, batch_code: str) -> Placement | None:
    return session.scalar(
        select(Placement).where(
            Placement.creditor_id == creditor_id, Placement.batch_code == batch_code
        )
    )


def add_placement(
    session: Session,
    *,
    creditor_id: int,
    batch_code: str,
    placed_on: date,
    return_on: date | None,
    now: datetime,
) -> Placement:
    placement = Placement(
        creditor_id=creditor_id,
        batch_code=batch_code,
        placed_on=placed_on,
        return_on=return_on,
        created_at=now,
    )
    session.add(placement)
    session.flush()
    return placement


def add_import_file(session: Session, **values: Any) -> int:
    record = ImportFile(**values)
    session.add(record)
    session.flush()
    return record.id


# --- staging ---------------------------------------------------------------------------------


def stage(
    session: Session, name: str, frame: pl.DataFrame, schema: Schema, *, index: tuple[str, ...] = ()
) -> str:
    """``frame`` (its ``schema`` columns, in order) as a staging table of the file's
    transaction, for set-based statements; returns its name. ``index`` columns get an index."""
    return SessionBulk(session).stage(name, frame, schema=schema, index=index)


def drop_stage(session: Session, table_name: str) -> None:
    SessionBulk(session).drop(table_name)


def _json(session: Session, expression: str) -> str:
    return SessionBulk(session).json(expression)


def _execute(session: Session, sql: str, params: dict[str, Any]) -> int:
    return SessionBulk(session).execute(sql, **params)


# --- accounts --------------------------------------------------------------------------------

_TEXT, _FEN, _DATE = pl.String(), pl.Int64(), pl.Date()
_UTC = pl.Datetime("us", "UTC")
ACCOUNT_STAGE_TYPES: Schema = {
    "action": _TEXT,
    "account_no": _TEXT,
    "batch_code": _TEXT,
    "id_number": _TEXT,
    "product_code": _TEXT,
    "loan_amount_fen": _FEN,
    "contract_date": _DATE,
    "annual_rate": pl.Decimal(9, 6),
    "principal_fen": _FEN,
    "interest_fen": _FEN,
    "penalty_fen": _FEN,
    "fee_fen": _FEN,
    "snapshot_date": _DATE,
    "snapshot_due_fen": _FEN,
    "overdue_since": _DATE,
    "installment_fen": _FEN,
    "content_hash": _TEXT,
    "status": _TEXT,
    "snapshot_end": _UTC,
    "payload": _TEXT,
}
KEY_STAGE_TYPES: Schema = {"key": _TEXT}
DEBTOR_STAGE_TYPES: Schema = {
    "id_number": _TEXT,
    "name": _TEXT,
    "gender": _TEXT,
    "birth_date": _DATE,
    "province": _TEXT,
    "city": _TEXT,
    "language": _TEXT,
}
CONTACT_STAGE_TYPES: Schema = {
    "id_number": _TEXT,
    "kind": _TEXT,
    "value": _TEXT,
    "label": _TEXT,
    "owner": _TEXT,
    "owner_name": _TEXT,
    "relation": _TEXT,
}

STORED_SNAPSHOT_COLUMNS = ACCOUNT_SNAPSHOT_FIELDS


def _stored_accounts(
    session: Session, creditor_id: int, account_nos: pl.Series, columns: str
) -> list[Any]:
    """``columns`` (a fixed select list over ``accounts a``) of the creditor's stored
    accounts among ``account_nos``, looked up through a staged key table."""
    keys = stage(
        session,
        "keys",
        pl.DataFrame({"key": account_nos.unique()}),
        KEY_STAGE_TYPES,
        index=("key",),
    )
    rows = session.execute(
        text(
            f"SELECT {columns} FROM accounts a JOIN {keys} k "  # noqa: S608 - fixed names
            "ON k.key = a.account_no WHERE a.creditor_id = :creditor_id"
        ),
        {"creditor_id": creditor_id},
    ).all()
    drop_stage(session, keys)
    return list(rows)


def existing_accounts(session: Session, creditor_id: int, account_nos: pl.Series) -> pl.DataFrame:
    """Stored accounts of the creditor among ``account_nos``: no, id, snapshot date, hash."""
    rows = _stored_accounts(
        session,
        creditor_id,
        account_nos,
        "a.account_no, a.id, a.snapshot_date, a.content_hash, a.debtor_id",
    )
    schema = {
        "account_no": pl.String,
        "account_id": pl.Int64,
        "stored_snapshot_date": pl.Date,
        "stored_hash": pl.String,
        "stored_debtor_id": pl.Int64,
    }
    if not rows:
        return pl.DataFrame(schema=schema)
    # Column by column: a million stored accounts on re-import, so no per-row Python.
    columns = [list(values) for values in zip(*rows, strict=True)]
    dates = columns[2]
    snapshot = (
        pl.Series(dates, dtype=pl.String).str.to_date("%Y-%m-%d")
        if isinstance(dates[0], str)
        else pl.Series([_as_date(d) for d in dates], dtype=pl.Date)
    )
    return pl.DataFrame(
        {
            "account_no": pl.Series(columns[0], dtype=pl.String),
            "account_id": pl.Series(columns[1], dtype=pl.Int64),
            "stored_snapshot_date": snapshot,
            "stored_hash": pl.Series(columns[3], dtype=pl.String),
            "stored_debtor_id": pl.Series(columns[4], dtype=pl.Int64),
        }
    )


def _as_date(value: Any) -> date | None:
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def stored_snapshots(session: Session, account_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The snapshot fields (and debtor id number) of the given accounts, for diffs."""
    if not account_ids:
        return {}
    keys = stage(session, "ids", pl.DataFrame({"id": account_ids}), {"id": _FEN})
    columns = ", ".join(f"a.{c}" for c in STORED_SNAPSHOT_COLUMNS)
    rows = session.execute(
        text(
            f"SELECT a.id, {columns}, d.id_number FROM accounts a "  # noqa: S608 - fixed staging table names
            f"JOIN debtors d ON d.id = a.debtor_id "
            f"JOIN {keys} k ON k.id = a.id"
        )
    ).all()
    drop_stage(session, keys)
    out: dict[int, dict[str, Any]] = {}
    for row in rows:
        values = dict(zip((*STORED_SNAPSHOT_COLUMNS, "id_number"), row[1:], strict=True))
        for name in ("overdue_since", "contract_date", "snapshot_date"):
            values[name] = _as_date(values[name])
        out[int(row[0])] = values
    return out


def insert_debtors(session: Session, debtors: pl.DataFrame, *, now: datetime) -> tuple[int, str]:
    """Stage the file's debtors and insert those not yet stored (by ID number).

    Returns how many were inserted and the staging table (for :func:`changed_debtors`).
    """
    table = stage(session, "debtors", debtors, DEBTOR_STAGE_TYPES, index=("id_number",))
    inserted = _execute(
        session,
        "INSERT INTO debtors (id_number, name, gender, birth_date, province, city, language, "  # noqa: S608 - fixed staging table names
        "timezone, created_at, updated_at) "
        "SELECT s.id_number, s.name, s.gender, s.birth_date, s.province, s.city, s.language, "
        f"'Asia/Shanghai', :now, :now FROM {table} s "
        "WHERE NOT EXISTS (SELECT 1 FROM debtors d WHERE d.id_number = s.id_number)",
        {"now": now},
    )
    return inserted, table


def changed_debtors(session: Session, table: str) -> list[dict[str, Any]]:
    """Stored debtors whose name, province, city or language differs from the staged
    (given) values."""
    rows = session.execute(
        text(
            "SELECT d.id, d.id_number, d.name, s.name, d.province, s.province, d.city, s.city, "  # noqa: S608 - fixed staging table names
            "d.language, s.language "
            f"FROM debtors d JOIN {table} s ON s.id_number = d.id_number "
            "WHERE d.name <> s.name "
            "OR (s.province IS NOT NULL AND (d.province IS NULL OR d.province <> s.province)) "
            "OR (s.city IS NOT NULL AND (d.city IS NULL OR d.city <> s.city)) "
            "OR (s.language IS NOT NULL AND (d.language IS NULL OR d.language <> s.language))"
        )
    ).all()
    out: list[dict[str, Any]] = []
    for r in rows:
        diff: dict[str, list[Any]] = {}
        for field, old, new in (
            ("name", r[2], r[3]),
            ("province", r[4], r[5]),
            ("city", r[6], r[7]),
            ("language", r[8], r[9]),
        ):
            if new is not None and old != new:
                diff[field] = [old, new]
        out.append({"debtor_id": int(r[0]), "diff": diff})
    return out


def update_changed_debtors(session: Session, table: str, *, now: datetime) -> None:
    _execute(
        session,
        "UPDATE debtors SET name = s.name, province = COALESCE(s.province, debtors.province), "  # noqa: S608 - fixed staging table names
        "city = COALESCE(s.city, debtors.city), "
        "language = COALESCE(s.language, debtors.language), updated_at = :now "
        f"FROM {table} s WHERE s.id_number = debtors.id_number AND ("
        "debtors.name <> s.name "
        "OR (s.province IS NOT NULL AND (debtors.province IS NULL "
        "OR debtors.province <> s.province)) "
        "OR (s.city IS NOT NULL AND (debtors.city IS NULL OR debtors.city <> s.city)) "
        "OR (s.language IS NOT NULL AND (debtors.language IS NULL "
        "OR debtors.language <> s.language)))",
        {"now": now},
    )


def insert_contact_points(
    session: Session, contacts: pl.DataFrame, *, now: datetime, new_debtors_only: bool = False
) -> int:
    """Insert staged contact points not yet on the debtor (same kind, value and owner).

    ``new_debtors_only``: every staged contact point belongs to a debtor inserted in
    this transaction, so none can be stored yet and the per-row lookup is skipped
    (the staged rows are already unique per debtor, kind, value and owner).
    """
    table = stage(session, "contacts", contacts, CONTACT_STAGE_TYPES)
    missing = (
        ""
        if new_debtors_only
        else "WHERE NOT EXISTS (SELECT 1 FROM contact_points c WHERE c.debtor_id = d.id "
        "AND c.kind = s.kind AND c.value = s.value AND c.owner_name = s.owner_name)"
    )
    result = _execute(
        session,
        "INSERT INTO contact_points (debtor_id, kind, value, label, owner, owner_name, "  # noqa: S608 - fixed staging table names
        "relation, status, source, created_at) "
        "SELECT d.id, s.kind, s.value, s.label, s.owner, s.owner_name, s.relation, "
        f"'active', 'placement', :now FROM {table} s "
        f"JOIN debtors d ON d.id_number = s.id_number {missing}",
        {"now": now},
    )
    drop_stage(session, table)
    return result


def write_accounts(
    session: Session,
    accounts: pl.DataFrame,
    *,
    creditor_id: int,
    now: datetime,
    actor: str,
) -> str:
    """Create the staged accounts (``action`` create) with their opening balances and update
    the snapshot fields of the others (``action`` update) in set-based statements; returns
    the staging table for :func:`refresh_facts` and :func:`account_events`. Balances of
    stored accounts are not touched here: a newer snapshot moves them by a ledger entry."""
    table = stage(session, "accounts", accounts, ACCOUNT_STAGE_TYPES, index=("account_no",))
    params = {"now": now, "creditor_id": creditor_id}
    _execute(
        session,
        "INSERT INTO accounts (creditor_id, placement_id, debtor_id, case_id, account_no, "  # noqa: S608 - fixed staging table names
        "product_code, currency, loan_amount_fen, contract_date, annual_rate, principal_fen, "
        "interest_fen, penalty_fen, fee_fen, credit_fen, snapshot_date, snapshot_due_fen, "
        "overdue_since, installment_fen, content_hash, status, dpd, bucket, amount_tier, "
        "cycle_as_of, created_at, updated_at) "
        "SELECT :creditor_id, p.id, d.id, NULL, s.account_no, s.product_code, 'CNY', "
        "s.loan_amount_fen, s.contract_date, s.annual_rate, s.principal_fen, s.interest_fen, "
        "s.penalty_fen, s.fee_fen, 0, s.snapshot_date, s.snapshot_due_fen, s.overdue_since, "
        "s.installment_fen, s.content_hash, s.status, 0, 'M0', 'small', NULL, :now, :now "
        f"FROM {table} s JOIN debtors d ON d.id_number = s.id_number "
        "JOIN placements p ON p.creditor_id = :creditor_id AND p.batch_code = s.batch_code "
        "WHERE s.action = 'create'",
        params,
    )
    _execute(
        session,
        "UPDATE accounts SET product_code = s.product_code, "  # noqa: S608 - fixed staging table names
        "loan_amount_fen = s.loan_amount_fen, contract_date = s.contract_date, "
        "annual_rate = s.annual_rate, snapshot_date = s.snapshot_date, "
        "snapshot_due_fen = s.snapshot_due_fen, overdue_since = s.overdue_since, "
        "installment_fen = s.installment_fen, content_hash = s.content_hash, "
        "status = s.status, updated_at = :now "
        f"FROM {table} s WHERE accounts.creditor_id = :creditor_id "
        "AND accounts.account_no = s.account_no AND s.action = 'update'",
        params,
    )
    return table


def created_accounts_sql(table: str) -> str:
    """A query of the ids of the accounts just created from staging ``table``."""
    return (
        f"SELECT a.id FROM {table} s JOIN accounts a ON a.account_no = s.account_no "  # noqa: S608 - fixed staging table names
        "AND a.creditor_id = :creditor_id WHERE s.action = 'create'"
    )


REFRESH_FACTS: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "new_fee": pl.Int64(),
    "new_penalty": pl.Int64(),
    "new_interest": pl.Int64(),
    "new_principal": pl.Int64(),
    "fee_fen": pl.Int64(),
    "penalty_fen": pl.Int64(),
    "interest_fen": pl.Int64(),
    "principal_fen": pl.Int64(),
    "credit_fen": pl.Int64(),
    "later_fen": pl.Int64(),
    "snapshot_date": pl.Date(),
}


def refresh_facts(session: Session, table: str, *, creditor_id: int) -> pl.DataFrame:
    """For each updated account: the new figures, the balances now, and what non-reversed
    payments dated after the new snapshot date have paid (``later_fen``)."""
    return SessionBulk(session).fetch(
        f"""SELECT a.id AS account_id, s.fee_fen AS new_fee, s.penalty_fen AS new_penalty,
            s.interest_fen AS new_interest, s.principal_fen AS new_principal,
            a.fee_fen, a.penalty_fen, a.interest_fen, a.principal_fen, a.credit_fen,
            COALESCE((SELECT SUM(p.amount_fen) FROM payments p WHERE p.account_id = a.id
                AND p.reversed_at IS NULL AND p.paid_at >= s.snapshot_end), 0) AS later_fen,
            s.snapshot_date
        FROM {table} s JOIN accounts a ON a.creditor_id = :creditor_id
            AND a.account_no = s.account_no
        WHERE s.action = 'update'""",  # noqa: S608 - fixed staging table names
        REFRESH_FACTS,
        creditor_id=creditor_id,
    )


def account_events(
    session: Session, table: str, *, creditor_id: int, actor: str, now: datetime
) -> None:
    """``account.placed`` / ``account.snapshot_updated`` for the staged accounts."""
    _account_events(session, table, {"now": now, "creditor_id": creditor_id, "actor": actor})
    drop_stage(session, table)


def _account_events(session: Session, table: str, params: dict[str, Any]) -> None:
    _execute(
        session,
        "INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload) "  # noqa: S608 - fixed staging table names
        "SELECT :now, :actor, CASE s.action WHEN 'create' THEN 'account.placed' "
        "ELSE 'account.snapshot_updated' END, 'account', a.id, a.case_id, "
        f"{_json(session, 's.payload')} FROM {table} s "
        "JOIN accounts a ON a.creditor_id = :creditor_id AND a.account_no = s.account_no",
        params,
    )


# --- payments --------------------------------------------------------------------------------


def accounts_for_payments(
    session: Session, creditor_id: int, account_nos: pl.Series
) -> pl.DataFrame:
    """The creditor's accounts among ``account_nos``: number, id, snapshot date."""
    rows = _stored_accounts(
        session, creditor_id, account_nos, "a.account_no, a.id, a.snapshot_date"
    )
    return pl.DataFrame(
        [(r[0], r[1], _as_date(r[2])) for r in rows],
        schema={"account_no": pl.String, "account_id": pl.Int64, "snapshot_date": pl.Date},
        orient="row",
    )
