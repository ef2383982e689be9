"""All store access of the placement import: lookups, staging tables, set-based writes.

Bulk rows go into a temporary staging table on the import's own connection (plain
``executemany`` on SQLite, ``COPY`` on PostgreSQL), then one ``INSERT … SELECT`` or
``UPDATE … FROM`` statement moves them. Everything runs on the session's connection,
inside the one transaction of the file: if anything fails, nothing of the file remains.
Balances change only by relative set-based statements (``fee_fen = fee_fen - s.fee``).
"""

from __future__ import annotations

import contextlib
import tempfile
import uuid
from datetime import date, datetime
from pathlib import Path
from typing import Any

import adbc_driver_sqlite.dbapi as adbc_sqlite
import polars as pl
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
    bindparam,
    select,
    text,
)
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.types import TypeEngine

from cuishou.placement.rules import ACCOUNT_SNAPSHOT_FIELDS
from cuishou.store.tables import Creditor, ImportFile, Placement, Product
from cuishou.store.types import UTCDateTime

STAGE_PREFIX = "_cuishou_stage_"
SQLITE_STAGE_ALIAS = "cuishou_stage_"
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"


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
        detach_stages(session)


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
    session: Session,
    name: str,
    frame: pl.DataFrame,
    types: dict[str, TypeEngine[Any]],
    *,
    index: tuple[str, ...] = (),
) -> str:
    """Load ``frame`` into a staging table for set-based statements; returns its name.

    ``index`` columns get an index, so joins from stored tables to the staged rows
    never scan the staging table per row. The staged rows are scratch data: only the
    statements that read them change the store, inside the file's transaction.
    """
    if dialect_name(session) == "sqlite":
        return _stage_sqlite(session, name, frame, types, index)
    table_name = STAGE_PREFIX + name
    connection = session.connection()
    connection.execute(text(f"DROP TABLE IF EXISTS {table_name}"))
    Table(
        table_name,
        MetaData(),
        *(Column(column, types[column]) for column in frame.columns),
        prefixes=["TEMPORARY"],
    ).create(connection)
    if frame.height:
        driver: Any = connection.connection.driver_connection
        prepared = frame.with_columns(
            pl.col(c).dt.to_string("%Y-%m-%dT%H:%M:%S%.6f+00:00")
            for c, t in types.items()
            if c in frame.columns and isinstance(t, UTCDateTime)
        )
        payload = prepared.write_csv(include_header=False).encode("utf-8")
        columns = ", ".join(frame.columns)
        with (
            driver.cursor() as cursor,
            cursor.copy(f"COPY {table_name} ({columns}) FROM STDIN WITH (FORMAT csv)") as copy,
        ):
            copy.write(payload)
    if index:
        connection.execute(
            text(f"CREATE INDEX ix{table_name} ON {table_name} ({', '.join(index)})")
        )
    # Temporary tables have no statistics until analysed; without them the planner
    # guesses a few rows and picks nested loops over a million.
    connection.execute(text(f"ANALYZE {table_name}"))
    return table_name


def _stage_sqlite(
    session: Session,
    name: str,
    frame: pl.DataFrame,
    types: dict[str, TypeEngine[Any]],
    index: tuple[str, ...],
) -> str:
    """SQLite: ADBC bulk ingest into a scratch database file, attached to our connection.

    The scratch file is written and indexed by its own ADBC connection (a million rows
    in about a second, versus tens of seconds row by row), then attached read-only in
    use to the import's connection and unlinked at once, so nothing is left on disk;
    the attachment ends with the connection or at the next import.
    """
    prepared = frame.with_columns(
        *(
            pl.col(c).dt.to_string(_SQLITE_DATETIME)
            for c, t in types.items()
            if c in frame.columns and isinstance(t, UTCDateTime)
        ),
        *(
            pl.col(c).dt.to_string("%Y-%m-%d")
            for c, t in types.items()
            if c in frame.columns and isinstance(t, Date)
        ),
        *(
            pl.col(c).cast(pl.Float64)
            for c, t in types.items()
            if c in frame.columns and isinstance(t, Numeric)
        ),
    )
    alias = f"{SQLITE_STAGE_ALIAS}{name}_{uuid.uuid4().hex[:8]}"
    scratch = Path(tempfile.gettempdir()) / f"{alias}.db"
    with adbc_sqlite.connect(str(scratch)) as adbc, adbc.cursor() as cursor:
        cursor.adbc_ingest("t", prepared.to_arrow(), mode="create")
        if index:
            cursor.execute(f"CREATE INDEX ix_t ON t ({', '.join(index)})")
        adbc.commit()
    try:
        session.connection().exec_driver_sql(f"ATTACH DATABASE '{scratch}' AS {alias}")
    finally:
        scratch.unlink(missing_ok=True)
    return f"{alias}.t"


