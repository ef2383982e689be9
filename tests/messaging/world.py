"""Test setup for the messages tests: a case with every kind of point, a clock, servers."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.gateways import AliyunSmsGateway, Gateway, LetterPrinter, SmtpGateway
from cuishou.messaging.rules import RetryPolicy
from cuishou.messaging.schemas import Selection
from cuishou.messaging.service import SendOptions
from cuishou.store.db import transaction
from tests.web.factories import WORKDAY_MORNING, debtor_mobile, make_case, make_contact_point

DAY = date(2026, 11, 4)  # WORKDAY_MORNING's business day in Beijing


@dataclass
class FakeClock:
    """The injected clock; ``sleep`` moves it (no test really sleeps)."""

    now: datetime = WORKDAY_MORNING
    slept: list[float] = field(default_factory=list)

    def __call__(self) -> datetime:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += timedelta(seconds=seconds)


@dataclass
class Cases:
    ids: list[int]
    mobiles: list[int]
    emails: list[int]
    addresses: list[int]


def make_cases(engine: Engine, n: int) -> Cases:
    out = Cases([], [], [], [])
    with transaction(engine) as session:
        for i in range(n):
            case = make_case(session, debtor_name="张伟" if i % 2 else "李秀英")
            out.ids.append(case.id)
            out.mobiles.append(debtor_mobile(session, case).id)
            out.emails.append(
                make_contact_point(
                    session, debtor_id=case.debtor_id, kind="email", value=f"debtor{i}@example.com"
                ).id
            )
            out.addresses.append(
                make_contact_point(
                    session,
                    debtor_id=case.debtor_id,
                    kind="address",
                    value=f"北京市朝阳区建国路{i + 1}号",
                ).id
            )
    return out


def settings(**overrides: object) -> MessagingSettings:
    values: dict[str, object] = {
        "retry": RetryPolicy(max_attempts=3, base=timedelta(seconds=30)),
        "per_second": {"sms": 10.0, "email": 0.0, "wechat": 0.0, "letter": 0.0},
        "receipt_secret": "receipt-secret",
    }
    values.update(overrides)
    return MessagingSettings(**values)  # type: ignore[arg-type]


def sms_gateway(url: str, clock: FakeClock) -> AliyunSmsGateway:
    return AliyunSmsGateway(
        endpoint=url,
        access_key_id="KEY",
        access_key_secret="SECRET",
        sign_name="催收服务",
        clock=clock,
    )


def smtp_gateway(port: int) -> SmtpGateway:
    return SmtpGateway(host="127.0.0.1", port=port, sender="notice@cuishou.example")


def letters(directory: Path, clock: FakeClock) -> Gateway:
    return LetterPrinter(directory=directory, clock=clock)


def options(clock: FakeClock, channels: tuple[str, ...], selection: list[Selection]) -> SendOptions:
    return SendOptions(
        day=DAY, channels=channels, clock=clock, sleep=clock.sleep, selection=selection
    )


def sms_selection(cases: Cases, template: str = "SMS_REMINDER") -> list[Selection]:
    return [
        Selection(case_id=c, contact_point_id=p, channel="sms", template_code=template)
        for c, p in zip(cases.ids, cases.mobiles, strict=True)
    ]
