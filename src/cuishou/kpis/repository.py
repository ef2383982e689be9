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
REACHED_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64()}
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
}
PROMISES_SCHEMA: dict[str, pl.DataType] = {
    "promise_id": pl.Int64(),
    "case_id": pl.Int64(),
    "user_id": pl.Int64(),
    "contact_id": NULLABLE_ID,
    "amount_fen": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "status": pl.String(),
}
VIOLATIONS_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64(), "day": pl.Date()}
USERS_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.Int64(),
    "collector": pl.String(),
    "team": pl.String(),
    "agency": pl.String(),
}
ASSIGNMENTS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "event_id": pl.Int64(),
    "from_collector": pl.String(),
    "collector": pl.String(),
    "team": pl.String(),
    "agency": pl.String(),
}
ASSIGNED = "case.assigned"


@dataclass(frozen=True, slots=True)
class RawFacts:
    """The period's facts as stored (times in UTC); every frame but ``cases`` unscoped."""

    cases: pl.DataFrame
    #: cases with a right-party contact before the period's window (their first is earlier)
    reached_before: pl.DataFrame
    first_paid: pl.DataFrame
    book: pl.DataFrame
    history: pl.DataFrame
    cash: pl.DataFrame
    contacts: pl.DataFrame
    promises: pl.DataFrame
    violations: pl.DataFrame
    #: every user with their team and agency (who made a contact or took a promise)
    users: pl.DataFrame
    #: every ``case.assigned`` event (分案), ever: who had the case from when
    assignments: pl.DataFrame


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


def _payload_field(bulk: Bulk, name: str) -> str:
    """A text field of an event's JSON payload, as SQL (null when absent or JSON null)."""
    if bulk.sqlite:
        return f"json_extract(e.payload, '$.{name}')"
    return f"(e.payload ->> '{name}')"


def fetch_users(bulk: Bulk) -> pl.DataFrame:
    users = bulk.fetch(
        """SELECT u.id AS user_id, u.username AS collector, COALESCE(t.name, '') AS team,
            COALESCE(ag.code, '') AS agency
        FROM users u LEFT JOIN teams t ON t.id = u.team_id
        LEFT JOIN agencies ag ON ag.id = u.agency_id""",
        USERS_SCHEMA,
    )
    return _blank_to_null(users, ("team", "agency"))


def fetch_assignments(bulk: Bulk) -> pl.DataFrame:
    """Every ``case.assigned`` event: the case, when, who had it (``from_collector``) and who
    got it, with the team and agency it went to (as ``cases.service.assign_cases`` records)."""
    team_id = f"CAST({_payload_field(bulk, 'team_id')} AS BIGINT)"
    agency_id = f"CAST({_payload_field(bulk, 'agency_id')} AS BIGINT)"
    frame = bulk.fetch(
        f"""SELECT e.case_id, e.at, e.id AS event_id,
            COALESCE({_payload_field(bulk, "from")}, '') AS from_collector,
            COALESCE({_payload_field(bulk, "to")}, '') AS collector,
            COALESCE(t.name, '') AS team, COALESCE(ag.code, '') AS agency
        FROM events e LEFT JOIN teams t ON t.id = {team_id}
        LEFT JOIN agencies ag ON ag.id = {agency_id}
        WHERE e.type = :type AND e.case_id IS NOT NULL""",  # noqa: S608 - constant fragments
        ASSIGNMENTS_SCHEMA,
        type=ASSIGNED,
    )
    return _blank_to_null(frame, ("from_collector", "collector", "team", "agency"))


def fetch_facts(bulk: Bulk, *, scope: str, start: date, end: date) -> RawFacts:
    """Everything the KPIs of ``[start, end]`` (business dates) read, for cases in ``scope``
    (SQL text from :func:`scope_sql`).

    Only the cases query carries the scope filter: every other frame is read without joins
    (a join to ``cases`` per fact row costs more than the facts) and the rules keep the rows
    of cases in scope (``kpis.rules.assemble``)."""
    params = _window(start, end)
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
    reached_before = bulk.fetch(
        """SELECT DISTINCT case_id FROM contacts WHERE party = 'debtor' AND at < :lower""",
        REACHED_SCHEMA,
        lower=params["lower"],
    )
    first_paid = bulk.fetch(
        """SELECT a.case_id, MIN(l.effective_on) AS first_paid_on
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        WHERE l.kind = 'payment' AND l.effective_on <= :end AND a.case_id IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.account_id = l.account_id
                AND r.kind = 'reversal' AND r.reference = l.reference)
        GROUP BY a.case_id HAVING MIN(l.effective_on) >= :start""",
        FIRST_PAID_SCHEMA,
        start=start,
        end=end,
    )
    owed = "l.fee_fen + l.penalty_fen + l.interest_fen + l.principal_fen"
    book = bulk.fetch(
        f"""SELECT l.account_id, a.case_id, CAST(SUM(CASE WHEN l.effective_on < :start
                OR l.kind = 'placement' THEN {owed} ELSE 0 END) AS BIGINT) AS due_start_fen
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        WHERE l.effective_on <= :end AND a.case_id IS NOT NULL
        GROUP BY l.account_id, a.case_id""",  # noqa: S608 - constant fragments only
        BOOK_SCHEMA,
        start=start,
        end=end,
    )
    history = bulk.fetch(
        """SELECT account_id, as_of, dpd, bucket, status FROM bucket_history
        WHERE as_of <= :end""",
        HISTORY_SCHEMA,
        end=end,
    )
    cash = bulk.fetch(
        f"""SELECT a.case_id, l.effective_on AS day, l.kind,
            COALESCE(l.reference, '') AS reference,
            CAST(l.credit_fen - ({owed}) AS BIGINT) AS cash_fen
        FROM ledger_entries l JOIN accounts a ON a.id = l.account_id
        WHERE l.kind IN ('payment', 'reversal') AND a.case_id IS NOT NULL
            AND l.effective_on >= :start AND l.effective_on <= :end""",  # noqa: S608
        CASH_SCHEMA,
        start=start,
        end=end,
    )
    contacts = bulk.fetch(
        """SELECT id AS contact_id, case_id, user_id, channel, party, outcome, at
        FROM contacts WHERE at >= :lower AND at < :upper""",
        CONTACTS_SCHEMA,
        lower=params["lower"],
        upper=params["upper"],
    )
    promises = bulk.fetch(
        f"""SELECT id AS promise_id, case_id, created_by AS user_id,
            {bulk.nullable("contact_id", "0")} AS contact_id,
            amount_fen, created_at AS at, status
        FROM promises WHERE created_at >= :lower AND created_at < :upper""",  # noqa: S608
        PROMISES_SCHEMA,
        lower=params["lower"],
        upper=params["upper"],
    )
    violations = bulk.fetch(
        """SELECT case_id, raised_on AS day FROM alerts
        WHERE kind = :kind AND raised_on >= :start AND raised_on <= :end""",
        VIOLATIONS_SCHEMA,
        kind=VIOLATION,
        start=start,
        end=end,
    )
    return RawFacts(
        cases=cases,
        reached_before=reached_before,
        first_paid=first_paid,
        book=book,
        history=history,
        cash=cash,
        contacts=contacts,
        promises=promises,
        violations=violations,
        users=fetch_users(bulk),
        assignments=fetch_assignments(bulk),
    )
