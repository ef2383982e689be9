"""``cuishou placements`` (委外批次: create, list, show, recall) and ``cuishou commissions``
(佣金结算单: statement, close).

The command line acts as its operator (``cli:<login>``) unless ``--as USER`` names a user of
the store whose role must allow the step. Imports of the store stack happen when a command
runs (ADR 0011).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape

from cuishou.cli_support import (
    acting_as,
    cli_operator,
    friendly_errors,
    out,
    print_json,
    store_session,
)
from cuishou.kit.clock import parse_date, utc_now
from cuishou.kit.errors import InvalidInput

if TYPE_CHECKING:
    from cuishou.agency.schemas import PlacementOut, StatementOut

placements_app = typer.Typer(
    help="Agency placement (委外): place cases with an agency, list, show, recall.",
    no_args_is_help=True,
)
commissions_app = typer.Typer(
    help="Agency commission statements (佣金结算单).", no_args_is_help=True
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
AS_USER = typer.Option(
    None, "--as", help="Act as this user of the store (their role must allow it)."
)


def _print_placement(placement: PlacementOut) -> None:
    out.print(
        f"placement {placement.id}: {escape(placement.agency)} {placement.placed_on} → "
        f"{placement.ends_on} ({placement.status}), {placement.cases} cases "
        f"({placement.still_placed} still placed), {placement.amount_placed} yuan placed, "
        f"chosen by {escape(placement.selection)}"
    )


@placements_app.command("create")
@friendly_errors
def create_command(
    agency: str = typer.Option(..., "--agency", help="The agency's code."),
    as_of: str = typer.Option(..., "--as-of", help="Placement date YYYY-MM-DD."),
    rule: Path | None = typer.Option(None, "--rule", help="A YAML selection rule file."),
    from_strategy: bool = typer.Option(
        False,
        "--from-strategy",
        help="The cases the strategy in force planned an agency action for on --as-of.",
    ),
    days: int = typer.Option(90, "--days", help="Length of the placement period (委案期)."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Place cases with an agency for a placement period (委外批次)."""
    from cuishou.agency.service.placing import create_placement

    day = parse_date(as_of, field="as-of")
    if (rule is None) == (not from_strategy):
        raise InvalidInput("give exactly one of --rule FILE and --from-strategy", field="rule")
    selection: dict[str, Any] = {}
    if rule is not None:
        from cuishou.agency.config import load_rule

        selection = {"rule": load_rule(rule), "rule_name": rule.name}
    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        if from_strategy:
            from cuishou.agency.service.placing import strategy_candidates

            selection = {"candidates": strategy_candidates(session, day, principal=principal)}
        placement = create_placement(
            session, agency=agency, as_of=day, days=days, actor=actor, now=utc_now(),
            principal=principal, **selection,
        )  # fmt: skip
    if json_output:
        print_json(placement.model_dump(mode="json"))
    else:
        _print_placement(placement)


