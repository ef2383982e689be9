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
from cuishou.kpis.rules import NO_ARM
from cuishou.store.bulk import NULLABLE_ID, Bulk, Query

#: time zones are at most 14 hours from UTC: this margin holds every time of the dates
ZONE_MARGIN = timedelta(hours=15)
VIOLATION = "compliance_violation"

CASES_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "opened_on": pl.Date(),
    "creditor_id": pl.Int64(),
    "user_id": NULLABLE_ID,
    "team_id": NULLABLE_ID,
    "agency_id": NULLABLE_ID,
    "current_bucket": pl.String(),
}
#: who has a case now (read only for an attributed slice; null otherwise)
HOLDERS = ("user_id", "team_id", "agency_id")
CREDITORS_SCHEMA: dict[str, pl.DataType] = {
    "creditor_id": pl.Int64(),
    "creditor": pl.String(),
    "tz": pl.String(),
}
TEAMS_SCHEMA: dict[str, pl.DataType] = {"team_id": pl.Int64(), "team": pl.String()}
AGENCIES_SCHEMA: dict[str, pl.DataType] = {"agency_id": pl.Int64(), "agency": pl.String()}
ARMS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "experiment_id": pl.Int64(),
    "experiment": pl.String(),
    "arm_name": pl.String(),
}
ACCOUNTS_SCHEMA: dict[str, pl.DataType] = {"account_id": pl.Int64(), "case_id": pl.Int64()}
ENTRIES_SCHEMA: dict[str, pl.DataType] = {"account_id": pl.Int64(), "owed_fen": pl.Int64()}
MOVES_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "kind": pl.String(),
    "day": pl.Date(),
    "reference": pl.String(),
    "cash_fen": pl.Int64(),
}
REACHED_SCHEMA: dict[str, pl.DataType] = {"case_id": pl.Int64()}
HISTORY_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "as_of": pl.Date(),
    "dpd": pl.Int64(),
    "bucket": pl.String(),
    "status": pl.String(),
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
EVENTS_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "at": pl.Datetime("us", "UTC"),
    "event_id": pl.Int64(),
    "payload": pl.String(),
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
    #: the ``case.assigned`` events (分案) from the window's start (``None``: not read)
    assignments: pl.DataFrame | None


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


USERS_SQL = """SELECT u.id AS user_id, u.username AS collector, COALESCE(t.name, '') AS team,
    COALESCE(ag.code, '') AS agency
FROM users u LEFT JOIN teams t ON t.id = u.team_id
LEFT JOIN agencies ag ON ag.id = u.agency_id"""


PAYLOAD = pl.Struct(
    {"from": pl.String(), "to": pl.String(), "team_id": pl.Int64(), "agency_id": pl.Int64()}
)


def assignments_of(
    events: pl.DataFrame, teams: pl.DataFrame, agencies: pl.DataFrame
) -> pl.DataFrame:
    """The ``case.assigned`` events (``case_id, at, event_id, payload``) decoded: the case,
    when, who had it (``from_collector``) and who got it, with the team and agency it went to
    (as ``cases.service.assign_cases`` records). Earlier events are not needed: a case's
    owner before its first event read is that event's ``from``, and a case without one has
    had its current owner since before the window. The JSON payloads are read as text and
    decoded here, in one vectorised pass."""
    fields = pl.col("payload").str.json_decode(PAYLOAD)
    return (
        events.select(
            "case_id", "at", "event_id",
            fields.struct.field("from").alias("from_collector"),
            fields.struct.field("to").alias("collector"),
            fields.struct.field("team_id").alias("team_id"),
            fields.struct.field("agency_id").alias("agency_id"),
        )
        .join(teams, on="team_id", how="left")
        .join(agencies, on="agency_id", how="left")
        .select(*ASSIGNMENTS_SCHEMA)
    )  # fmt: skip


