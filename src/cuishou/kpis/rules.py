"""KPI rules (绩效指标): every metric defined once, computed by pure Polars functions. Pure.

Each metric is a :class:`Metric` record (code, 中文 and English name, numerator ÷
denominator, unit) in :data:`METRICS`; :func:`compute` turns the period's facts
(:class:`Facts`: the cases in scope, their accounts' book and bucket states, ledger cash,
contacts, promises and compliance violations) into one row of counts per slice key, and
:func:`with_rates` adds the rates. A rate is null when its denominator is 0, never a
division error.

Slices (``by``): a time slice (``day``, ``week``, ``month``) keys each fact by its own
business date in the creditor's zone; any other slice is a column of the ``cases`` frame
(``collector``, ``team``, ``agency``, ``creditor``, ``bucket``). A new slice — a strategy
arm — is one more column on that frame and its name in :data:`CASE_SLICES`; nothing here
changes. Definitions and the reasons behind them: ``docs/kpis.md`` and ADR 0019.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import polars as pl

from cuishou.contact.rules import OUTCOMES
from cuishou.engine.steps import local_date_expr


@dataclass(frozen=True, slots=True)
class Metric:
    """One KPI: its code (the API field), names, formula and unit."""

    code: str
    zh: str
    en: str
    numerator: str
    denominator: str | None
    #: ``rate`` (0–1), ``yuan``, ``count``, ``days``, ``per_10k`` or ``yuan_per_yuan``
    unit: str


METRICS: dict[str, Metric] = {
    m.code: m
    for m in (
        Metric("recovered", "回款金额", "amount recovered",
               "payments less reversals effective in the period (ledger cash)", None, "yuan"),
        Metric("recovery_rate", "回款率", "recovery rate",
               "recovered", "amount due at period start (book)", "rate"),
        Metric("recovery_rate_by_count", "回款户数率", "recovery rate by count",
               "cases with net recovery > 0", "cases in the book", "rate"),
        Metric("connect_rate", "接通率", "connect rate",
               "calls that reached someone", "calls", "rate"),
        Metric("right_party_rate", "本人接通率", "right-party contact rate",
               "contacts that reached the debtor", "contacts", "rate"),
        Metric("promise_rate", "承诺率", "promise rate",
               "promises taken", "right-party contacts", "rate"),
        Metric("first_contact_promise_rate", "首次承诺率", "first-contact promise rate",
               "first right-party contacts with a promise",
               "cases whose first right-party contact falls in the period", "rate"),
        Metric("kept_rate", "履约率", "kept rate",
               "promises kept", "promises judged (kept, partly kept, broken)", "rate"),
        Metric("cure_rate", "出催率", "cure rate",
               "accounts cured (M0 or settled at period end)",
               "accounts delinquent at period start", "rate"),
        Metric("self_cure_rate", "自愈率", "self-cure rate",
               "cured accounts whose case had no right-party contact in the period",
               "accounts delinquent at period start", "rate"),
        Metric("avg_days_to_first_payment", "首次回款平均天数", "average days to first payment",
               "days from case opening to its first payment, summed",
               "cases whose first payment falls in the period", "days"),
        Metric("contacts_per_collector_day", "人均日催记量",
               "contacts per collector per working day",
               "contacts", "collector working days (a user with a contact that day)", "count"),
        Metric("calls_per_collector_day", "日均电话量", "calls per collector per working day",
               "calls", "collector working days with a call", "count"),
        Metric("cost_per_yuan", "单位回款成本", "cost per yuan recovered",
               "contacts × unit cost per channel + collector days × hours × hourly cost",
               "recovered", "yuan_per_yuan"),
        Metric("complaints_per_10k", "万次催记投诉率", "complaints per 10,000 contacts",
               "contacts with outcome complaint × 10,000", "contacts", "per_10k"),
        Metric("violations", "违规联系", "compliance violations",
               "compliance_violation alerts raised in the period", None, "count"),
        Metric("roll_rate", "迁徙率", "roll rate (bucket to bucket)",
               "accounts in bucket A at period start and in bucket B at period end",
               "accounts in bucket A at period start", "rate"),
    )
}  # fmt: skip

TIME_SLICES = ("day", "week", "month")
#: slices that credit work to who did it and money to who had the case (see ``Facts``)
ATTRIBUTED = ("collector", "team", "agency")
#: slices that are a column of the cases frame (add ``arm`` here with its column)
CASE_COLUMNS = ("creditor", "bucket", "arm")
#: a case's key in the ``arm`` slice when it never joined an experiment
NO_ARM = "none"
CASE_SLICES = (*ATTRIBUTED, *CASE_COLUMNS)
#: the ``since`` of a case's first owner: from the beginning
EVER = date(1, 1, 1)
#: the owners of no case (when no attributed slice is asked for, none are worked out)
NO_OWNERS = pl.DataFrame(
    schema={"case_id": pl.Int64, "since": pl.Date, "until": pl.Date, "collector": pl.String,
            "team": pl.String, "agency": pl.String}
)  # fmt: skip
SLICES = (*CASE_SLICES, *TIME_SLICES)
CALL = "call"
RIGHT_PARTY = "debtor"
COMPLAINT = "complaint"
CONNECTED = tuple(code for code, outcome in OUTCOMES.items() if outcome.connected)
JUDGED = ("kept", "partly_kept", "broken")
#: the scheme's current bucket (not delinquent) and the status of a paid-off account
CURRENT_BUCKET = "M0"
SETTLED = "settled"
RATE_PLACES = Decimal("0.0001")
#: daily figures watched for anomalies (异常预警)
ANOMALY_METRICS = ("recovered_fen", "calls", "connect_rate", "right_party_rate", "promise_rate")


@dataclass(frozen=True, slots=True)
class UnitCosts:
    """What work costs, in fen: per contact by channel, per collector hour."""

    per_channel_fen: Mapping[str, int] = field(default_factory=dict)
    collector_hour_fen: int = 0
    hours_per_day: int = 8


@dataclass(frozen=True, slots=True)
class Facts:
    """The facts of one period and scope, as frames (schemas in ``kpis.repository``).

    ``cases``: ``case_id``, ``opened_on``, ``first_rpc_id``, ``first_rpc_day``,
    ``first_paid_on`` and one column per case slice. ``accounts``: ``account_id``,
    ``case_id``, ``due_start_fen``, ``start_bucket``, ``start_status``, ``end_bucket``,
    ``end_status``. ``cash``: ledger payments and reversals effective in the period —
    ``case_id``, ``day``, ``kind``, ``reference``, ``cash_fen`` (payment +, reversal −).
    ``contacts``: ``contact_id``, ``case_id``, ``user_id``, ``channel``, ``party``,
    ``outcome``, ``day``. ``promises`` taken in the period: ``promise_id``, ``case_id``,
    ``user_id`` (who took it), ``contact_id``, ``amount_fen``, ``day``, ``status``.
    ``violations``: ``case_id``, ``day``. Every ``day`` is a business date in the case's
    creditor's zone, inside the period.

    Attribution (归属) for the ``collector``, ``team`` and ``agency`` slices: ``users``
    (``user_id``, ``collector``, ``team``, ``agency``) names who made a contact or took a
    promise; ``owners`` (``case_id``, ``since``, ``collector``, ``team``, ``agency``) says
    who had each case from which business date on (:func:`owners_of`).
    """

    cases: pl.DataFrame
    accounts: pl.DataFrame
    cash: pl.DataFrame
    contacts: pl.DataFrame
    promises: pl.DataFrame
    violations: pl.DataFrame
    users: pl.DataFrame
    owners: pl.DataFrame


def check_slice(by: str | None, case_slices: Sequence[str] = CASE_SLICES) -> None:
    if by is not None and by not in (*case_slices, *TIME_SLICES):
        raise ValueError(f"by must be one of {', '.join((*case_slices, *TIME_SLICES))}")


def time_key(day: pl.Expr, by: str) -> pl.Expr:
    """The key of a business date in a time slice: ``2026-11-02``, ``2026-W45``, ``2026-11``."""
    if by == "day":
        return day.dt.strftime("%Y-%m-%d")
    if by == "week":
        return day.dt.strftime("%G-W%V")
    return day.dt.strftime("%Y-%m")


def period_keys(start: date, end: date, by: str) -> list[str]:
    """Every key of a time slice in ``[start, end]``, in order."""
    days = pl.date_range(start, end, interval="1d", eager=True)
    keys = pl.DataFrame({"d": days}).select(time_key(pl.col("d"), by).alias("k"))["k"]
    return list(dict.fromkeys(str(k) for k in keys))


def owner_on(frame: pl.DataFrame, owners: pl.DataFrame, by: str) -> pl.DataFrame:
    """``frame`` (``case_id``, ``day``) with ``key``: the ``by`` of whoever had the case on
    that business date (the owner interval ``[since, until)`` holding it).

    Most cases have one owner in the period: they are a plain join; only the rows of cases
    that changed hands are matched to their intervals."""
    return _owner_on(frame.lazy(), owners, by).collect()


def _owner_on(frame: pl.LazyFrame, owners: pl.DataFrame, by: str) -> pl.LazyFrame:
    key = pl.col(by).alias("key")
    is_steady = pl.col("until").is_null() & (pl.col("since") == EVER)
    steady = owners.filter(is_steady)
    moved = owners.filter(~pl.col("case_id").is_in(steady.get_column("case_id").implode()))
    held = (pl.col("day") >= pl.col("since")) & (
        pl.col("until").is_null() | (pl.col("day") < pl.col("until"))
    )
    return pl.concat(
        [
            frame.join(steady.lazy().select("case_id", key), on="case_id", how="inner"),
            frame.join(
                moved.lazy().select("case_id", "since", "until", key), on="case_id", how="inner"
            )
            .filter(held)
            .drop("since", "until"),
        ]
    )


def _keyed(
    frame: pl.DataFrame | pl.LazyFrame, facts: Facts, by: str | None, credit: str
) -> pl.LazyFrame:
    """``frame`` (as a lazy plan) with a ``key`` column: its day's time key, its case's
    slice value, or for an attributed slice (:data:`ATTRIBUTED`) the ``by`` of who gets the
    credit — ``actor``: the user who did it (``user_id``); ``owner``: who had the case that
    day (``day``)."""
    rows = frame.lazy()
    if by is None:
        return rows.with_columns(pl.lit("total").alias("key"))
    if by in TIME_SLICES:
        return rows.with_columns(time_key(pl.col("day"), by).alias("key"))
    if by in ATTRIBUTED:
        if credit == "actor":
            who = facts.users.lazy().select("user_id", pl.col(by).alias("key"))
            return rows.join(who, on="user_id", how="left")
        return _owner_on(rows, facts.owners, by)
    keys = facts.cases.lazy().select("case_id", pl.col(by).cast(pl.String).alias("key"))
    return rows.join(keys, on="case_id", how="inner")


COUNTS = (
    "due_start_fen", "book_cases", "recovered_fen", "payments", "paying_cases",
    "contacts", "calls", "connected", "right_party", "complaints", "collector_days",
    "call_collector_days", "contact_cost_fen", "promises", "promised_fen", "judged", "kept",
    "partly_kept", "broken",
    "first_contacts", "first_contact_promises", "delinquent", "cured", "self_cured",
    "first_payments", "days_to_first_payment", "violations",
)  # fmt: skip
#: counts that come from account states at the period's start and end (not per day)
STATE_COUNTS = ("delinquent", "cured", "self_cured")


def _book(facts: Facts) -> pl.LazyFrame:
    """Per case: the amount due at period start (the book) — ``due_start_fen``."""
    return (
        facts.accounts.lazy()
        .group_by("case_id")
        .agg(pl.col("due_start_fen").sum())
        .filter(pl.col("due_start_fen") > 0)
    )


def _contact_cost(costs: UnitCosts) -> pl.Expr:
    unit = pl.col("channel").replace_strict(
        dict(costs.per_channel_fen), default=0, return_dtype=pl.Int64
    )
    return unit.sum().alias("contact_cost_fen")


def _cures(facts: Facts) -> pl.LazyFrame:
    """Per account delinquent at period start: cured and self-cured flags (0/1)."""
    reached = facts.contacts.filter(pl.col("party") == RIGHT_PARTY).get_column("case_id")
    delinquent = facts.accounts.lazy().filter(
        (pl.col("start_status") == "open")
        & pl.col("start_bucket").is_not_null()
        & (pl.col("start_bucket") != CURRENT_BUCKET)
    )
    ended = (pl.col("end_status") == SETTLED) | (pl.col("end_bucket") == CURRENT_BUCKET)
    cured = ended.fill_null(False)
    return delinquent.select(
        "case_id",
        pl.lit(1).alias("delinquent"),
        cured.cast(pl.Int64).alias("cured"),
        (cured & ~pl.col("case_id").is_in(reached.implode())).cast(pl.Int64).alias("self_cured"),
    )


def compute(
    facts: Facts,
    *,
    by: str | None,
    start: date,
    end: date,
    costs: UnitCosts = UnitCosts(),
) -> pl.DataFrame:
    """One row per slice key with every count in :data:`COUNTS` (``Int64``, 0 when none).

    Without ``by`` the one row's key is ``total``. In a time slice every day, week or month
    of ``[start, end]`` has a row; the book (``due_start_fen``, ``book_cases``) is the
    period's, repeated on each row (so the rows' recovery rates add up to the total's), and
    the state counts (cures) are null — they compare the period's start with its end.
    """
    timed = by in TIME_SLICES
    # every part is a lazy plan over the facts, collected together at the end
    plans: list[pl.LazyFrame] = []

    book = _book(facts)
    if timed or by is None:
        plans.append(
            book.select(
                pl.col("due_start_fen").sum().fill_null(0).cast(pl.Int64),
                pl.len().cast(pl.Int64).alias("book_cases"),
            )
        )
    else:
        plans.append(
            _keyed(book.with_columns(pl.lit(start).alias("day")), facts, by, "owner")
            .group_by("key")
            .agg(pl.col("due_start_fen").sum(), pl.len().alias("book_cases"))
        )

    cash = _keyed(facts.cash, facts, by, "owner")
    refs = cash.group_by("key", "kind").agg(pl.struct("case_id", "reference").n_unique().alias("n"))
    plans.append(
        cash.group_by("key")
        .agg(pl.col("cash_fen").sum().alias("recovered_fen"))
        .join(
            refs.group_by("key").agg(
                (
                    pl.col("n").filter(pl.col("kind") == "payment").sum()
                    - pl.col("n").filter(pl.col("kind") == "reversal").sum()
                ).alias("payments")
            ),
            on="key",
            how="left",
        )
    )
    plans.append(
        cash.group_by("key", "case_id")
        .agg(pl.col("cash_fen").sum())
        .group_by("key")
        .agg((pl.col("cash_fen") > 0).sum().alias("paying_cases"))
    )

    contacts = _keyed(facts.contacts, facts, by, "actor")
    is_call = pl.col("channel") == CALL
    plans.append(
        contacts.group_by("key").agg(
            pl.len().alias("contacts"),
            is_call.sum().alias("calls"),
            (is_call & pl.col("outcome").is_in(CONNECTED)).sum().alias("connected"),
            (pl.col("party") == RIGHT_PARTY).sum().alias("right_party"),
            (pl.col("outcome") == COMPLAINT).sum().alias("complaints"),
            _contact_cost(costs),
        )
    )
    # collector days: the distinct (user, day) pairs of a key, with or without a call
    plans.append(
        contacts.group_by("key", "user_id", "day")
        .agg(is_call.any().alias("called"))
        .group_by("key")
        .agg(pl.len().alias("collector_days"), pl.col("called").sum().alias("call_collector_days"))
    )

    promises = _keyed(facts.promises, facts, by, "actor")
    plans.append(
        promises.group_by("key").agg(
            pl.len().alias("promises"),
            pl.col("amount_fen").sum().alias("promised_fen"),
            pl.col("status").is_in(JUDGED).sum().alias("judged"),
            (pl.col("status") == "kept").sum().alias("kept"),
            (pl.col("status") == "partly_kept").sum().alias("partly_kept"),
            (pl.col("status") == "broken").sum().alias("broken"),
        )
    )

    # 首次承诺: the case's first right-party contact ever falls in the period; a promise
    # taken at it (linked to that contact, or unlinked and taken the same day) counts
    first = (
        facts.cases.lazy()
        .filter(pl.col("first_rpc_day").is_between(start, end))
        .select(
            "case_id", "first_rpc_id", pl.col("first_rpc_day").alias("day"),
            pl.col("first_rpc_user").alias("user_id"),
        )
    )  # fmt: skip
    promised = (
        facts.promises.lazy()
        .join(first.rename({"day": "first_day"}), on="case_id", how="inner")
        .filter(
            (pl.col("contact_id") == pl.col("first_rpc_id"))
            | (pl.col("contact_id").is_null() & (pl.col("day") == pl.col("first_day")))
        )
        .select("case_id")
        .unique()
        .with_columns(pl.lit(1).alias("promised"))
    )
    plans.append(
        _keyed(first.join(promised, on="case_id", how="left"), facts, by, "actor")
        .group_by("key")
        .agg(
            pl.len().alias("first_contacts"),
            pl.col("promised").fill_null(0).sum().alias("first_contact_promises"),
        )
    )

    paid = (
        facts.cases.lazy()
        .filter(pl.col("first_paid_on").is_between(start, end))
        .select(
            "case_id",
            pl.col("first_paid_on").alias("day"),
            (pl.col("first_paid_on") - pl.col("opened_on")).dt.total_days().alias("days"),
        )
    )
    plans.append(
        _keyed(paid, facts, by, "owner")
        .group_by("key")
        .agg(pl.len().alias("first_payments"), pl.col("days").sum().alias("days_to_first_payment"))
    )

    plans.append(
        _keyed(facts.violations, facts, by, "owner")
        .group_by("key")
        .agg(pl.len().alias("violations"))
    )
    if not timed:
        plans.append(
            _keyed(_cures(facts).with_columns(pl.lit(start).alias("day")), facts, by, "owner")
            .group_by("key")
            .agg(pl.col(c).sum() for c in STATE_COUNTS)
        )

    collected = pl.collect_all(plans)
    if timed or by is None:
        total_book, parts = collected[0], collected[1:]
    else:
        parts = collected
    if by is None:
        keys = pl.DataFrame({"key": ["total"]})
    elif timed:
        keys = pl.DataFrame({"key": period_keys(start, end, by)}, schema={"key": pl.String})
    else:
        present = [p.select("key") for p in parts if p.height]
        keys = pl.concat(present).unique() if present else pl.DataFrame(schema={"key": pl.String})
    rows = keys
    for part in parts:
        rows = rows.join(part.with_columns(pl.col("key").cast(pl.String)), on="key", how="left",
                         nulls_equal=True)  # fmt: skip
    if timed or by is None:
        rows = rows.join(total_book, how="cross")
    for name in COUNTS:
        if name not in rows.columns:
            rows = rows.with_columns(pl.lit(None, dtype=pl.Int64).alias(name))
    fill = [c for c in COUNTS if not (timed and c in STATE_COUNTS)]
    rows = rows.with_columns(pl.col(c).cast(pl.Int64).fill_null(0) for c in fill).with_columns(
        pl.col(c).cast(pl.Int64) for c in STATE_COUNTS
    )
    order = [pl.col("key")] if timed or by is None else [pl.col("key").is_null(), pl.col("key")]
    return rows.select("key", *COUNTS).sort(order)


def _ratio(numerator: pl.Expr, denominator: pl.Expr, scale: int = 1) -> pl.Expr:
    return (
        pl.when(denominator > 0)
        .then(numerator.cast(pl.Float64) * scale / denominator.cast(pl.Float64))
        .otherwise(None)
    )


def cost_fen_expr(costs: UnitCosts) -> pl.Expr:
    """What the slice's work cost: contacts at their channel's unit cost plus collector days
    at ``hours_per_day`` × the hourly cost."""
    return pl.col("contact_cost_fen") + pl.col("collector_days") * (
        costs.hours_per_day * costs.collector_hour_fen
    )


def with_rates(rows: pl.DataFrame, costs: UnitCosts = UnitCosts()) -> pl.DataFrame:
    """The counts of :func:`compute` with every rate added (null on a zero denominator)."""
    c = pl.col
    return rows.with_columns(cost_fen_expr(costs).alias("cost_fen")).with_columns(
        _ratio(c("recovered_fen"), c("due_start_fen")).alias("recovery_rate"),
        _ratio(c("paying_cases"), c("book_cases")).alias("recovery_rate_by_count"),
        _ratio(c("connected"), c("calls")).alias("connect_rate"),
        _ratio(c("right_party"), c("contacts")).alias("right_party_rate"),
        _ratio(c("promises"), c("right_party")).alias("promise_rate"),
        _ratio(c("first_contact_promises"), c("first_contacts")).alias(
            "first_contact_promise_rate"
        ),
        _ratio(c("kept"), c("judged")).alias("kept_rate"),
        _ratio(c("cured"), c("delinquent")).alias("cure_rate"),
        _ratio(c("self_cured"), c("delinquent")).alias("self_cure_rate"),
        _ratio(c("days_to_first_payment"), c("first_payments")).alias("avg_days_to_first_payment"),
        _ratio(c("contacts"), c("collector_days")).alias("contacts_per_collector_day"),
        _ratio(c("calls"), c("call_collector_days")).alias("calls_per_collector_day"),
        _ratio(c("cost_fen"), c("recovered_fen")).alias("cost_per_yuan"),
        _ratio(c("complaints"), c("contacts"), 10_000).alias("complaints_per_10k"),
    )


def rounded(value: float | None, places: Decimal = RATE_PLACES) -> float | None:
    """A figure as it is reported: four decimal places, half up (``None`` stays ``None``)."""
    if value is None:
        return None
    return float(Decimal(repr(value)).quantize(places, rounding=ROUND_HALF_UP))


def roll_matrix(accounts: pl.DataFrame) -> pl.DataFrame:
    """迁徙率: accounts by bucket at period start × bucket at period end, with the share of
    each start bucket's accounts (``rate``). A settled account ends in ``settled``; an
    account first seen in the period starts in ``new``."""
    moved = accounts.filter(pl.col("end_bucket").is_not_null()).select(
        pl.col("start_bucket").fill_null("new").alias("from_bucket"),
        pl.when(pl.col("end_status") == SETTLED)
        .then(pl.lit(SETTLED))
        .otherwise(pl.col("end_bucket"))
        .alias("to_bucket"),
    )
    counts = moved.group_by("from_bucket", "to_bucket").agg(pl.len().alias("accounts"))
    return (
        counts.with_columns(
            (pl.col("accounts") / pl.col("accounts").sum().over("from_bucket")).alias("rate")
        )
        .with_columns(pl.col("accounts").cast(pl.Int64))
        .sort("from_bucket", "to_bucket")
    )


def anomalies(
    daily: pl.DataFrame,
    metric: str,
    *,
    window: int = 28,
    sigmas: float = 3.0,
    min_points: int = 7,
) -> pl.DataFrame:
    """异常: days whose ``metric`` is more than ``sigmas`` standard deviations from the mean
    of the ``window`` days before it (the trailing 4 weeks, the day itself excluded).

    ``daily`` has ``day`` (a date, one row per day, in order) and ``metric``. Returns
    ``day``, the value, the trailing ``mean`` and ``std`` and ``anomaly`` (bool). A day with
    fewer than ``min_points`` earlier values, a null value or a flat history (std 0) is
    never flagged: there is nothing to be anomalous against.
    """
    ordered = daily.sort("day").select("day", pl.col(metric).cast(pl.Float64).alias("value"))
    trailing = pl.col("value").shift(1)
    return ordered.with_columns(
        trailing.rolling_mean(window_size=window, min_samples=min_points).alias("mean"),
        trailing.rolling_std(window_size=window, min_samples=min_points).alias("std"),
    ).with_columns(
        (
            pl.col("value").is_not_null()
            & (pl.col("std") > 0)
            & ((pl.col("value") - pl.col("mean")).abs() > sigmas * pl.col("std"))
        )
        .fill_null(False)
        .alias("anomaly")
    )


def trailing_start(start: date, window: int = 28) -> date:
    """The first day whose figures the anomaly check of ``start`` looks back to."""
    return start - timedelta(days=window)


@dataclass(frozen=True, slots=True)
class Targets:
    """Monthly targets (月度目标): defaults, then per team and per collector overrides."""

    defaults: Mapping[str, float]
    teams: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    collectors: Mapping[str, Mapping[str, float]] = field(default_factory=dict)

    def for_key(self, by: str | None, key: str | None) -> dict[str, float]:
        """The targets of a row: a collector's or team's own over the defaults."""
        own: Mapping[str, float] = {}
        if by == "team" and key is not None:
            own = self.teams.get(key, {})
        elif by == "collector" and key is not None:
            own = self.collectors.get(key, {})
        return {**self.defaults, **own}


def progress(actual: float | None, target: float) -> float | None:
    """目标完成率: the figure as a share of its target (``None`` when either is missing)."""
    if actual is None or target <= 0:
        return None
    return actual / target


def ranks(values: Sequence[float | None]) -> list[int | None]:
    """排名: 1 for the highest value, ties share a rank (competition ranking); no value, no
    rank."""
    present = sorted((v for v in values if v is not None), reverse=True)
    return [None if v is None else present.index(v) + 1 for v in values]


#: a quarter hour in microseconds (every zone's offset is a whole number of them)
QUARTER_HOUR_US = 900_000_000


def _local_day(frame: pl.DataFrame, at: str = "at") -> pl.DataFrame:
    """``frame`` with ``day``: the business date of ``at`` in each row's zone ``tz``.

    Every zone's offset is a whole number of quarter hours, so a time's local date is its
    quarter hour's: only the distinct (zone, quarter hour) pairs are converted — a few
    thousand for a quarter's million contacts — and joined back (on the quarter hour alone
    when every row has the same zone)."""
    slot = (pl.col(at).dt.epoch("us") // QUARTER_HOUR_US).alias("_slot")
    slotted = frame.with_columns(slot)
    keys = slotted.select("tz", "_slot").unique()
    zones = [str(z) for z in keys.get_column("tz").unique().drop_nulls().to_list()]
    moment = (pl.col("_slot") * QUARTER_HOUR_US).cast(pl.Datetime("us", "UTC"))
    keys = keys.with_columns(local_date_expr(moment, pl.col("tz"), zones).alias("day"))
    on = ["_slot"] if keys.get_column("tz").n_unique() == 1 else ["tz", "_slot"]
    return slotted.join(keys.select(*on, "day"), on=on, how="left", nulls_equal=True).drop("_slot")


def _in_cases(frame: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` whose ``case_id`` is one of ``cases``' (a semi-join as a
    hash-set filter: several times cheaper than a join on a million rows)."""
    return frame.filter(pl.col("case_id").is_in(cases.get_column("case_id").implode()))


