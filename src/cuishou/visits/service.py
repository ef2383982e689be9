"""Field visits (外访) as use cases: fetch → decide → act.

* **request** — a collector asks for a visit on a case they work, or the strategy's
  ``visit`` steps of a day become requests (:func:`import_planned`);
* **schedule** — a team lead names the day, the window and two or more of the team's
  collectors; the compliance gate judges the visit at both ends of the window (CN-14, the
  visit hours in the debtor's zone, holidays, holds …) and a refusal names its rules;
* **route** — the day's visits of each team ordered by OR-Tools over district centroids;
* **record** — the 走访记录表, logged as a ``visit`` contact through the contact service (which
  judges it again, screens its notes and takes its promise); an agreement negotiated on the
  visit goes to the agreements service; photos and documents are kept by content hash.

Services do not commit; the edge does.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path

import polars as pl
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.agreements.service import request_agreement
from cuishou.audit.events import append_event
from cuishou.auth.rules import Principal, can
from cuishou.auth.service import require
from cuishou.cases.service import case_for, case_granted, case_in_scope_of, record_reveal
from cuishou.compliance.schemas import CheckIn, CheckOut
from cuishou.compliance.service import gate
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import record_contact
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import (
    Conflict,
    ContactRefused,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from cuishou.kit.masking import mask_address, mask_name
from cuishou.store.tables import ContactPoint, Visit, VisitFile
from cuishou.strategy.service.planning import task_list, task_list_in
from cuishou.visits import repository as repo
from cuishou.visits import storage
from cuishou.visits.geo import locate
from cuishou.visits.routing import Stop, order_route, route_length
from cuishou.visits.rules import (
    gate_moments,
    may_reveal_address,
    may_see,
    record_problem,
    schedule_problem,
    window_of,
)
from cuishou.visits.schemas import (
    FileOut,
    ImportedOut,
    PersonMet,
    RecordIn,
    RecordOut,
    RouteStopOut,
    ScheduleIn,
    TeamRouteOut,
    VisitOut,
    VisitRequestIn,
)

#: the strategy's plan statuses a visit request is made from (the gate allowed the step)
PLANNED = ("planned", "moved")


# ------------------------------------------------------------------ shaping


def file_out(row: VisitFile) -> FileOut:
    return FileOut(
        id=row.id, filename=row.filename, content_type=row.content_type, size=row.size,
        sha256=row.sha256, uploaded_by=row.uploaded_by, uploaded_at=row.uploaded_at,
    )  # fmt: skip


def _local(moment: datetime | None, home: str) -> datetime | None:
    """A stored time shown with the offset of the debtor's zone."""
    return moment.astimezone(zone(home)) if moment is not None else None


def visits_out(session: Session, visits: Sequence[Visit]) -> list[VisitOut]:
    ids = [v.id for v in visits]
    names = repo.collector_names(session, ids)
    files = repo.files_of(session, ids)
    teams = repo.team_names(session, [v.team_id for v in visits])
    points = repo.points(session, sorted({v.contact_point_id for v in visits}))
    out = []
    for v in visits:
        home = repo.debtor_zone(session, v.case_id)
        point = points.get(v.contact_point_id)
        address = point.value if point is not None else ""
        located = locate(address) if address else None
        out.append(
            VisitOut(
                id=v.id, case_id=v.case_id, contact_point_id=v.contact_point_id,
                address=mask_address(address, keep=len(located.name) if located else 6),
                district=located.name if located else None,
                team=teams.get(v.team_id) if v.team_id is not None else None,
                status=v.status, source=v.source, reason=v.reason,
                requested_by=v.requested_by, requested_at=v.requested_at, day=v.day,
                window_start=_local(v.window_start, home), window_end=_local(v.window_end, home),
                zone=home,
                collectors=names.get(v.id, []), scheduled_by=v.scheduled_by,
                route_position=v.route_position, recorded_by=v.recorded_by,
                visited_at=_local(v.visited_at, home), check_in_lat=v.check_in_lat,
                check_in_lon=v.check_in_lon, outcome=v.outcome,
                persons_met=[
                    PersonMet(name=mask_name(p.get("name", "")), relation=p["relation"])
                    for p in (v.persons_met or [])
                ],
                notes=v.notes, contact_id=v.contact_id,
                files=[file_out(f) for f in files.get(v.id, [])],
            )
        )  # fmt: skip
    return out


