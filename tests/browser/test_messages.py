"""The send-jobs page in Chromium: a run's counts and the dead letters."""

from __future__ import annotations

from typing import Any

import pytest

from cuishou.messaging.schemas import Selection
from cuishou.messaging.service import SendOptions, send_due
from cuishou.store.db import transaction
from cuishou.store.tables import Case
from cuishou.web.i18n import MESSAGES
from tests.browser.conftest import Site, log_in
from tests.messaging.servers import contract_server
from tests.messaging.world import FakeClock, settings, sms_gateway
from tests.web.factories import debtor_mobile

pytestmark = pytest.mark.browser

ZH = MESSAGES["zh"]


def test_a_manager_sees_the_run_and_its_dead_letter(page: Any, site: Site) -> None:
    cases = site.portfolio.col_a_cases[:2]
    with transaction(site.engine) as session:
        picked = [
            Selection(
                case_id=case_id,
                contact_point_id=debtor_mobile(session, session.get(Case, case_id)).id,
                channel="sms",
                template_code="SMS_REMINDER",
            )
            for case_id in cases
        ]
    clock = FakeClock(now=site.clock.now)
    with contract_server() as server:
        server.answers = [(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": "非法手机号"})]
        summary = send_due(
            site.engine,
            {"sms": sms_gateway(server.url, clock)},
            settings(),
            SendOptions(
                day=clock.now.date(),
                channels=("sms",),
                clock=clock,
                sleep=clock.sleep,
                selection=picked,
            ),
        )
    assert (summary.sent, summary.dead) == (1, 1)

    log_in(page, site, "manager")
    page.goto(f"{site.url}/messages/jobs")
    assert ZH["messages.title"] in page.locator("h1").inner_text()
    job = page.locator("#message-jobs tbody tr").first
    assert job.locator(".job-status").inner_text() == "done"
    assert job.locator(".count-sent").inner_text() == "1"
    assert job.locator(".count-dead").inner_text() == "1"
    dead = page.locator("#dead-letters tbody tr")
    assert dead.count() == 1 and "MOBILE_NUMBER_ILLEGAL" in dead.inner_text()