def _with_zone(frame: pl.DataFrame, cases: pl.DataFrame) -> pl.DataFrame:
    """The rows of ``frame`` of ``cases``, with their case's zone ``tz``; one zone for every
    case (one creditor, or creditors in one zone) is a filter and a constant, not a join."""
    zones = cases.get_column("tz").unique()
    if zones.len() == 1:
        return _in_cases(frame, cases).with_columns(pl.lit(zones[0], pl.String).alias("tz"))
    return frame.join(cases.select("case_id", "tz"), on="case_id", how="inner")


def _firsts(key: str) -> pl.Expr:
    """True on the first row of each ``key`` of a frame sorted by ``key`` (no hashing)."""
    return (pl.col(key) != pl.col(key).shift(1)).fill_null(True)


def _lasts(key: str) -> pl.Expr:
    """True on the last row of each ``key`` of a frame sorted by ``key``."""
    return (pl.col(key) != pl.col(key).shift(-1)).fill_null(True)


def _states(history: pl.DataFrame, start: date) -> pl.DataFrame:
    """Each account's state at period start (its last history row before ``start``, else its
    first row in the period) and at period end (its last row up to the end), one row per
    account with history: ``account_id``, ``start_dpd``, ``start_bucket``, ``start_status``,
    ``end_bucket``, ``end_status``.

    Sorted by account and date, both rows are found by comparing each row with its
    neighbours; every account has exactly one of each, in the same order, so the two sets
    of rows sit side by side without a join."""
    ordered = history.sort("account_id", "as_of")
    before = pl.col("as_of") < start
    first, last = _firsts("account_id"), _lasts("account_id")
    at_start = (before & (last | ~before.shift(-1).fill_null(False))) | (~before & first)
    opening = ordered.filter(at_start).select(
        "account_id",
        pl.col("dpd").alias("start_dpd"),
        pl.col("bucket").alias("start_bucket"),
        pl.col("status").alias("start_status"),
    )
    closing = ordered.filter(last).select(
        pl.col("bucket").alias("end_bucket"), pl.col("status").alias("end_status")
    )
    return opening.hstack(closing)