def _named_cases(
    cases: pl.DataFrame, creditors: pl.DataFrame, users: pl.DataFrame, teams: pl.DataFrame,
    agencies: pl.DataFrame, arms: pl.DataFrame | None = None,
) -> pl.DataFrame:  # fmt: skip
    """Cases with their creditor's code and zone, their current collector, team and agency
    by name (the small tables joined here, not per case row in SQL) and, when ``arms`` are
    read, their experiment arm as ``experiment/arm`` (a case in several experiments: its
    latest; in none: :data:`~cuishou.kpis.rules.NO_ARM`)."""
    named = (
        cases.join(creditors, on="creditor_id", how="left")
        .join(users.select("user_id", "collector"), on="user_id", how="left")
        .join(teams, on="team_id", how="left")
        .join(agencies, on="agency_id", how="left")
    )
    if arms is None:
        named = named.with_columns(pl.lit(None, dtype=pl.String).alias("arm"))
    else:
        latest = (
            arms.sort("case_id", "experiment_id", descending=[False, True])
            .unique("case_id", keep="first")
            .select("case_id", pl.format("{}/{}", "experiment", "arm_name").alias("arm"))
        )
        named = named.join(latest, on="case_id", how="left").with_columns(
            pl.col("arm").fill_null(NO_ARM)
        )
    return named.select(
        "case_id", "opened_on", "creditor", "tz", "collector", "team", "agency",
        "current_bucket", "arm",
    )  # fmt: skip