def _visible(session: Session, principal: Principal, visit_id: int, *,
             for_update: bool = False) -> Visit:  # fmt: skip
    """The visit, if the principal may see it (404 otherwise: ids do not leak)."""
    visit = repo.get_visit(session, visit_id, for_update=for_update)
    if visit is not None and may_see(
        role=principal.role,
        user_id=principal.user_id,
        collector_ids=repo.collector_ids(session, visit.id),
        case_in_scope=case_in_scope_of(session, principal, visit.case_id),
    ):
        return visit
    raise NotFound(f"visit {visit_id} not found", visit_id=visit_id)


def _address_point(session: Session, debtor_id: int, point_id: int | None) -> ContactPoint:
    if point_id is None:
        found = repo.address_points(session, debtor_id)
        if not found:
            raise InvalidInput(
                "the debtor has no active address to visit; add one first (失联修复)",
                field="contact_point_id",
            )
        return found[0]
    point = repo.point(session, point_id)
    if point is None or point.debtor_id != debtor_id:
        raise InvalidInput(
            f"contact point {point_id} does not belong to this case's debtor",
            field="contact_point_id",
        )
    if point.kind != "address":
        raise InvalidInput("a visit goes to an address, not a " + point.kind, field="kind")
    if point.status != "active":
        raise InvalidInput("that address is marked invalid", field="contact_point_id")
    return point


# ------------------------------------------------------------------ requests


def request_visit(
    session: Session, principal: Principal, data: VisitRequestIn, *, now: datetime
) -> VisitOut:
    """Ask for a visit on a case in the principal's scope (one open visit per case)."""
    require(principal, "visit.request")
    case = case_for(session, principal, data.case_id, for_update=True)
    if case.status != "open":
        raise InvalidInput("the case is closed; there is nothing to visit for")
    point = _address_point(session, case.debtor_id, data.contact_point_id)
    visit = _new_request(
        session, case_id=case.id, team_id=case.team_id, point_id=point.id, source="collector",
        plan_day=None, reason=data.reason, actor=principal.username, now=now,
    )  # fmt: skip
    return visits_out(session, [visit])[0]


def _new_request(
    session: Session, *, case_id: int, team_id: int | None, point_id: int, source: str,
    plan_day: date | None, reason: str, actor: str, now: datetime,
) -> Visit:  # fmt: skip
    existing = repo.open_visit_of(session, case_id)
    if existing is not None:
        raise Conflict(
            f"case {case_id} already has an open visit ({existing.id}, {existing.status})",
            visit_id=existing.id,
        )
    visit = repo.add_visit(
        session, case_id=case_id, contact_point_id=point_id, team_id=team_id,
        status="requested", source=source, plan_day=plan_day, reason=reason,
        requested_by=actor, requested_at=now, persons_met=[], notes="",
        created_at=now, updated_at=now,
    )  # fmt: skip
    append_event(
        session, at=now, actor=actor, type="visit.requested", entity_type="visit",
        entity_id=visit.id, case_id=case_id,
        payload={"source": source, "contact_point_id": point_id,
                 "plan_day": plan_day.isoformat() if plan_day else None, "reason": reason},
    )  # fmt: skip
    return visit


def planned_visit_steps(engine: Engine, day: date) -> pl.DataFrame:
    """The strategy's ``visit`` steps planned for ``day`` with the gate's word (read before
    the transaction that imports them: the task list is a bulk read of its own)."""
    return task_list(engine, day, actions=("visit",))


def import_planned_in(
    session: Session, principal: Principal, *, day: date, now: datetime
) -> ImportedOut:
    """:func:`import_planned` with the day's planned steps read in the caller's own
    transaction (a request's session: ``POST /api/v1/visits/import-plan``)."""
    require(principal, "visit.schedule")
    planned = task_list_in(session, day, actions=("visit",))
    return import_planned(session, principal, planned, day=day, now=now)


