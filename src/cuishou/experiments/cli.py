"""``cuishou experiment``: start, list, show, stop and promote champion/challenger experiments
(策略实验). ``--as USER`` acts as that user (their role must allow it: ``experiment.manage``
to start, stop and ask for a promotion, ``experiment.approve`` to approve or reject one —
never the asker); without it the command line acts as itself (``cli:<login>``), except for
promotion, which always names its two people."""

from __future__ import annotations

import typer
from rich.table import Table

from cuishou.cli_support import cli_operator, friendly_errors, out, print_json, store_engine
from cuishou.kit.clock import CHINA_TZ, utc_now
from cuishou.kit.errors import InvalidInput

experiment_app = typer.Typer(
    help="Champion/challenger experiments (策略实验): start, list, show, stop, promote.",
    no_args_is_help=True,
)

AS_HELP = "Act as this user (their role must allow it)."


def _guardrails(pairs: list[str]) -> dict[str, float]:
    limits: dict[str, float] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        try:
            limits[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise InvalidInput(f"--guardrail: NAME=NUMBER, not {pair!r}", field="guardrail")
    return limits


@experiment_app.command("start")
@friendly_errors
def start_command(
    name: str = typer.Option(..., "--name", help="A short name (letters, digits, - _ .)."),
    champion: str = typer.Option(
        ..., "--champion", help="The strategy in force: version id or code@version."
    ),
    challenger: str = typer.Option(
        ..., "--challenger", help="An approved or active version: id or code@version."
    ),
    share: float | None = typer.Option(
        None, "--share", help="The challenger's share of eligible cases, % (default 20)."
    ),
    segment: str = typer.Option(
        "", "--segment", help="Only the champion's segments S1,S2 (default: every case)."
    ),
    guardrail: list[str] = typer.Option(
        [], "--guardrail", help="complaints_per_1000=N, violations_per_1000=N, min_cases=N."
    ),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the experiment as JSON."),
) -> None:
    """Start splitting eligible cases between the champion and the challenger (from the
    next daily planning on)."""
    from cuishou.auth.service import principal_named
    from cuishou.experiments.service import get_experiment, start_experiment
    from cuishou.store.db import transaction

    now = utc_now()
    engine = store_engine()
    try:
        with transaction(engine) as session:
            who = principal_named(session, as_user) if as_user else None
            experiment = start_experiment(
                session, who, name=name, champion=champion, challenger=challenger,
                share_pct=share, segments=tuple(segment.split(",")),
                guardrails=_guardrails(guardrail), actor=cli_operator(),
                day=now.astimezone(CHINA_TZ).date(), now=now,
            )  # fmt: skip
            shown = get_experiment(session, None, experiment.id)
    finally:
        engine.dispose()
    if json_output:
        print_json(shown.model_dump(mode="json"))
        return
    out.print(
        f"started experiment [bold]{shown.id} {shown.name}[/]: {shown.champion} (champion) vs "
        f"{shown.challenger} (challenger, {shown.share_pct:g}%) on "
        f"{', '.join(shown.segments) or 'every segment'}"
    )


@experiment_app.command("list")
@friendly_errors
def list_command(
    json_output: bool = typer.Option(False, "--json", help="Print the list as JSON."),
) -> None:
    """Every experiment, newest first, with its status and cases per arm."""
    from cuishou.experiments.service import list_experiments
    from cuishou.store.db import transaction

    engine = store_engine()
    try:
        with transaction(engine) as session:
            rows = list_experiments(session, None)
    finally:
        engine.dispose()
    if json_output:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    table = Table(title="策略实验 experiments")
    for header in ("id", "name", "status", "champion", "challenger", "share", "segments",
                   "cases A/B", "started"):  # fmt: skip
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row.id), row.name, row.status, row.champion, row.challenger,
            f"{row.share_pct:g}%", ", ".join(row.segments) or "all",
            f"{row.cases['champion']}/{row.cases['challenger']}", row.started_on.isoformat(),
        )  # fmt: skip
    out.print(table)


def _pct(value: float | None, places: int = 2) -> str:
    return "—" if value is None else f"{value * 100:.{places}f}%"


