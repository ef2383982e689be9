"""Commission statements (佣金结算单), one per agency and month.

A statement covers the payments received on the agency's placed cases while placed, net of
reversals, effective by the month's last day and on no earlier closed statement. Until it is
closed it is a draft, recomputed from the ledger each time. Closing records its lines (each
ledger entry once, ever): a reversal or a late-posted payment after that goes on the next
statement — a reversal of a payment already paid for is a clawback (追回) at the rate it was
paid. Months close in order. ADR 0028.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from cuishou.agency import repository as repo
from cuishou.agency.config import AgencySettings, default_settings
from cuishou.agency.rules import Line, parse_month, statement_lines, totals
from cuishou.agency.schemas import StatementLineOut, StatementOut, StatementSummary
from cuishou.agency.service.common import agency_named, may_manage, reading_scope
from cuishou.auth.rules import Principal
from cuishou.kit.errors import Conflict, InvalidInput, PermissionDenied
from cuishou.kit.money import format_yuan
from cuishou.store.tables import Agency

#: rates are shown and stored with four places (``commission_lines.rate``)
RATE_PLACES = Decimal("0.0001")


def _month(text: str) -> tuple[date, date]:
    try:
        return parse_month(text)
    except ValueError as exc:
        raise InvalidInput(f"month: {exc}", field="month") from exc


def _readable(session: Session, agency: str, principal: Principal | None) -> Agency:
    chosen = agency_named(session, agency)
    own = reading_scope(principal)
    if own is not None and own != chosen.id:
        raise PermissionDenied("an agency user sees its own statements only")
    return chosen


def draft_lines(
    session: Session, agency: Agency, last_day: date, settings: AgencySettings
) -> list[Line]:
    """The lines a statement ending ``last_day`` would have if closed now."""
    moves = repo.moves(session, upto=last_day, agency_id=agency.id)  # not on a closed one
    return statement_lines(
        moves, last_day=last_day, closed=frozenset(),
        closed_rates=repo.closed_rates(session, agency.id),
        schedule=settings.schedule_of(agency.code),
    )  # fmt: skip


def _line_out(line: Line) -> StatementLineOut:
    return StatementLineOut(
        case_id=line.case_id, kind=line.kind, reference=line.reference,
        effective_on=line.effective_on, cash=format_yuan(line.cash_fen),
        rate=str(line.rate.quantize(RATE_PLACES)),
        commission=format_yuan(line.commission_fen),
    )  # fmt: skip


def statement(
    session: Session,
    *,
    agency: str,
    month: str,
    principal: Principal | None = None,
    settings: AgencySettings | None = None,
) -> StatementOut:
    """The agency's statement for ``month`` (``YYYY-MM``): the closed one as recorded, else
    the draft from the ledger as it stands."""
    _, last = _month(month)
    chosen = _readable(session, agency, principal)
    closed = repo.closed_statement(session, chosen.id, month)
    if closed is not None:
        lines = [
            Line(
                entry_id=r.ledger_entry_id, placement_case_id=r.placement_case_id,
                case_id=r.case_id, kind=r.kind, reference=r.reference,
                effective_on=r.effective_on, cash_fen=r.cash_fen, rate=r.rate,
                commission_fen=r.commission_fen,
            )
            for r in repo.statement_lines(session, closed.id)
        ]  # fmt: skip
        return StatementOut(
            agency=chosen.code, month=month, status="closed",
            collected=format_yuan(closed.collected_fen),
            commission=format_yuan(closed.commission_fen),
            clawback=format_yuan(closed.clawback_fen),
            lines=[_line_out(line) for line in lines],
            closed_by=closed.closed_by, closed_at=closed.closed_at,
        )  # fmt: skip
    lines = draft_lines(session, chosen, last, settings or default_settings())
    sums = totals(lines)
    return StatementOut(
        agency=chosen.code, month=month, status="draft",
        collected=format_yuan(sums.collected_fen), commission=format_yuan(sums.commission_fen),
        clawback=format_yuan(sums.clawback_fen), lines=[_line_out(line) for line in lines],
    )  # fmt: skip


def close_statement(
    session: Session,
    *,
    agency: str,
    month: str,
    today: date,
    actor: str,
    now: datetime,
    principal: Principal | None = None,
    settings: AgencySettings | None = None,
) -> StatementOut:
    """结算: record the agency's statement for ``month`` as it stands; its lines never change
    again. Only a month that is over (``today`` after its last day), not closed yet, and not
    before a month already closed."""
    may_manage(principal)
    _, last = _month(month)
    chosen = agency_named(session, agency)
    if today <= last:
        raise InvalidInput(f"month {month} is not over yet (today is {today})", field="month")
    if repo.closed_statement(session, chosen.id, month) is not None:
        raise Conflict(f"the {month} statement of {chosen.code} is already closed", month=month)
    latest = repo.latest_closed_month(session, chosen.id)
    if latest is not None and latest > month:
        raise Conflict(
            f"{chosen.code} already has a closed statement for {latest}; months close in order",
            month=month,
        )
    lines = draft_lines(session, chosen, last, settings or default_settings())
    sums = totals(lines)
    closed = repo.close_statement(
        session, agency_id=chosen.id, month=month, lines=lines,
        collected_fen=sums.collected_fen, commission_fen=sums.commission_fen,
        clawback_fen=sums.clawback_fen, actor=actor, now=now,
    )  # fmt: skip
    return StatementOut(
        agency=chosen.code, month=month, status="closed",
        collected=format_yuan(sums.collected_fen), commission=format_yuan(sums.commission_fen),
        clawback=format_yuan(sums.clawback_fen), lines=[_line_out(line) for line in lines],
        closed_by=closed.closed_by, closed_at=closed.closed_at,
    )  # fmt: skip


def list_statements(
    session: Session, *, principal: Principal | None = None
) -> list[StatementSummary]:
    """Closed statements, newest month first (an agency user: its own)."""
    own = reading_scope(principal)
    return [
        StatementSummary(
            agency=code, month=s.month, collected=format_yuan(s.collected_fen),
            commission=format_yuan(s.commission_fen), clawback=format_yuan(s.clawback_fen),
            lines=s.lines, closed_by=s.closed_by, closed_at=s.closed_at,
        )
        for s, code in repo.statements(session, own)
    ]  # fmt: skip