def _from_ledger(
    entries: pl.DataFrame, moves: pl.DataFrame, accounts: pl.DataFrame, *, start: date,
    since: date,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:  # fmt: skip
    """The book, first payments and cash from the ledger (entries effective up to the
    period's end): ``entries`` — every entry's ``owed_fen`` when it counts towards the book
    (before ``start``, or the opening ``placement``), else 0; ``moves`` — the payments and
    reversals. Gives ``book`` — per account of a case, the balance from entries before
    ``start`` plus the opening balance; ``first_paid`` — per case, the date of its first
    payment not reversed, when that is in the period; ``cash`` — payments (+) and
    reversals (−) effective from ``since``."""
    # lazy, and the book summed per account before meeting the accounts: the joins then see
    # one row per account and the payments only
    known = accounts.lazy()
    books = (
        entries.lazy()
        .group_by("account_id")
        .agg(pl.col("owed_fen").sum().alias("due_start_fen"))
        .join(known, on="account_id", how="inner")
        .select("account_id", "case_id", "due_start_fen")
    )
    paid = moves.lazy().join(known, on="account_id", how="inner")
    reversed_ = paid.filter((pl.col("kind") == "reversal") & (pl.col("reference") != "")).select(
        "account_id", "reference"
    )
    firsts = (
        paid.filter(pl.col("kind") == "payment")
        .join(reversed_, on=["account_id", "reference"], how="anti")
        .group_by("case_id")
        .agg(pl.col("day").min().alias("first_paid_on"))
        .filter(pl.col("first_paid_on") >= start)
    )
    moved = paid.filter(pl.col("day") >= since).select(
        "case_id", "day", "kind", "reference", "cash_fen"
    )
    book, first_paid, cash = pl.collect_all([books, firsts, moved])
    return book, first_paid, cash


def fetch_facts(
    bulk: Bulk,
    *,
    scope: str,
    start: date,
    end: date,
    since: date | None = None,
    owners: bool = True,
    arms: bool = False,
) -> RawFacts:
    """Everything the KPIs of ``[start, end]`` (business dates) read, for cases in ``scope``
    (SQL text from :func:`scope_sql`); the daily facts (contacts, promises, cash,
    violations) from ``since`` (default ``start``), so one read also serves the trailing
    weeks of the anomaly check.

    Only the cases query carries the scope filter: every other frame is read without joins
    (a join to ``cases`` per fact row costs more than the facts) and the rules keep the rows
    of cases in scope (``kpis.rules.assemble``). Each table is read once, with only the
    columns the rules use (the ledger in two narrow reads: book amounts, and payments and
    reversals); the assignment events and the cases' current holders only when ``owners``
    (an attributed slice asks who had a case when); the cases' experiment arms only when
    ``arms`` (the ``arm`` slice)."""
    first = since or start
    params = _window(first, end)
    owed = "fee_fen + penalty_fen + interest_fen + principal_fen"
    payload = "e.payload" if bulk.sqlite else "CAST(e.payload AS TEXT)"
    # who has each case now: only an attributed slice asks (else null, not read)
    holders = (
        f"""{bulk.nullable("assigned_user_id", "0")} AS user_id,
        {bulk.nullable("team_id", "0")} AS team_id,
        {bulk.nullable("agency_id", "0")} AS agency_id, """
        if owners
        else ""
    )
    # the largest reads first: a parallel read runs them side by side
    queries = {
        "contacts": Query(
            """SELECT id AS contact_id, case_id, user_id, channel, party, outcome, at
            FROM contacts WHERE at >= :lower AND at < :upper""",
            CONTACTS_SCHEMA,
            {"lower": params["lower"], "upper": params["upper"]},
        ),
        "history": Query(
            """SELECT account_id, as_of, dpd, bucket, status FROM bucket_history
            WHERE as_of <= :end""",
            HISTORY_SCHEMA,
            {"end": end},
        ),
        # the ledger in two reads: what each entry adds to the book (two columns a row)
        # and the payments and reversals with their dates and references
        "entries": Query(
            f"""SELECT account_id, CAST(CASE WHEN effective_on < :start OR kind = 'placement'
                THEN {owed} ELSE 0 END AS BIGINT) AS owed_fen
            FROM ledger_entries WHERE effective_on <= :end""",  # noqa: S608 - constant fragments
            ENTRIES_SCHEMA,
            {"start": start, "end": end},
        ),
        "cases": Query(
            f"""SELECT id AS case_id, opened_on, creditor_id, {holders}bucket AS current_bucket
            FROM cases WHERE ({scope})""",  # noqa: S608 - the scope filter is rendered by SQLAlchemy
            CASES_SCHEMA if owners else {c: t for c, t in CASES_SCHEMA.items() if c not in HOLDERS},
        ),
        "accounts": Query(
            "SELECT id AS account_id, case_id FROM accounts WHERE case_id IS NOT NULL",
            ACCOUNTS_SCHEMA,
        ),
        "moves": Query(
            f"""SELECT account_id, kind, effective_on AS day,
                COALESCE(reference, '') AS reference,
                CAST(credit_fen - ({owed}) AS BIGINT) AS cash_fen
            FROM ledger_entries
            WHERE kind IN ('payment', 'reversal') AND effective_on <= :end""",  # noqa: S608
            MOVES_SCHEMA,
            {"end": end},
        ),
        "promises": Query(
            f"""SELECT id AS promise_id, case_id, created_by AS user_id,
                {bulk.nullable("contact_id", "0")} AS contact_id,
                amount_fen, created_at AS at, status
            FROM promises WHERE created_at >= :lower AND created_at < :upper""",  # noqa: S608
            PROMISES_SCHEMA,
            {"lower": params["lower"], "upper": params["upper"]},
        ),
        "reached_before": Query(
            """SELECT DISTINCT case_id FROM contacts WHERE party = 'debtor' AND at < :lower""",
            REACHED_SCHEMA,
            {"lower": params["lower"]},
        ),
        "violations": Query(
            """SELECT case_id, raised_on AS day FROM alerts
            WHERE kind = :kind AND raised_on >= :start AND raised_on <= :end""",
            VIOLATIONS_SCHEMA,
            {"kind": VIOLATION, "start": first, "end": end},
        ),
        "users": Query(USERS_SQL, USERS_SCHEMA),
        "teams": Query("SELECT id AS team_id, name AS team FROM teams", TEAMS_SCHEMA),
        "agencies": Query("SELECT id AS agency_id, code AS agency FROM agencies", AGENCIES_SCHEMA),
        "creditors": Query(
            "SELECT id AS creditor_id, code AS creditor, timezone AS tz FROM creditors",
            CREDITORS_SCHEMA,
        ),
    }
    if owners:
        queries["events"] = Query(
            f"""SELECT e.case_id, e.at, e.id AS event_id, {payload} AS payload FROM events e
            WHERE e.type = :type AND e.at >= :lower AND e.case_id IS NOT NULL""",  # noqa: S608
            EVENTS_SCHEMA,
            {"type": ASSIGNED, "lower": params["lower"]},
        )
    if arms:
        queries["arms"] = Query(
            """SELECT m.case_id, m.experiment_id, e.name AS experiment, m.arm AS arm_name
            FROM experiment_cases m JOIN experiments e ON e.id = m.experiment_id""",
            ARMS_SCHEMA,
        )
    read = bulk.fetch_many(queries)
    users = _blank_to_null(read["users"], ("team", "agency"))
    teams, agencies = read["teams"], read["agencies"]
    book, first_paid, cash = _from_ledger(
        read["entries"], read["moves"], read["accounts"], start=start, since=first
    )
    cases = read["cases"].with_columns(
        pl.lit(None, dtype=CASES_SCHEMA[c]).alias(c) for c in HOLDERS if not owners
    )
    return RawFacts(
        cases=_named_cases(
            cases, read["creditors"], users, teams, agencies, read["arms"] if arms else None
        ),
        reached_before=read["reached_before"],
        first_paid=first_paid,
        book=book,
        history=read["history"],
        cash=cash,
        contacts=read["contacts"],
        promises=read["promises"],
        violations=read["violations"],
        users=users,
        assignments=assignments_of(read["events"], teams, agencies) if owners else None,
    )
