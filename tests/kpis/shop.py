"""A small hand-computed shop for the KPI tests (the numbers are worked out in the tests).

Period: Monday 2026-11-02 … Sunday 2026-11-08 (Beijing). One creditor (Asia/Shanghai);
team 一组 (col_a: cases A1, A2), team 二组 (col_b: cases B1, C1). Opened 2026-10-01;
opening balances dated 2026-11-01 (before the period).

| case | due at placement | before the period | in the period |
|---|---|---|---|
| A1 | 1,000.00 (M2) | — | paid 200.00 on 11-03; cured to M0 on 11-06 |
| A2 | 3,000.00 (M1) | RPC on 10-30 | paid 300.00 on 11-04; 100.00 on 11-05, reversed 11-06; |
|    |               |              | rolled to M2 on 11-07 |
| B1 | 6,000.00 (M3) | paid 50.00 on 11-01 | — (stays M3) |
| C1 | 500.00 (M1) | — | paid 500.00 on 11-04, settled (self-cure: nobody reached the debtor) |

Contacts in the period (8; the first at 00:30 on 11-02 Beijing, 11-01 in UTC, is in it; one
at 01:00 on 11-09 Beijing, still 11-08 in UTC, is not):
A1 call no_answer (00:30 11-02), call no_answer (09:00), call connected_debtor (15:00, first
RPC, promise 200.00 taken: kept); A2 call promise (11-03, promise 150.00: broken), call
complaint (11-04); B1 call powered_off, call connected_third_party (11-05), visit negotiating
(11-07, first RPC, no promise). One compliance_violation alert on B1 (11-05), one on A1
after the period (11-10).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.kit.clock import CHINA_TZ
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    Alert,
    BucketHistory,
    Case,
    Contact,
    LedgerEntry,
    Promise,
    User,
)
from tests.factories import NOW, make_payment
from tests.web.factories import debtor_mobile, make_case, make_team, make_user, token_for

START = date(2026, 11, 2)
END = date(2026, 11, 8)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


@dataclass
class Shop:
    cases: dict[str, int]
    users: dict[str, User]
    tokens: dict[str, str]


def _account(session: Session, case: Case) -> Account:
    return session.scalars(select(Account).where(Account.case_id == case.id)).one()


def _history(session: Session, account: Account, rows: list[tuple[date, int, str, str]]) -> None:
    previous: str | None = None
    for as_of, dpd, bucket, status in rows:
        session.add(
            BucketHistory(
                account_id=account.id, as_of=as_of, dpd=dpd, bucket=bucket, prev_bucket=previous,
                amount_tier="small", due_fen=0, status=status,
                movement="new" if previous is None else "same",
            )
        )  # fmt: skip
        previous = bucket
    session.flush()


def _contact(
    session: Session, case: Case, user: User, at: datetime, outcome: str, party: str,
    channel: str = "call",
) -> Contact:  # fmt: skip
    contact = Contact(
        case_id=case.id, contact_point_id=debtor_mobile(session, case).id, user_id=user.id,
        channel=channel, party=party, outcome=outcome, notes="", at=at, created_at=at,
    )  # fmt: skip
    session.add(contact)
    session.flush()
    return contact


def _promise(
    session: Session, case: Case, user: User, contact: Contact | None, amount: int, status: str
) -> None:
    assert contact is not None
    session.add(
        Promise(
            case_id=case.id, contact_id=contact.id, amount_fen=amount,
            due_date=contact.at.astimezone(CHINA_TZ).date(), status=status,
            created_by=user.id, created_at=contact.at,
        )
    )  # fmt: skip


def _reverse(session: Session, account: Account, reference: str, on: date) -> None:
    taken = session.scalars(
        select(LedgerEntry).where(LedgerEntry.reference == reference, LedgerEntry.kind == "payment")
    ).one()
    change = Change(
        fee=-taken.fee_fen, penalty=-taken.penalty_fen, interest=-taken.interest_fen,
        principal=-taken.principal_fen, credit=-taken.credit_fen,
    )  # fmt: skip
    ledger.post_entries(
        session,
        [Entry(account_id=account.id, kind="reversal", change=change, source="api",
               actor="test", effective_on=on, reference=reference)],
        now=NOW,
    )  # fmt: skip


def build_shop(engine: Engine) -> Shop:
    with transaction(engine) as session:
        team_a = make_team(session, name="一组")
        team_b = make_team(session, name="二组")
        users = {
            "col_a": make_user(session, username="col_a", team=team_a),
            "col_b": make_user(session, username="col_b", team=team_b),
            "lead_a": make_user(session, username="lead_a", role="team_lead", team=team_a),
            "manager": make_user(session, username="manager", role="manager"),
            "auditor": make_user(session, username="auditor", role="auditor"),
            "legal": make_user(session, username="legal", role="legal"),
        }
        col_a, col_b = users["col_a"], users["col_b"]
        a1 = make_case(session, assigned=col_a, bucket="M2", dpd=45, due_fen=100_000)
        a2 = make_case(session, assigned=col_a, bucket="M1", dpd=20, due_fen=300_000)
        b1 = make_case(session, assigned=col_b, bucket="M3", dpd=70, due_fen=600_000)
        c1 = make_case(session, assigned=col_b, bucket="M1", dpd=10, due_fen=50_000)
        acc = {name: _account(session, case) for name, case in
               (("A1", a1), ("A2", a2), ("B1", b1), ("C1", c1))}  # fmt: skip

        _history(session, acc["A1"], [(date(2026, 10, 31), 45, "M2", "open"),
                                      (date(2026, 11, 6), 0, "M0", "open")])  # fmt: skip
        _history(session, acc["A2"], [(date(2026, 10, 31), 20, "M1", "open"),
                                      (date(2026, 11, 7), 37, "M2", "open")])  # fmt: skip
        _history(session, acc["B1"], [(date(2026, 10, 31), 70, "M3", "open")])
        _history(session, acc["C1"], [(date(2026, 10, 31), 10, "M1", "open"),
                                      (date(2026, 11, 4), 0, "M0", "settled")])  # fmt: skip

        make_payment(session, account=acc["B1"], amount_fen=5_000, paid_at=local(1, 11))
        make_payment(session, account=acc["A1"], amount_fen=20_000, paid_at=local(3, 10))
        make_payment(session, account=acc["A2"], amount_fen=30_000, paid_at=local(4, 10))
        make_payment(
            session, account=acc["A2"], amount_fen=10_000, paid_at=local(5, 10), reference="REV1"
        )
        _reverse(session, acc["A2"], "REV1", date(2026, 11, 6))
        make_payment(session, account=acc["C1"], amount_fen=50_000, paid_at=local(4, 16))

        _contact(session, a2, col_a, local(30, 10, month=10), "connected_debtor", "debtor")
        _contact(session, a1, col_a, local(2, 0, 30), "no_answer", "none")
        _contact(session, a1, col_a, local(2, 9), "no_answer", "none")
        first_a1 = _contact(session, a1, col_a, local(2, 15), "connected_debtor", "debtor")
        _promise(session, a1, col_a, first_a1, 20_000, "kept")
        promise_a2 = _contact(session, a2, col_a, local(3, 11), "promise", "debtor")
        _promise(session, a2, col_a, promise_a2, 15_000, "broken")
        _contact(session, a2, col_a, local(4, 11), "complaint", "debtor")
        _contact(session, b1, col_b, local(5, 9), "powered_off", "none")
        _contact(session, b1, col_b, local(5, 10), "connected_third_party", "third_party")
        _contact(session, b1, col_b, local(7, 14), "negotiating", "debtor", channel="visit")
        _contact(session, b1, col_b, local(9, 1), "no_answer", "none")

        for case, raised in ((b1, date(2026, 11, 5)), (a1, date(2026, 11, 10))):
            session.add(
                Alert(case_id=case.id, kind="compliance_violation", raised_on=raised,
                      status="open", details={}, created_at=NOW)
            )  # fmt: skip
        session.flush()
        tokens = {name: token_for(session, user=user) for name, user in users.items()}
        cases = {"A1": a1.id, "A2": a2.id, "B1": b1.id, "C1": c1.id}
    return Shop(cases=cases, users=users, tokens=tokens)