def detach_stages(session: Session) -> None:
    """Detach scratch databases left attached by an earlier import on this connection."""
    if dialect_name(session) != "sqlite":
        return
    connection = session.connection()
    for row in connection.exec_driver_sql("PRAGMA database_list").all():
        if str(row[1]).startswith(SQLITE_STAGE_ALIAS):
            connection.exec_driver_sql(f"DETACH DATABASE {row[1]}")


def drop_stage(session: Session, table_name: str) -> None:
    if dialect_name(session) == "sqlite":
        # Detaching is refused once the transaction has read it; then it stays
        # attached (its file is already gone) until the next import or disconnect.
        with contextlib.suppress(OperationalError):
            session.connection().exec_driver_sql(f"DETACH DATABASE {table_name.split('.')[0]}")
        return
    session.connection().execute(text(f"DROP TABLE IF EXISTS {table_name}"))


def _json(session: Session, expression: str) -> str:
    return f"CAST({expression} AS JSON)" if dialect_name(session) == "postgresql" else expression


def _now(sql: str) -> Any:
    return text(sql).bindparams(bindparam("now", type_=UTCDateTime()))


def _reduce_balances(session: Session, allocations_sql: str, params: dict[str, Any]) -> None:
    """Take posted allocations off the balances in one set-based statement (no
    read-modify-write). ``allocations_sql`` yields ``account_id, fee, penalty, interest,
    principal, credit`` per account."""
    session.execute(
        _now(
            "UPDATE accounts SET fee_fen = accounts.fee_fen - paid.fee, "  # noqa: S608 - fixed names
            "penalty_fen = accounts.penalty_fen - paid.penalty, "
            "interest_fen = accounts.interest_fen - paid.interest, "
            "principal_fen = accounts.principal_fen - paid.principal, "
            "credit_fen = accounts.credit_fen + paid.credit, updated_at = :now "
            f"FROM ({allocations_sql}) AS paid WHERE accounts.id = paid.account_id"
        ),
        params,
    )


def _frame(rows: list[Any], schema: dict[str, Any]) -> pl.DataFrame:
    return pl.DataFrame([tuple(r) for r in rows], schema=schema, orient="row")


# --- accounts --------------------------------------------------------------------------------