def import_planned(
    session: Session, principal: Principal, planned: pl.DataFrame, *, day: date, now: datetime
) -> ImportedOut:
    """The strategy's planned ``visit`` steps (:func:`planned_visit_steps`) become visit
    requests (once: a re-run finds them) — a team lead's for their team's cases. Steps the
    gate dropped, or with no address, are skipped."""
    require(principal, "visit.schedule")
    actor = principal.username
    created = already = skipped = 0
    for row in planned.iter_rows(named=True):
        if row["status"] not in PLANNED or row["contact_point_id"] is None:
            skipped += 1
            continue
        case_id = int(row["case_id"])
        if not case_in_scope_of(session, principal, case_id):
            continue
        if repo.planned_visit(session, case_id, day) is not None:
            already += 1
            continue
        if repo.open_visit_of(session, case_id) is not None:
            already += 1
            continue
        case = case_granted(session, case_id, for_update=True)
        _new_request(
            session, case_id=case.id, team_id=case.team_id,
            point_id=int(row["contact_point_id"]), source="strategy", plan_day=day,
            reason=f"strategy {row['segment']}", actor=actor, now=now,
        )  # fmt: skip
        created += 1
    return ImportedOut(day=day, created=created, already=already, skipped=skipped)


# ------------------------------------------------------------------ scheduling


def _refusal(checks: Sequence[CheckOut]) -> ContactRefused:
    rules: dict[str, tuple[str, str]] = {}
    for checked in checks:
        for rule in checked.rules:
            rules.setdefault(rule.id, (rule.reason_zh, rule.reason_en))
    later = [c.next_allowed_at for c in checks if c.next_allowed_at is not None]
    text = "; ".join(f"{rid} {zh} ({en})" for rid, (zh, en) in rules.items())
    return ContactRefused(
        f"the compliance gate refuses this visit: {text}",
        rules=list(rules),
        reasons=[{"id": rid, "reason_zh": zh, "reason_en": en} for rid, (zh, en) in rules.items()],
        next_allowed_at=max(later).isoformat() if later else None,
    )


def schedule_visit(
    session: Session, principal: Principal, visit_id: int, data: ScheduleIn, *, now: datetime
) -> VisitOut:
    """Schedule (or reschedule) a visit: a day, a window in the debtor's zone, two or more of
    the team's collectors — refused with the gate's rule ids when it would not allow it."""
    require(principal, "visit.schedule")
    visit = _visible(session, principal, visit_id, for_update=True)
    case = case_for(session, principal, visit.case_id, for_update=True)
    home = repo.debtor_zone(session, case.id)
    today = now.astimezone(zone(home)).date()
    collectors = repo.collectors_named(session, [str(c).strip() for c in data.collectors])
    problem = schedule_problem(
        status=visit.status, case_team_id=case.team_id, day=data.day, today=today,
        start=data.start, end=data.end, collectors=collectors,
    )  # fmt: skip
    if problem:
        raise InvalidInput(problem)
    start, end = window_of(data.day, data.start, data.end, home)
    checks = [
        gate(
            session, principal,
            CheckIn(case_id=case.id, contact_point_id=visit.contact_point_id, channel="visit",
                    at=moment, collectors=len(collectors)),
            now=now,
        )
        for moment in gate_moments(start, end)
    ]  # fmt: skip
    if not all(c.allowed for c in checks):
        raise _refusal(checks)
    user_ids = [c.user_id for c in collectors if c.user_id is not None]
    repo.set_collectors(session, visit.id, user_ids)
    point = repo.point(session, visit.contact_point_id)
    located = locate(point.value) if point is not None else None
    repo.touch(
        session, visit, now=now, status="scheduled", day=data.day, window_start=start,
        window_end=end, scheduled_by=principal.username, scheduled_at=now, team_id=case.team_id,
        district_code=located.code if located else None, route_position=None,
    )  # fmt: skip
    append_event(
        session, at=now, actor=principal.username, type="visit.scheduled", entity_type="visit",
        entity_id=visit.id, case_id=case.id,
        payload={"day": data.day.isoformat(), "window_start": start.isoformat(),
                 "window_end": end.isoformat(), "collectors": [c.username for c in collectors],
                 "pack": checks[0].pack},
    )  # fmt: skip
    return visits_out(session, [visit])[0]


def cancel_visit(
    session: Session, principal: Principal, visit_id: int, *, reason: str, now: datetime
) -> VisitOut:
    """Cancel a requested or scheduled visit (the debtor paid, the address proved wrong …);
    the case may then be asked a visit again."""
    require(principal, "visit.schedule")
    visit = _visible(session, principal, visit_id, for_update=True)
    case_for(session, principal, visit.case_id)  # a team lead: their team's cases only
    if visit.status not in repo.OPEN:
        raise Conflict(f"a {visit.status} visit cannot be cancelled", visit_id=visit.id)
    if not reason.strip():
        raise InvalidInput("reason: say why the visit is cancelled", field="reason")
    before = visit.status
    repo.touch(session, visit, now=now, status="cancelled", route_position=None)
    append_event(
        session, at=now, actor=principal.username, type="visit.cancelled", entity_type="visit",
        entity_id=visit.id, case_id=visit.case_id, payload={"from": before, "reason": reason},
    )  # fmt: skip
    return visits_out(session, [visit])[0]


