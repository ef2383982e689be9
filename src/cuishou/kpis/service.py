"""KPI use cases: fetch the period's facts, compute every metric (rules), shape the report.

One function serves everything that reports KPIs — the API, the CLI, the overview page and
the simulator — so they cannot disagree::

    figures(source, principal, start, end, by=None, *, config=None) -> KpiReport

* ``source`` — a :class:`~sqlalchemy.orm.Session` (a request: reads inside its transaction)
  or an :class:`~sqlalchemy.Engine` (a batch job or the simulator: one ADBC read
  transaction of its own, Arrow all the way — the fast path for big stores);
* ``principal`` — who asks (needs ``kpi.read``; a collector sees their own cases, a team
  lead their team's, an agency user their agency's, the others everything), or ``None`` for
  the system itself (every case);
* ``start``, ``end`` — business dates, both inclusive, in each creditor's zone;
* ``by`` — ``None`` (the total only) or one of :data:`cuishou.kpis.rules.SLICES`;
* ``config`` — targets and unit costs (default: ``CUISHOU_KPI_CONFIG`` or the shipped file,
  chosen at the edge by :func:`cuishou.kpis.config.default_config`).

The report is what ``GET /api/v1/kpis`` returns (``report.model_dump(by_alias=True)``).
Reading only: nothing is written, so the caller's transaction is left as it was.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.auth.rules import CaseScope, Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.kit.errors import InvalidInput
from cuishou.kit.money import format_yuan
from cuishou.kpis import repository as repo
from cuishou.kpis.config import KpiConfig, default_config
from cuishou.kpis.rules import (
    ANOMALY_METRICS,
    ATTRIBUTED,
    CASE_SLICES,
    SLICES,
    Facts,
    UnitCosts,
    anomalies,
    assemble,
    compute,
    cut,
    progress,
    ranks,
    roll_matrix,
    rounded,
    trailing_start,
    with_rates,
)
from cuishou.kpis.schemas import KpiReport, KpiRow, RollLine
from cuishou.store.bulk import BulkStore, SessionBulk

#: the longest period one report covers (a year and a day: a leap year's whole)
MAX_DAYS = 366
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2099, 12, 31)
RATES = (
    "recovery_rate", "recovery_rate_by_count", "connect_rate", "right_party_rate",
    "promise_rate", "first_contact_promise_rate", "kept_rate", "cure_rate", "self_cure_rate",
    "avg_days_to_first_payment", "contacts_per_collector_day", "calls_per_collector_day",
    "cost_per_yuan", "complaints_per_10k",
)  # fmt: skip
COUNTS = (
    "book_cases", "paying_cases", "payments", "contacts", "calls", "connected", "right_party",
    "promises", "first_contacts", "first_contact_promises", "judged", "kept", "delinquent",
    "cured", "self_cured", "first_payments", "collector_days", "complaints", "violations",
)  # fmt: skip


def check_request(start: date, end: date, by: str | None) -> None:
    """Refuse a period or slice the report cannot be made for, naming the field."""
    for name, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            raise InvalidInput(f"{name}: must be between {FIRST_DAY} and {LAST_DAY}", field=name)
    if start > end:
        raise InvalidInput("from must not be after to", field="from")
    if (end - start).days + 1 > MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days", field="to")
    if by is not None and by not in SLICES:
        raise InvalidInput(f"by must be one of {', '.join(SLICES)}; got {by!r}", field="by")


def scope_for(principal: Principal | None) -> CaseScope:
    if principal is None:
        return CaseScope("all")
    require(principal, "kpi.read")
    return case_scope_of(principal)


def period_facts(
    source: Session | Engine,
    scope: CaseScope,
    start: date,
    end: date,
    since: date | None = None,
    *,
    owners: bool = True,
    arms: bool = False,
) -> Facts:
    """Fetch (one read transaction) and assemble the facts of ``[start, end]`` in scope; with
    ``since``, the daily facts from ``since`` too (:func:`cuishou.kpis.rules.cut` splits);
    who had each case when only if ``owners`` (needed by an attributed slice); the cases'
    experiment arms only if ``arms`` (the ``arm`` slice)."""
    args: dict[str, Any] = {
        "start": start, "end": end, "since": since, "owners": owners, "arms": arms,
    }  # fmt: skip
    if isinstance(source, Session):
        where = repo.scope_sql(scope, source.get_bind().dialect)
        raw = repo.fetch_facts(SessionBulk(source), scope=where, **args)
    else:
        where = repo.scope_sql(scope, source.dialect)
        # a batch: the large tables read side by side, on one snapshot
        with BulkStore(source).read_parallel() as bulk:
            raw = repo.fetch_facts(bulk, scope=where, **args)
    return assemble(
        cases=raw.cases,
        reached_before=raw.reached_before,
        first_paid=raw.first_paid,
        book=raw.book,
        history=raw.history,
        cash=raw.cash,
        contacts=raw.contacts,
        promises=raw.promises,
        violations=raw.violations,
        users=raw.users,
        assignments=raw.assignments,
        start=start,
        end=end,
        since=since,
    )


def slice_counts(
    source: Session | Engine, start: date, end: date, slices: Sequence[str]
) -> dict[str, pl.DataFrame]:
    """Every count and (unrounded) rate of :func:`figures`, one frame per slice in
    ``slices``, over every case, from one read of the facts — for a report that applies its
    own access rule to the rows (``promises.service.promise_stats``). The caller checks
    permission."""
    for by in slices:
        check_request(start, end, by)
    attributed = any(by in ATTRIBUTED for by in slices)
    facts = period_facts(
        source, CaseScope("all"), start, end, owners=attributed, arms="arm" in slices
    )
    return {
        by: with_rates(compute(facts, by=by, start=start, end=end), UnitCosts()) for by in slices
    }


def figures(
    source: Session | Engine,
    principal: Principal | None,
    start: date,
    end: date,
    by: str | None = None,
    *,
    config: KpiConfig | None = None,
) -> KpiReport:
    """The KPIs of ``[start, end]`` (see the module docstring for the arguments)."""
    return figures_by(source, principal, start, end, (by,), config=config)[by]


def figures_by(
    source: Session | Engine,
    principal: Principal | None,
    start: date,
    end: date,
    slices: Sequence[str | None],
    *,
    config: KpiConfig | None = None,
    flag_anomalies: bool = True,
) -> dict[str | None, KpiReport]:
    """One report per slice in ``slices`` from one fetch of the period's facts — what a
    dashboard showing several cuts of the same period needs (``figures`` is its one-slice
    form). ``flag_anomalies=False`` skips the trailing-weeks fetch of ``by="day"``."""
    for by in slices:
        check_request(start, end, by)
    scope = scope_for(principal)
    config = config or default_config()
    # by day, one read also covers the trailing 4 weeks the anomaly flags compare against
    anomalies_wanted = flag_anomalies and "day" in slices
    since = trailing_start(start) if anomalies_wanted else None
    attributed = any(by in ATTRIBUTED for by in slices)
    wide = period_facts(source, scope, start, end, since, owners=attributed, arms="arm" in slices)
    facts = cut(wide, start, end) if since else wide
    costs = config.costs
    total = _row(
        with_rates(compute(facts, by=None, start=start, end=end, costs=costs), costs).row(
            0, named=True
        ),
        config=config,
        by=None,
    )
    roll = [
        RollLine(
            from_bucket=line["from_bucket"],
            to_bucket=line["to_bucket"],
            accounts=line["accounts"],
            rate=rounded(line["rate"]) or 0.0,
        )
        for line in roll_matrix(facts.accounts).iter_rows(named=True)
    ]
    reports: dict[str | None, KpiReport] = {}
    for by in dict.fromkeys(slices):
        rows: list[KpiRow] | None = None
        if by is not None:
            sliced = with_rates(compute(facts, by=by, start=start, end=end, costs=costs), costs)
            flags = _anomalies(wide, sliced, start, config) if by == "day" and since else {}
            rank = ranks([float(v) for v in sliced["recovered_fen"]]) if by in CASE_SLICES else None
            rows = [
                _row(
                    values,
                    config=config,
                    by=by,
                    rank=rank[i] if rank else None,
                    anomalies=flags.get(values["key"], []),
                )
                for i, values in enumerate(sliced.iter_rows(named=True))
            ]
        reports[by] = KpiReport(from_=start, to=end, by=by, rows=rows, total=total, roll_rates=roll)
    return reports


def today_and_month(
    source: Session | Engine,
    principal: Principal,
    today: date,
    *,
    config: KpiConfig | None = None,
) -> tuple[KpiRow, KpiRow]:
    """我的今日与本月: the principal's figures for ``today`` and for its month up to today
    (one fetch). The month's row is the principal's own collector row when the report has
    one (their targets and progress), else the total (the default targets)."""
    reports = figures_by(
        source, principal, today.replace(day=1), today, ("day", "collector"),
        config=config, flag_anomalies=False,
    )  # fmt: skip
    days = {row.key: row for row in reports["day"].rows or []}
    own = [row for row in reports["collector"].rows or [] if row.key == principal.username]
    return days[today.isoformat()], own[0] if own else reports["collector"].total


def _anomalies(
    wide: Facts, daily: pl.DataFrame, start: date, config: KpiConfig
) -> dict[str, list[str]]:
    """Day key -> the metrics of that day more than 3σ from its trailing 4 weeks (``wide``:
    the facts from :func:`trailing_start` on)."""
    before_start = start - timedelta(days=1)
    first = trailing_start(start)
    earlier = cut(wide, first, before_start)
    history = with_rates(
        compute(earlier, by="day", start=first, end=before_start, costs=config.costs),
        config.costs,
    )
    both = pl.concat([history.select(daily.columns), daily]).with_columns(
        pl.col("key").str.to_date("%Y-%m-%d").alias("day")
    )
    flags: dict[str, list[str]] = {}
    for metric in ANOMALY_METRICS:
        judged = anomalies(both, metric).filter(pl.col("anomaly") & (pl.col("day") >= start))
        for day in judged["day"]:
            flags.setdefault(day.isoformat(), []).append(metric.removesuffix("_fen"))
    return flags


def _row(
    values: dict[str, Any],
    *,
    config: KpiConfig,
    by: str | None,
    rank: int | None = None,
    anomalies: list[str] | None = None,
) -> KpiRow:
    figures_: dict[str, Any] = {name: rounded(values[name]) for name in RATES}
    target: dict[str, float] | None = None
    done: dict[str, float | None] | None = None
    if by in (None, "collector", "team"):
        target = config.targets.for_key(by, values["key"])
        done = {m: rounded(progress(figures_.get(m), t)) for m, t in target.items()}
    return KpiRow(
        key=values["key"],
        recovered=format_yuan(values["recovered_fen"]),
        due_at_start=format_yuan(values["due_start_fen"]),
        promised=format_yuan(values["promised_fen"]),
        cost=format_yuan(values["cost_fen"]),
        **{name: values[name] for name in COUNTS},
        **figures_,
        target=target,
        progress=done,
        rank=rank,
        anomalies=anomalies or [],
    )
