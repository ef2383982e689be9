"""One posting path: the same payments from a creditor's file and from the API leave the same
balances, the same amounts due on the cases, the same ledger entries and the same events."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, select

from cuishou.auth.rules import Principal
from cuishou.engine.runner import run_daily_cycle
from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.money import format_yuan
from cuishou.placement.cli import run_import
from cuishou.placement.service import ImportOptions
from cuishou.repayment.schemas import PaymentIn
from cuishou.repayment.service import post_payment
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Case, Creditor, Event, LedgerEntry
from tests.placement.files import account_row, payment_row, write_csv

MANAGER = Principal(user_id=1, username="feed", role="manager", team_id=None, agency_id=None)
NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)
OPTIONS = ImportOptions(as_of=date(2026, 11, 1), now=NOW)
ACCOUNTS = 3
_examples = itertools.count(1)

payments = st.lists(
    st.tuples(
        st.integers(0, ACCOUNTS - 1),  # which account
        st.integers(1, 1_500_000),  # amount in fen (some pay an account off: credit)
        st.integers(1, 15),  # days after the snapshot
        st.integers(0, 86_399),  # second of that day, Beijing time
    ),
    min_size=1,
    max_size=12,
)


def _creditor_with_accounts(engine: Engine, tmp: Path, code: str) -> None:
    rows = [account_row(n, creditor_code=code, principal=f"{3000 + 1000 * n}.00") for n in range(3)]
    run_import(engine, [write_csv(tmp / f"{code}.csv", rows)], OPTIONS)


def _state(engine: Engine, code: str) -> dict[str, Any]:
    """Everything the posting path leaves, keyed so both creditors compare."""
    with transaction(engine) as session:
        creditor_id = session.scalar(select(Creditor.id).where(Creditor.code == code))
        accounts = session.scalars(
            select(Account).where(Account.creditor_id == creditor_id).order_by(Account.account_no)
        ).all()
        ids = {a.id: a.account_no for a in accounts}
        entries = session.execute(
            select(
                LedgerEntry.account_id, LedgerEntry.kind, LedgerEntry.fee_fen,
                LedgerEntry.penalty_fen, LedgerEntry.interest_fen, LedgerEntry.principal_fen,
                LedgerEntry.credit_fen, LedgerEntry.effective_on, LedgerEntry.reference,
            ).where(LedgerEntry.account_id.in_(ids)).order_by(LedgerEntry.id)
        ).all()  # fmt: skip
        dues = session.execute(
            select(Case.debtor_id, Case.due_fen)
            .where(Case.creditor_id == creditor_id)
            .order_by(Case.debtor_id)
        ).all()
        events = session.scalars(
            select(Event.payload)
            .where(Event.type == "payment.posted", Event.entity_id.is_not(None))
            .where(Event.case_id.in_(select(Case.id).where(Case.creditor_id == creditor_id)))
            .order_by(Event.id)
        ).all()
        return {
            "balances": [
                (a.account_no, a.fee_fen, a.penalty_fen, a.interest_fen, a.principal_fen,
                 a.credit_fen)
                for a in accounts
            ],
            "entries": sorted((ids[e[0]], *e[1:]) for e in entries),
            "dues": [due for _, due in dues],
            "events": sorted(
                (p["reference"], p["amount"], p["paid_at"], str(p["parts"])) for p in events
            ),
        }  # fmt: skip


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=payments)
def test_file_and_api_postings_leave_identical_balances_dues_entries_and_events(
    engine: Engine, tmp_path: Path, drawn: list[tuple[int, int, int, int]]
) -> None:
    # given two creditors with the same three accounts, cycled once so they have cases
    n = next(_examples)
    by_file, by_api = f"FILE{n}", f"API{n}"
    for code in (by_file, by_api):
        _creditor_with_accounts(engine, tmp_path, code)
    run_daily_cycle(engine, date(2026, 11, 1), now=NOW)
    # when the same payments come as one file for one creditor ...
    rows = []
    for i, (account, fen, day, second) in enumerate(drawn):
        paid = datetime.combine(date(2026, 11, 1) + timedelta(days=day), datetime.min.time())
        paid = (paid + timedelta(seconds=second)).replace(tzinfo=CHINA_TZ)
        rows.append(
            payment_row(
                i,
                f"LN{account:08d}",
                format_yuan(fen),
                creditor_code=by_file,
                paid_at=paid.strftime("%Y-%m-%d %H:%M:%S"),
                reference=f"R{i:04d}",
            )
        )
    run_import(engine, [write_csv(tmp_path / f"p{n}.csv", rows, kind="payments")], OPTIONS)
    # ... and one by one through the API for the other, in the order the file applies them
    for row in sorted(rows, key=lambda r: (r["paid_at"], r["reference"])):
        with transaction(engine) as session:
            paid_at = datetime.strptime(row["paid_at"], "%Y-%m-%d %H:%M:%S").replace(
                tzinfo=CHINA_TZ
            )
            data = PaymentIn.model_validate(
                {
                    "account_no": row["account_no"],
                    "creditor": by_api,
                    "amount": row["amount"],
                    "paid_at": paid_at,
                    "reference": row["reference"],
                }
            )
            post_payment(session, MANAGER, data, now=NOW)
    # then the two creditors' books are the same, entry for entry
    filed, fed = _state(engine, by_file), _state(engine, by_api)
    assert len(filed["events"]) == len(drawn) and len(filed["entries"]) == ACCOUNTS + len(drawn)
    assert filed == fed
