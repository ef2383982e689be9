"""Sending through the real gateways' local servers, on both stores: gated, throttled,
retried with backoff, dead-lettered, each send a contact — and exactly once across a crash."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, func, select

from cuishou.auth.service import principal_named
from cuishou.compliance.schemas import HoldIn
from cuishou.compliance.service import open_hold
from cuishou.kit.errors import PermissionDenied
from cuishou.messaging.gateways import (
    Gateway,
    LetterPrinter,
    Outbound,
    SendResult,
    WechatTemplateGateway,
)
from cuishou.messaging.schemas import Selection
from cuishou.messaging.service import apply_receipts, send_due, system_principal
from cuishou.store.db import transaction
from cuishou.store.tables import Case, Contact, Event, Message, MessageJob
from tests.messaging.servers import contract_server, smtp_server
from tests.messaging.world import (
    FakeClock,
    letters,
    make_cases,
    options,
    settings,
    sms_gateway,
    sms_selection,
    smtp_gateway,
)
from tests.web.factories import WORKDAY_MORNING as NOW
from tests.web.factories import make_contact_point, make_user


def statuses(engine: Engine) -> dict[str, int]:
    with transaction(engine) as session:
        rows = session.execute(select(Message.status, func.count()).group_by(Message.status))
        return {s: n for s, n in rows}


def test_sms_go_out_rendered_gated_and_each_is_a_contact(engine: Engine) -> None:
    cases = make_cases(engine, 3)
    clock = FakeClock()
    with contract_server() as server:
        summary = send_due(
            engine,
            {"sms": sms_gateway(server.url, clock)},
            settings(),
            options(clock, ("sms",), sms_selection(cases)),
        )

    assert (summary.queued, summary.sent, summary.blocked, summary.failed) == (3, 3, 0, 0)
    assert len(server.sms()) == 3
    first = server.sms()[0].form
    assert first["PhoneNumbers"] == "13812341234" and first["TemplateCode"] == "SMS_REMINDER"
    assert '"amount": "12345.67"' in first["TemplateParam"]
    with transaction(engine) as session:
        messages = session.scalars(select(Message).order_by(Message.id)).all()
        assert {m.status for m in messages} == {"sent"}
        assert messages[0].body.startswith(
            "【还款提醒】李**您好，您在测试银行的借款已逾期，应还金额12345.67元"
        )
        assert "{" not in messages[0].body and "https://pay.example.com/p/" in messages[0].body
        assert messages[0].provider_id == "BIZ000001"
        contacts = session.scalars(select(Contact).order_by(Contact.id)).all()
        assert [(c.channel, c.outcome) for c in contacts] == [("sms", "message_sent")] * 3
        assert {m.contact_id for m in messages} == {c.id for c in contacts}
        job = session.scalars(select(MessageJob)).one()
        assert job.status == "done" and job.counts["sent"] == 3
    # the throttle (10/s) spaced the sends by the injected clock, without real sleeping
    assert clock.slept and all(abs(s - 0.1) < 1e-6 for s in clock.slept)


class CrashAfter:
    """The gateway, and the process dying after ``k`` messages reached the provider
    (after the provider took the k-th, before its result was recorded)."""

    def __init__(self, inner: Gateway, k: int) -> None:
        self.inner, self.k, self.channel, self.sent = inner, k, inner.channel, 0

    def send(self, batch: Sequence[Outbound]) -> list[SendResult]:
        results = self.inner.send(batch)
        self.sent += len(batch)
        if self.sent >= self.k:
            raise SystemExit("killed")
        return results


def test_a_crash_mid_batch_and_a_rerun_send_nothing_twice(engine: Engine) -> None:
    cases = make_cases(engine, 6)
    clock = FakeClock()
    with contract_server() as server:
        gateway = sms_gateway(server.url, clock)
        with pytest.raises(SystemExit):
            send_due(
                engine,
                {"sms": CrashAfter(gateway, 3)},
                settings(),
                options(clock, ("sms",), sms_selection(cases)),
            )
        assert len(server.sms()) == 3
        clock.now = clock.now.replace(minute=5)

        rerun = send_due(
            engine, {"sms": gateway}, settings(), options(clock, ("sms",), sms_selection(cases))
        )
        again = send_due(
            engine, {"sms": gateway}, settings(), options(clock, ("sms",), sms_selection(cases))
        )

    numbers = [r.form["OutId"] for r in server.sms()]
    assert len(numbers) == len(set(numbers)) == 6  # each message reached the provider once
    assert (rerun.queued, rerun.sent, rerun.unknown) == (0, 3, 1)
    assert (again.queued, again.sent, again.unknown) == (0, 0, 0)
    # the one whose result was lost is not resent blindly: it is "unknown" (a receipt settles it)
    assert statuses(engine) == {"sent": 5, "unknown": 1}
    # the provider's delivery report (it echoes our key as OutId) settles the unknown one
    with transaction(engine) as session:
        lost = session.scalars(select(Message).where(Message.status == "unknown")).one()
        settled = apply_receipts(session, [{"out_id": lost.key, "success": True}], now=clock.now)
    assert settled.applied == 1 and statuses(engine) == {"sent": 5, "delivered": 1}
    with transaction(engine) as session:
        crashed = session.scalars(select(MessageJob).order_by(MessageJob.id)).first()
        assert crashed is not None and crashed.status == "crashed"


def test_failures_are_retried_with_backoff_then_dead_lettered(engine: Engine) -> None:
    cases = make_cases(engine, 2)
    clock = FakeClock()
    with contract_server() as server:
        # the first message: 500 then OK; the second: 500 three times (max_attempts 3)
        ok = (200, {"Code": "OK", "BizId": "B1"})
        server.answers = [(500, {}), (500, {}), ok, (500, {}), (500, {})]
        summary = send_due(
            engine,
            {"sms": sms_gateway(server.url, clock)},
            settings(),
            options(clock, ("sms",), sms_selection(cases)),
        )
    assert summary.sent == 1 and summary.dead == 1
    assert statuses(engine) == {"sent": 1, "dead": 1}
    # backoff 30 s then 60 s from each failure (less the throttle's 0.1 s since the first),
    # waited on the injected clock
    assert [s for s in clock.slept if s >= 1] == pytest.approx([29.9, 60.0])
    with transaction(engine) as session:
        dead = session.scalars(select(Message).where(Message.status == "dead")).one()
        assert dead.attempts == 3 and "HTTP 500" in dead.error


def test_an_opt_out_blocks_the_send_with_its_rule(engine: Engine) -> None:
    cases = make_cases(engine, 2)
    clock = FakeClock()
    with transaction(engine) as session:
        principal = system_principal(session, now=clock.now)
        open_hold(
            session, principal, cases.ids[0], HoldIn(kind="opt_out", channel="sms"), now=clock.now
        )
    with contract_server() as server:
        summary = send_due(
            engine,
            {"sms": sms_gateway(server.url, clock)},
            settings(),
            options(clock, ("sms",), sms_selection(cases)),
        )
    assert summary.sent == 1 and summary.blocked == 1 and len(server.sms()) == 1
    assert list(summary.blocked_by_rule) != []
    with transaction(engine) as session:
        blocked = session.scalars(select(Message).where(Message.status == "blocked")).one()
        assert blocked.case_id == cases.ids[0] and blocked.rule_ids


def test_email_and_letters_go_out_in_one_run(engine: Engine, tmp_path: Path) -> None:
    cases = make_cases(engine, 2)
    clock = FakeClock()
    picked = [
        *[
            Selection(
                case_id=c, contact_point_id=p, channel="email", template_code="EMAIL_STATEMENT"
            )
            for c, p in zip(cases.ids, cases.emails, strict=True)
        ],
        *[
            Selection(
                case_id=c, contact_point_id=p, channel="letter", template_code="LETTER_DEMAND"
            )
            for c, p in zip(cases.ids, cases.addresses, strict=True)
        ],
    ]
    with smtp_server() as box:
        summary = send_due(
            engine,
            {"email": smtp_gateway(box.port), "letter": letters(tmp_path, clock)},
            settings(),
            options(clock, ("email", "letter"), picked),
        )
    assert summary.sent == 4 and len(box.messages) == 2
    assert "应还金额为12345.67元" in box.messages[0][2].get_content()
    (pdf,) = [Path(f) for f in summary.files if f.endswith(".pdf")]
    reader = PdfReader(pdf)
    assert len(reader.pages) == 2 and "催收函" in reader.pages[0].extract_text()
    with transaction(engine) as session:
        kinds = session.scalars(select(Event.type).where(Event.type.like("message.%"))).all()
        assert kinds.count("message.sent") == 4


def test_wechat_goes_to_the_debtors_openid_through_the_template_api(engine: Engine) -> None:
    cases = make_cases(engine, 1)
    with transaction(engine) as session:
        case = session.get(Case, cases.ids[0])
        assert case is not None
        openid = make_contact_point(
            session, debtor_id=case.debtor_id, kind="wechat", value="oWX_openid_001"
        ).id
    clock = FakeClock()
    picked = [
        Selection(
            case_id=cases.ids[0],
            contact_point_id=openid,
            channel="wechat",
            template_code="WECHAT_REMINDER",
        )
    ]
    with contract_server() as server:
        gateway = WechatTemplateGateway(base_url=server.url, app_id="wxAPP", app_secret="S")
        summary = send_due(
            engine, {"wechat": gateway}, settings(), options(clock, ("wechat",), picked)
        )
    assert summary.sent == 1
    token, sent = server.received
    assert token.path == "/cgi-bin/token"
    payload = json.loads(sent.body)
    assert payload["touser"] == "oWX_openid_001" and payload["template_id"] == "WECHAT_REMINDER"
    assert "12345.67元" in payload["data"]["first"]["value"]
    with transaction(engine) as session:
        contact = session.scalars(select(Contact)).one()
        assert (contact.channel, contact.outcome) == ("wechat", "message_sent")


def test_letters_show_addresses_only_to_a_revealer_and_each_case_is_audited(
    engine: Engine, tmp_path: Path
) -> None:
    cases = make_cases(engine, 2)
    with transaction(engine) as session:
        manager = principal_named(session, system_principal(session, now=NOW).username)
        collector = make_user(session, username="col_x")
        col = principal_named(session, collector.username)
    picked = [
        Selection(case_id=c, contact_point_id=p, channel="letter", template_code="LETTER_DEMAND")
        for c, p in zip(cases.ids, cases.addresses, strict=True)
    ]
    clock = FakeClock()
    with pytest.raises(PermissionDenied):
        send_due(
            engine,
            {"letter": LetterPrinter(directory=tmp_path, clock=clock, reveal=True)},
            settings(),
            replace(options(clock, ("letter",), picked), reveal_as=col),
        )

    printer = LetterPrinter(directory=tmp_path, clock=clock, reveal=True)
    summary = send_due(
        engine,
        {"letter": printer},
        settings(),
        replace(options(clock, ("letter",), picked), reveal_as=manager),
    )

    assert summary.sent == 2 and printer.last_files is not None
    manifest = printer.last_files[1].read_text(encoding="utf-8-sig")
    assert "北京市朝阳区建国路1号" in manifest and "****" not in manifest
    with transaction(engine) as session:
        revealed = session.scalars(select(Event).where(Event.type == "pii.revealed")).all()
    assert sorted(e.entity_id for e in revealed) == sorted(cases.ids)
