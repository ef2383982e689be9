"""``cuishou strategy``: validate, diff, submit, approve, reject, activate, roll back, list and
show strategy versions (策略管理).

Who acts: ``--as USER`` names a user of the store, whose role must allow the step (a
strategist submits; another strategist or a manager approves and activates); without it the
command line acts as its operator, ``cli:<login>``, as ``cuishou models promote`` does. Four
eyes compares the two names: whoever submitted a version cannot approve it.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer
from rich.markup import escape
from rich.table import Table

from cuishou.cli_support import (
    acting_as,
    friendly_errors,
    out,
    print_json,
    store_session,
)
from cuishou.kit.clock import parse_date, utc_now
from cuishou.kit.errors import InvalidInput
from cuishou.strategy import plan_cli

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from cuishou.strategy.validate import Report

strategy_app = typer.Typer(
    help="Strategies (催收策略): validate, diff, submit, approve, activate, roll back.",
    no_args_is_help=True,
)

JSON = typer.Option(False, "--json", help="Print the result as JSON.")
AS_USER = typer.Option(
    None, "--as", help="Act as this user of the store (their role must allow it)."
)
DB = typer.Option(None, "--db", help="Store URL (default: CUISHOU_DATABASE_URL).")


def _version_id(session: Session, spec: str) -> int:
    """A version named by its id or as ``code@version``."""
    from cuishou.strategy.repository.versions import version_by_code

    if spec.isdigit():
        return int(spec)
    code, sep, number = spec.rpartition("@")
    if sep and code and number.isdigit():
        return version_by_code(session, code, int(number)).id
    raise InvalidInput(f"{spec!r} names no version: give its id or code@version", field="version")


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"cannot read {path}: {exc}", field="file") from exc


def _is_stored(spec: str) -> bool:
    return not Path(spec).exists() and "@" in spec


def _version_json(version: Any) -> dict[str, Any]:
    return {
        "id": version.id, "code": version.code, "version": version.version,
        "status": version.status, "author": version.author,
        "approved_by": version.approved_by,
        "effective_from": version.effective_from.isoformat() if version.effective_from else None,
        "activated_by": version.activated_by,
    }  # fmt: skip


def _print_report(report: Report, source: str) -> None:
    for problem in report.problems:
        where = f"rows {', '.join(map(str, problem.rows))}: " if len(problem.rows) > 1 else (
            f"row {problem.rows[0]}: " if problem.rows else ""
        )  # fmt: skip
        out.print(f"[bold red]{problem.kind}[/] {escape(where + problem.en)}", highlight=False)
    if report.rows:
        table = Table(title=f"decision table over {report.open_cases:,} open cases")
        for header in ("row", "segment", "cases matched", "cases decided"):
            table.add_column(header)
        for row in report.rows:
            table.add_row(str(row.row), row.segment, f"{row.matched:,}", f"{row.decided:,}")
        out.print(table)
    if report.clean:
        out.print(f"{escape(source)}: no problems found")
    else:
        out.print(f"{escape(source)}: {len(report.problems)} problem(s) found")


@strategy_app.command("validate")
@friendly_errors
def validate_command(
    file: str = typer.Argument(..., help="A strategy YAML file, or a stored code@version."),
    db: str | None = DB,
    as_of: str | None = typer.Option(
        None, "--as-of", help="Take the store's open cases on this day (default today)."
    ),
    no_store: bool = typer.Option(
        False, "--no-store", help="Check the document and the default rule pack only."
    ),
    json_output: bool = JSON,
) -> None:
    """Check a strategy: overlaps that break `unique`, rows that can never win, gaps (open
    cases no row matches, counted), unknown templates, paths the rule pack can never allow.
    Exits 1 when a problem is found, 0 when it is clean."""
    from cuishou.strategy.service.lifecycle import check_text, resolve, today_of

    day = parse_date(as_of, field="--as-of") if as_of else today_of(utc_now())
    if no_store:
        if _is_stored(file):
            raise InvalidInput("--no-store reads a file, not a stored version", field="file")
        report = check_text(None, _read(Path(file)), as_of=day, source=file)
    else:
        with store_session(db) as session:
            source, text = resolve(session, file) if _is_stored(file) else (file, _read(Path(file)))
            report = check_text(session, text, as_of=day, source=source)
    if json_output:
        print_json({"source": file, "as_of": day, **report.to_json()})
    else:
        _print_report(report, file)
    if not report.clean:
        raise typer.Exit(1)


@strategy_app.command("diff")
@friendly_errors
def diff_command(
    a: str = typer.Argument(..., help="The old strategy: a YAML file or a stored code@version."),
    b: str = typer.Argument(..., help="The new strategy: a YAML file or a stored code@version."),
    db: str | None = DB,
    json_output: bool = JSON,
) -> None:
    """What changed from A to B: top-level fields, decision-table rows (with their numbers),
    segments and their path steps."""
    from cuishou.strategy.definition import text_sha256
    from cuishou.strategy.service.lifecycle import diff_texts, resolve

    sides: list[tuple[str, str]] = []
    if any(_is_stored(s) for s in (a, b)):
        with store_session(db) as session:
            sides = [resolve(session, s) if _is_stored(s) else (s, _read(Path(s))) for s in (a, b)]
    else:
        sides = [(s, _read(Path(s))) for s in (a, b)]
    diff, first, second = diff_texts(sides[0], sides[1])
    if json_output:
        print_json(
            {
                "a": {
                    "source": sides[0][0],
                    "code": first.code,
                    "sha256": text_sha256(sides[0][1]),
                },
                "b": {
                    "source": sides[1][0],
                    "code": second.code,
                    "sha256": text_sha256(sides[1][1]),
                },
                **diff.to_json(),
            }
        )
        return
    if diff.same:
        out.print(f"{escape(sides[0][0])} and {escape(sides[1][0])} decide and treat alike")
        return
    for line in diff.lines:
        out.print(escape(line), highlight=False)


@strategy_app.command("submit")
@friendly_errors
def submit_command(
    file: Path = typer.Argument(..., help="The strategy YAML file."),
    note: str = typer.Option("", "--note", help="What changed and why."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Store the file as a new draft version of its strategy, for another person to approve."""
    from cuishou.strategy.service.lifecycle import submit

    text = _read(file)
    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        version = submit(session, text, actor=actor, now=utc_now(), principal=principal,
                         note=note, source=str(file))  # fmt: skip
        result = _version_json(version)
    if json_output:
        print_json(result)
    else:
        out.print(f"{result['code']}@{result['version']} (id {result['id']}) submitted by "
                  f"{escape(result['author'])}; it needs another person's approval")  # fmt: skip


