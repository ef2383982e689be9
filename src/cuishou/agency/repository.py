"""Agency queries: agencies, candidate cases, placements and their cases, recall facts,
the cash moves on placed cases and the closed commission statements. Set-based; updates of
many cases go in chunks of one statement each."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import case, func, insert, select, text, update
from sqlalchemy.orm import Session

from cuishou.agency.rules import Candidate, Line, Move
from cuishou.auth.rules import CaseScope
from cuishou.auth.scope import case_scope_clause
from cuishou.store.tables import (
    Account,
    Agency,
    AgencyPlacement,
    AgencyPlacementCase,
    Alert,
    Case,
    CommissionLine,
    CommissionStatement,
    ContactHold,
    Creditor,
)

CHUNK = 5_000
VIOLATION = "compliance_violation"
COMPLAINT = "complaint"


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield list(ids[i : i + CHUNK])


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def agencies(session: Session) -> list[Agency]:
    return list(session.scalars(select(Agency).order_by(Agency.code)))


def agency_codes(session: Session) -> dict[int, str]:
    return {a.id: a.code for a in agencies(session)}


def candidates(session: Session) -> list[Candidate]:
    """Every open case with no agency, with its accounts' products."""
    rows = session.execute(
        select(
            Case.id, Creditor.code, Case.bucket, Case.dpd, Case.amount_tier, Case.due_fen,
            Case.risk_grade,
        )
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(Case.status == "open", Case.agency_id.is_(None))
        .order_by(Case.id)
    ).all()  # fmt: skip
    products: dict[int, set[str]] = {}
    for case_id, product in session.execute(
        select(Account.case_id, Account.product_code)
        .join(Case, Case.id == Account.case_id)
        .where(Case.status == "open", Case.agency_id.is_(None))
        .distinct()
    ):
        if case_id is not None:
            products.setdefault(int(case_id), set()).add(str(product))
    return [
        Candidate(
            case_id=int(r[0]), creditor=str(r[1]), bucket=str(r[2]), dpd=int(r[3]),
            amount_tier=str(r[4]), due_fen=int(r[5]), grade=r[6],
            products=frozenset(products.get(int(r[0]), ())),
        )
        for r in rows
    ]  # fmt: skip


def add_placement(
    session: Session, *, agency_id: int, placed_on: date, ends_on: date, selection: str,
    actor: str, now: datetime,
) -> AgencyPlacement:  # fmt: skip
    placement = AgencyPlacement(
        agency_id=agency_id, placed_on=placed_on, ends_on=ends_on, status="active",
        selection=selection, created_by=actor, created_at=now,
    )  # fmt: skip
    session.add(placement)
    session.flush()
    return placement


def add_placed_cases(
    session: Session, placement: AgencyPlacement, cases: Sequence[Candidate]
) -> None:
    if cases:
        session.execute(
            insert(AgencyPlacementCase),
            [
                {
                    "placement_id": placement.id, "case_id": c.case_id,
                    "placed_on": placement.placed_on, "bucket": c.bucket,
                    "amount_tier": c.amount_tier, "due_fen": c.due_fen,
                }
                for c in cases
            ],
        )  # fmt: skip


@dataclass(frozen=True, slots=True)
class PlacementRow:
    placement: AgencyPlacement
    agency: str
    cases: int
    placed_now: int
    due_fen: int


def placements(
    session: Session, *, agency_id: int | None = None, placement_id: int | None = None
) -> list[PlacementRow]:
    """Placements (newest first) with their agency code, case counts and amount placed."""
    still = func.sum(case((AgencyPlacementCase.recalled_on.is_(None), 1), else_=0))
    query = (
        select(
            AgencyPlacement,
            Agency.code,
            func.count(AgencyPlacementCase.id),
            still,
            func.coalesce(func.sum(AgencyPlacementCase.due_fen), 0),
        )
        .join(Agency, Agency.id == AgencyPlacement.agency_id)
        .outerjoin(AgencyPlacementCase, AgencyPlacementCase.placement_id == AgencyPlacement.id)
        .group_by(AgencyPlacement.id, Agency.code)
        .order_by(AgencyPlacement.id.desc())
    )
    if agency_id is not None:
        query = query.where(AgencyPlacement.agency_id == agency_id)
    if placement_id is not None:
        query = query.where(AgencyPlacement.id == placement_id)
    return [
        PlacementRow(p, str(code), int(n), int(now_ or 0), int(due))
        for p, code, n, now_, due in session.execute(query)
    ]


