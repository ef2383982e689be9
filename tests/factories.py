"""Keyword-only factories that write real rows to the test store."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.ids import id_check_digit
from cuishou.ledger import service as ledger
from cuishou.ledger.rules import Change, Entry
from cuishou.repayment.rules import Balances, allocate
from cuishou.store.bulk import SessionBulk
from cuishou.store.tables import (
    Account,
    Creditor,
    Debtor,
    Payment,
    Placement,
    PlannedAction,
    StrategyVersion,
)

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
_seq = itertools.count(1)


def valid_id_number(*, serial: int | None = None, born: date = date(1990, 3, 7)) -> str:
    n = next(_seq) if serial is None else serial
    first17 = f"110101{born:%Y%m%d}{n % 1000:03d}"
    return first17 + id_check_digit(first17)


def make_creditor(
    session: Session,
    *,
    code: str = "TESTBANK",
    name: str = "测试银行",
    timezone: str = "Asia/Shanghai",
) -> Creditor:
    existing = session.scalar(select(Creditor).where(Creditor.code == code))
    if existing is not None:
        return existing
    creditor = Creditor(code=code, name=name, timezone=timezone, created_at=NOW)
    session.add(creditor)
    session.flush()
    return creditor


def make_placement(
    session: Session,
    *,
    creditor: Creditor,
    batch_code: str = "B1",
    placed_on: date = date(2026, 11, 1),
) -> Placement:
    placement = Placement(
        creditor_id=creditor.id, batch_code=batch_code, placed_on=placed_on, created_at=NOW
    )
    session.add(placement)
    session.flush()
    return placement


def make_debtor(session: Session, *, name: str = "张伟", id_number: str | None = None) -> Debtor:
    number = id_number or valid_id_number()
    debtor = Debtor(
        id_number=number,
        name=name,
        gender="M" if int(number[16]) % 2 else "F",
        birth_date=date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
        province="北京市",
        city="北京市",
        timezone="Asia/Shanghai",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(debtor)
    session.flush()
    return debtor


def make_account(
    session: Session,
    *,
    creditor: Creditor | None = None,
    placement: Placement | None = None,
    debtor: Debtor | None = None,
    account_no: str | None = None,
    product_code: str = "consumer_loan",
    principal_fen: int = 1_000_000,
    interest_fen: int = 0,
    penalty_fen: int = 0,
    fee_fen: int = 0,
    overdue_since: date | None = date(2026, 9, 1),
    installment_fen: int = 0,
    snapshot_date: date = date(2026, 11, 1),
) -> Account:
    creditor = creditor or make_creditor(session)
    placement = placement or make_placement(session, creditor=creditor, batch_code=f"B{next(_seq)}")
    debtor = debtor or make_debtor(session)
    due = principal_fen + interest_fen + penalty_fen + fee_fen
    account = Account(
        creditor_id=creditor.id,
        placement_id=placement.id,
        debtor_id=debtor.id,
        account_no=account_no or f"AC{next(_seq):08d}",
        product_code=product_code,
        principal_fen=principal_fen,
        interest_fen=interest_fen,
        penalty_fen=penalty_fen,
        fee_fen=fee_fen,
        credit_fen=0,
        snapshot_date=snapshot_date,
        snapshot_due_fen=due,
        overdue_since=overdue_since,
        installment_fen=installment_fen,
        content_hash="factory",
        status="open" if due > 0 else "settled",
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(account)
    session.flush()
    # its opening balances are its first ledger entry, as an import records them
    ledger.record_openings(
        SessionBulk(session),
        "SELECT :factory_account",
        source="import",
        source_id=None,
        actor="factory",
        reason="factory account",
        now=NOW,
        factory_account=account.id,
    )
    return account


def make_payment(
    session: Session,
    *,
    account: Account,
    amount_fen: int,
    paid_at: datetime,
    reference: str | None = None,
) -> Payment:
    """A payment posted as a file posts it: through the default waterfall, with its ledger
    entry (the account's balances and its case's amount due move)."""
    session.flush()
    session.refresh(account)
    allocation = allocate(
        amount_fen,
        Balances(
            fee=account.fee_fen,
            penalty=account.penalty_fen,
            interest=account.interest_fen,
            principal=account.principal_fen,
        ),
    )
    payment = Payment(
        creditor_id=account.creditor_id,
        account_id=account.id,
        reference=reference or f"P{next(_seq):010d}",
        amount_fen=amount_fen,
        paid_at=paid_at,
        source="file",
        posted_at=paid_at,
        to_fee_fen=allocation.fee,
        to_penalty_fen=allocation.penalty,
        to_interest_fen=allocation.interest,
        to_principal_fen=allocation.principal,
        to_credit_fen=allocation.credit,
    )
    session.add(payment)
    session.flush()
    change = Change(
        fee=-allocation.fee,
        penalty=-allocation.penalty,
        interest=-allocation.interest,
        principal=-allocation.principal,
        credit=allocation.credit,
    )
    ledger.post_entries(
        session,
        [
            Entry(
                account_id=account.id,
                kind="payment",
                change=change,
                source="import",
                actor="factory",
                effective_on=paid_at.astimezone(CHINA_TZ).date(),
                reference=payment.reference,
            )
        ],
        now=paid_at,
    )
    session.refresh(account)
    return payment


#: a planned step of the strategy: (day, case_id, action, status, contact point or None)
Step = tuple[date, int, str, str, "int | None"]


def make_planned(session: Session, steps: list[Step], *, created_at: datetime) -> StrategyVersion:
    """A strategy version in force and its planned steps, as ``strategy plan`` leaves them
    (segment ``D``; a visit step goes on the visit channel)."""
    version = StrategyVersion(
        code="s", version=1, zh="s", en="s", body="", sha256="0" * 64, status="active",
        note="", author="x", created_at=created_at,
    )  # fmt: skip
    session.add(version)
    session.flush()
    for day, case_id, action, status, point in steps:
        session.add(PlannedAction(
            day=day, case_id=case_id, version_id=version.id, segment="D", step=7,
            action=action, channel="visit" if action == "visit" else None,
            contact_point_id=point, status=status, rule_ids=[],
        ))  # fmt: skip
    session.flush()
    return version