ACCOUNT_STAGE_TYPES: dict[str, TypeEngine[Any]] = {
    "action": String(8),
    "account_no": String(64),
    "batch_code": String(64),
    "id_number": String(18),
    "product_code": String(32),
    "loan_amount_fen": BigInteger(),
    "contract_date": Date(),
    "annual_rate": Numeric(9, 6),
    "principal_fen": BigInteger(),
    "interest_fen": BigInteger(),
    "penalty_fen": BigInteger(),
    "fee_fen": BigInteger(),
    "snapshot_date": Date(),
    "snapshot_due_fen": BigInteger(),
    "overdue_since": Date(),
    "installment_fen": BigInteger(),
    "content_hash": String(64),
    "status": String(16),
    "snapshot_end": UTCDateTime(),
    "payload": Text(),
}
KEY_STAGE_TYPES: dict[str, TypeEngine[Any]] = {"key": String(100)}
DEBTOR_STAGE_TYPES: dict[str, TypeEngine[Any]] = {
    "id_number": String(18),
    "name": String(100),
    "gender": String(1),
    "birth_date": Date(),
    "province": String(32),
    "city": String(64),
}
CONTACT_STAGE_TYPES: dict[str, TypeEngine[Any]] = {
    "id_number": String(18),
    "kind": String(16),
    "value": String(300),
    "label": String(32),
    "owner": String(16),
    "owner_name": String(100),
    "relation": String(32),
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
    keys = stage(session, "ids", pl.DataFrame({"id": account_ids}), {"id": BigInteger()})
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
    result = session.execute(
        _now(
            "INSERT INTO debtors (id_number, name, gender, birth_date, province, city, timezone, "  # noqa: S608 - fixed staging table names
            "created_at, updated_at) "
            "SELECT s.id_number, s.name, s.gender, s.birth_date, s.province, s.city, "
            f"'Asia/Shanghai', :now, :now FROM {table} s "
            "WHERE NOT EXISTS (SELECT 1 FROM debtors d WHERE d.id_number = s.id_number)"
        ),
        {"now": now},
    )
    return int(result.rowcount or 0), table  # type: ignore[attr-defined]


def changed_debtors(session: Session, table: str) -> list[dict[str, Any]]:
    """Stored debtors whose name, province or city differs from the staged (given) values."""
    rows = session.execute(
        text(
            "SELECT d.id, d.id_number, d.name, s.name, d.province, s.province, d.city, s.city "  # noqa: S608 - fixed staging table names
            f"FROM debtors d JOIN {table} s ON s.id_number = d.id_number "
            "WHERE d.name <> s.name "
            "OR (s.province IS NOT NULL AND (d.province IS NULL OR d.province <> s.province)) "
            "OR (s.city IS NOT NULL AND (d.city IS NULL OR d.city <> s.city))"
        )
    ).all()
    out: list[dict[str, Any]] = []
    for r in rows:
        diff: dict[str, list[Any]] = {}
        for field, old, new in (
            ("name", r[2], r[3]),
            ("province", r[4], r[5]),
            ("city", r[6], r[7]),
        ):
            if new is not None and old != new:
                diff[field] = [old, new]
        out.append({"debtor_id": int(r[0]), "diff": diff})
    return out


def update_changed_debtors(session: Session, table: str, *, now: datetime) -> None:
    session.execute(
        _now(
            "UPDATE debtors SET name = s.name, province = COALESCE(s.province, debtors.province), "  # noqa: S608 - fixed staging table names
            "city = COALESCE(s.city, debtors.city), updated_at = :now "
            f"FROM {table} s WHERE s.id_number = debtors.id_number AND ("
            "debtors.name <> s.name "
            "OR (s.province IS NOT NULL AND (debtors.province IS NULL "
            "OR debtors.province <> s.province)) "
            "OR (s.city IS NOT NULL AND (debtors.city IS NULL OR debtors.city <> s.city)))"
        ),
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
    result = session.execute(
        _now(
            "INSERT INTO contact_points (debtor_id, kind, value, label, owner, owner_name, "  # noqa: S608 - fixed staging table names
            "relation, status, source, created_at) "
            "SELECT d.id, s.kind, s.value, s.label, s.owner, s.owner_name, s.relation, "
            f"'active', 'placement', :now FROM {table} s "
            f"JOIN debtors d ON d.id_number = s.id_number {missing}"
        ),
        {"now": now},
    )
    drop_stage(session, table)
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def write_accounts(
    session: Session,
    accounts: pl.DataFrame,
    *,
    creditor_id: int,
    now: datetime,
    actor: str,
    updates: bool,
) -> None:
    """Create and update the staged accounts, with their events, in set-based statements.

    An updated account's balances become the new snapshot components less what
    non-reversed payments made after the new snapshot date already paid.
    """
    table = stage(session, "accounts", accounts, ACCOUNT_STAGE_TYPES, index=("account_no",))
    params = {"now": now, "creditor_id": creditor_id, "actor": actor}
    session.execute(
        _now(
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
            "WHERE s.action = 'create'"
        ),
        params,
    )
    if not updates:
        _account_events(session, table, params)
        drop_stage(session, table)
        return
    session.execute(
        _now(
            "UPDATE accounts SET product_code = s.product_code, "  # noqa: S608 - fixed staging table names
            "loan_amount_fen = s.loan_amount_fen, contract_date = s.contract_date, "
            "annual_rate = s.annual_rate, principal_fen = s.principal_fen, "
            "interest_fen = s.interest_fen, penalty_fen = s.penalty_fen, fee_fen = s.fee_fen, "
            "credit_fen = 0, snapshot_date = s.snapshot_date, "
            "snapshot_due_fen = s.snapshot_due_fen, overdue_since = s.overdue_since, "
            "installment_fen = s.installment_fen, content_hash = s.content_hash, "
            "status = s.status, updated_at = :now "
            f"FROM {table} s WHERE accounts.creditor_id = :creditor_id "
            "AND accounts.account_no = s.account_no AND s.action = 'update'"
        ),
        params,
    )
    _reduce_balances(
        session,
        "SELECT a.id AS account_id, SUM(p.to_fee_fen) AS fee, "  # noqa: S608 - fixed staging table names
        "SUM(p.to_penalty_fen) AS penalty, SUM(p.to_interest_fen) AS interest, "
        "SUM(p.to_principal_fen) AS principal, SUM(p.to_credit_fen) AS credit "
        f"FROM {table} s JOIN accounts a ON a.creditor_id = :creditor_id "
        "AND a.account_no = s.account_no "
        "JOIN payments p ON p.account_id = a.id "
        "WHERE s.action = 'update' AND p.reversed_at IS NULL AND p.paid_at >= s.snapshot_end "
        "GROUP BY a.id",
        params,
    )
    _account_events(session, table, params)
    drop_stage(session, table)


def _account_events(session: Session, table: str, params: dict[str, Any]) -> None:
    session.execute(
        _now(
            "INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload) "  # noqa: S608 - fixed staging table names
            "SELECT :now, :actor, CASE s.action WHEN 'create' THEN 'account.placed' "
            "ELSE 'account.snapshot_updated' END, 'account', a.id, a.case_id, "
            f"{_json(session, 's.payload')} FROM {table} s "
            "JOIN accounts a ON a.creditor_id = :creditor_id AND a.account_no = s.account_no"
        ),
        params,
    )


# --- payments --------------------------------------------------------------------------------

PAYMENT_STAGE_TYPES: dict[str, TypeEngine[Any]] = {
    "reference": String(100),
    "account_id": BigInteger(),
    "amount_fen": BigInteger(),
    "paid_at": UTCDateTime(),
    "channel": String(32),
    "to_fee_fen": BigInteger(),
    "to_penalty_fen": BigInteger(),
    "to_interest_fen": BigInteger(),
    "to_principal_fen": BigInteger(),
    "to_credit_fen": BigInteger(),
    "payload": Text(),
}


def accounts_for_payments(
    session: Session, creditor_id: int, account_nos: pl.Series
) -> pl.DataFrame:
    """The creditor's accounts among ``account_nos`` with their current balances."""
    rows = _stored_accounts(
        session,
        creditor_id,
        account_nos,
        "a.account_no, a.id, a.snapshot_date, a.fee_fen, a.penalty_fen, "
        "a.interest_fen, a.principal_fen",
    )
    return _frame(
        [(r[0], r[1], _as_date(r[2]), r[3], r[4], r[5], r[6]) for r in rows],
        {
            "account_no": pl.String,
            "account_id": pl.Int64,
            "snapshot_date": pl.Date,
            "fee_fen": pl.Int64,
            "penalty_fen": pl.Int64,
            "interest_fen": pl.Int64,
            "principal_fen": pl.Int64,
        },
    )


def posted_references(session: Session, creditor_id: int, references: pl.Series) -> set[str]:
    keys = stage(
        session, "keys", pl.DataFrame({"key": references.unique()}), KEY_STAGE_TYPES, index=("key",)
    )
    rows = session.scalars(
        text(
            f"SELECT p.reference FROM payments p JOIN {keys} k ON k.key = p.reference "  # noqa: S608 - fixed staging table names
            "WHERE p.creditor_id = :creditor_id"
        ),
        {"creditor_id": creditor_id},
    ).all()
    drop_stage(session, keys)
    return set(rows)


def post_payments(
    session: Session,
    payments: pl.DataFrame,
    *,
    creditor_id: int,
    import_file_id: int,
    now: datetime,
    actor: str,
) -> None:
    """Insert allocated payments, reduce balances set-based, append ``payment.posted`` events."""
    table = stage(session, "payments", payments, PAYMENT_STAGE_TYPES, index=("reference",))
    params = {"now": now, "creditor_id": creditor_id, "actor": actor, "file_id": import_file_id}
    session.execute(
        _now(
            "INSERT INTO payments (creditor_id, account_id, reference, amount_fen, paid_at, "  # noqa: S608 - fixed staging table names
            "channel, source, import_file_id, to_fee_fen, to_penalty_fen, to_interest_fen, "
            "to_principal_fen, to_credit_fen, posted_at, reversed_at) "
            "SELECT :creditor_id, s.account_id, s.reference, s.amount_fen, s.paid_at, s.channel, "
            "'file', :file_id, s.to_fee_fen, s.to_penalty_fen, s.to_interest_fen, "
            f"s.to_principal_fen, s.to_credit_fen, :now, NULL FROM {table} s"
        ),
        params,
    )
    _reduce_balances(
        session,
        "SELECT account_id, SUM(to_fee_fen) AS fee, SUM(to_penalty_fen) AS penalty, "  # noqa: S608 - fixed staging table names
        "SUM(to_interest_fen) AS interest, SUM(to_principal_fen) AS principal, "
        f"SUM(to_credit_fen) AS credit FROM {table} GROUP BY account_id",
        params,
    )
    session.execute(
        _now(
            "INSERT INTO events (at, actor, type, entity_type, entity_id, case_id, payload) "  # noqa: S608 - fixed staging table names
            "SELECT :now, :actor, 'payment.posted', 'payment', p.id, a.case_id, "
            f"{_json(session, 's.payload')} FROM {table} s "
            "JOIN payments p ON p.creditor_id = :creditor_id AND p.reference = s.reference "
            "JOIN accounts a ON a.id = p.account_id"
        ),
        params,
    )
    drop_stage(session, table)
