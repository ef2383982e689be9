"""A small hand-built experiment for the tests (the figures are worked out in the tests).

Strategy ``default@1`` is in force from 2026-10-01; ``default@2`` is approved. Experiment
``tone`` starts on Monday 2026-11-02 (champion default@1, challenger default@2, 50%). Opening
balances are dated 2026-11-01 (the KPI book before the experiment's start).

Each case (arm, day it joined, due at the start; what happened before and since joining):

- C1 champion 11-02, 1,000.00: paid 100.00 on 11-03; a call connected_debtor (promise 100.00)
- C2 champion 11-02, 2,000.00 less 300.00 paid on 11-01 (before): paid 200.00 on 11-05
- C3 champion 11-02, 1,000.00: a call no_answer on 11-03; a complaint hold on 11-05
- H1 challenger 11-02, 1,000.00: a call promise on 11-03 (promise 500.00); paid 500.00 on
  11-03; a compliance_violation alert on 11-04
- H2 challenger 11-02, 3,000.00: an SMS on 11-03; a call complaint and paid 300.00 on 11-04;
  100.00 on 11-05, reversed on 11-06
- H3 challenger 11-04, 500.00: before joining paid 50.00 and a call no_answer on 11-03;
  since, paid 100.00 on 11-05
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.experiments.service import record_arms, start_experiment
from cuishou.kit.clock import CHINA_TZ
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    Alert,
    Case,
    Contact,
    ContactHold,
    LedgerEntry,
    Promise,
    StrategyVersion,
    User,
)
from cuishou.strategy.definition import shipped_text, text_sha256
from tests.factories import NOW, make_payment
from tests.web.factories import debtor_mobile, make_case, make_user, token_for
from tests.web.pages import PASSWORD

START = date(2026, 11, 2)
TODAY = date(2026, 11, 8)
#: the app's clock in the API and page tests: Sunday 2026-11-08, 10:00 in Beijing
CLOCK = datetime(2026, 11, 8, 2, 0, tzinfo=UTC)


def local(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


def make_version(
    session: Session,
    *,
    code: str = "default",
    version: int = 1,
    status: str = "active",
    effective_from: date | None = date(2026, 10, 1),
    author: str = "author",
) -> StrategyVersion:
    body = shipped_text()
    row = StrategyVersion(
        code=code, version=version, zh="默认策略", en="Default strategy", body=body,
        sha256=text_sha256(body), status=status, note="", author=author, created_at=NOW,
        approved_by="approver" if status in ("approved", "active") else None,
        approved_at=NOW if status in ("approved", "active") else None,
        effective_from=effective_from if status == "active" else None,
    )  # fmt: skip
    session.add(row)
    session.flush()
    return row


@dataclass
class World:
    experiment_id: int
    cases: dict[str, int]
    users: dict[str, User]
    tokens: dict[str, str]
    versions: dict[str, int]


def _account(session: Session, case: Case) -> Account:
    return session.scalars(select(Account).where(Account.case_id == case.id)).one()


def contact(
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


def _promise(session: Session, case: Case, user: User, contact: Contact, amount: int) -> None:
    session.add(
        Promise(
            case_id=case.id, contact_id=contact.id, amount_fen=amount,
            due_date=contact.at.astimezone(CHINA_TZ).date(), status="open",
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


def make_users(session: Session) -> dict[str, User]:
    roles = {"strat_a": "strategist", "strat_b": "strategist", "manager": "manager",
             "auditor": "auditor", "col": "collector"}  # fmt: skip
    return {
        name: make_user(session, username=name, role=role, password=PASSWORD)
        for name, role in roles.items()
    }


def build_world(engine: Engine) -> World:
    with transaction(engine) as session:
        users = make_users(session)
        v1 = make_version(session, version=1)
        v2 = make_version(session, version=2, status="approved")
        experiment = start_experiment(
            session, None, name="tone", champion="default@1", challenger="default@2",
            share_pct=50, actor="strat_a", day=START, now=local(2, 9),
        )  # fmt: skip
        col = users["col"]
        dues = {"C1": 100_000, "C2": 200_000, "C3": 100_000, "H1": 100_000, "H2": 300_000,
                "H3": 50_000}  # fmt: skip
        cases = {name: make_case(session, assigned=col, due_fen=due) for name, due in dues.items()}
        acc = {name: _account(session, case) for name, case in cases.items()}

        make_payment(session, account=acc["C2"], amount_fen=30_000, paid_at=local(1, 11))
        make_payment(session, account=acc["C1"], amount_fen=10_000, paid_at=local(3, 10))
        make_payment(session, account=acc["C2"], amount_fen=20_000, paid_at=local(5, 10))
        make_payment(session, account=acc["H1"], amount_fen=50_000, paid_at=local(3, 16))
        make_payment(session, account=acc["H2"], amount_fen=30_000, paid_at=local(4, 10))
        make_payment(
            session, account=acc["H2"], amount_fen=10_000, paid_at=local(5, 10), reference="REV1"
        )
        _reverse(session, acc["H2"], "REV1", date(2026, 11, 6))
        make_payment(session, account=acc["H3"], amount_fen=5_000, paid_at=local(3, 10))
        make_payment(session, account=acc["H3"], amount_fen=10_000, paid_at=local(5, 11))

        c1 = contact(session, cases["C1"], col, local(3, 9), "connected_debtor", "debtor")
        _promise(session, cases["C1"], col, c1, 10_000)
        contact(session, cases["C3"], col, local(3, 9, 30), "no_answer", "none")
        h1 = contact(session, cases["H1"], col, local(3, 10), "promise", "debtor")
        _promise(session, cases["H1"], col, h1, 50_000)
        contact(session, cases["H2"], col, local(3, 11), "sent", "none", channel="sms")
        contact(session, cases["H2"], col, local(4, 11), "complaint", "debtor")
        contact(session, cases["H3"], col, local(3, 15), "no_answer", "none")
        session.add(
            ContactHold(debtor_id=cases["C3"].debtor_id, case_id=cases["C3"].id, kind="complaint",
                        reason="投诉", opened_at=local(5, 10), opened_by="compliance")
        )  # fmt: skip
        session.add(
            Alert(case_id=cases["H1"].id, kind="compliance_violation", raised_on=date(2026, 11, 4),
                  status="open", details={}, created_at=NOW)
        )  # fmt: skip
        session.flush()

        def arms(names: list[str]) -> pl.DataFrame:
            return pl.DataFrame(
                {
                    "case_id": [cases[n].id for n in names],
                    "arm": ["champion" if n.startswith("C") else "challenger" for n in names],
                }
            )

        record_arms(session, experiment.id, arms(["C1", "C2", "C3", "H1", "H2"]), START)
        record_arms(session, experiment.id, arms(["C1", "H3"]), date(2026, 11, 4))
        tokens = {name: token_for(session, user=user, now=CLOCK) for name, user in users.items()}
        return World(
            experiment_id=experiment.id,
            cases={name: case.id for name, case in cases.items()},
            users=users,
            tokens=tokens,
            versions={"v1": v1.id, "v2": v2.id},
        )
