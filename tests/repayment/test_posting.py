"""Posting on the real stores: concurrent postings to one case all land; a reference is
posted once whatever the path (file or API); the final balances do not depend on order."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select

from cuishou.auth.rules import Principal
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.repayment.schemas import PaymentIn
from cuishou.repayment.service import post_payment
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, Event, Payment
from tests.factories import NOW, make_account, make_creditor, make_debtor
from tests.placement.files import account_row, payment_row, write_csv

MANAGER = Principal(user_id=1, username="manager", role="manager", team_id=None, agency_id=None)
PAID = datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
LATER = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)


def _case_of_two(engine: Engine) -> tuple[int, list[str]]:
    with transaction(engine) as session:
        creditor = make_creditor(session)
        debtor = make_debtor(session)
        case = Case(
            creditor_id=creditor.id, debtor_id=debtor.id, status="open",
            opened_on=date(2026, 10, 1), accounts=2, due_fen=3_000_000,
            created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        session.add(case)
        session.flush()
        numbers = []
        for since in (date(2026, 5, 1), date(2026, 8, 1)):
            account = make_account(
                session, creditor=creditor, debtor=debtor, principal_fen=1_000_000,
                interest_fen=300_000, penalty_fen=150_000, fee_fen=50_000, overdue_since=since,
            )  # fmt: skip
            account.case_id = case.id
            numbers.append(account.account_no)
        return case.id, numbers


def _post(engine: Engine, reference: str, amount: str, **target: object) -> None:
    with transaction(engine) as session:
        data = PaymentIn.model_validate(
            {"amount": amount, "paid_at": PAID, "reference": reference, **target}
        )
        post_payment(session, MANAGER, data, now=LATER)


def _totals(engine: Engine, case_id: int) -> tuple[int, int, int]:
    """(owed, credit, posted) over the case's accounts."""
    with transaction(engine) as session:
        owed, credit = session.execute(
            select(
                func.sum(
                    Account.fee_fen + Account.penalty_fen + Account.interest_fen
                    + Account.principal_fen
                ),
                func.sum(Account.credit_fen),
            ).where(Account.case_id == case_id)
        ).one()  # fmt: skip
        posted = session.scalar(select(func.sum(Payment.amount_fen))) or 0
        return int(owed), int(credit), int(posted)


def _components(engine: Engine, case_id: int) -> list[tuple[int, int, int, int, int]]:
    """Per account of the case, oldest first: fee, penalty, interest, principal, credit."""
    with transaction(engine) as session:
        rows = session.execute(
            select(
                Account.fee_fen, Account.penalty_fen, Account.interest_fen,
                Account.principal_fen, Account.credit_fen,
            ).where(Account.case_id == case_id).order_by(Account.overdue_since)
        ).all()  # fmt: skip
    return [tuple(r) for r in rows]  # type: ignore[misc]


def test_concurrent_postings_to_one_case_all_land(engine: Engine) -> None:
    # given a case of two accounts owing 30,000.00 in all
    case_id, numbers = _case_of_two(engine)
    # when eight threads post at once, half to the case, half to one of its accounts,
    # and two of them replay a reference another thread also posts
    references = [f"T{i}" for i in range(8)] + ["T0", "T1"]
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(references))

    def work(i: int, reference: str) -> None:
        try:
            barrier.wait(timeout=30)
            target: dict[str, object] = (
                {"case_id": case_id} if i % 2 else {"account_no": numbers[i % 2]}
            )
            _post(engine, reference, "1234.56", **target)
        except BaseException as exc:  # collected and re-raised in the test thread
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i, r)) for i, r in enumerate(references)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    # then every distinct reference landed exactly once and no fen was lost
    assert errors == []
    with transaction(engine) as session:
        posted = session.scalar(select(func.count(func.distinct(Payment.reference))))
        events = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "payment.posted")
        )
    assert (posted, events) == (8, 8)
    owed, credit, total = _totals(engine, case_id)
    assert total == 8 * 123_456
    assert owed == 3_000_000 - 8 * 123_456 and credit == 0


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    amounts=st.lists(st.integers(min_value=1, max_value=1_500_000), min_size=1, max_size=5),
    seed=st.randoms(use_true_random=False),
    replays=st.lists(st.integers(min_value=0, max_value=4), max_size=4),
)
def test_final_balances_do_not_depend_on_posting_order_or_replays(
    engine: Engine, amounts: list[int], seed: object, replays: list[int]
) -> None:
    # given the same payments posted to two fresh cases: once each in the given order, and
    # shuffled with some of them posted again (replays of the same reference)
    results = []
    for attempt in range(2):
        case_id, _numbers = _case_of_two(engine)
        order = list(enumerate(amounts))
        if attempt:
            order += [order[r % len(order)] for r in replays]
            seed.shuffle(order)  # type: ignore[attr-defined]
        for i, fen in order:
            _post(engine, f"O{case_id}-{i}", f"{fen // 100}.{fen % 100:02d}", case_id=case_id)
        results.append(_components(engine, case_id))
    # then every account owes the same, by component, and holds the same credit: a replay
    # changes nothing and the order does not matter
    assert results[0] == results[1]
    owed = sum(sum(row[:4]) for row in results[0])
    credit = sum(row[4] for row in results[0])
    assert owed == max(0, 3_000_000 - sum(amounts))
    assert credit == max(0, sum(amounts) - 3_000_000)


def test_a_reference_is_posted_once_whether_it_comes_by_file_or_api(
    engine: Engine, tmp_path: Path
) -> None:
    # given an account imported from a creditor file
    options = ImportOptions(as_of=date(2026, 11, 20), now=datetime(2026, 11, 20, 2, tzinfo=UTC))
    run_import(engine, [write_csv(tmp_path / "a.csv", [account_row(1)])], options)
    # when PAY1 comes by file and then by the API, and PAY2 by the API and then by file
    payments = [payment_row(1, "LN00000001", "100.00"), payment_row(2, "LN00000001", "200.00")]
    with transaction(engine) as session:
        data = PaymentIn(
            account_no="LN00000001", amount="200.00", reference="PAY00000002",
            paid_at=datetime(2026, 11, 5, 2, tzinfo=UTC),
        )  # fmt: skip
        post_payment(session, MANAGER, data, now=LATER)
    result = run_import(
        engine, [write_csv(tmp_path / "p.csv", payments, kind="payments")], options
    ).model_dump()
    with transaction(engine) as session:
        data = PaymentIn(
            account_no="LN00000001", amount="100.00", reference="PAY00000001",
            paid_at=datetime(2026, 11, 5, 2, tzinfo=UTC),
        )  # fmt: skip
        replay = post_payment(session, MANAGER, data, now=LATER)
    # then each is posted once
    assert (result["created"], result["unchanged"]) == (1, 1)
    assert replay.replayed and replay.source == "file"
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Payment)) == 2
        account = session.scalars(select(Account)).one()
    # fee 50 + penalty 120 + interest 860.50 owed: 300.00 paid off the fee, penalty, interest
    assert (account.fee_fen, account.penalty_fen, account.interest_fen) == (0, 0, 73_050)
