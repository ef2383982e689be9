"""Strategy versions in the store (``strategy_versions``), their events, and what validating
a strategy reads: the open cases as the decision table sees them, the active templates,
each creditor's rule pack and the known products."""

from __future__ import annotations

from datetime import date

import polars as pl
from sqlalchemy import func, select, tuple_
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.kit.errors import NotFound
from cuishou.store.bulk import Bulk
from cuishou.store.tables import (
    Creditor,
    Event,
    MessageTemplate,
    Product,
    StrategyVersion,
    User,
)

#: the bucket-history movements that put an account in a (new) bucket
BUCKET_MOVES = ("new", "roll_forward", "roll_back", "cure", "reopen")


def effective_version(session: Session, day: date) -> StrategyVersion | None:
    """The version in force on ``day``: of the active versions, the one that took effect
    last on or before ``day`` (a version activated for a later date is not yet in force)."""
    return session.scalars(
        select(StrategyVersion)
        .where(
            StrategyVersion.status == "active",
            StrategyVersion.effective_from.is_not(None),
            StrategyVersion.effective_from <= day,
        )
        .order_by(
            StrategyVersion.effective_from.desc(),
            StrategyVersion.activated_at.desc(),
            StrategyVersion.id.desc(),
        )
        .limit(1)
    ).first()


def version_by_id(session: Session, version_id: int) -> StrategyVersion | None:
    return session.get(StrategyVersion, version_id)


#: ids are BIGINT and version numbers INTEGER: a larger number names no row (and must not
#: reach the driver)
MAX_ID = 2**63 - 1
MAX_NUMBER = 2**31 - 1


def get_version(session: Session, version_id: int, *, for_update: bool = False) -> StrategyVersion:
    if not 1 <= version_id <= MAX_ID:
        raise NotFound(f"no strategy version {version_id}", version_id=version_id)
    found = session.get(StrategyVersion, version_id, with_for_update=for_update)
    if found is None:
        raise NotFound(f"no strategy version {version_id}", version_id=version_id)
    return found


def version_by_code(session: Session, code: str, version: int) -> StrategyVersion:
    if not 1 <= version <= MAX_NUMBER or len(code) > 32:
        raise NotFound(f"no strategy {code}@{version}", code=code, version=version)
    found = session.scalar(
        select(StrategyVersion).where(
            StrategyVersion.code == code, StrategyVersion.version == version
        )
    )
    if found is None:
        raise NotFound(f"no strategy {code}@{version}", code=code, version=version)
    return found


def next_version(session: Session, code: str) -> int:
    top = session.scalar(
        select(func.max(StrategyVersion.version)).where(StrategyVersion.code == code)
    )
    return (top or 0) + 1


def same_text(session: Session, code: str, sha256: str) -> StrategyVersion | None:
    """A pending or live version of ``code`` with exactly this text."""
    return session.scalar(
        select(StrategyVersion).where(
            StrategyVersion.code == code,
            StrategyVersion.sha256 == sha256,
            StrategyVersion.status.in_(("draft", "approved", "active")),
        )
    )


def add_version(session: Session, **values: object) -> StrategyVersion:
    version = StrategyVersion(**values)
    session.add(version)
    session.flush()
    return version


def list_versions(session: Session) -> list[StrategyVersion]:
    return list(
        session.scalars(
            select(StrategyVersion).order_by(StrategyVersion.code, StrategyVersion.version.desc())
        )
    )


def active_versions(session: Session) -> list[StrategyVersion]:
    return list(
        session.scalars(
            select(StrategyVersion)
            .where(StrategyVersion.status == "active")
            .order_by(StrategyVersion.effective_from, StrategyVersion.id)
            .with_for_update()
        )
    )


def in_force_before(session: Session, current: StrategyVersion) -> StrategyVersion | None:
    """The version that was in force before ``current`` took effect: of the versions ever
    in force (activated, with an effective date), the last to take effect before it (by
    effective date, then activation time, then id — the order :func:`effective_version`
    picks by)."""
    if current.effective_from is None or current.activated_at is None:
        return None
    return session.scalar(
        select(StrategyVersion)
        .where(
            StrategyVersion.id != current.id,
            StrategyVersion.status.in_(("active", "retired")),
            StrategyVersion.activated_at.is_not(None),
            StrategyVersion.effective_from.is_not(None),
            tuple_(StrategyVersion.effective_from, StrategyVersion.activated_at, StrategyVersion.id)
            < tuple_(current.effective_from, current.activated_at, current.id),
        )
        .order_by(
            StrategyVersion.effective_from.desc(),
            StrategyVersion.activated_at.desc(),
            StrategyVersion.id.desc(),
        )
        .limit(1)
    )


def version_events(session: Session, version_id: int) -> list[Event]:
    return list(
        session.scalars(
            select(Event)
            .where(Event.entity_type == "strategy", Event.entity_id == version_id)
            .order_by(Event.at, Event.id)
        )
    )