@experiment_app.command("show")
@friendly_errors
def show_command(
    experiment_id: int = typer.Argument(..., help="The experiment's id."),
    json_output: bool = typer.Option(False, "--json", help="Print the results as JSON."),
) -> None:
    """An experiment's results: both arms, the difference with its 95% interval, power (the
    JSON is GET /api/v1/experiments/{id})."""
    from cuishou.experiments.service import report
    from cuishou.store.db import transaction

    today = utc_now().astimezone(CHINA_TZ).date()
    engine = store_engine()
    try:
        with transaction(engine) as session:
            rep = report(session, None, experiment_id, today=today)
    finally:
        engine.dispose()
    results = rep.results
    if json_output:
        print_json(results.model_dump(mode="json"))
        return
    table = Table(title=f"{results.name} ({results.status}, since {results.started})")
    for header in ("arm", "version", "cases", "recovered", "回款率", "接通率", "承诺率",
                   "cost", "complaints"):  # fmt: skip
        table.add_column(header)
    for arm in results.arms:
        table.add_row(
            arm.name, arm.strategy_version, str(arm.cases), arm.recovered,
            _pct(arm.recovery_rate), _pct(arm.connect_rate, 1), _pct(arm.promise_rate, 1),
            arm.cost, str(arm.complaints),
        )  # fmt: skip
    out.print(table)
    d, p = results.diff, results.power
    if d.estimate is None or d.ci_low is None or d.ci_high is None:
        out.print("difference: — (each arm needs two cases with an amount due)")
    else:
        out.print(
            f"challenger − champion: {d.estimate * 100:+.2f} pp, 95% interval "
            f"[{d.ci_low * 100:+.2f}, {d.ci_high * 100:+.2f}] pp, p = {d.p_value}"
        )
    out.print(
        f"detectable now (80% power): {_pct(p.uplift_detectable_now, 1)} relative; "
        f"cases per arm for +2%: {p.cases_needed_for_2pct if p.cases_needed_for_2pct else '—'}"
    )


@experiment_app.command("stop")
@friendly_errors
def stop_command(
    experiment_id: int = typer.Argument(..., help="The experiment's id."),
    reason: str = typer.Option("", "--reason", help="Why (recorded in the event)."),
    as_user: str | None = typer.Option(None, "--as", help=AS_HELP),
) -> None:
    """Stop a running experiment: every case is the champion's again from the next planning."""
    from cuishou.auth.service import principal_named
    from cuishou.experiments.service import stop_experiment
    from cuishou.store.db import transaction

    now = utc_now()
    engine = store_engine()
    try:
        with transaction(engine) as session:
            who = principal_named(session, as_user) if as_user else None
            stopped = stop_experiment(
                session, who, experiment_id, reason=reason, actor=cli_operator(),
                day=now.astimezone(CHINA_TZ).date(), now=now,
            )  # fmt: skip
            name = stopped.name
    finally:
        engine.dispose()
    out.print(f"stopped experiment {experiment_id} {name}")


@experiment_app.command("promote")
@friendly_errors
def promote_command(
    experiment_id: int = typer.Argument(..., help="The experiment's id."),
    request: bool = typer.Option(False, "--request", help="Ask for the promotion (first person)."),
    approve: bool = typer.Option(False, "--approve", help="Approve it (a second person)."),
    reject: bool = typer.Option(False, "--reject", help="Turn it down (a second person)."),
    note: str = typer.Option("", "--note", help="A note for the event."),
    as_user: str = typer.Option(..., "--as", help="Who asks or answers (four eyes)."),
) -> None:
    """Promote the challenger, by four eyes: one person --request, another --approve (or
    --reject). Approval ends the experiment as promoted and hands the challenger to the
    strategy lifecycle."""
    from cuishou.auth.service import principal_named
    from cuishou.experiments import service
    from cuishou.store.db import transaction

    if sum((request, approve, reject)) != 1:
        raise InvalidInput("give one of --request, --approve or --reject", field="promote")
    now = utc_now()
    engine = store_engine()
    try:
        with transaction(engine) as session:
            who = principal_named(session, as_user)
            if request:
                service.request_promotion(session, who, experiment_id, note=note, actor="", now=now)
                said = "promotion requested; a second person approves it"
            elif approve:
                service.approve_promotion(
                    session, who, experiment_id, actor="",
                    day=now.astimezone(CHINA_TZ).date(), now=now,
                )  # fmt: skip
                said = "promoted: the challenger goes to the strategy lifecycle"
            else:
                service.reject_promotion(session, who, experiment_id, note=note, actor="", now=now)
                said = "promotion rejected; the experiment goes on"
    finally:
        engine.dispose()
    out.print(f"experiment {experiment_id}: {said}")