def owners_of(
    cases: pl.DataFrame, assignments: pl.DataFrame, users: pl.DataFrame, first: date = EVER
) -> pl.DataFrame:
    """Who had each case from which business date on (分案区间): ``case_id``, ``since``,
    ``until`` (exclusive; null: still), ``collector``, ``team``, ``agency``.

    ``assignments`` are the ``case.assigned`` events from the window's start on. Each gives
    the case to its ``collector`` (with the team and agency it records) from the business
    date it happened on, in the creditor's zone; the last of a day's events holds for the
    day. Before its first event a case was with that event's ``from_collector`` (with that
    user's team and agency); a case with no event is with its current collector, team and
    agency all along (every reassignment writes an event, so they are the last event's).
    Intervals that ended before ``first`` (the first day asked about) are left out; the
    earliest one left starts at :data:`EVER`."""
    events = _local_day(_with_zone(assignments, cases)).sort("case_id", "at", "event_id")
    changes = events.unique(subset=["case_id", "day"], keep="last", maintain_order=True).select(
        "case_id", pl.col("day").alias("since"), "collector", "team", "agency"
    )
    before = (
        events.unique(subset=["case_id"], keep="first", maintain_order=True)
        .select("case_id", pl.col("from_collector").alias("collector"))
        .join(users.select("collector", "team", "agency"), on="collector", how="left")
    )
    moved = pl.col("case_id").is_in(events.get_column("case_id").implode())
    never = cases.filter(~moved).select("case_id", "collector", "team", "agency")
    intervals = (
        pl.concat(
            [
                pl.concat([before, never]).select(
                    "case_id", pl.lit(EVER).alias("since"), "collector", "team", "agency"
                ),
                changes,
            ]
        )
        .sort("case_id", "since")
        .with_columns(
            pl.when(pl.col("case_id").shift(-1) == pl.col("case_id"))
            .then(pl.col("since").shift(-1))
            .alias("until")
        )
        .filter(pl.col("until").is_null() | (pl.col("until") > first))
    )
    starts = pl.col("case_id").shift(1).fill_null(-1) != pl.col("case_id")
    return intervals.with_columns(
        pl.when(starts).then(pl.lit(EVER)).otherwise(pl.col("since")).alias("since")
    ).select("case_id", "since", "until", "collector", "team", "agency")