def schedulable_collectors(session: Session, principal: Principal) -> list[str]:
    """Whom a team lead may send: their team's active collectors (a manager: everyone's)."""
    require(principal, "visit.schedule")
    return repo.team_collectors(
        session, principal.team_id if principal.role == "team_lead" else None
    )


# ------------------------------------------------------------------ reading


def _team_filter(principal: Principal) -> int | None:
    if principal.role == "team_lead":
        return principal.team_id if principal.team_id is not None else -1
    return None


def list_visits(
    session: Session, principal: Principal, *, statuses: Sequence[str] = (),
    day: date | None = None, case_id: int | None = None, limit: int = 200,
) -> list[VisitOut]:  # fmt: skip
    """Visits the principal may see: a collector the ones they go on or asked for on their
    cases, a team lead their team's, the overseeing roles all."""
    require(principal, "visit.read")
    visits = repo.list_visits(
        session, team_id=_team_filter(principal),
        user_id=principal.user_id if principal.role == "collector" else None,
        statuses=statuses, day=day, case_id=case_id, limit=limit,
    )  # fmt: skip
    return visits_out(session, visits)


def get_visit(session: Session, principal: Principal, visit_id: int) -> VisitOut:
    require(principal, "visit.read")
    return visits_out(session, [_visible(session, principal, visit_id)])[0]


# ------------------------------------------------------------------ routing


def _stops(session: Session, visits: Sequence[Visit]) -> tuple[list[Stop], list[int]]:
    points = repo.points(session, [v.contact_point_id for v in visits])
    stops: list[Stop] = []
    unlocated: list[int] = []
    for v in visits:
        point = points.get(v.contact_point_id)
        located = locate(point.value) if point is not None else None
        if located is None:
            unlocated.append(v.id)
            continue
        home = zone(repo.debtor_zone(session, v.case_id))
        earliest = latest = None
        if v.window_start is not None and v.window_end is not None:
            s, e = v.window_start.astimezone(home), v.window_end.astimezone(home)
            earliest, latest = s.hour * 60 + s.minute, e.hour * 60 + e.minute
        stops.append(Stop(v.id, located.lat, located.lon, earliest, latest))
    return stops, unlocated


def _route_out(session: Session, team: str, day: date, visits: Sequence[Visit],
               ordered: Sequence[int], stops: Sequence[Stop], unlocated: list[int],
               windows_kept: bool) -> TeamRouteOut:  # fmt: skip
    by_id = {v.id: v for v in visits}
    stop_of = {s.visit_id: s for s in stops}
    names = repo.collector_names(session, [v.id for v in visits])
    points = repo.points(session, [v.contact_point_id for v in visits])
    out = []
    for position, visit_id in enumerate(ordered, start=1):
        v, s = by_id[visit_id], stop_of[visit_id]
        point = points.get(v.contact_point_id)
        located = locate(point.value) if point is not None else None
        out.append(
            RouteStopOut(
                position=position, visit_id=v.id, case_id=v.case_id,
                district=located.name if located else None, lat=s.lat, lon=s.lon,
                window_start=v.window_start, window_end=v.window_end,
                collectors=names.get(v.id, []),
            )
        )  # fmt: skip
    return TeamRouteOut(
        team=team, day=day, stops=out,
        length_m=route_length([stop_of[i] for i in ordered]),
        unordered_length_m=route_length(stops), windows_kept=windows_kept,
        unlocated=unlocated,
    )  # fmt: skip


def _by_team(visits: Sequence[Visit]) -> dict[int | None, list[Visit]]:
    teams: dict[int | None, list[Visit]] = {}
    for v in visits:
        teams.setdefault(v.team_id, []).append(v)
    return teams


