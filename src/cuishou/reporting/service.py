"""The manager's overview (经营总览): fetch the figures in scope, shape them for people.

Today's contacts and promises and this month's recovery by team are KPIs: they come from
:func:`cuishou.kpis.service.figures`, the one definition of each figure; this module adds
only what is not a KPI (open cases by bucket, today's contacts by outcome)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from cuishou.accounts.rules import DEFAULT_BUCKETS
from cuishou.auth.rules import Principal, case_scope_of
from cuishou.auth.service import require
from cuishou.contact.rules import OUTCOMES
from cuishou.kit.clock import DEFAULT_TZ, zone
from cuishou.kit.money import format_yuan, parse_yuan
from cuishou.kpis.service import figures
from cuishou.reporting import repository as repo
from cuishou.reporting.schemas import BucketLine, OutcomeLine, Overview, TeamRecovery


def overview(session: Session, principal: Principal, *, now: datetime) -> Overview:
    """Every bucket and every team is listed, with 0 where there is nothing."""
    require(principal, "report.read")
    scope = case_scope_of(principal)
    local = zone(DEFAULT_TZ)
    start = datetime.combine(now.astimezone(local).date(), time(0), tzinfo=local)
    end = start + timedelta(days=1)

    buckets = repo.open_cases_by_bucket(session, scope)
    names = [n for n in DEFAULT_BUCKETS.names if n in buckets or n != "M0"]
    names += sorted(b for b in buckets if b not in names)
    outcomes = repo.contacts_by_outcome(session, scope, start=start, end=end)
    today = start.date()
    kpis_today = figures(session, principal, today, today).total
    month = figures(session, principal, today.replace(day=1), today, "team").rows or []
    recovered = {row.key: (row.payments, parse_yuan(row.recovered)) for row in month}
    recovery = [
        TeamRecovery(
            team=name,
            payments=recovered.get(name, (0, 0))[0],
            recovered=format_yuan(recovered.get(name, (0, 0))[1]),
        )
        for _team_id, name in repo.teams(session)
    ]
    if None in recovered:
        n, fen = recovered[None]
        recovery.append(TeamRecovery(team=None, payments=n, recovered=format_yuan(fen)))
    return Overview(
        by_bucket=[
            BucketLine(
                bucket=name,
                cases=buckets.get(name, (0, 0))[0],
                amount_due=format_yuan(buckets.get(name, (0, 0))[1]),
            )
            for name in names
        ],
        contacts_today=kpis_today.contacts,
        contacts_by_outcome=[
            OutcomeLine(outcome=code, contacts=outcomes.get(code, 0)) for code in OUTCOMES
        ],
        promises_today=kpis_today.promises,
        promised_today=kpis_today.promised,
        recovery_by_team=recovery,
    )
