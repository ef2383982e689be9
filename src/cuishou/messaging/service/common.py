"""What every message use case shares: the integration user, the templates, rendering and screening
of one message, the message as shown.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime
from typing import Any

from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.auth.schemas import UserIn
from cuishou.auth.service import add_user, principal_named
from cuishou.compliance.screening import screen
from cuishou.kit.errors import NotFound
from cuishou.kit.masking import mask_name
from cuishou.kit.money import format_yuan
from cuishou.messaging.gateway_settings import MessagingSettings
from cuishou.messaging.rules import (
    Variables,
    case_ref,
    pay_by,
)
from cuishou.messaging.schemas import MessageOut
from cuishou.store.tables import Message
from cuishou.templates.service import install_default_templates, list_templates

#: the integration user messages are sent and logged as (a manager's reach, no password)


CHANNELS_USER = "channels"


def message_out(message: Message) -> MessageOut:
    return MessageOut(
        id=message.id, status=message.status, key=message.key, case_id=message.case_id,
        channel=message.channel, template_code=message.template_code,
        template_version=message.template_version, body=message.body,
        attempts=message.attempts, rule_ids=list(message.rule_ids or []),
        next_allowed_at=message.next_allowed_at, error=message.error,
        created_at=message.created_at, sent_at=message.sent_at,
        delivered_at=message.delivered_at,
    )  # fmt: skip


def system_principal(session: Session, *, now: datetime) -> Principal:
    """The ``channels`` integration user (created without a password the first time)."""
    try:
        return principal_named(session, CHANNELS_USER)
    except NotFound:
        add_user(
            session,
            UserIn(username=CHANNELS_USER, role="manager", password=secrets.token_urlsafe(24),
                   display_name="消息网关 / message gateways"),
            actor="system:messages", now=now, login=False,
        )  # fmt: skip
        return principal_named(session, CHANNELS_USER)


def active_templates(session: Session, principal: Principal, *, now: datetime) -> dict[str, Any]:
    """The active template of each code; a store without the defaults gets them first."""
    active = {t.code: t for t in list_templates(session, principal, status="active")}
    if not active:  # a new store: the shipped defaults, installed by the integration user
        install_default_templates(session, system_principal(session, now=now), now=now)
        active = {t.code: t for t in list_templates(session, principal, status="active")}
    return active


def variables_of(
    settings: MessagingSettings, *, case_id: int, name: str, creditor: str, due_fen: int, day: date
) -> Variables:
    ref = case_ref(case_id, settings.ref_secret)
    return Variables(
        name=mask_name(name), amount=format_yuan(due_fen),
        due_date=pay_by(day, days=settings.pay_within_days).isoformat(), creditor=creditor,
        pay_link=settings.pay_link_base + ref, case_ref=ref,
    )  # fmt: skip


def screen_rules(body: str, audience: str, pack: str) -> list[str]:
    """Rule ids of banned content in a rendered text (``content:<category>`` when the
    finding cites no rule)."""
    return sorted(
        {f.rule_id or f"content:{f.category}" for f in screen(body, audience=audience, pack=pack)}  # type: ignore[arg-type]
    )