def plan_routes(
    session: Session, principal: Principal, *, day: date, now: datetime,
    time_limit_ms: int = 1000,
) -> list[TeamRouteOut]:  # fmt: skip
    """Order the day's scheduled visits of each team (a team lead: their own) by route and
    keep the order (``route_position``), one ``visit.routed`` event per team."""
    require(principal, "visit.schedule")
    visits = repo.day_visits(session, day, _team_filter(principal))
    names = repo.team_names(session, [v.team_id for v in visits])
    routes = []
    for team_id, team_visits in _by_team(visits).items():
        stops, unlocated = _stops(session, team_visits)
        route = order_route(stops, time_limit_ms=time_limit_ms)
        for position, visit_id in enumerate(route.visit_ids, start=1):
            visit = next(v for v in team_visits if v.id == visit_id)
            repo.touch(session, visit, now=now, route_position=position)
        for visit in team_visits:
            if visit.id in unlocated:
                repo.touch(session, visit, now=now, route_position=None)
        team = names.get(team_id, "—") if team_id is not None else "—"
        append_event(
            session, at=now, actor=principal.username, type="visit.routed",
            entity_type="team", entity_id=team_id,
            payload={"day": day.isoformat(), "visits": list(route.visit_ids),
                     "length_m": route.length_m, "unlocated": unlocated,
                     "windows_kept": route.windows_kept},
        )  # fmt: skip
        routes.append(
            _route_out(session, team, day, team_visits, route.visit_ids, stops, unlocated,
                       route.windows_kept)
        )  # fmt: skip
    return routes


def routes_of_day(session: Session, principal: Principal, *, day: date) -> list[TeamRouteOut]:
    """The day's routes as kept (visits not yet routed follow in scheduling order)."""
    require(principal, "visit.read")
    visits = repo.day_visits(session, day, _team_filter(principal))
    if principal.role == "collector":
        visits = [v for v in visits if principal.user_id in repo.collector_ids(session, v.id)]
    names = repo.team_names(session, [v.team_id for v in visits])
    routes = []
    for team_id, team_visits in _by_team(visits).items():
        stops, unlocated = _stops(session, team_visits)
        position = {v.id: v.route_position for v in team_visits}
        big = len(team_visits) + 1
        ordered = sorted(
            (s.visit_id for s in stops), key=lambda i: (position[i] or big, i)
        )  # scheduling order for the unrouted
        team = names.get(team_id, "—") if team_id is not None else "—"
        kept = all(position[s.visit_id] is not None for s in stops)
        routes.append(_route_out(session, team, day, team_visits, ordered, stops, unlocated, kept))
    return routes


# ------------------------------------------------------------------ the record


def record_visit(
    session: Session, principal: Principal, visit_id: int, data: RecordIn, *, now: datetime
) -> RecordOut:
    """The visit record (走访记录表) by one of its collectors: a ``visit`` contact through the
    contact service (judged, screened, its promise taken) and, when one was negotiated, an
    agreement request through the agreements service — all in one transaction."""
    require(principal, "visit.record")
    visit = _visible(session, principal, visit_id, for_update=True)
    collector_ids = repo.collector_ids(session, visit.id)
    visited_at = data.visited_at or now
    if visited_at.tzinfo is None:
        raise InvalidInput("visited_at needs a time zone, e.g. 2026-11-25T09:30:00+08:00")
    problem = record_problem(
        status=visit.status, collector_ids=collector_ids, recorder_id=principal.user_id,
        visited_at=visited_at, now=now, window_start=visit.window_start,
    )  # fmt: skip
    if problem:
        raise InvalidInput(problem) if visit.status == "scheduled" else Conflict(problem)
    if (data.check_in_lat is None) != (data.check_in_lon is None):
        raise InvalidInput("check-in: give both latitude and longitude, or neither")
    case = case_granted(session, visit.case_id, for_update=True)
    logged = record_contact(
        session, principal, case,
        ContactIn(contact_point_id=visit.contact_point_id, channel="visit",
                  outcome=data.outcome, at=visited_at, notes=data.notes,
                  promise=data.promise, collectors=len(collector_ids)),
        now=now,
    )  # fmt: skip
    agreement_id = None
    if data.agreement is not None:
        try:
            agreement_id = request_agreement(
                session, principal, case.id, data.agreement, now=now
            ).id
        except NotFound:
            raise InvalidInput(
                "agreement: only the case's own collector or team lead can send an agreement "
                "for approval; record the visit without it and pass the terms on",
                field="agreement",
            ) from None
    persons = [p.model_dump() for p in data.persons_met]
    repo.touch(
        session, visit, now=now, status="done", recorded_by=principal.username,
        visited_at=visited_at, check_in_lat=data.check_in_lat, check_in_lon=data.check_in_lon,
        outcome=data.outcome, persons_met=persons, notes=data.notes,
        contact_id=logged.contact.id,
    )  # fmt: skip
    append_event(
        session, at=now, actor=principal.username, type="visit.recorded", entity_type="visit",
        entity_id=visit.id, case_id=case.id,
        payload={"contact_id": logged.contact.id, "outcome": data.outcome,
                 "visited_at": visited_at.isoformat(),
                 "check_in": [data.check_in_lat, data.check_in_lon]
                 if data.check_in_lat is not None else None,
                 "persons_met": [p["relation"] for p in persons],
                 "promise_id": logged.promise.id if logged.promise else None,
                 "agreement_id": agreement_id},
    )  # fmt: skip
    return RecordOut(
        visit=visits_out(session, [visit])[0], contact_id=logged.contact.id,
        compliance_allowed=logged.compliance.allowed,
        compliance_rules=logged.compliance.rules, promise=logged.promise,
        agreement_id=agreement_id, alerts_raised=logged.alerts_raised,
    )  # fmt: skip