def assemble(
    *,
    cases: pl.DataFrame,
    reached_before: pl.DataFrame,
    first_paid: pl.DataFrame,
    book: pl.DataFrame,
    history: pl.DataFrame,
    cash: pl.DataFrame,
    contacts: pl.DataFrame,
    promises: pl.DataFrame,
    violations: pl.DataFrame,
    users: pl.DataFrame,
    assignments: pl.DataFrame | None,
    start: date,
    end: date,
    since: date | None = None,
) -> Facts:
    """The period's :class:`Facts` from the frames the repository reads.

    Only ``cases`` is scoped: every other frame keeps the rows of those cases. Times become
    business dates in the case's creditor's zone and are cut to ``[start, end]``; bucket
    history becomes each account's state at the period's start and end; a case's ``bucket``
    is its worst account's bucket at period start (its current bucket if it has no history);
    its first right-party contact is its earliest in the window unless it had one before
    (``reached_before``). Owners (:func:`owners_of`) are worked out when ``assignments``
    are given; without them an attributed slice cannot be computed.

    With ``since`` (before ``start``) the daily frames (cash, contacts, promises,
    violations) keep ``[since, end]``: :func:`cut` then gives the period's facts and those of
    the weeks before it from one read."""
    book = _in_cases(book, cases)
    in_book = pl.col("account_id").is_in(book.get_column("account_id").implode())
    accounts = book.join(_states(history.filter(in_book), start), on="account_id", how="left")
    worst = (
        accounts.filter(pl.col("start_bucket").is_not_null())
        .sort("case_id", "start_dpd", "account_id", descending=[False, True, False])
        .filter(_firsts("case_id"))
        .select("case_id", pl.col("start_bucket").alias("bucket"))
    )
    contacts = _local_day(_with_zone(contacts, cases))
    reached = pl.col("case_id").is_in(reached_before.get_column("case_id").implode())
    rpc = (
        contacts.filter((pl.col("party") == RIGHT_PARTY) & ~reached)
        .sort("case_id", "at", "contact_id")
        .filter(_firsts("case_id"))
        .select("case_id", pl.col("contact_id").alias("first_rpc_id"),
                pl.col("day").alias("first_rpc_day"), pl.col("user_id").alias("first_rpc_user"))
    )  # fmt: skip
    in_window = pl.col("day").is_between(since or start, end)
    framed = (
        cases.lazy()
        .join(worst.lazy(), on="case_id", how="left")
        .with_columns(pl.col("bucket").fill_null(pl.col("current_bucket")))
        .join(rpc.lazy(), on="case_id", how="left")
        .join(first_paid.lazy(), on="case_id", how="left")
        .collect()
    )
    return Facts(
        cases=framed,
        accounts=accounts.drop("start_dpd"),
        cash=_in_cases(cash, cases).filter(in_window),
        contacts=contacts.filter(in_window).drop("at", "tz"),
        promises=_local_day(_with_zone(promises, cases)).filter(in_window).drop("at", "tz"),
        violations=_in_cases(violations, cases).filter(in_window),
        users=users,
        owners=NO_OWNERS
        if assignments is None
        else owners_of(cases, assignments, users, since or start),
    )


