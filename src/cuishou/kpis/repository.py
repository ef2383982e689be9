"""KPI queries: the facts of one period and scope, set-based, as typed Polars frames.

Every query goes through a :class:`~cuishou.store.bulk.Bulk` (the session's connection for
a request, an ADBC read transaction for a batch or a benchmark) and filters cases with the
one scope filter (:func:`cuishou.auth.scope.case_scope_clause`, rendered as SQL text for
this store). Times are fetched in a UTC window 15 hours wider than the business dates on
each side; the rules cut each fact to its business date in the creditor's zone.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
from sqlalchemy.engine import Dialect as SqlDialect

from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.store.bulk import NULLABLE_ID, Bulk

#: time zones are at most 14 hours from UTC: this margin holds every time of the dates
ZONE_MARGIN = timedelta(hours=15)
VIOLATION = "compliance_violation"

CASES_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "opened_on": pl.Date(),
    "creditor": pl.String(),
    "tz": pl.String(),
    "collector": pl.String(),
    "team": pl.String(),
    "agency": pl.String(),
    "current_bucket": pl.String(),
}
FIRST_RPC_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "first_rpc_id": pl.Int64(),
    "first_rpc_at": pl.Datetime("us", "UTC"),
}
FIRST_PAID_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "first_paid_on": pl.Date()}
BOOK_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "case_id": pl.Int64(),
    "due_start_fen": pl.Int64(),
}
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "as_of": pl.Date(),
    "dpd": pl.Int64(),
    "bucket": pl.String(),
    "status": pl.String(),
}
CASH_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "day": pl.Date(),
    "kind": pl.String(),
    "reference": pl.String(),
    "cash_fen": pl.Int64(),
}
CONTACTS_SCHEMA: dict[str, pl.DataType] = {
    "contact_id": pl.Int64(),
    "case_id": pl.Int64(),
    "user_id": pl.Int64(),
    "channel": pl.String(),
    "party": pl.String(),
    "outcome": pl.String(),
    "at": pl.Datetime("us", "UTC"),
    "tz": pl.String(),
}
PROMISES_SCHEMA: dict[str, pl.DataType] = {
    "promise_id": pl.Int64(),
    "case_id": pl.Int64(),
    "contact_id": NULLABLE_ID,
    "amount_fen": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "status": pl.String(),
    "tz": pl.String(),
}
VIOLATIONS_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "day": pl.Date()}


@dataclass(frozen=True, slots=True)
class RawFacts:
    """The period's facts as stored (times in UTC with their creditor's zone)."""

    cases: pl.DataFrame
    first_rpc: pl.DataFrame
    first_paid: pl.DataFrame
    book: pl.DataFrame
    history: pl.DataFrame
    cash: pl.DataFrame
    contacts: pl.DataFrame
    promises: pl.DataFrame
    violations: pl.DataFrame


def scope_sql(scope: CaseScope, dialect: SqlDialect) -> str:
    """The one scope filter (on the ``cases`` table) as SQL text for this store; its only
    values are integer ids, rendered as literals."""
    clause = case_scope_clause(scope)
    return str(clause.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))


def _window(start: date, end: date) -> dict[str, Any]:
    return {
        "start": start,
        "end": end,
        "lower": datetime.combine(start, time(0), tzinfo=UTC) - ZONE_MARGIN,
        "upper": datetime.combine(end + timedelta(days=1), time(0), tzinfo=UTC) + ZONE_MARGIN,
    }


def _blank_to_null(frame: pl.DataFrame, columns: tuple[str, ...]) -> pl.DataFrame:
    return frame.with_columns(
        pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c) for c in columns
    )


def fetch_facts(bulk: Bulk, *, scope: str, start: date, end: date) -> RawFacts:
    """Everything the KPIs of ``[start, end]`` (business dates) read, for cases in ``scope``
    (SQL text from :func:`scope_sql`)."""
    params = _window(start, end)
    in_scope = f"JOIN cases ON cases.id = {{}} WHERE ({scope})"
    cases = bulk.fetch(
        f"""SELECT cases.id AS case_id, cases.opened_on, cr.code AS creditor, cr.timezone AS tz,
            COALESCE(u.username, '') AS collector, COALESCE(t.name, '') AS team,
            COALESCE(ag.code, '') AS agency, cases.bucket AS current_bucket
        FROM cases JOIN creditors cr ON cr.id = cases.creditor_id
        LEFT JOIN users u ON u.id = cases.assigned_user_id
        LEFT JOIN teams t ON t.id = cases.team_id
        LEFT JOIN agencies ag ON ag.id = cases.agency_id
        WHERE ({scope})""",  # noqa: S608 - the scope filter is rendered by SQLAlchemy
        CASES_SCHEMA,
    )
    cases = _blank_to_null(cases, ("collector", "team", "agency"))
    first_rpc = bulk.fetch(
        _first_rpc_sql(bulk, in_scope.format("k.case_id")), FIRST_RPC_SCHEMA, **params
    )
    first_paid = bulk.fetch(
        f"""SELECT a.case_id, MIN(l.effective_on) AS first_paid_on
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        {in_scope.format("a.case_id")} AND l.kind = 'payment' AND l.effective_on <= :end
            AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.account_id = l.account_id
                AND r.kind = 'reversal' AND r.reference = l.reference)
        GROUP BY a.case_id HAVING MIN(l.effective_on) >= :start""",  # noqa: S608
        FIRST_PAID_SCHEMA,
        start=start,
        end=end,
    )
    owed = "l.fee_fen + l.penalty_fen + l.interest_fen + l.principal_fen"
    book = bulk.fetch(
        f"""SELECT l.account_id, a.case_id, CAST(SUM(CASE WHEN l.effective_on < :start
                OR l.kind = 'placement' THEN {owed} ELSE 0 END) AS BIGINT) AS due_start_fen
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        {in_scope.format("a.case_id")} AND l.effective_on <= :end
        GROUP BY l.account_id, a.case_id""",  # noqa: S608
        BOOK_SCHEMA,
        start=start,
        end=end,
    )
    history = bulk.fetch(
        f"""SELECT h.account_id, h.as_of, h.dpd, h.bucket, h.status
        FROM bucket_history h JOIN accounts a ON a.id = h.account_id
        {in_scope.format("a.case_id")} AND h.as_of <= :end""",  # noqa: S608
        HISTORY_SCHEMA,
        end=end,
    )
    cash = bulk.fetch(
        f"""SELECT a.case_id, l.effective_on AS day, l.kind,
            COALESCE(l.reference, '') AS reference,
            CAST(l.credit_fen - ({owed}) AS BIGINT) AS cash_fen
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        {in_scope.format("a.case_id")} AND l.kind IN ('payment', 'reversal')
            AND l.effective_on >= :start AND l.effective_on <= :end""",  # noqa: S608
        CASH_SCHEMA,
        start=start,
        end=end,
    )
    contacts = bulk.fetch(
        f"""SELECT k.id AS contact_id, k.case_id, k.user_id, k.channel, k.party, k.outcome,
            k.at, cr.timezone AS tz
        FROM contacts k JOIN cases ON cases.id = k.case_id
        JOIN creditors cr ON cr.id = cases.creditor_id
        WHERE ({scope}) AND k.at >= :lower AND k.at < :upper""",  # noqa: S608
        CONTACTS_SCHEMA,
        lower=params["lower"],
        upper=params["upper"],
    )
    promises = bulk.fetch(
        f"""SELECT p.id AS promise_id, p.case_id,
            {bulk.nullable("p.contact_id", "0")} AS contact_id, p.amount_fen,
            p.created_at AS at, p.status,
            cr.timezone AS tz
        FROM promises p JOIN cases ON cases.id = p.case_id
        JOIN creditors cr ON cr.id = cases.creditor_id
        WHERE ({scope}) AND p.created_at >= :lower AND p.created_at < :upper""",  # noqa: S608
        PROMISES_SCHEMA,
        lower=params["lower"],
        upper=params["upper"],
    )
    violations = bulk.fetch(
        f"""SELECT al.case_id, al.raised_on AS day FROM alerts al
        {in_scope.format("al.case_id")} AND al.kind = :kind
            AND al.raised_on >= :start AND al.raised_on <= :end""",  # noqa: S608
        VIOLATIONS_SCHEMA,
        kind=VIOLATION,
        start=start,
        end=end,
    )
    return RawFacts(
        cases=cases,
        first_rpc=first_rpc,
        first_paid=first_paid,
        book=book,
        history=history,
        cash=cash,
        contacts=contacts,
        promises=promises,
        violations=violations,
    )


def _first_rpc_sql(bulk: Bulk, joined: str) -> str:
    """Each case's first right-party contact ever (its id and time), for cases whose first
    one is before the period's end; the rules keep those whose first falls in the period."""
    if bulk.sqlite:
        # SQLite takes bare columns from the row holding MIN() (documented behaviour)
        return f"""SELECT k.case_id, k.id AS first_rpc_id, MIN(k.at) AS first_rpc_at
        FROM contacts k {joined} AND k.party = 'debtor' AND k.at < :upper
        GROUP BY k.case_id HAVING MIN(k.at) >= :lower"""  # noqa: S608
    return f"""SELECT * FROM (SELECT DISTINCT ON (k.case_id) k.case_id, k.id AS first_rpc_id,
            k.at AS first_rpc_at
        FROM contacts k {joined} AND k.party = 'debtor' AND k.at < :upper
        ORDER BY k.case_id, k.at, k.id) f WHERE f.first_rpc_at >= :lower"""  # noqa: S608
