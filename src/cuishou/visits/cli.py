"""``cuishou visits request|import-plan|schedule|cancel|route|record|list``: field visits (外访).

Every command acts as a named user (``--as``): the same permissions and case scope as on
the pages apply (a team lead schedules and routes their team's visits, a scheduled
collector records one).
"""

from __future__ import annotations

from datetime import datetime, time
from pathlib import Path
from typing import Any

import typer

from cuishou.cli_support import friendly_errors, print_json, store_session
from cuishou.cli_support import out as out_console
from cuishou.kit.clock import utc_now

visits_app = typer.Typer(help="Field visits (外访).", no_args_is_help=True)

AS_HELP = "The user acting (a team lead schedules and routes; a scheduled collector records)."
DAY_HELP = "The visit day, e.g. 2026-12-01 (default: today, Beijing)."


def _principal(session: Any, username: str) -> Any:
    from cuishou.cli_support import acting_as

    _name, principal = acting_as(session, username)
    return principal


def _clock(value: str, option: str) -> time:
    from cuishou.kit.errors import InvalidInput

    try:
        return time.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{option}: {value!r} is not a time like 09:30") from None


@visits_app.command("request")
@friendly_errors
def request_command(
    case_id: int = typer.Argument(..., min=1, help="The case to visit."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    point: int | None = typer.Option(None, "--point", min=1, help="The address's point id."),
    reason: str = typer.Option("", "--reason", help="Why a visit (shown to the team lead)."),
    json_output: bool = typer.Option(False, "--json", help="Print the visit as JSON."),
) -> None:
    """Ask for a visit on a case (one open visit per case)."""
    from cuishou.visits.schemas import VisitRequestIn
    from cuishou.visits.service import request_visit

    now = utc_now()
    with store_session() as session:
        data = VisitRequestIn(case_id=case_id, contact_point_id=point, reason=reason)
        visit = request_visit(session, _principal(session, as_user), data, now=now)
    if json_output:
        print_json(visit.model_dump(mode="json"))
    else:
        out_console.print(f"visit {visit.id} requested on case {visit.case_id}")


@visits_app.command("import-plan")
@friendly_errors
def import_command(
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    day: str | None = typer.Option(None, "--day", help=DAY_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the counts as JSON."),
) -> None:
    """Turn the strategy's planned visit steps of a day into visit requests (once)."""
    from cuishou.cli_support import store_engine
    from cuishou.visits.service import import_planned, one_day, planned_visit_steps

    now = utc_now()
    shown = one_day(day, now)
    engine = store_engine()
    try:
        planned = planned_visit_steps(engine, shown)
    finally:
        engine.dispose()
    with store_session() as session:
        principal = _principal(session, as_user)
        result = import_planned(session, principal, planned, day=shown, now=now)
    if json_output:
        print_json(result.model_dump(mode="json"))
    else:
        out_console.print(
            f"{result.day}: {result.created} request(s) created, {result.already} already "
            f"there, {result.skipped} skipped"
        )


@visits_app.command("schedule")
@friendly_errors
def schedule_command(
    visit_id: int = typer.Argument(..., min=1, help="The visit to schedule."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    day: str = typer.Option(..., "--day", help="The visit day, e.g. 2026-12-01."),
    start: str = typer.Option(..., "--from", help="Window start, debtor's local time (09:00)."),
    end: str = typer.Option(..., "--to", help="Window end, debtor's local time (11:00)."),
    collectors: list[str] = typer.Option(
        ..., "--collector", help="A collector who goes (repeat: CN-14 wants two)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the visit as JSON."),
) -> None:
    """Schedule a visit: refused with the gate's rule ids when it would not allow it."""
    from cuishou.visits.schemas import ScheduleIn
    from cuishou.visits.service import one_day, schedule_visit

    now = utc_now()
    data = ScheduleIn(
        day=one_day(day, now), start=_clock(start, "--from"), end=_clock(end, "--to"),
        collectors=collectors,
    )  # fmt: skip
    with store_session() as session:
        visit = schedule_visit(session, _principal(session, as_user), visit_id, data, now=now)
    if json_output:
        print_json(visit.model_dump(mode="json"))
    else:
        out_console.print(
            f"visit {visit.id} scheduled on {visit.day} with {', '.join(visit.collectors)}"
        )


@visits_app.command("cancel")
@friendly_errors
def cancel_command(
    visit_id: int = typer.Argument(..., min=1, help="The visit to cancel."),
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    reason: str = typer.Option(..., "--reason", help="Why (the debtor paid, wrong address …)."),
    json_output: bool = typer.Option(False, "--json", help="Print the visit as JSON."),
) -> None:
    """Cancel a requested or scheduled visit."""
    from cuishou.visits.service import cancel_visit

    with store_session() as session:
        visit = cancel_visit(
            session, _principal(session, as_user), visit_id, reason=reason, now=utc_now()
        )
    if json_output:
        print_json(visit.model_dump(mode="json"))
    else:
        out_console.print(f"visit {visit.id} cancelled")


@visits_app.command("route")
@friendly_errors
def route_command(
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    day: str | None = typer.Option(None, "--day", help=DAY_HELP),
    time_limit_ms: int = typer.Option(
        1000, "--time-limit-ms", min=0, max=60_000, help="Solver time per team (0: first)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print the routes as JSON."),
) -> None:
    """Order the day's visits of each team by route (OR-Tools) and keep the order."""
    from cuishou.visits.service import one_day, plan_routes

    now = utc_now()
    with store_session() as session:
        routes = plan_routes(
            session, _principal(session, as_user), day=one_day(day, now), now=now,
            time_limit_ms=time_limit_ms,
        )  # fmt: skip
    if json_output:
        print_json([r.model_dump(mode="json") for r in routes])
        return
    if not routes:
        out_console.print("no scheduled visits that day")
    for r in routes:
        order = " → ".join(f"#{s.visit_id}" for s in r.stops) or "—"
        out_console.print(
            f"{r.team}: {order} ({r.length_m / 1000:.1f} km; unordered "
            f"{r.unordered_length_m / 1000:.1f} km)"
        )
        if r.unlocated:
            out_console.print(f"  not located: {', '.join(f'#{i}' for i in r.unlocated)}")


def _persons(values: list[str]) -> list[dict[str, str]]:
    from cuishou.kit.errors import InvalidInput

    persons = []
    for value in values:
        name, sep, relation = value.rpartition(":")
        if not sep:
            name, relation = "", value
        if not relation:
            raise InvalidInput(f"--met: {value!r} is not NAME:RELATION (e.g. 张三:spouse)")
        persons.append({"name": name, "relation": relation})
    return persons


@visits_app.command("record")
@friendly_errors
def record_command(
    visit_id: int = typer.Argument(..., min=1, help="The visit."),
    as_user: str = typer.Option(..., "--as", help="A collector scheduled on the visit."),
    outcome: str = typer.Option(..., "--outcome", help="connected_debtor, no_answer, promise …"),
    at: str | None = typer.Option(None, "--at", help="When (ISO with zone; default now)."),
    lat: float | None = typer.Option(None, "--lat", help="Check-in latitude."),
    lon: float | None = typer.Option(None, "--lon", help="Check-in longitude."),
    met: list[str] = typer.Option([], "--met", help="A person met, NAME:RELATION (repeat)."),
    notes: str = typer.Option("", "--notes", help="What happened (走访情况)."),
    promise_amount: str | None = typer.Option(None, "--promise-amount", help="Yuan."),
    promise_date: str | None = typer.Option(None, "--promise-date", help="YYYY-MM-DD."),
    files: list[Path] = typer.Option([], "--file", help="A photo or PDF to keep (repeat)."),
    json_output: bool = typer.Option(False, "--json", help="Print the record as JSON."),
) -> None:
    """Record a visit (走访记录表): a visit contact, its promise, its photos — all or nothing."""
    from pydantic import ValidationError

    from cuishou.kit.errors import InvalidInput
    from cuishou.visits.config import files_dir
    from cuishou.visits.schemas import RecordIn
    from cuishou.visits.service import add_file, record_visit

    now = utc_now()
    payload: dict[str, Any] = {
        "outcome": outcome, "notes": notes, "persons_met": _persons(met),
        "check_in_lat": lat, "check_in_lon": lon,
    }  # fmt: skip
    if at:
        try:
            payload["visited_at"] = datetime.fromisoformat(at)
        except ValueError:
            raise InvalidInput(f"--at: {at!r} is not a time like 2026-12-01T10:30+08:00") from None
    if promise_amount or promise_date:
        payload["promise"] = {"amount": promise_amount or "", "due_date": promise_date}
    try:
        data = RecordIn.model_validate(payload)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise InvalidInput(problems) from None
    blobs = []
    for path in files:
        try:
            blobs.append((path.name, path.read_bytes()))
        except OSError as exc:
            raise InvalidInput(f"--file: cannot read {path}: {exc.strerror}") from None
    with store_session() as session:
        principal = _principal(session, as_user)
        result = record_visit(session, principal, visit_id, data, now=now)
        kept = [
            add_file(session, principal, visit_id, filename=name, data=blob, root=files_dir(),
                     now=now)
            for name, blob in blobs
        ]  # fmt: skip
    if json_output:
        print_json(
            {**result.model_dump(mode="json"), "files": [f.model_dump(mode="json") for f in kept]}
        )
    else:
        out_console.print(
            f"visit {visit_id} recorded as contact {result.contact_id}"
            + (f", promise {result.promise.id}" if result.promise else "")
            + (f", {len(kept)} file(s) kept" if kept else "")
            + ("" if result.compliance_allowed else
               f" — compliance violation: {', '.join(result.compliance_rules)}")
        )  # fmt: skip


@visits_app.command("list")
@friendly_errors
def list_command(
    as_user: str = typer.Option(..., "--as", help=AS_HELP),
    day: str | None = typer.Option(None, "--day", help="Only this day."),
    status: list[str] = typer.Option([], "--status", help="requested, scheduled, done …"),
    json_output: bool = typer.Option(False, "--json", help="Print the visits as JSON."),
) -> None:
    """The visits the user may see."""
    from cuishou.visits.service import list_visits, one_day

    now = utc_now()
    with store_session() as session:
        visits = list_visits(
            session, _principal(session, as_user), statuses=status,
            day=one_day(day, now) if day else None,
        )  # fmt: skip
    if json_output:
        print_json([v.model_dump(mode="json") for v in visits])
        return
    for v in visits:
        out_console.print(
            f"#{v.id} case {v.case_id} {v.status} {v.day or '—'} {v.district or '—'} "
            f"{','.join(v.collectors)} {v.route_position or ''}"
        )
