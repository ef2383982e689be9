"""The simulator's reads (查询): the facts its workforce and debtors act on, as frames.

Reads, and one write: :func:`install_strategy` puts the strategy a run is given in force
(a ``strategy_versions`` row, as the simulator's people are its own users) until the
strategy lifecycle service gives a path for it. Everything else the simulation writes goes
through the real paths (the daily cycle, ``cases.service``, the dialer result import,
``contact.service.log_contact``, the payments file import).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.store.bulk import Bulk
from cuishou.store.tables import Account, Case, StrategyVersion, User
from cuishou.strategy.definition import Strategy, text_sha256

#: the author of a strategy version the simulator puts in force
STRATEGY_AUTHOR = "simulator"


def account_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(Account)) or 0)


def users_by_name(session: Session, usernames: Sequence[str]) -> dict[str, User]:
    rows = session.scalars(select(User).where(User.username.in_(list(usernames))))
    return {user.username: user for user in rows}


def debtor_profiles(session: Session) -> pl.DataFrame:
    """``debtor_id, dpd0``: each debtor's worst days past due on their snapshot date."""
    rows = session.execute(
        select(Account.debtor_id, func.min(Account.overdue_since), func.max(Account.snapshot_date))
        .group_by(Account.debtor_id)
        .order_by(Account.debtor_id)
    ).all()
    frame = pl.DataFrame(
        rows, schema={"debtor_id": pl.Int64, "since": pl.Date, "snapshot": pl.Date}, orient="row"
    )
    return frame.select(
        "debtor_id",
        (pl.col("snapshot") - pl.col("since")).dt.total_days().fill_null(0).alias("dpd0"),
    )


def assigned_open_cases(session: Session) -> list[int]:
    """Open in-house cases that have a collector (the month-start re-deal takes them back)."""
    query = (
        select(Case.id)
        .where(Case.status == "open", Case.assigned_user_id.is_not(None), Case.agency_id.is_(None))
        .order_by(Case.id)
    )
    return list(session.scalars(query))


def open_case_count(session: Session) -> int:
    """Open in-house cases (the allocation's capacity is sized on them)."""
    query = select(func.count()).where(Case.status == "open", Case.agency_id.is_(None))
    return int(session.scalar(query.select_from(Case)) or 0)


def unassigned_open_cases(session: Session) -> list[int]:
    query = (
        select(Case.id)
        .where(Case.status == "open", Case.assigned_user_id.is_(None), Case.agency_id.is_(None))
        .order_by(Case.id)
    )
    return list(session.scalars(query))


@dataclass(frozen=True, slots=True)
class DayFacts:
    """What the simulated day acts on, read once after the day's cycle and assignment.

    * ``cases``: ``case_id, debtor_id, creditor_code, account_no`` (the case's first
      account), ``due_fen`` and ``bucket`` of every open case;
    * ``phones``: ``debtor_id, point_id, value, owner, named`` — active phones of their
      debtors, by debtor and id;
    * ``history``: ``case_id, at, party, outcome, channel, source`` of their contacts since
      ``since``, in order;
    * ``promises``: ``case_id, due_date, left_fen`` of open promises;
    * ``accounts``: see :func:`open_accounts`.

    Nothing the day's calls write changes these for the day's payments: calls do not move
    balances or close cases, and a promise taken today falls due tomorrow at the earliest.
    """

    cases: pl.DataFrame
    phones: pl.DataFrame
    history: pl.DataFrame
    promises: pl.DataFrame
    accounts: pl.DataFrame


OPEN_DEBTORS = "SELECT debtor_id FROM cases WHERE status = 'open'"


