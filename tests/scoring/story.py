"""A small store lived through the real services, for the scoring tests (numbers worked out in
the tests). Times are 10:00 in Beijing unless said; the daily cycle runs on the dates listed.

Debtor 张伟 (born 1990-03-07, ID region 11) owes two creditors: TESTBANK (case A: one account of
10,000.00, overdue since 09-01, placed 11-01) and OTHERBANK (case B: 2,000.00, overdue since
10-15). Contact points: two own mobiles (M1, M2) and a parent's mobile (T).

Up to D = 2026-11-20 (:func:`live_until_d`), on case A:
11-05 paid 100.00 (PAY1) · 11-06 reached the debtor on M1 · 11-08 paid 50.00 (PAY2) ·
11-09 refused on M1, note 最近失业了，没钱 · 11-10 M2 空号 (marked invalid) · 11-10 promise of
300.00 due 11-14 (broken at the 11-19 cycle: nothing paid by 11-17) · 11-12 PAY2 reversed ·
11-14 a dispute hold on the debtor · 11-16 promise of 200.00 due 11-30 (open at D).
Cycles: 11-01, 11-10, 11-19, 11-20.

After D (:func:`live_after_d`): 11-22 paid 5,000.00 (PAY3) on A · 11-23 reached on M1, then M1
空号 · 11-24 a promise of 100.00 · 11-25 the dispute lifted, a complaint hold opened · 11-26 PAY1
reversed · 11-27 a new own mobile · a second TESTBANK account (placed 11-25) and a third
creditor's case (placed 11-25) · 12-05 case B paid in full. Cycles: 11-25, 12-01, 12-10.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.compliance.schemas import HoldIn
from cuishou.compliance.service import lift_hold, open_hold
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.engine.runner import run_daily_cycle
from cuishou.kit.clock import CHINA_TZ
from cuishou.promises.schemas import PromiseIn
from cuishou.repayment.schemas import PaymentIn, ReversalIn
from cuishou.repayment.service import post_payment, reverse_payment
from cuishou.store.db import transaction
from cuishou.store.tables import Case, ContactHold, ContactPoint, Debtor
from tests.factories import make_account, make_creditor, make_debtor, valid_id_number
from tests.web.factories import make_contact_point, make_user

D = date(2026, 11, 20)
BORN = date(1990, 3, 7)


def bj(month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=CHINA_TZ).astimezone(UTC)


@dataclass
class Story:
    case_a: int
    case_b: int
    debtor_id: int
    m1: int
    m2: int
    principal: Principal
    payments: dict[str, int]


def _cycle(engine: Engine, month: int, day: int) -> None:
    run_daily_cycle(engine, date(2026, month, day), now=bj(month, day, 23))


def _contact(
    session: Session, story: Story, point: int, outcome: str, at: datetime, *, notes: str = "",
    promise: tuple[str, date] | None = None,
) -> None:  # fmt: skip
    log_contact(
        session, story.principal, story.case_a,
        ContactIn(
            contact_point_id=point, channel="call", outcome=outcome, at=at, notes=notes,
            promise=PromiseIn(amount=promise[0], due_date=promise[1]) if promise else None,
        ),
        now=at,
    )  # fmt: skip


def _pay(session: Session, story: Story, case_id: int, amount: str, reference: str,
         at: datetime) -> None:  # fmt: skip
    paid = post_payment(
        session, story.principal,
        PaymentIn(case_id=case_id, amount=amount, paid_at=at, reference=reference), now=at,
    )  # fmt: skip
    story.payments[reference] = paid.id


def _reverse(session: Session, story: Story, reference: str, at: datetime) -> None:
    reverse_payment(
        session, story.principal, story.payments[reference], ReversalIn(reason="bounced"), now=at
    )


def _case(session: Session, creditor_id: int, debtor_id: int) -> int:
    return session.scalars(
        select(Case.id).where(Case.creditor_id == creditor_id, Case.debtor_id == debtor_id)
    ).one()


def live_until_d(engine: Engine) -> Story:
    with transaction(engine) as session:
        bank = make_creditor(session)
        other = make_creditor(session, code="OTHERBANK", name="另一银行")
        debtor = make_debtor(session, id_number=valid_id_number(serial=11, born=BORN))
        make_account(session, creditor=bank, debtor=debtor, principal_fen=1_000_000,
                     overdue_since=date(2026, 9, 1))  # fmt: skip
        make_account(session, creditor=other, debtor=debtor, principal_fen=200_000,
                     overdue_since=date(2026, 10, 15), product_code="credit_card")  # fmt: skip
        m1 = make_contact_point(session, debtor_id=debtor.id).id
        m2 = make_contact_point(session, debtor_id=debtor.id).id
        make_contact_point(session, debtor_id=debtor.id, owner="third_party", owner_name="张父",
                           relation="parent")  # fmt: skip
        user = make_user(session, role="manager")
        principal = Principal(user_id=user.id, username=user.username, role=user.role,
                              team_id=None, agency_id=None)  # fmt: skip
        ids = (bank.id, other.id, debtor.id)
    _cycle(engine, 11, 1)
    with transaction(engine) as session:
        story = Story(
            case_a=_case(session, ids[0], ids[2]), case_b=_case(session, ids[1], ids[2]),
            debtor_id=ids[2], m1=m1, m2=m2, principal=principal, payments={},
        )  # fmt: skip
        _pay(session, story, story.case_a, "100.00", "PAY1", bj(11, 5))
        _contact(session, story, m1, "connected_debtor", bj(11, 6))
        _pay(session, story, story.case_a, "50.00", "PAY2", bj(11, 8))
        _contact(session, story, m1, "refused", bj(11, 9), notes="最近失业了，没钱")
        _contact(session, story, m2, "invalid_number", bj(11, 10))
        _contact(
            session, story, m1, "promise", bj(11, 10, 11), promise=("300.00", date(2026, 11, 14))
        )
    _cycle(engine, 11, 10)
    with transaction(engine) as session:
        _reverse(session, story, "PAY2", bj(11, 12))
        open_hold(session, principal, story.case_a, HoldIn(kind="dispute", reason="金额有误"),
                  now=bj(11, 14))  # fmt: skip
        _contact(session, story, m1, "promise", bj(11, 16), promise=("200.00", date(2026, 11, 30)))
    _cycle(engine, 11, 19)
    _cycle(engine, 11, 20)
    return story


def live_after_d(engine: Engine, story: Story) -> None:
    principal = story.principal
    with transaction(engine) as session:
        _pay(session, story, story.case_a, "5000.00", "PAY3", bj(11, 22))
        _contact(session, story, story.m1, "connected_debtor", bj(11, 23))
        _contact(session, story, story.m1, "invalid_number", bj(11, 23, 11))
        _contact(session, story, story.m1, "promise", bj(11, 24),
                 promise=("100.00", date(2026, 12, 1)))  # fmt: skip
        hold = session.scalars(select(ContactHold.id).where(ContactHold.kind == "dispute")).one()
        lift_hold(session, principal, story.case_a, hold, now=bj(11, 25))
        open_hold(session, principal, story.case_a, HoldIn(kind="complaint"), now=bj(11, 25))
        _reverse(session, story, "PAY1", bj(11, 26))
        point = make_contact_point(session, debtor_id=story.debtor_id)
        point.created_at = bj(11, 27)
        debtor = session.get(Debtor, story.debtor_id)
        assert debtor is not None
        bank = make_creditor(session)
        third = make_creditor(session, code="THIRDBANK", name="第三银行")
        for creditor in (bank, third):
            make_account(
                session, creditor=creditor, debtor=debtor, principal_fen=300_000,
                overdue_since=date(2026, 11, 1), snapshot_date=date(2026, 11, 25),
            )  # fmt: skip
    _cycle(engine, 11, 25)
    with transaction(engine) as session:
        _pay(session, story, story.case_b, "2000.00", "PAYB", bj(12, 5))
    _cycle(engine, 12, 1)
    _cycle(engine, 12, 10)


def invalid_points(engine: Engine, debtor_id: int) -> set[int]:
    with transaction(engine) as session:
        return set(
            session.scalars(
                select(ContactPoint.id).where(
                    ContactPoint.debtor_id == debtor_id, ContactPoint.status == "invalid"
                )
            )
        )
