"""A new store ships the default zh templates, screened and active, with variables."""

from __future__ import annotations

from sqlalchemy import Engine

from cuishou.messaging.rules import unknown_variables
from cuishou.messaging.service import active_templates, system_principal
from cuishou.store.db import transaction
from tests.web.factories import WORKDAY_MORNING


def test_a_new_store_gets_the_defaults_active_and_clean(engine: Engine) -> None:
    with transaction(engine) as session:
        principal = system_principal(session, now=WORKDAY_MORNING)
        templates = active_templates(session, principal, now=WORKDAY_MORNING)
    expected = {
        "SMS_REMINDER": "sms",
        "SMS_BROKEN_PROMISE": "sms",
        "EMAIL_STATEMENT": "email",
        "LETTER_DEMAND": "letter",
        "WECHAT_REMINDER": "wechat",
    }
    assert {code: t.channel for code, t in templates.items()} == expected
    for template in templates.values():
        assert template.status == "active" and template.findings == []
        assert "{amount}" in template.body and "{name}" in template.body
        assert unknown_variables(template.body) == []
