"""The day's batch from the strategy's plan (计划触达): the planned SMS go out, the gate's
drops stay out, a second run the same day sends nothing — on both stores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from cuishou.engine.runner import run_daily_cycle
from cuishou.messaging.service import SendOptions, send_due
from cuishou.store.db import transaction
from cuishou.store.tables import ContactHold, Message
from cuishou.strategy.service.planning import plan_open_cases
from tests.factories import make_creditor
from tests.messaging.servers import contract_server
from tests.messaging.world import FakeClock, settings, sms_gateway
from tests.strategy.test_planning import DAY, NOW, _debtor, _install

MORNING = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai on DAY (a Monday)


def test_the_plans_sms_go_out_once_and_the_gates_drops_do_not(engine: Engine) -> None:
    with transaction(engine) as session:
        creditor = make_creditor(session)
        early = [_debtor(session, creditor, dpd=10 + i) for i in range(3)]
        session.add(
            ContactHold(
                debtor_id=early[2],
                case_id=None,
                kind="dispute",
                reason="异议",
                opened_at=NOW - timedelta(days=1),
                opened_by="ann",
            )
        )
    run_daily_cycle(engine, DAY, now=NOW, scoring=False, strategy=False)
    with transaction(engine) as session:
        _install(session)
    plan_open_cases(engine, DAY, now=NOW)
    clock = FakeClock(now=MORNING)
    run = SendOptions(day=DAY, channels=("sms",), clock=clock, sleep=clock.sleep)

    with contract_server() as server:
        first = send_due(engine, {"sms": sms_gateway(server.url, clock)}, settings(), run)
        second = send_due(engine, {"sms": sms_gateway(server.url, clock)}, settings(), run)

    assert (first.queued, first.sent) == (2, 2)  # the disputed debtor was dropped by the plan
    assert (second.queued, second.sent) == (0, 0)
    assert len(server.sms()) == 2
    with transaction(engine) as session:
        messages = session.scalars(select(Message)).all()
        assert {m.template_code for m in messages} == {"SMS_REMINDER"}
        assert {m.source for m in messages} == {"strategy"} and {m.day for m in messages} == {DAY}