def cut(facts: Facts, first: date, last: date) -> Facts:
    """The facts with only the daily rows (cash, contacts, promises, violations) of
    ``[first, last]``; cases and account states are kept as they are."""
    in_days = pl.col("day").is_between(first, last)
    return replace(
        facts,
        cash=facts.cash.filter(in_days),
        contacts=facts.contacts.filter(in_days),
        promises=facts.promises.filter(in_days),
        violations=facts.violations.filter(in_days),
    )


def of_members(facts: Facts, members: pl.DataFrame) -> Facts:
    """The facts of a set of cases, each counted from its own first day — a cohort whose
    cases joined on different days (a champion/challenger arm, 策略实验分组).

    ``members`` has ``case_id``, ``since`` (the first business day counted for the case) and
    any slice columns (e.g. ``arm``): they join the cases frame, so ``compute(by=<column>)``
    cuts the figures by them. Cases not in ``members`` are left out; the daily facts (cash,
    contacts, promises, violations) keep the days from each case's ``since``. The book stays
    the period's (the amount due at the period's start, or at placement if later)."""
    since = members.select("case_id", "since")
    ids = members.select("case_id")

    def from_since(frame: pl.DataFrame) -> pl.DataFrame:
        return (
            frame.join(since, on="case_id", how="inner")
            .filter(pl.col("day") >= pl.col("since"))
            .drop("since")
        )

    return replace(
        facts,
        # the members' slice columns replace the cases' own (e.g. ``arm``)
        cases=facts.cases.drop(
            [c for c in members.columns if c not in ("case_id", "since")], strict=False
        ).join(members.drop("since"), on="case_id", how="inner"),
        accounts=facts.accounts.join(ids, on="case_id", how="semi"),
        cash=from_since(facts.cash),
        contacts=from_since(facts.contacts),
        promises=from_since(facts.promises),
        violations=from_since(facts.violations),
        owners=facts.owners.join(ids, on="case_id", how="semi"),
    )
