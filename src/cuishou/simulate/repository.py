"""The simulator's reads (查询): the facts its workforce and debtors act on, as frames.

Only reads: everything the simulation writes goes through the real paths (the daily
cycle, ``cases.service``, the dialer result import, the payments file import).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import polars as pl
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from cuishou.store.tables import Account, Case, Contact, ContactPoint, Creditor, Promise, User

OWED = Account.fee_fen + Account.penalty_fen + Account.interest_fen + Account.principal_fen


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


def unassigned_open_cases(session: Session) -> list[int]:
    query = (
        select(Case.id)
        .where(Case.status == "open", Case.assigned_user_id.is_(None), Case.agency_id.is_(None))
        .order_by(Case.id)
    )
    return list(session.scalars(query))


def case_facts(session: Session, case_ids: Sequence[int]) -> pl.DataFrame:
    """``case_id, debtor_id, creditor_code, account_no`` (the case's first account),
    ``due_fen``."""
    first_account = (
        select(Account.case_id, func.min(Account.account_no).label("account_no"))
        .where(Account.case_id.in_(list(case_ids)))
        .group_by(Account.case_id)
        .subquery()
    )
    rows = session.execute(
        select(Case.id, Case.debtor_id, Creditor.code, first_account.c.account_no, Case.due_fen)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .join(first_account, first_account.c.case_id == Case.id)
        .where(Case.id.in_(list(case_ids)))
    ).all()
    return pl.DataFrame(
        rows,
        schema={"case_id": pl.Int64, "debtor_id": pl.Int64, "creditor_code": pl.String,
                "account_no": pl.String, "due_fen": pl.Int64},
        orient="row",
    )  # fmt: skip


def phones(session: Session, debtor_ids: Sequence[int]) -> pl.DataFrame:
    """Active phone contact points: ``debtor_id, point_id, value, owner, named``."""
    rows = session.execute(
        select(
            ContactPoint.debtor_id, ContactPoint.id, ContactPoint.value, ContactPoint.owner,
            ContactPoint.owner_name,
        )
        .where(
            ContactPoint.debtor_id.in_(list(debtor_ids)),
            ContactPoint.kind.in_(("mobile", "phone")),
            ContactPoint.status == "active",
        )
        .order_by(ContactPoint.debtor_id, ContactPoint.id)
    ).all()  # fmt: skip
    frame = pl.DataFrame(
        rows,
        schema={"debtor_id": pl.Int64, "point_id": pl.Int64, "value": pl.String,
                "owner": pl.String, "owner_name": pl.String},
        orient="row",
    )  # fmt: skip
    return frame.with_columns((pl.col("owner_name").str.strip_chars() != "").alias("named"))


def contact_history(session: Session, case_ids: Sequence[int], since: datetime) -> pl.DataFrame:
    """``case_id, at, party, outcome`` of the cases' contacts since ``since``, in order."""
    rows = session.execute(
        select(Contact.case_id, Contact.at, Contact.party, Contact.outcome)
        .where(Contact.case_id.in_(list(case_ids)), Contact.at >= since)
        .order_by(Contact.case_id, Contact.at, Contact.id)
    ).all()
    return pl.DataFrame(
        rows,
        schema={"case_id": pl.Int64, "at": pl.Datetime("us", "UTC"), "party": pl.String,
                "outcome": pl.String},
        orient="row",
    )  # fmt: skip


def open_promises(session: Session, case_ids: Sequence[int] | None = None) -> pl.DataFrame:
    """``case_id, due_date, left_fen`` of open promises (of ``case_ids`` when given)."""
    query = select(Promise.case_id, Promise.due_date, Promise.amount_fen - Promise.paid_fen).where(
        Promise.status == "open"
    )
    if case_ids is not None:
        query = query.where(Promise.case_id.in_(list(case_ids)))
    rows = session.execute(query.order_by(Promise.case_id, Promise.due_date)).all()
    return pl.DataFrame(
        rows,
        schema={"case_id": pl.Int64, "due_date": pl.Date, "left_fen": pl.Int64},
        orient="row",
    )


def open_accounts(session: Session) -> pl.DataFrame:
    """Accounts of open cases that owe something: ``case_id, debtor_id, creditor_code,
    account_no, owed_fen, order`` (oldest first within the case)."""
    rows = session.execute(
        select(
            Account.case_id, Case.debtor_id, Creditor.code, Account.account_no, OWED,
            Account.overdue_since, Account.id,
        )
        .join(Case, Case.id == Account.case_id)
        .join(Creditor, Creditor.id == Account.creditor_id)
        .where(Case.status == "open", OWED > 0)
    ).all()  # fmt: skip
    frame = pl.DataFrame(
        rows,
        schema={"case_id": pl.Int64, "debtor_id": pl.Int64, "creditor_code": pl.String,
                "account_no": pl.String, "owed_fen": pl.Int64, "since": pl.Date,
                "account_id": pl.Int64},
        orient="row",
    )  # fmt: skip
    return (
        frame.sort("case_id", "since", "account_id", nulls_last=True)
        .with_columns(pl.int_range(pl.len()).over("case_id").alias("order"))
        .drop("since", "account_id")
    )
