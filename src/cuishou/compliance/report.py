"""The compliance report (合规报表): what the gate blocked, what slipped through, exceptions.

Read from the event log, per day in the business zone: blocked attempts by rule, violations
(contacts logged that the gate would have refused) by rule and by collector/agency,
overrides with their reasons, and content findings by category and by collector/agency.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.auth.service import require
from cuishou.compliance.schemas import (
    CountOut,
    DayOut,
    OverrideRow,
    PersonCountOut,
    ReportOut,
)
from cuishou.contact.rules import PLAUSIBLE_YEARS
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.errors import InvalidInput
from cuishou.kit.spreadsheet import excel_safe
from cuishou.store.tables import Agency, Event, User

REPORT_EVENTS = (
    "compliance.checked",
    "compliance.violation",
    "compliance.override",
    "screening.finding",
)
MAX_DAYS = 366
DEFAULT_DAYS = 30


def _rows(
    session: Session, start: datetime, end: datetime
) -> Iterable[tuple[datetime, str, str, dict[str, Any], str | None]]:
    query = (
        select(Event.at, Event.type, Event.actor, Event.payload, Agency.code)
        .outerjoin(User, User.username == Event.actor)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .where(Event.type.in_(REPORT_EVENTS), Event.at >= start, Event.at < end)
        .order_by(Event.at, Event.id)
    )
    for at, kind, actor, payload, agency in session.execute(query):
        yield at, kind, actor, dict(payload or {}), agency


def _counts(counter: Counter[str]) -> list[CountOut]:
    return [
        CountOut(key=k, count=n) for k, n in sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    ]


def _people(counter: Counter[tuple[str, str, str]]) -> list[PersonCountOut]:
    return [
        PersonCountOut(collector=c, agency=a or None, key=k, count=n)
        for (c, a, k), n in sorted(counter.items(), key=lambda x: (-x[1], x[0]))
    ]


def compliance_report(
    session: Session,
    principal: Principal,
    *,
    date_from: date | None,
    date_to: date | None,
    today: date,
    tz: str = DEFAULT_TZ,
) -> ReportOut:
    """The report for ``date_from``…``date_to`` (default: the 30 days up to ``today``)."""
    require(principal, "compliance.report")
    for name, bound in (("date_from", date_from), ("date_to", date_to)):
        if bound is not None and not PLAUSIBLE_YEARS[0] <= bound.year <= PLAUSIBLE_YEARS[1]:
            raise InvalidInput(f"{name}: {bound.year} is not a plausible year", field=name)
    date_to = date_to or today
    date_from = date_from or date_to - timedelta(days=DEFAULT_DAYS)
    if date_to < date_from:
        raise InvalidInput("date_to is before date_from", field="date_to")
    if (date_to - date_from).days >= MAX_DAYS:
        raise InvalidInput(f"a report covers at most {MAX_DAYS} days", field="date_to")
    local = zone(tz)
    start = datetime.combine(date_from, time(0), tzinfo=local)
    end = datetime.combine(date_to + timedelta(days=1), time(0), tzinfo=local)
    days: dict[date, Counter[str]] = {}
    blocked: Counter[str] = Counter()
    violations: Counter[str] = Counter()
    violators: Counter[tuple[str, str, str]] = Counter()
    findings: Counter[str] = Counter()
    finders: Counter[tuple[str, str, str]] = Counter()
    overrides: list[OverrideRow] = []
    for at, kind, actor, payload, agency in _rows(session, start, end):
        day = days.setdefault(at.astimezone(local).date(), Counter())
        rules = [str(r) for r in payload.get("rules", [])]
        if kind == "compliance.checked":
            day["checks"] += 1
            if not payload.get("allowed", True):
                day["blocked"] += 1
                blocked.update(rules)
        elif kind == "compliance.violation":
            day["violations"] += 1
            violations.update(rules)
            for rule in rules:
                violators[(actor, agency or "", rule)] += 1
        elif kind == "compliance.override":
            day["overrides"] += 1
            overrides.append(
                OverrideRow(at=at, approved_by=actor, rules=rules,
                            reason=str(payload.get("reason", "")))
            )  # fmt: skip
        else:
            category = str(payload.get("category", "unknown"))
            day["findings"] += 1
            findings[category] += 1
            finders[(actor, agency or "", category)] += 1
    return ReportOut(
        date_from=date_from,
        date_to=date_to,
        days=[
            DayOut(
                day=d,
                checks=c["checks"],
                blocked=c["blocked"],
                violations=c["violations"],
                overrides=c["overrides"],
                findings=c["findings"],
            )
            for d, c in sorted(days.items())
        ],
        blocked_by_rule=_counts(blocked),
        violations_by_rule=_counts(violations),
        violations_by_collector=_people(violators),
        findings_by_category=_counts(findings),
        findings_by_collector=_people(finders),
        overrides=overrides,
    )


class _ExcelSafeWriter:
    """A ``csv.writer`` whose cells a spreadsheet shows as text, never runs as a formula."""

    def __init__(self, out: io.StringIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([excel_safe(cell) for cell in row])


def report_csv(report: ReportOut) -> str:
    """One flat table: section, day, collector, agency, key, count (UTF-8 with BOM for Excel).

    Collector names, agency codes and rule keys come from users and rule packs: every cell
    goes through :func:`cuishou.kit.spreadsheet.excel_safe`.
    """
    out = io.StringIO()
    out.write("\ufeff")
    writer = _ExcelSafeWriter(out)
    writer.writerow(["section", "day", "collector", "agency", "key", "count"])
    for d in report.days:
        for key in ("checks", "blocked", "violations", "overrides", "findings"):
            writer.writerow(["day", d.day.isoformat(), "", "", key, getattr(d, key)])
    for section, counts in (
        ("blocked_by_rule", report.blocked_by_rule),
        ("violations_by_rule", report.violations_by_rule),
        ("findings_by_category", report.findings_by_category),
    ):
        for c in counts:
            writer.writerow([section, "", "", "", c.key, c.count])
    for section, people in (
        ("violations_by_collector", report.violations_by_collector),
        ("findings_by_collector", report.findings_by_collector),
    ):
        for p in people:
            writer.writerow([section, "", p.collector, p.agency or "", p.key, p.count])
    for o in report.overrides:
        writer.writerow(["override", o.at.isoformat(), o.approved_by, "", "|".join(o.rules), 1])
    return out.getvalue()