def placed_cases(
    session: Session, placement_id: int, scope: CaseScope | None = None
) -> list[AgencyPlacementCase]:
    query = select(AgencyPlacementCase).where(AgencyPlacementCase.placement_id == placement_id)
    if scope is not None:
        query = query.join(Case, Case.id == AgencyPlacementCase.case_id).where(
            case_scope_clause(scope)
        )
    return list(session.scalars(query.order_by(AgencyPlacementCase.case_id)))


@dataclass(frozen=True, slots=True)
class Placed:
    """A case still placed: its row, its placement's period and agency."""

    row: AgencyPlacementCase
    agency_id: int
    ends_on: date
    debtor_id: int
    tz: str


def still_placed(session: Session, *, placement_id: int | None = None) -> list[Placed]:
    query = (
        select(
            AgencyPlacementCase, AgencyPlacement.agency_id, AgencyPlacement.ends_on,
            Case.debtor_id, Creditor.timezone,
        )
        .join(AgencyPlacement, AgencyPlacement.id == AgencyPlacementCase.placement_id)
        .join(Case, Case.id == AgencyPlacementCase.case_id)
        .join(Creditor, Creditor.id == Case.creditor_id)
        .where(AgencyPlacementCase.recalled_on.is_(None))
        .order_by(AgencyPlacementCase.id)
    )  # fmt: skip
    if placement_id is not None:
        query = query.where(AgencyPlacementCase.placement_id == placement_id)
    return [Placed(r, int(a), e, int(d), str(tz)) for r, a, e, d, tz in session.execute(query)]


def violation_days(session: Session, case_ids: Sequence[int], upto: date) -> list[tuple[int, date]]:
    """(case, day) of the compliance-violation alerts raised on the cases up to ``upto``."""
    found: list[tuple[int, date]] = []
    for chunk in _chunks(case_ids):
        query = select(Alert.case_id, Alert.raised_on).where(
            Alert.kind == VIOLATION, Alert.case_id.in_(chunk), Alert.raised_on <= upto
        )
        found.extend((int(c), d) for c, d in session.execute(query) if c is not None)
    return found


def complaint_holds(
    session: Session, debtor_ids: Sequence[int]
) -> list[tuple[int, int | None, datetime]]:
    """(debtor, case or ``None`` for every case of the debtor, opened at) of the complaints
    recorded (投诉, a complaint hold) on the debtors."""
    found: list[tuple[int, int | None, datetime]] = []
    for chunk in _chunks(debtor_ids):
        found.extend(
            (int(d), None if c is None else int(c), at)
            for d, c, at in session.execute(
                select(ContactHold.debtor_id, ContactHold.case_id, ContactHold.opened_at).where(
                    ContactHold.kind == COMPLAINT, ContactHold.debtor_id.in_(chunk)
                )
            )
        )
    return found


def mark_recalled(session: Session, rows: Sequence[tuple[int, date, str, str | None]]) -> None:
    """(placement case id, recalled on, reason, note) for each case recalled."""
    for row_id, day, reason, note in rows:
        session.execute(
            update(AgencyPlacementCase)
            .where(AgencyPlacementCase.id == row_id, AgencyPlacementCase.recalled_on.is_(None))
            .values(recalled_on=day, recall_reason=reason, recall_note=note)
            .execution_options(synchronize_session=False)
        )