@placements_app.command("list")
@friendly_errors
def list_command(
    agency: str | None = typer.Option(None, "--agency", help="Only this agency's."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """List placements, newest first."""
    from cuishou.agency.service.placing import list_placements

    with store_session() as session:
        _, principal = acting_as(session, as_user)
        rows = list_placements(session, agency=agency, principal=principal)
    if json_output:
        print_json([row.model_dump(mode="json") for row in rows])
        return
    if not rows:
        out.print("no placements")
    for row in rows:
        _print_placement(row)


@placements_app.command("show")
@friendly_errors
def show_command(
    placement_id: int = typer.Argument(..., help="The placement's id."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Show a placement and its cases."""
    from cuishou.agency.service.placing import show_placement

    with store_session() as session:
        _, principal = acting_as(session, as_user)
        placement = show_placement(session, placement_id, principal=principal)
    if json_output:
        print_json(placement.model_dump(mode="json"))
        return
    _print_placement(placement)
    for case in placement.placed_cases or []:
        back = f" recalled {case.recalled_on} ({case.recall_reason})" if case.recalled_on else ""
        out.print(f"  case {case.case_id} {case.bucket} {case.amount_tier} {case.due}{back}")


@placements_app.command("recall")
@friendly_errors
def recall_command(
    placement_id: int = typer.Argument(..., help="The placement's id."),
    reason: str = typer.Option(..., "--reason", help="Why the cases are recalled (退案原因)."),
    as_of: str = typer.Option(..., "--as-of", help="Recall date YYYY-MM-DD."),
    case: list[int] | None = typer.Option(None, "--case", help="Only these cases (repeat)."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Recall a placement's cases by hand (手工退案), with a reason."""
    from cuishou.agency.service.recall import recall_manual

    day = parse_date(as_of, field="as-of")
    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        result = recall_manual(
            session, placement_id, as_of=day, reason=reason, case_ids=case or None,
            actor=actor, now=utc_now(), principal=principal,
        )  # fmt: skip
    if json_output:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"recalled {result.recalled} cases of placement {placement_id}")


@placements_app.command("recall-due")
@friendly_errors
def recall_due_command(
    as_of: str = typer.Option(..., "--as-of", help="Business date YYYY-MM-DD."),
    json_output: bool = JSON,
) -> None:
    """Run the daily recall (期满/违规/投诉/回款不达标退案) — the daily cycle does it too."""
    from cuishou.agency.service.recall import recall_due

    day = parse_date(as_of, field="as-of")
    with store_session() as session:
        result = recall_due(session, day, now=utc_now(), actor=cli_operator())
    if json_output:
        print_json(result.model_dump(mode="json"))
    else:
        out.print(f"recalled {result.recalled} cases: {result.by_reason}")


def _print_statement(found: StatementOut) -> None:
    out.print(
        f"{escape(found.agency)} {found.month} ({found.status}): collected {found.collected}, "
        f"commission {found.commission} (clawback {found.clawback}), {len(found.lines)} lines"
    )
    for line in found.lines:
        out.print(
            f"  {line.effective_on} case {line.case_id} {line.kind} {escape(line.reference)} "
            f"{line.cash} × {line.rate} = {line.commission}"
        )


@commissions_app.command("statement")
@friendly_errors
def statement_command(
    agency: str = typer.Option(..., "--agency", help="The agency's code."),
    month: str = typer.Option(..., "--month", help="The month, YYYY-MM."),
    close: bool = typer.Option(False, "--close", help="Close (record) the statement."),
    today: str | None = typer.Option(
        None, "--today", help="With --close: the business date it is closed on (default: today)."
    ),
    xlsx: Path | None = typer.Option(None, "--xlsx", help="Also write it to this .xlsx file."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """An agency's commission statement for a month: the closed one, or a draft from the
    ledger; ``--close`` records it (its lines never change; later reversals claw back on the
    next statement)."""
    from cuishou.agency.service.commission import close_statement, statement
    from cuishou.kit.clock import today_local

    closing_day = parse_date(today, field="today") if today else today_local()
    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        if close:
            found = close_statement(
                session, agency=agency, month=month, today=closing_day, actor=actor,
                now=utc_now(), principal=principal,
            )  # fmt: skip
        else:
            found = statement(session, agency=agency, month=month, principal=principal)
    if xlsx is not None:
        from cuishou.agency.workbook import write_statement

        write_statement(found, xlsx)
    if json_output:
        print_json(found.model_dump(mode="json"))
    else:
        _print_statement(found)


@placements_app.command("league")
@friendly_errors
def league_command(
    start: str = typer.Option(..., "--from", help="First day YYYY-MM-DD."),
    end: str = typer.Option(..., "--to", help="Last day YYYY-MM-DD."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """The agency league table (委外机构排名): recovery rate, violations, complaints."""
    from cuishou.agency.service.league import league

    first, last = parse_date(start, field="from"), parse_date(end, field="to")
    with store_session() as session:
        _, principal = acting_as(session, as_user)
        table = league(session, first, last, principal=principal)
    if json_output:
        print_json(table.model_dump(mode="json", by_alias=True))
        return
    if not table.rows:
        out.print("no agency held cases in the period")
    for row in table.rows:
        out.print(
            f"{row.rank or '-'}. {escape(row.agency)}: {row.cases} cases, recovered "
            f"{row.recovered} of {row.due_at_start} ({row.recovery_rate}), "
            f"{row.violations} violations, {row.complaints} complaints"
        )
