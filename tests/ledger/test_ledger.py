"""The ledger on both stores: balances never go negative, every change is an entry, and what
is posted while a daily cycle runs survives the cycle's write."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import IntegrityError

from cuishou.agreements.schemas import AgreementIn, DecisionIn
from cuishou.agreements.service import decide, request_agreement
from cuishou.auth.rules import Principal
from cuishou.engine.io import CycleIO, Decisions, Snapshot, StoreCycleIO
from cuishou.engine.runner import run_cycle, run_daily_cycle
from cuishou.ledger.service import check
from cuishou.repayment.schemas import PaymentIn, ReversalIn
from cuishou.repayment.service import post_payment, reverse_payment
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, LedgerEntry, Payment, User
from tests.web.world import World, build_world

PAID = datetime(2026, 11, 3, 2, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 5, 2, 0, tzinfo=UTC)
AS_OF = date(2026, 11, 5)


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.team_id, user.agency_id)


def _owed(account: Account) -> int:
    return account.fee_fen + account.penalty_fen + account.interest_fen + account.principal_fen


def _a_case(world: World, engine: Engine) -> tuple[int, str]:
    """A case of team A owing fee 50, penalty 120, interest 860.50, principal 12,000."""
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=1_303_050)
        account = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        session.execute(
            text(
                "UPDATE accounts SET principal_fen = 1200000, interest_fen = 86050, "
                "penalty_fen = 12000, fee_fen = 5000 WHERE id = :id"
            ),
            {"id": account.id},
        )
        session.execute(
            text(
                "UPDATE ledger_entries SET principal_fen = 1200000, interest_fen = 86050, "
                "penalty_fen = 12000, fee_fen = 5000 WHERE account_id = :id"
            ),
            {"id": account.id},
        )
        return case.id, account.account_no


def _pay(engine: Engine, world: World, account_no: str, reference: str, amount: str) -> int:
    with transaction(engine) as session:
        out = post_payment(
            session,
            _principal(world.users["manager"]),
            PaymentIn.model_validate(
                {
                    "account_no": account_no,
                    "amount": amount,
                    "paid_at": PAID,
                    "reference": reference,
                }
            ),
            now=NOW,
        )
        return out.id


def test_the_store_refuses_a_balance_below_zero(engine: Engine) -> None:
    world = build_world(engine)
    case_id, _ = _a_case(world, engine)
    for column in ("fee_fen", "penalty_fen", "interest_fen", "principal_fen", "credit_fen"):
        with pytest.raises(IntegrityError), transaction(engine) as session:
            session.execute(
                text(f"UPDATE accounts SET {column} = -1 WHERE case_id = :c"),
                {"c": case_id},
            )
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
        assert (account.fee_fen, account.credit_fen) == (5_000, 0)


@dataclass
class PostingDuringTheCycle:
    """The store's cycle I/O, with other work committed between the cycle's read and its
    write — as a collector or a payment feed would, at any moment of a long cycle."""

    inner: StoreCycleIO
    meanwhile: Any

    def load_snapshot(self, as_of: date) -> Snapshot:
        snapshot = self.inner.load_snapshot(as_of)
        self.meanwhile()
        return snapshot

    def write_decisions(
        self, decisions: Decisions, *, as_of: date, now: datetime, started_at: datetime
    ) -> Any:
        return self.inner.write_decisions(decisions, as_of=as_of, now=now, started_at=started_at)


def test_what_is_posted_during_a_cycle_survives_its_write(engine: Engine) -> None:
    # given a case cycled once, with a payment of 100.00 already posted
    world = build_world(engine)
    case_id, account_no = _a_case(world, engine)
    run_daily_cycle(engine, date(2026, 11, 4), now=NOW)
    first = _pay(engine, world, account_no, "PAY-BEFORE", "100.00")

    def meanwhile() -> None:
        # a payment of 500.00, the reversal of the first one, and an approved waiver of
        # 120.00 of interest, each committed while the cycle holds its snapshot
        _pay(engine, world, account_no, "PAY-DURING", "500.00")
        with transaction(engine) as session:
            reverse_payment(
                session,
                _principal(world.users["manager"]),
                first,
                ReversalIn(reason="bounced"),
                now=NOW,
            )
        with transaction(engine) as session:
            asked = request_agreement(
                session,
                _principal(world.users["col_a"]),
                case_id,
                AgreementIn(
                    kind="waiver",
                    first_due=date(2026, 11, 20),
                    installments=2,
                    waive_interest="120.00",
                ),
                now=NOW,
            )
            decide(
                session,
                _principal(world.users["lead_a"]),
                asked.id,
                DecisionIn(reason="ok"),
                approve=True,
                now=NOW,
            )

    cycle_io: CycleIO = PostingDuringTheCycle(StoreCycleIO(engine), meanwhile)
    # when the cycle writes what it decided from the snapshot it read before all that
    run_cycle(cycle_io, AS_OF, now=NOW)
    # then all three changes are still in the balances, the ledger and the case's due
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
        case = session.get(Case, case_id)
        assert case is not None
        # 13,030.50 − 500.00 paid − 120.00 waived (the 100.00 came back)
        assert _owed(account) == 1_303_050 - 50_000 - 12_000
        assert case.due_fen == _owed(account)
        kinds = session.scalars(
            select(LedgerEntry.kind)
            .where(LedgerEntry.account_id == account.id)
            .order_by(LedgerEntry.id)
        ).all()
        assert kinds == ["placement", "payment", "payment", "reversal", "waiver"]
        assert check(session) == {"accounts": [], "cases": []}
    # and the next cycle agrees with the store as it is
    run_daily_cycle(engine, date(2026, 11, 6), now=NOW)
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and case.due_fen == 1_303_050 - 62_000
        assert check(session) == {"accounts": [], "cases": []}


def test_every_balance_is_the_sum_of_its_entries_after_a_day_of_work(engine: Engine) -> None:
    world = build_world(engine)
    case_id, account_no = _a_case(world, engine)
    run_daily_cycle(engine, date(2026, 11, 4), now=NOW)
    paid = _pay(engine, world, account_no, "A1", "13030.50")
    _pay(engine, world, account_no, "A2", "10.00")  # an overpayment: credit
    with transaction(engine) as session:
        reverse_payment(
            session, _principal(world.users["manager"]), paid, ReversalIn(reason="x"), now=NOW
        )
    run_daily_cycle(engine, AS_OF, now=NOW)
    with transaction(engine) as session:
        assert check(session) == {"accounts": [], "cases": []}
        account = session.scalars(select(Account).where(Account.case_id == case_id)).one()
        # the reversal gave back what A1 took; A2's 10.00 stays as the debtor's credit
        assert (_owed(account), account.credit_fen) == (1_303_050, 1_000)
        assert session.scalar(select(func.count()).select_from(Payment)) == 2