@strategy_app.command("approve")
@friendly_errors
def approve_command(
    version: str = typer.Argument(..., help="The version: its id or code@version."),
    note: str = typer.Option("", "--note", help="The approver's remark."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Approve a draft (four eyes: not by its author)."""
    from cuishou.strategy.service.lifecycle import approve

    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        chosen = approve(session, _version_id(session, version), actor=actor, now=utc_now(),
                         principal=principal, note=note)  # fmt: skip
        result = _version_json(chosen)
    if json_output:
        print_json(result)
    else:
        out.print(f"{result['code']}@{result['version']} approved by {escape(actor)}")


@strategy_app.command("reject")
@friendly_errors
def reject_command(
    version: str = typer.Argument(..., help="The version: its id or code@version."),
    note: str = typer.Option("", "--note", help="Why it is rejected."),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Reject a draft (its author may withdraw it this way); the text is kept."""
    from cuishou.strategy.service.lifecycle import reject

    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        chosen = reject(session, _version_id(session, version), actor=actor, now=utc_now(),
                        principal=principal, note=note)  # fmt: skip
        result = _version_json(chosen)
    if json_output:
        print_json(result)
    else:
        out.print(f"{result['code']}@{result['version']} rejected by {escape(actor)}")


@strategy_app.command("activate")
@friendly_errors
def activate_command(
    version: str = typer.Argument(..., help="The version: its id or code@version."),
    start: str | None = typer.Option(
        None, "--from", help="The first day in force (YYYY-MM-DD, today or later; default today)."
    ),
    as_user: str | None = AS_USER,
    json_output: bool = JSON,
) -> None:
    """Put an approved version in force from a day (today: the version in force retires)."""
    from cuishou.strategy.service.lifecycle import activate

    day = parse_date(start, field="--from") if start else None
    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        chosen = activate(session, _version_id(session, version), actor=actor, now=utc_now(),
                          effective_from=day, principal=principal)  # fmt: skip
        result = _version_json(chosen)
    if json_output:
        print_json(result)
    else:
        out.print(f"{result['code']}@{result['version']} is active from "
                  f"{result['effective_from']}")  # fmt: skip


@strategy_app.command("rollback")
@friendly_errors
def rollback_command(as_user: str | None = AS_USER, json_output: bool = JSON) -> None:
    """Retire the version in force and bring back the one in force before it, from today."""
    from cuishou.strategy.service.lifecycle import rollback

    with store_session() as session:
        actor, principal = acting_as(session, as_user)
        done = rollback(session, actor=actor, now=utc_now(), principal=principal)
        result = {"retired": _version_json(done.retired), "restored": _version_json(done.restored)}
    if json_output:
        print_json(result)
    else:
        old, new = result["retired"], result["restored"]
        out.print(f"{old['code']}@{old['version']} retired; {new['code']}@{new['version']} "
                  f"is in force again from {new['effective_from']}")  # fmt: skip


@strategy_app.command("list")
@friendly_errors
def list_command(json_output: bool = JSON) -> None:
    """Every version with where it stands (in force, scheduled, draft, approved …)."""
    from cuishou.strategy.service.lifecycle import list_versions

    with store_session() as session:
        rows = [v.model_dump(mode="json") for v in list_versions(session, None, now=utc_now())]
    if json_output:
        print_json(rows)
        return
    table = Table(title="策略版本 strategy versions")
    for header in ("id", "version", "name", "state", "author", "approved by", "from"):
        table.add_column(header)
    for row in rows:
        table.add_row(
            str(row["id"]), f"{row['code']}@{row['version']}", row["zh"], row["state"],
            row["author"], row["approved_by"] or "—", row["effective_from"] or "—",
        )  # fmt: skip
    out.print(table)


@strategy_app.command("show")
@friendly_errors
def show_command(
    version: str = typer.Argument(..., help="The version: its id or code@version."),
    yaml_output: bool = typer.Option(False, "--yaml", help="Print only its YAML text."),
    json_output: bool = JSON,
) -> None:
    """One version: where it stands, its history and (``--yaml``) its text."""
    from cuishou.strategy.service.lifecycle import show

    with store_session() as session:
        detail = show(session, None, _version_id(session, version), now=utc_now())
    if yaml_output:
        typer.echo(detail.body, nl=False)
        return
    if json_output:
        print_json(detail.model_dump(mode="json"))
        return
    out.print(f"[bold]{detail.code}@{detail.version}[/] {escape(detail.zh)} / "
              f"{escape(detail.en)} — {detail.state}")  # fmt: skip
    for event in detail.history:
        out.print(f"  {event.at.isoformat(timespec='seconds')} {event.type} "
                      f"by {escape(event.actor)}", highlight=False)  # fmt: skip


plan_cli.register(strategy_app)


def _compare_alias() -> None:
    """``cuishou strategy compare V1 V2`` is ``cuishou simulate compare`` (issue 13's name)."""
    from cuishou.simulate.cli import compare_command

    strategy_app.command(
        "compare",
        help="What-if on the simulator: two strategies on the same simulated debtors "
        "(common random numbers); same as `cuishou simulate compare`.",
    )(compare_command)


_compare_alias()
