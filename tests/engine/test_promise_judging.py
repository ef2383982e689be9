"""Promises judged by the daily cycle on real stores (golden cases across partial payments
and grace days): kept, partly kept, broken (跳票) with a broken-promise alert; re-runs
write nothing twice."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import Engine, func, select, update
from sqlalchemy.orm import Session

from cuishou.engine.config import CycleConfig
from cuishou.engine.runner import run_daily_cycle
from cuishou.promises.rules import PromisePolicy
from cuishou.store.db import transaction
from cuishou.store.tables import Alert, Case, Event, Payment, Promise
from tests.factories import NOW, make_account, make_creditor, make_debtor, make_payment
from tests.web.factories import make_user

RUN_AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
CONFIG = CycleConfig(promises=PromisePolicy(grace_days=3))
DUE = date(2026, 11, 10)  # grace until 11-13


def beijing(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 11, day, hour - 8, 0, tzinfo=UTC)


def case_with_promise(
    session: Session, *, amount_fen: int, taken_on: int, payments: list[tuple[int, int]]
) -> int:
    """A case whose debtor promised ``amount_fen`` by ``DUE`` on ``taken_on`` (November),
    with payments ``(day, fen)``; returns the promise id."""
    creditor = make_creditor(session)
    debtor = make_debtor(session)
    case = Case(
        creditor_id=creditor.id, debtor_id=debtor.id, status="open", opened_on=date(2026, 11, 1),
        accounts=1, due_fen=1_000_000, created_at=NOW, updated_at=NOW,
    )  # fmt: skip
    session.add(case)
    session.flush()
    account = make_account(session, creditor=creditor, debtor=debtor, principal_fen=1_000_000)
    account.case_id = case.id
    for day, fen in payments:
        make_payment(session, account=account, amount_fen=fen, paid_at=beijing(day))
    promise = Promise(
        case_id=case.id, amount_fen=amount_fen, due_date=DUE, status="open",
        created_by=make_user(session).id, created_at=beijing(taken_on, 9),
    )  # fmt: skip
    session.add(promise)
    session.flush()
    return promise.id


def statuses(engine: Engine) -> dict[int, tuple[str, int, date | None]]:
    with transaction(engine) as session:
        return {p.id: (p.status, p.paid_fen, p.judged_on) for p in session.scalars(select(Promise))}


def test_promises_are_judged_against_payments_across_grace_days(engine: Engine) -> None:
    with transaction(engine) as session:
        # paid in two parts, the second on a grace day
        in_grace = case_with_promise(
            session, amount_fen=50_000, taken_on=2, payments=[(5, 30_000), (12, 20_000)]
        )
        # a part paid, nothing more
        partly = case_with_promise(session, amount_fen=50_000, taken_on=2, payments=[(9, 10_000)])
        # paid only after the grace days: too late to count
        late = case_with_promise(session, amount_fen=50_000, taken_on=2, payments=[(20, 50_000)])
        # paid before the promise was taken: it does not count towards it
        before = case_with_promise(session, amount_fen=50_000, taken_on=6, payments=[(3, 50_000)])
        # paid in full before the due date
        early = case_with_promise(session, amount_fen=50_000, taken_on=2, payments=[(4, 60_000)])

    first = run_daily_cycle(engine, date(2026, 11, 11), CONFIG, now=RUN_AT)
    got = statuses(engine)
    assert got[early] == ("kept", 60_000, date(2026, 11, 11))
    assert {got[p][0] for p in (in_grace, partly, late, before)} == {"open"}
    assert first.promises_judged == {"kept": 1, "partly_kept": 0, "broken": 0}

    run_daily_cycle(engine, date(2026, 11, 12), CONFIG, now=RUN_AT)
    assert statuses(engine)[in_grace] == ("kept", 50_000, date(2026, 11, 12))
    run_daily_cycle(engine, date(2026, 11, 13), CONFIG, now=RUN_AT)  # last grace day
    assert statuses(engine)[partly][0] == "open"

    last = run_daily_cycle(engine, date(2026, 11, 14), CONFIG, now=RUN_AT)
    got = statuses(engine)
    assert got[partly] == ("partly_kept", 10_000, date(2026, 11, 14))
    assert got[late] == ("broken", 0, date(2026, 11, 14))
    assert got[before] == ("broken", 0, date(2026, 11, 14))
    assert last.promises_judged == {"kept": 0, "partly_kept": 1, "broken": 2}
    assert last.alerts_raised["broken_promise"] == 2
    with transaction(engine) as session:
        alerts = session.execute(
            select(Alert.case_id, Alert.raised_on).where(Alert.kind == "broken_promise")
        ).all()
        broken_cases = set(
            session.scalars(select(Promise.case_id).where(Promise.status == "broken"))
        )
        events = session.execute(
            select(Event.type, func.count()).where(Event.entity_type == "promise").group_by(
                Event.type
            )
        ).all()  # fmt: skip
    assert {a.case_id for a in alerts} == broken_cases
    assert {a.raised_on for a in alerts} == {date(2026, 11, 14)}
    assert dict(events) == {"promise.kept": 2, "promise.partly_kept": 1, "promise.broken": 2}

    # re-running the date judges nothing twice
    again = run_daily_cycle(engine, date(2026, 11, 14), CONFIG, now=RUN_AT)
    assert again.promises_judged == {"kept": 0, "partly_kept": 0, "broken": 0}
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).where(Alert.kind == "broken_promise")) == 2
        assert session.scalar(select(func.count()).where(Event.entity_type == "promise")) == 5


def test_a_reversed_payment_does_not_keep_a_promise(engine: Engine) -> None:
    with transaction(engine) as session:
        promise_id = case_with_promise(
            session, amount_fen=50_000, taken_on=2, payments=[(5, 50_000)]
        )
        session.execute(update(Payment).values(reversed_at=beijing(6)))
    run_daily_cycle(engine, date(2026, 11, 14), CONFIG, now=RUN_AT)
    assert statuses(engine)[promise_id][0] == "broken"