def end_finished(session: Session, placement_ids: Iterable[int], day: date) -> list[int]:
    """Mark ended the placements among ``placement_ids`` with no case still placed."""
    ended: list[int] = []
    for placement_id in sorted(set(placement_ids)):
        left = session.scalar(
            select(func.count())
            .select_from(AgencyPlacementCase)
            .where(
                AgencyPlacementCase.placement_id == placement_id,
                AgencyPlacementCase.recalled_on.is_(None),
            )
        )
        if not left:
            session.execute(
                update(AgencyPlacement)
                .where(AgencyPlacement.id == placement_id, AgencyPlacement.status == "active")
                .values(status="ended", ended_on=day)
                .execution_options(synchronize_session=False)
            )
            ended.append(placement_id)
    return ended


# --- cash on placed cases (the ledger's payments and reversals) ------------------------------

#: what an entry moved in cash: the KPI layer's definition (``kpis.repository``, ``moves``):
#: a payment is + (owed amounts taken off, credit added), a reversal −
CASH = "(le.credit_fen - (le.fee_fen + le.penalty_fen + le.interest_fen + le.principal_fen))"
#: a payment counts while the case is with the agency: from placement to the period's end or
#: the day before recall
IN_WINDOW = """pay.effective_on >= pc.placed_on AND pay.effective_on <= p.ends_on
    AND (pc.recalled_on IS NULL OR pay.effective_on < pc.recalled_on)"""
MOVES_SQL = f"""
SELECT le.id, le.kind, le.account_id, le.reference, le.effective_on,
    CAST({CASH} AS BIGINT) AS cash_fen, pc.id, pc.case_id, pc.bucket, pc.amount_tier,
    pc.placed_on
FROM agency_placement_cases pc
JOIN agency_placements p ON p.id = pc.placement_id
JOIN accounts a ON a.case_id = pc.case_id
JOIN ledger_entries pay ON pay.account_id = a.id AND pay.kind = 'payment'
JOIN ledger_entries le ON le.account_id = pay.account_id AND (
    le.id = pay.id OR (le.kind = 'reversal' AND le.reference = pay.reference))
WHERE {{where}} AND {IN_WINDOW} AND pay.reference IS NOT NULL AND le.effective_on <= :upto
    AND NOT EXISTS (SELECT 1 FROM commission_lines cl WHERE cl.ledger_entry_id = le.id)
ORDER BY le.effective_on, le.id"""  # noqa: S608 - constant fragments


def moves(
    session: Session,
    *,
    upto: date,
    agency_id: int | None = None,
    placement_ids: Sequence[int] | None = None,
) -> list[Move]:
    """The payments on placed cases while placed, and the reversals of those payments,
    effective by ``upto`` and on no closed statement — of one agency or of some placements."""
    if agency_id is not None:
        where, params = "p.agency_id = :agency", {"agency": agency_id}
    else:
        ids = sorted(set(placement_ids or ()))
        if not ids:
            return []
        where = f"p.id IN ({', '.join(str(int(i)) for i in ids)})"
        params = {}
    rows = session.execute(text(MOVES_SQL.format(where=where)), {"upto": upto, **params})
    return [
        Move(
            entry_id=int(r[0]), kind=str(r[1]), account_id=int(r[2]), reference=str(r[3]),
            effective_on=_day(r[4]), cash_fen=int(r[5]), placement_case_id=int(r[6]),
            case_id=int(r[7]), bucket=str(r[8]), tier=str(r[9]), placed_on=_day(r[10]),
        )
        for r in rows
    ]  # fmt: skip


def _day(value: Any) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


# --- commission statements -----------------------------------------------------------------


def closed_statement(session: Session, agency_id: int, month: str) -> CommissionStatement | None:
    return session.scalar(
        select(CommissionStatement).where(
            CommissionStatement.agency_id == agency_id, CommissionStatement.month == month
        )
    )


def latest_closed_month(session: Session, agency_id: int) -> str | None:
    return session.scalar(
        select(func.max(CommissionStatement.month)).where(
            CommissionStatement.agency_id == agency_id
        )
    )


