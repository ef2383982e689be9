"""The dashboards' tables (看板报表), as plain data: one definition per table serves the page,
its CSV and its XLSX, so what a person reads and what they download cannot disagree. Pure.

A table is cut from a :class:`~cuishou.kpis.schemas.KpiReport`; it adds no figure of its own
(every value is a field of the report). Cells are typed for the spreadsheet: text, ``int``
counts, ``float`` rates from 0 to 1, :class:`~decimal.Decimal` yuan, ``None`` where a rate has
no denominator. Headers are label keys, translated by the caller (``metric.<code>`` for a
metric of :data:`cuishou.kpis.rules.METRICS`, ``kpi.<name>`` for the rest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from cuishou.kpis.config import TARGETS
from cuishou.kpis.rules import METRICS
from cuishou.kpis.schemas import KpiReport, KpiRow

#: table name -> the slice (``by``) it is cut from; ``roll`` comes with every report
TABLES: dict[str, str | None] = {
    "days": "day",
    "teams": "team",
    "collectors": "collector",
    "roll": None,
}
#: how a cell is shown: text, count, yuan, rate (a share), number (a plain figure)
KINDS = ("text", "count", "yuan", "rate", "number")


@dataclass(frozen=True, slots=True)
class Column:
    """``field``: a :class:`KpiRow` field, ``target.<metric>`` or ``progress.<metric>``."""

    field: str
    kind: str


@dataclass(frozen=True, slots=True)
class Table:
    name: str
    columns: tuple[Column, ...]
    rows: list[list[object]]

    def headers(self, label: Callable[[str], str]) -> list[str]:
        return [
            label(f"kpi.key_{self.name}") if c.field == "key" else header(c.field, label)
            for c in self.columns
        ]


def header(field: str, label: Callable[[str], str]) -> str:
    """A column's header in the caller's language (``label`` translates a label key)."""
    kind, _, metric = field.partition(".")
    if kind in ("target", "progress") and metric:
        return label(f"kpi.{kind}_of").format(metric=header(metric, label))
    if field in METRICS:
        return label(f"metric.{field}")
    return label(f"kpi.{field}")


_FIGURES = (
    Column("recovered", "yuan"),
    Column("recovery_rate", "rate"),
    Column("calls", "count"),
    Column("connected", "count"),
    Column("connect_rate", "rate"),
    Column("right_party", "count"),
    Column("promises", "count"),
    Column("promise_rate", "rate"),
    Column("first_contact_promise_rate", "rate"),
    Column("kept_rate", "rate"),
    Column("calls_per_collector_day", "number"),
)
DAY_COLUMNS = (
    Column("key", "text"),
    Column("recovered", "yuan"),
    Column("recovery_rate", "rate"),
    Column("payments", "count"),
    Column("calls", "count"),
    Column("connected", "count"),
    Column("connect_rate", "rate"),
    Column("right_party", "count"),
    Column("promises", "count"),
    Column("promise_rate", "rate"),
    Column("anomalies", "text"),
)
ROLL_COLUMNS = (
    Column("from_bucket", "text"),
    Column("to_bucket", "text"),
    Column("accounts", "count"),
    Column("rate", "rate"),
)


def targeted(report: KpiReport) -> list[str]:
    """The metrics with a target in any row of ``report``, in the config's order."""
    named = {m for row in report.rows or [] for m in (row.target or {})}
    return [m for m in TARGETS if m in named]


def ranked(rows: list[KpiRow]) -> list[KpiRow]:
    """排名: rows by rank (1 first), rows without one last, then by key."""
    return sorted(rows, key=lambda r: (r.rank is None, r.rank or 0, r.key is None, r.key or ""))


def value(row: KpiRow, field: str) -> object:
    """One cell of a KPI row, typed for a spreadsheet."""
    kind, _, metric = field.partition(".")
    if kind in ("target", "progress") and metric:
        values: dict[str, float] | dict[str, float | None] = getattr(row, kind) or {}
        return values.get(metric)
    cell = getattr(row, field)
    if field in ("recovered", "due_at_start", "promised", "cost"):
        return Decimal(cell)
    if field == "anomalies":
        return ", ".join(cell)
    return cell


def table(report: KpiReport, name: str, *, no_key: str) -> Table:
    """The table ``name`` of ``report`` (which must be cut by ``TABLES[name]``); ``no_key``
    names the row of cases without a team or collector (未分配)."""
    if name == "roll":
        return Table(
            name,
            ROLL_COLUMNS,
            [[r.from_bucket, r.to_bucket, r.accounts, r.rate] for r in report.roll_rates],
        )
    if report.by != TABLES[name]:
        raise ValueError(f"the {name} table is cut by {TABLES[name]}, not {report.by}")
    rows = report.rows or []
    if name == "days":
        columns: tuple[Column, ...] = DAY_COLUMNS
    else:
        rows = ranked(rows)
        metrics = targeted(report)
        columns = (
            Column("rank", "count"),
            Column("key", "text"),
            *_FIGURES,
            *(Column(f"target.{m}", "rate" if TARGETS[m] else "number") for m in metrics),
            *(Column(f"progress.{m}", "rate") for m in metrics),
        )
    return Table(
        name,
        columns,
        [
            [
                no_key if c.field == "key" and row.key is None else value(row, c.field)
                for c in columns
            ]
            for row in rows
        ],
    )