def user_principal(session: Session, username: str) -> Principal | None:
    """The active user with this login name, as services see people."""
    user = session.scalar(
        select(User).where(func.lower(User.username) == username.lower(), User.active.is_(True))
    )
    if user is None:
        return None
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        agency_id=user.agency_id,
    )


# --------------------------------------------------------------------------- validation


def active_templates(session: Session) -> list[tuple[str, str, str]]:
    """``(code, channel, audience)`` of every active message template."""
    rows = session.execute(
        select(MessageTemplate.code, MessageTemplate.channel, MessageTemplate.audience).where(
            MessageTemplate.status == "active"
        )
    ).all()
    return [(str(code), str(channel), str(audience)) for code, channel, audience in rows]


def creditor_packs(session: Session) -> dict[str, str]:
    """Each creditor's rule pack name, by creditor code."""
    rows = session.execute(select(Creditor.code, Creditor.rule_pack)).all()
    return {str(code): str(pack) for code, pack in rows}


def product_codes(session: Session) -> frozenset[str]:
    return frozenset(str(code) for code in session.scalars(select(Product.code)))


def open_case_frame(bulk: Bulk, day: date) -> pl.DataFrame:
    """Every open case with what the decision table reads (``strategy.rules.CASE_SCHEMA``).

    A minimal read for validation (the daily planning step reads the same facts for its
    own purposes; the two are to become one query)."""
    cases = bulk.fetch(
        f"""SELECT c.id AS case_id, c.debtor_id, cr.code AS creditor_code,
            c.bucket, c.dpd, {bulk.nullable("c.risk_grade", "''")} AS risk_grade,
            c.amount_tier, c.due_fen
        FROM cases c JOIN creditors cr ON cr.id = c.creditor_id
        WHERE c.status = 'open'""",  # noqa: S608 - constant fragments only
        {
            "case_id": pl.Int64(), "debtor_id": pl.Int64(), "creditor_code": pl.String(),
            "bucket": pl.String(), "dpd": pl.Int64(), "risk_grade": pl.String(),
            "amount_tier": pl.String(), "due_fen": pl.Int64(),
        },
    )  # fmt: skip
    accounts = bulk.fetch(
        """SELECT a.case_id, a.product_code, p.placed_on
        FROM cases c JOIN accounts a ON a.case_id = c.id
        JOIN placements p ON p.id = a.placement_id
        WHERE c.status = 'open'""",
        {"case_id": pl.Int64(), "product_code": pl.String(), "placed_on": pl.Date()},
    )
    moved = bulk.fetch(
        f"""SELECT a.case_id, a.bucket, MAX(h.as_of) AS since
        FROM cases c JOIN accounts a ON a.case_id = c.id
        JOIN bucket_history h ON h.account_id = a.id
        WHERE c.status = 'open' AND h.as_of <= :day
            AND h.movement IN ({", ".join(f"'{m}'" for m in BUCKET_MOVES)})
        GROUP BY a.id, a.case_id, a.bucket""",  # noqa: S608 - constant fragments only
        {"case_id": pl.Int64(), "bucket": pl.String(), "since": pl.Date()},
        day=day,
    )
    labels = bulk.fetch(
        """SELECT l.case_id, l.code FROM case_labels l
        JOIN cases c ON c.id = l.case_id WHERE c.status = 'open'""",
        {"case_id": pl.Int64(), "code": pl.String()},
    )
    per_case = accounts.group_by("case_id").agg(
        pl.col("product_code").unique().sort().alias("products"),
        pl.col("placed_on").min().alias("_placed_on"),
    )
    in_bucket = (
        cases.select("case_id", "bucket")
        .join(moved, on=["case_id", "bucket"], how="inner")
        .group_by("case_id")
        .agg(pl.col("since").min().alias("_bucket_since"))
    )
    carried = labels.group_by("case_id").agg(pl.col("code").sort().alias("labels"))
    return (
        cases.join(per_case, on="case_id", how="left")
        .join(in_bucket, on="case_id", how="left")
        .join(carried, on="case_id", how="left")
        .with_columns(
            pl.when(pl.col("risk_grade") == "")
            .then(None)
            .otherwise(pl.col("risk_grade"))
            .alias("risk_grade"),
            pl.col("products").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            pl.col("labels").fill_null(pl.lit([], dtype=pl.List(pl.String))),
            (pl.lit(day) - pl.col("_placed_on"))
            .dt.total_days()
            .fill_null(0)
            .alias("days_since_placement"),
            (pl.lit(day) - pl.col("_bucket_since"))
            .dt.total_days()
            .fill_null(0)
            .alias("days_in_bucket"),
        )
        .drop("_placed_on", "_bucket_since")
        .sort("case_id")
    )
