"""``cuishou models``: train, list, show and promote scoring models (模型管理)."""

from __future__ import annotations

import typer
from rich.table import Table

from cuishou.cli_support import cli_operator, friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import parse_date, utc_now

models_app = typer.Typer(
    help="Scoring models (风险分级与意向预测): train, list, show, promote.", no_args_is_help=True
)


@models_app.command("train")
@friendly_errors
def train_command(
    target: str = typer.Option(
        ..., "--target", help="pay_30d, cure_30d, roll_30d or keep_promise."
    ),
    kind: str = typer.Option(..., "--kind", help="scorecard (评分卡) or gbm (LightGBM)."),
    start: str | None = typer.Option(None, "--from", help="First snapshot day (YYYY-MM-DD)."),
    end: str | None = typer.Option(
        None, "--to", help="Last snapshot day (default: 30 days before the last cycle)."
    ),
    every: int | None = typer.Option(
        None, "--every", help="Days between feature snapshots (default: settings.yaml, 7)."
    ),
    validation_days: int | None = typer.Option(
        None, "--validation-days", help="Days of the out-of-time validation window (default 28)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Train a model on the store's own history with an out-of-time validation window and
    register it as a candidate (promote it with `cuishou models promote VERSION`)."""
    from cuishou.scoring.service import train_model  # heavy imports only when run (ADR 0011)

    first = parse_date(start, field="--from") if start else None
    last = parse_date(end, field="--to") if end else None
    engine = store_engine()
    try:
        result = train_model(
            engine, target=target, kind=kind, actor=cli_operator(), now=utc_now(), start=first,
            end=last, every=every, validation_days=validation_days,
        )  # fmt: skip
    finally:
        engine.dispose()
    if json_output:
        print_json(result.to_json())
        return
    out.print(
        f"trained [bold]{result.version}[/]: AUC {result.auc:.3f}, KS {result.ks:.3f}, "
        f"Gini {result.gini:.3f}, Brier {result.brier:.4f} on {result.validation_rows:,} "
        f"validation rows ({result.validation_from} … {result.validation_to}); "
        f"{result.train_rows:,} training rows ({result.train_from} … {result.train_to}), "
        f"{result.seconds:.1f} s"
    )


@models_app.command("promote")
@friendly_errors
def promote_command(
    version: str = typer.Argument(..., help="The version to make its target's champion."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Make a version the champion of its target (the daily cycle scores with champions)."""
    from cuishou.scoring.service import promote
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            chosen = promote(session, version, actor=cli_operator(), now=utc_now())
            result = {"version": chosen.version, "target": chosen.target, "status": chosen.status}
    finally:
        engine.dispose()
    if json_output:
        print_json(result)
    else:
        out.print(f"{result['version']} is now the champion for {result['target']}")


@models_app.command("list")
@friendly_errors
def list_command(
    target: str | None = typer.Option(None, "--target", help="Only this target's versions."),
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """The registry: every version with its target, kind, status and validation metrics."""
    from cuishou.scoring.service import list_versions
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            rows = list_versions(session, None, target=target)
    finally:
        engine.dispose()
    if json_output:
        print_json(rows)
        return
    table = Table(title="模型库 model registry")
    for header in ("version", "target", "kind", "status", "AUC", "KS", "trained", "by"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            row["version"], row["target"], row["kind"], row["status"],
            f"{row['auc']:.3f}", f"{row['ks']:.3f}", row["trained_at"][:10], row["trained_by"],
        )  # fmt: skip
    out.print(table)


@models_app.command("starter")
@friendly_errors
def starter_command(
    json_output: bool = typer.Option(False, "--json", help="Print the result as JSON."),
) -> None:
    """Install the shipped starter scorecard (冷启动模型, trained on a simulated history) and
    make it the pay_30d champion if there is none, so cases are graded from the first day."""
    from cuishou.scoring.service import install_starter
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            result = install_starter(session, actor=cli_operator(), now=utc_now())
    finally:
        engine.dispose()
    if json_output:
        print_json(result)
        return
    done = "installed" if result["installed"] else "already installed"
    crowned = "; now the pay_30d champion" if result["champion"] else ""
    out.print(f"{result['version']} {done}{crowned}")