def statements(
    session: Session, agency_id: int | None = None
) -> list[tuple[CommissionStatement, str]]:
    query = (
        select(CommissionStatement, Agency.code)
        .join(Agency, Agency.id == CommissionStatement.agency_id)
        .order_by(CommissionStatement.month.desc(), Agency.code)
    )
    if agency_id is not None:
        query = query.where(CommissionStatement.agency_id == agency_id)
    return [(s, str(code)) for s, code in session.execute(query)]


#: the rate each payment on a closed statement was paid at, for the payments with a reversal
#: on no closed statement yet (the clawbacks a draft may need)
CLOSED_RATES_SQL = """
WITH open_reversals AS MATERIALIZED (
    SELECT r.account_id, r.reference FROM ledger_entries r
    WHERE r.kind = 'reversal'
        AND NOT EXISTS (SELECT 1 FROM commission_lines c2 WHERE c2.ledger_entry_id = r.id))
SELECT pay.account_id, cl.reference, cl.rate
FROM open_reversals o
JOIN ledger_entries pay ON pay.account_id = o.account_id AND pay.reference = o.reference
    AND pay.kind = 'payment'
JOIN commission_lines cl ON cl.ledger_entry_id = pay.id AND cl.kind = 'payment'
JOIN commission_statements s ON s.id = cl.statement_id
WHERE s.agency_id = :agency"""


def closed_rates(session: Session, agency_id: int) -> dict[tuple[int, str], Decimal]:
    """(account, reference) → the rate a payment on the agency's closed statements was paid
    at, for the payments whose reversal is on no closed statement yet."""
    rows = session.execute(text(CLOSED_RATES_SQL), {"agency": agency_id})
    return {(int(a), str(ref)): Decimal(str(rate)) for a, ref, rate in rows}


def statement_lines(session: Session, statement_id: int) -> list[CommissionLine]:
    return list(
        session.scalars(
            select(CommissionLine)
            .where(CommissionLine.statement_id == statement_id)
            .order_by(CommissionLine.effective_on, CommissionLine.ledger_entry_id)
        )
    )


def close_statement(
    session: Session, *, agency_id: int, month: str, lines: Sequence[Line],
    collected_fen: int, commission_fen: int, clawback_fen: int, actor: str, now: datetime,
) -> CommissionStatement:  # fmt: skip
    statement = CommissionStatement(
        agency_id=agency_id, month=month, collected_fen=collected_fen,
        commission_fen=commission_fen, clawback_fen=clawback_fen, lines=len(lines),
        closed_by=actor, closed_at=now,
    )  # fmt: skip
    session.add(statement)
    session.flush()
    if lines:
        session.execute(
            insert(CommissionLine),
            [
                {
                    "statement_id": statement.id, "ledger_entry_id": line.entry_id,
                    "placement_case_id": line.placement_case_id, "case_id": line.case_id,
                    "kind": line.kind, "reference": line.reference,
                    "effective_on": line.effective_on, "cash_fen": line.cash_fen,
                    "rate": line.rate, "commission_fen": line.commission_fen,
                }
                for line in lines
            ],
        )  # fmt: skip
    return statement


def placement_windows(
    session: Session, start: date, end: date
) -> list[tuple[int, date, date | None, date, str]]:
    """(case, placed on, recalled on, period end, agency code) of the placed cases whose time
    with the agency overlaps ``[start, end]``."""
    rows = session.execute(
        select(AgencyPlacementCase.case_id, AgencyPlacementCase.placed_on,
               AgencyPlacementCase.recalled_on, AgencyPlacement.ends_on, Agency.code)
        .join(AgencyPlacement, AgencyPlacement.id == AgencyPlacementCase.placement_id)
        .join(Agency, Agency.id == AgencyPlacement.agency_id)
        .where(AgencyPlacementCase.placed_on <= end, AgencyPlacement.ends_on >= start)
        .where((AgencyPlacementCase.recalled_on.is_(None))
               | (AgencyPlacementCase.recalled_on > start))
        .order_by(AgencyPlacementCase.case_id, AgencyPlacementCase.placed_on)
    ).all()  # fmt: skip
    return [(int(r[0]), r[1], r[2], r[3], str(r[4])) for r in rows]
