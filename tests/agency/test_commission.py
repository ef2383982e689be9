"""Commission statements (佣金结算单): what they cover, closing, clawbacks, and a recount from
the ledger — on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, select

from cuishou.agency.service.commission import close_statement, list_statements, statement
from cuishou.agency.service.placing import create_placement
from cuishou.agency.service.recall import recall_manual
from cuishou.agency.workbook import write_statement
from cuishou.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cuishou.kit.money import parse_yuan
from cuishou.ledger.service import entries_of_accounts
from cuishou.repayment.schemas import ReversalIn
from cuishou.repayment.service import reverse_payment
from cuishou.store.db import transaction
from cuishou.store.tables import Account, AgencyPlacementCase
from tests.agency.world import MANAGER, PLACED_ON, World, at, build
from tests.factories import make_payment


@pytest.fixture
def world(engine: Engine) -> World:
    return build(engine)


def _place(engine: Engine, world: World, bucket: str = "M4", agency: str = "AG1") -> int:
    with transaction(engine) as session:
        return create_placement(
            session, agency=agency, as_of=PLACED_ON, days=30, candidates={world.cases[bucket]},
            actor="boss", now=at(PLACED_ON),
        ).id  # fmt: skip


def _pay(engine: Engine, case_id: int, fen: int, day: date) -> int:
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
        return make_payment(session, account=account, amount_fen=fen, paid_at=at(day)).id


def _reverse(engine: Engine, payment_id: int, day: date) -> None:
    with transaction(engine) as session:
        reverse_payment(session, MANAGER, payment_id, ReversalIn(reason="bounced"), now=at(day))


def _close(engine: Engine, month: str, today: date, agency: str = "AG1") -> None:
    with transaction(engine) as session:
        close_statement(session, agency=agency, month=month, today=today, actor="boss",
                        now=at(today), principal=MANAGER)  # fmt: skip


def _statement(engine: Engine, month: str, agency: str = "AG1") -> tuple[str, str, str, list[str]]:
    with transaction(engine) as session:
        found = statement(session, agency=agency, month=month)
    return found.status, found.collected, found.commission, [line.kind for line in found.lines]


def recount(engine: Engine, agency_case_ids: list[int], first: date, last: date) -> int:
    """Cash received on the cases while placed, net of the reversals of those payments,
    effective in ``[first, last]`` — counted from the ledger domain's own read of the entries
    (not the agency repository's query)."""
    with transaction(engine) as session:
        windows = {
            r.case_id: (r.placed_on, r.recalled_on)
            for r in session.scalars(
                select(AgencyPlacementCase).where(AgencyPlacementCase.case_id.in_(agency_case_ids))
            )
        }
        accounts = {a.id: a.case_id for a in session.scalars(
            select(Account).where(Account.case_id.in_(agency_case_ids)))}  # fmt: skip
        entries = entries_of_accounts(session, list(accounts))
    total = 0
    counted: set[tuple[int, str | None]] = set()
    for e in entries:  # in the order posted: a payment before its reversal
        placed_on, recalled_on = windows[accounts[e.account_id]]
        end = (recalled_on - timedelta(days=1)) if recalled_on else placed_on + timedelta(days=29)
        cash = e.credit_fen - (e.fee_fen + e.penalty_fen + e.interest_fen + e.principal_fen)
        if e.kind == "payment" and placed_on <= e.effective_on <= end:
            counted.add((e.account_id, e.reference))
            total += cash if first <= e.effective_on <= last else 0
        elif e.kind == "reversal" and (e.account_id, e.reference) in counted:
            total += cash if first <= e.effective_on <= last else 0
    return total


def test_a_statement_counts_payments_while_placed_net_of_reversals(
    engine: Engine, world: World
) -> None:
    # given M4 placed with AG1 from 1 Nov for 30 days (to 30 Nov)
    case_id = world.cases["M4"]
    _place(engine, world)
    _pay(engine, case_id, 50_000, date(2026, 10, 30))  # before placement: not the agency's
    _pay(engine, case_id, 300_000, date(2026, 11, 5))
    bounced = _pay(engine, case_id, 200_000, date(2026, 11, 10))
    _reverse(engine, bounced, date(2026, 11, 12))  # same month: nets out
    _pay(engine, case_id, 70_000, date(2026, 12, 2))  # after the period: not the agency's
    # then the November draft has 3,000 yuan at M4's 18%
    status, collected, commission, kinds = _statement(engine, "2026-11")
    assert (status, collected, commission) == ("draft", "3000.00", "540.00")
    assert kinds == ["payment", "payment", "reversal"]
    assert parse_yuan(collected) == recount(engine, [case_id], date(2026, 11, 1),
                                            date(2026, 11, 30))  # fmt: skip


def test_a_reversal_after_the_statement_closed_is_a_clawback_on_the_next(
    engine: Engine, world: World
) -> None:
    case_id = world.cases["M4"]
    _place(engine, world)
    paid = _pay(engine, case_id, 300_000, date(2026, 11, 5))
    _pay(engine, case_id, 100_000, date(2026, 11, 20))
    _close(engine, "2026-11", today=date(2026, 12, 1))
    # when the 5 Nov payment is reversed on 3 Dec, after November closed
    _reverse(engine, paid, date(2026, 12, 3))
    # then November stays as closed and December claws back 18% of 3,000 yuan
    assert _statement(engine, "2026-11") == ("closed", "4000.00", "720.00", ["payment", "payment"])
    with transaction(engine) as session:
        december = statement(session, agency="AG1", month="2026-12")
    assert (december.collected, december.commission, december.clawback) == (
        "-3000.00", "-540.00", "-540.00",
    )  # fmt: skip
    assert [(line.kind, line.rate) for line in december.lines] == [("clawback", "0.1800")]
    # and across both statements the totals are the ledger's, month by month
    november = recount(engine, [case_id], date(2026, 11, 1), date(2026, 11, 30))
    december_cash = recount(engine, [case_id], date(2026, 12, 1), date(2026, 12, 31))
    assert (november, december_cash) == (400_000, -300_000)
    _close(engine, "2026-12", today=date(2027, 1, 1))
    with transaction(engine) as session:
        closed = list_statements(session)
    assert [(s.month, s.collected, s.clawback) for s in closed] == [
        ("2026-12", "-3000.00", "-540.00"), ("2026-11", "4000.00", "0.00"),
    ]  # fmt: skip


def test_a_payment_after_recall_is_not_the_agencys(engine: Engine, world: World) -> None:
    case_id = world.cases["M5"]
    placement_id = _place(engine, world, "M5")
    _pay(engine, case_id, 100_000, date(2026, 11, 8))
    with transaction(engine) as session:
        recall_manual(session, placement_id, as_of=date(2026, 11, 10), reason="creditor asked",
                      actor="boss", now=at(date(2026, 11, 10)))  # fmt: skip
    _pay(engine, case_id, 900_000, date(2026, 11, 10))  # the day of recall: in-house
    _, collected, commission, _ = _statement(engine, "2026-11")
    # M5 is 24% in the shipped schedule
    assert (collected, commission) == ("1000.00", "240.00")
    assert parse_yuan(collected) == recount(engine, [case_id], date(2026, 11, 1),
                                            date(2026, 11, 30))  # fmt: skip


def test_a_backdated_payment_posted_after_closing_goes_on_the_next_statement(
    engine: Engine, world: World
) -> None:
    case_id = world.cases["M4"]
    _place(engine, world)
    _pay(engine, case_id, 100_000, date(2026, 11, 5))
    _close(engine, "2026-11", today=date(2026, 12, 1))
    _pay(engine, case_id, 50_000, date(2026, 11, 28))  # a late file: paid in November
    assert _statement(engine, "2026-11")[1] == "1000.00"
    assert _statement(engine, "2026-12")[1:] == ("500.00", "90.00", ["payment"])


def test_closing_refuses_an_unfinished_month_a_second_close_and_out_of_order(
    engine: Engine, world: World
) -> None:
    _place(engine, world)
    with pytest.raises(InvalidInput, match="not over"):
        _close(engine, "2026-11", today=date(2026, 11, 30))
    _close(engine, "2026-12", today=date(2027, 1, 1))
    with pytest.raises(Conflict, match="already closed"):
        _close(engine, "2026-12", today=date(2027, 1, 1))
    with pytest.raises(Conflict, match="in order"):
        _close(engine, "2026-11", today=date(2027, 1, 1))


def test_bad_month_unknown_agency_and_other_agencies_are_clear_errors(
    engine: Engine, world: World
) -> None:
    with transaction(engine) as session:
        with pytest.raises(InvalidInput, match="not a month"):
            statement(session, agency="AG1", month="2026-13")
        with pytest.raises(NotFound, match="no agency 'ZZ'"):
            statement(session, agency="ZZ", month="2026-11")
        with pytest.raises(PermissionDenied):
            statement(session, agency="AG2", month="2026-11", principal=world.agency)
        own = statement(session, agency="AG1", month="2026-11", principal=world.agency)
    assert own.lines == [] and own.collected == "0.00"


def test_an_agency_schedule_replaces_the_default(engine: Engine, world: World) -> None:
    from cuishou.agency.config import AgencySettings, default_settings
    from cuishou.agency.rules import RateRow

    shipped = default_settings()
    settings = AgencySettings(
        recall=shipped.recall, default_schedule=shipped.default_schedule,
        schedules={"AG1": (RateRow(rate=Decimal("0.05"), buckets=("M4",), max_age=3),
                           RateRow(rate=Decimal("0.25")))},
    )  # fmt: skip
    _place(engine, world)
    _pay(engine, world.cases["M4"], 100_000, date(2026, 11, 2))  # day 1: 5%
    _pay(engine, world.cases["M4"], 100_000, date(2026, 11, 9))  # day 8: 25%
    with transaction(engine) as session:
        found = statement(session, agency="AG1", month="2026-11", settings=settings)
    assert [line.rate for line in found.lines] == ["0.0500", "0.2500"]
    assert found.commission == "300.00"


def test_the_statement_as_a_workbook(engine: Engine, world: World, tmp_path: Path) -> None:
    _place(engine, world)
    _pay(engine, world.cases["M4"], 300_000, date(2026, 11, 5))
    with transaction(engine) as session:
        found = statement(session, agency="AG1", month="2026-11")
    path = tmp_path / "statement.xlsx"
    write_statement(found, path)
    sheet = load_workbook(path).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "date" and rows[1][2] == "payment" and rows[1][6] == "540.00"
    assert rows[-1][0] == "total" and rows[-1][4] == "3000.00"