# ------------------------------------------------------------------ files


def add_file(
    session: Session, principal: Principal, visit_id: int, *, filename: str, data: bytes,
    root: Path, now: datetime,
) -> FileOut:  # fmt: skip
    """Keep a photo or document of the visit (by one of its collectors or the team lead)."""
    require(principal, "visit.record")
    visit = _visible(session, principal, visit_id, for_update=True)
    if visit.status not in ("scheduled", "done"):
        raise Conflict(f"a {visit.status} visit takes no files")
    if principal.role == "collector" and principal.user_id not in repo.collector_ids(
        session, visit.id
    ):
        raise InvalidInput("only a collector scheduled on the visit may add its files")
    digest, kind = storage.store(root, data)
    row = repo.add_file(
        session, visit_id=visit.id, sha256=digest, filename=storage.clean_name(filename),
        content_type=kind, size=len(data), uploaded_by=principal.username, uploaded_at=now,
    )  # fmt: skip
    append_event(
        session, at=now, actor=principal.username, type="visit.file_added", entity_type="visit",
        entity_id=visit.id, case_id=visit.case_id,
        payload={"file_id": row.id, "sha256": digest, "content_type": kind, "size": len(data)},
    )  # fmt: skip
    return file_out(row)


def file_content(
    session: Session, principal: Principal, visit_id: int, file_id: int, *, root: Path
) -> tuple[FileOut, bytes]:
    """A visit's file for a permitted role that may see the visit (else 403/404)."""
    require(principal, "visit.file.read")
    visit = _visible(session, principal, visit_id)
    row = repo.get_file(session, file_id)
    if row is None or row.visit_id != visit.id:
        raise NotFound(f"no file {file_id} on visit {visit_id}")
    return file_out(row), storage.read(root, row.sha256)


def one_day(value: str | None, now: datetime) -> date:
    """A day given as text, or today (Beijing)."""
    if not value:
        return now.astimezone(zone(DEFAULT_TZ)).date()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{value!r} is not a date like 2026-12-01", field="day") from None


def may_see_address(session: Session, principal: Principal, visit: VisitOut) -> bool:
    """Whether ``principal`` may unmask ``visit``'s address (the page's button; the reveal
    itself checks again)."""
    return may_reveal_address(
        may_reveal=can(principal.role, "pii.reveal"), user_id=principal.user_id,
        collector_ids=repo.collector_ids(session, visit.id), status=visit.status,
    )  # fmt: skip


def reveal_address(session: Session, principal: Principal, visit_id: int, *, now: datetime) -> str:
    """The visit's address unmasked (查看外访地址), for :func:`rules.may_reveal_address`;
    every reveal is a ``pii.revealed`` event on the case (audited)."""
    visit = _visible(session, principal, visit_id)
    allowed_by_role = can(principal.role, "pii.reveal")
    if not may_reveal_address(
        may_reveal=allowed_by_role, user_id=principal.user_id,
        collector_ids=repo.collector_ids(session, visit.id), status=visit.status,
    ):  # fmt: skip
        raise PermissionDenied(
            "only a collector scheduled on this visit (while it is scheduled) or a role "
            "that may unmask personal data sees the full address",
            permission="pii.reveal",
        )
    point = repo.points(session, [visit.contact_point_id]).get(visit.contact_point_id)
    address = point.value if point is not None else ""
    record_reveal(
        session, principal, case_id=visit.case_id, now=now, field="visit_address",
        visit_id=visit.id, granted_by=None if allowed_by_role else "visit.scheduled_collector",
    )  # fmt: skip
    return address