def day_facts(bulk: Bulk, *, since: datetime) -> DayFacts:
    """One consistent read of the day's facts (:class:`DayFacts`), set-based: a few
    whole-table queries joined on open cases, no per-case lookups and no id lists."""
    cases = bulk.fetch(
        """SELECT c.id AS case_id, c.debtor_id, cr.code AS creditor_code,
            MIN(a.account_no) AS account_no, c.due_fen, c.bucket
        FROM cases c
        JOIN creditors cr ON cr.id = c.creditor_id
        JOIN accounts a ON a.case_id = c.id
        WHERE c.status = 'open'
        GROUP BY c.id, c.debtor_id, cr.code, c.due_fen, c.bucket""",
        schema={"case_id": pl.Int64(), "debtor_id": pl.Int64(), "creditor_code": pl.String(),
                "account_no": pl.String(), "due_fen": pl.Int64(), "bucket": pl.String()},
    )  # fmt: skip
    phones = bulk.fetch(
        f"""SELECT p.debtor_id, p.id AS point_id, p.value, p.owner, p.owner_name
        FROM contact_points p
        WHERE p.kind IN ('mobile', 'phone') AND p.status = 'active'
            AND p.debtor_id IN ({OPEN_DEBTORS})
        ORDER BY p.debtor_id, p.id""",  # noqa: S608 - a constant subquery
        schema={"debtor_id": pl.Int64(), "point_id": pl.Int64(), "value": pl.String(),
                "owner": pl.String(), "owner_name": pl.String()},
    )  # fmt: skip
    history = bulk.fetch(
        """SELECT ct.case_id, ct.at, ct.party, ct.outcome, ct.channel, ct.source
        FROM contacts ct JOIN cases c ON c.id = ct.case_id
        WHERE c.status = 'open' AND ct.at >= :since
        ORDER BY ct.case_id, ct.at, ct.id""",
        schema={"case_id": pl.Int64(), "at": pl.Datetime("us", "UTC"), "party": pl.String(),
                "outcome": pl.String(), "channel": pl.String(), "source": pl.String()},
        since=since,
    )  # fmt: skip
    promises = bulk.fetch(
        """SELECT case_id, due_date, amount_fen - paid_fen AS left_fen
        FROM promises WHERE status = 'open' ORDER BY case_id, due_date""",
        schema={"case_id": pl.Int64(), "due_date": pl.Date(), "left_fen": pl.Int64()},
    )
    return DayFacts(
        cases=cases,
        phones=phones.with_columns(
            (pl.col("owner_name").fill_null("").str.strip_chars() != "").alias("named")
        ),
        history=history,
        promises=promises,
        accounts=open_accounts(bulk),
    )


def open_accounts(bulk: Bulk) -> pl.DataFrame:
    """Accounts of open cases that owe something: ``case_id, debtor_id, creditor_code,
    account_no, owed_fen, order`` (oldest first within the case)."""
    owed = "a.fee_fen + a.penalty_fen + a.interest_fen + a.principal_fen"
    frame = bulk.fetch(
        f"""SELECT a.case_id, c.debtor_id, cr.code AS creditor_code, a.account_no,
            {owed} AS owed_fen, {bulk.nullable("a.overdue_since", "''")} AS since,
            a.id AS account_id
        FROM accounts a
        JOIN cases c ON c.id = a.case_id
        JOIN creditors cr ON cr.id = a.creditor_id
        WHERE c.status = 'open' AND {owed} > 0""",  # noqa: S608 - constant expressions
        schema={"case_id": pl.Int64(), "debtor_id": pl.Int64(), "creditor_code": pl.String(),
                "account_no": pl.String(), "owed_fen": pl.Int64(), "since": pl.Date(),
                "account_id": pl.Int64()},
    )  # fmt: skip
    return (
        frame.sort("case_id", "since", "account_id", nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over("case_id").alias("order"))
        .drop("since", "account_id")
    )


def install_strategy(
    session: Session, strategy: Strategy, text: str, *, effective_from: date, now: datetime
) -> StrategyVersion:
    """Put ``strategy`` in force from ``effective_from``: an ``active`` version by the author
    ``simulator`` (the next version number of its code). A continued run finds the same
    text already in force and adds nothing."""
    sha = text_sha256(text)
    current = session.scalars(
        select(StrategyVersion).where(
            StrategyVersion.code == strategy.code, StrategyVersion.status == "active"
        )
    ).all()
    for version in current:
        started = version.effective_from
        if version.sha256 == sha and started is not None and started <= effective_from:
            return version
    number = session.scalar(
        select(func.max(StrategyVersion.version)).where(StrategyVersion.code == strategy.code)
    )
    version = StrategyVersion(
        code=strategy.code,
        version=int(number or 0) + 1,
        zh=strategy.zh,
        en=strategy.en,
        body=text,
        sha256=sha,
        status="active",
        note="put in force by cuishou simulate --strategy",
        author=STRATEGY_AUTHOR,
        created_at=now,
        approved_by=STRATEGY_AUTHOR,
        approved_at=now,
        effective_from=effective_from,
        activated_by=STRATEGY_AUTHOR,
        activated_at=now,
    )
    session.add(version)
    session.flush()
    return version


#: ``planned_actions`` rows the day's work acts on
PLANNED_SCHEMA: dict[str, pl.DataType] = {
    "case_id": pl.Int64(),
    "action": pl.String(),
    "status": pl.String(),
    "contact_point_id": pl.Int64(),
    "window_start": pl.Datetime("us", "UTC"),
}


def planned_today(bulk: Bulk, day: date) -> pl.DataFrame:
    """The day's plan of open cases (:data:`PLANNED_SCHEMA`), every status."""
    return bulk.fetch(
        """SELECT p.case_id, p.action, p.status, p.contact_point_id, p.window_start
        FROM planned_actions p JOIN cases c ON c.id = p.case_id
        WHERE p.day = :day AND c.status = 'open'
        ORDER BY p.case_id, p.step""",
        PLANNED_SCHEMA,
        day=day,
    )
