"""``cuishou kpis``: 绩效指标 for a period, optionally sliced (the same figures as the API)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from cuishou.cli_support import friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date

#: the columns of the table (the JSON has every figure)
COLUMNS = (
    ("recovered", "回款 recovered"),
    ("recovery_rate", "回款率"),
    ("calls", "电话 calls"),
    ("connect_rate", "接通率"),
    ("right_party_rate", "本人接通率"),
    ("promises", "承诺 promises"),
    ("promise_rate", "承诺率"),
    ("first_contact_promise_rate", "首次承诺率"),
    ("kept_rate", "履约率"),
    ("calls_per_collector_day", "日均电话量"),
    ("cost_per_yuan", "单位成本"),
    ("violations", "违规"),
)


def _cell(value: object) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.4f}"
    return str(value)


@friendly_errors
def kpis_command(
    start: str = typer.Option(..., "--from", help="First business day (YYYY-MM-DD)."),
    end: str = typer.Option(..., "--to", help="Last business day, inclusive (YYYY-MM-DD)."),
    by: str | None = typer.Option(
        None,
        "--by",
        help="Slice: collector, team, agency, creditor, bucket, arm, day, week, month.",
    ),
    config: Path | None = typer.Option(
        None, "--config", help="KPI config YAML (targets, unit costs); default the shipped one."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the report as JSON."),
) -> None:
    """KPIs for a period (回款率, 接通率, 承诺率, 履约率 …), as GET /api/v1/kpis reports them."""
    # Polars and the store load when the command runs, not for --help (ADR 0011)
    from cuishou.kpis.config import default_config, load_kpi_config
    from cuishou.kpis.service import figures

    first = parse_date(start, field="--from")
    last = parse_date(end, field="--to")
    settings = load_kpi_config(config) if config else default_config()
    engine = store_engine()
    try:
        report = figures(engine, None, first, last, by, config=settings)
    finally:
        engine.dispose()
    if json_output:
        print_json(report.as_json())
        return
    title = f"KPIs {first.isoformat()} … {last.isoformat()}"
    if not report.rows:
        out.print(_totals(title, report.total.model_dump()))
        return
    table = Table(title=title)
    table.add_column(by or "")
    for _name, header in COLUMNS:
        table.add_column(header, justify="right")
    lines = [*report.rows, report.total]
    for i, row in enumerate(lines):
        values = row.model_dump()
        label = "total 合计" if i == len(lines) - 1 else (row.key or "—")
        table.add_row(label, *(_cell(values[name]) for name, _ in COLUMNS))
    out.print(table)


def _totals(title: str, values: dict[str, object]) -> Table:
    """The period's totals one metric a line, so they read in any terminal width."""
    from cuishou.kpis.rules import METRICS

    table = Table(title=title)
    table.add_column("指标 metric")
    table.add_column("", justify="right")
    for name, header in COLUMNS:
        metric = METRICS.get(name)
        label = f"{metric.zh} {metric.en}" if metric else header
        table.add_row(label, _cell(values[name]))
    return table
