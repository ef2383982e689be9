"""Agreements on the pages, on both stores: the calculator and the request on the case
page, one active agreement (withdraw a waiting request, amend a running plan), the approver
inbox with the cumulative waiver, the PDF (masked; the full copy for ``pii.reveal``), payment
and plan events on the timeline."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update

from cuishou.audit.events import append_event
from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Agreement, Creditor, Event
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    bearer,
    make_case,
    make_team,
    make_user,
    token_for,
)
from tests.web.pages import HTML, HTMX, PASSWORD, csrf_of, login

ZH = MESSAGES["zh"]
SRC = Path(__file__).parents[2] / "src" / "cuishou"


@dataclass
class Org:
    case_a: int
    case_b: int
    manager_token: str


@pytest.fixture
def clock() -> Clock:
    return Clock(now=WORKDAY_MORNING)


@pytest.fixture
def org(engine: Engine, clock: Clock) -> Org:
    """Team A (col_a, lead_a) with case A; team B (col_b, lead_b) with case B; a manager.
    Case A owes principal 12,345.67, penalty 120 and interest 860.50 accrued at 36% — of
    which only 286.83 is within the legal cap (4 × LPR; the creditor is a private lender)."""
    with transaction(engine) as session:
        team_a = make_team(session, name="一组")
        team_b = make_team(session, name="二组")
        col_a = make_user(session, username="col_a", team=team_a, password=PASSWORD)
        col_b = make_user(session, username="col_b", team=team_b, password=PASSWORD)
        make_user(session, username="lead_a", role="team_lead", team=team_a, password=PASSWORD)
        make_user(session, username="lead_b", role="team_lead", team=team_b, password=PASSWORD)
        manager = make_user(session, username="manager", role="manager", password=PASSWORD)
        case_a = make_case(session, assigned=col_a, team=team_a)
        account = session.scalars(select(Account).where(Account.case_id == case_a.id)).one()
        account.interest_fen, account.penalty_fen = 86_050, 12_000
        account.annual_rate, account.contract_date = Decimal("0.36"), date(2025, 6, 1)
        session.execute(update(Creditor).values(interest_cap="private_lending_4x_lpr"))
        case_b = make_case(session, assigned=col_b, team=team_b)
        return Org(case_a.id, case_b.id, token_for(session, user=manager, now=clock.now))


@pytest.fixture
def web(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=clock)), follow_redirects=True) as c:
        yield c


def _first_due(clock: Clock, days: int = 10) -> str:
    return (clock.now.astimezone(CHINA_TZ).date() + timedelta(days=days)).isoformat()


def _plan(clock: Clock) -> dict[str, str]:
    """Down payment 1,000 and three installments, 50 of the penalty waived."""
    return {"kind": "installments", "first_due": _first_due(clock), "installments": "3",
            "down_payment": "1000", "waive_penalty": "50"}  # fmt: skip


def _agreements(engine: Engine) -> list[Agreement]:
    with transaction(engine) as session:
        found = list(session.scalars(select(Agreement).order_by(Agreement.id)))
        session.expunge_all()
        return found


def _amounts(html: str, table_id: str) -> list[Decimal]:
    table = re.search(rf'<table[^>]*id="{table_id}".*?</table>', html, re.S)
    assert table is not None, f"no #{table_id}"
    return [Decimal(v) for v in re.findall(r'data-amount="([0-9.]+)"', table[0])]


def test_the_calculator_shows_a_schedule_that_adds_up_and_saves_nothing(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    login(web, "col_a")
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert ZH["agreement.calculator"] in page.text and 'id="agreement-form"' in page.text
    quoted = web.post(
        f"/cases/{org.case_a}/agreements/quote",
        data={"csrf_token": csrf_of(page.text), **_plan(clock)},
        headers=HTMX,
    )
    assert quoted.status_code == 200, quoted.text[:500]
    assert quoted.text.lstrip().startswith('<section class="card" id="agreement"')
    # owed 12,345.67 + 286.83 + 120.00 = 12,752.50, less 50.00 waived
    assert re.search(r'id="quote-agreed">¥12,702.50<', quoted.text)
    assert _amounts(quoted.text, "quote-schedule") == [
        Decimal("1000.00"), Decimal("3900.84"), Decimal("3900.83"), Decimal("3900.83"),
    ]  # fmt: skip
    assert sum(_amounts(quoted.text, "quote-schedule")) == Decimal("12702.50")
    assert re.search(r'id="quote-above-cap">¥573.67<', quoted.text)  # never demanded
    assert ZH["level.team_lead"] in quoted.text and ZH["agreement.quote_only"] in quoted.text
    assert _agreements(engine) == []

    # terms the rules refuse come back inline, with the field named, and nothing is saved
    once = web.post(
        f"/cases/{org.case_a}/agreements/quote",
        data={"csrf_token": csrf_of(page.text), **_plan(clock), "installments": "1"},
        headers=HTMX,
    )
    late = web.post(
        f"/cases/{org.case_a}/agreements",
        data={"csrf_token": csrf_of(page.text), **_plan(clock), "first_due": _first_due(clock, 90)},
        headers=HTMX,
    )
    for refused, field in ((once, "installments"), (late, "first_due")):
        assert refused.status_code == 422 and 'class="errors"' in refused.text
        assert f'data-field="{field}"' in refused.text and "Traceback" not in refused.text
    assert _agreements(engine) == []


def test_a_request_reaches_the_team_leads_inbox_and_the_approved_pdf_downloads(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    requested = web.post(
        f"/cases/{org.case_a}/agreements", data={"csrf_token": csrf, **_plan(clock)}, headers=HTMX
    )
    assert requested.status_code == 200, requested.text[:500]
    [agreement] = _agreements(engine)
    assert (agreement.status, agreement.required_level) == ("requested", "team_lead")
    assert ZH["agreement.requested_notice"].format(
        id=agreement.id, level=ZH["level.team_lead"]
    ) in (requested.text)
    # the timeline (swapped out of band) shows the request at once
    assert 'hx-swap-oob="true"' in requested.text
    assert 'data-type="agreement.requested"' in requested.text
    assert ZH["event.agreement.requested"] in requested.text
    # a collector has no inbox
    assert web.get("/agreements/inbox", headers=HTML).status_code == 403
    web.cookies.clear()

    # the other team's lead does not see it and cannot decide it
    csrf = login(web, "lead_b")
    assert f'data-agreement-id="{agreement.id}"' not in web.get("/agreements/inbox").text
    outside = web.post(
        f"/agreements/{agreement.id}/approve",
        data={"csrf_token": csrf, "reason": "ok"},
        headers=HTML,
    )
    assert outside.status_code == 404
    web.cookies.clear()

    csrf = login(web, "lead_a")
    inbox = web.get("/agreements/inbox", headers=HTML)
    assert inbox.status_code == 200 and 'href="/agreements/inbox"' in inbox.text
    row = re.search(rf'<tr data-agreement-id="{agreement.id}">.*?</tr>', inbox.text, re.S)
    assert row is not None
    assert "¥12,702.50" in row[0] and "0.40%" in row[0]  # terms and waiver share (50 ÷ 12,752.50)
    # a reason is required: nothing is decided without one
    blank = web.post(
        f"/agreements/{agreement.id}/approve", data={"csrf_token": csrf, "reason": " "}
    )
    assert blank.status_code == 422 and 'data-field="reason"' in blank.text
    assert _agreements(engine)[0].status == "requested"
    # without the CSRF token nothing is decided
    forged = web.post(f"/agreements/{agreement.id}/approve", data={"reason": "ok"})
    assert forged.status_code == 403 and ZH["error.csrf"] in forged.text
    assert _agreements(engine)[0].status == "requested"

    approved = web.post(
        f"/agreements/{agreement.id}/approve",
        data={"csrf_token": csrf, "reason": "收入稳定，同意分期"},
    )
    assert approved.status_code == 200
    assert ZH["inbox.approved"].format(id=agreement.id) in approved.text
    assert f'data-agreement-id="{agreement.id}"' not in approved.text
    assert _agreements(engine)[0].status == "approved"

    case = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert f'href="/agreements/{agreement.id}/document"' in case.text
    assert 'data-type="agreement.approved"' in case.text and "收入稳定，同意分期" in case.text
    pdf = web.get(f"/agreements/{agreement.id}/document")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    web.cookies.clear()

    # the document follows the session's scope: another team's collector gets 404
    login(web, "col_b")
    assert web.get(f"/agreements/{agreement.id}/document").status_code == 404


def test_nobody_approves_their_own_request_and_is_told_so(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "lead_a")
    web.post(f"/cases/{org.case_a}/agreements", data={"csrf_token": csrf, **_plan(clock)})
    [agreement] = _agreements(engine)
    inbox = web.get("/agreements/inbox", headers=HTML)
    assert f'data-agreement-id="{agreement.id}"' not in inbox.text  # not offered
    own = web.post(
        f"/agreements/{agreement.id}/approve",
        data={"csrf_token": csrf, "reason": "自己批准"},
        headers=HTML,
    )
    assert own.status_code == 403
    assert ZH["inbox.refused"] in own.text and "own request" in own.text
    assert "Traceback" not in own.text and 'id="inbox"' in own.text
    assert _agreements(engine)[0].status == "requested"
    with transaction(engine) as session:
        decided = session.scalar(
            select(func.count()).select_from(Event).where(Event.type == "agreement.approved")
        )
    assert decided == 0


def test_a_collector_cannot_quote_another_teams_case_nor_open_the_inbox(
    web: TestClient, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    theirs = web.post(
        f"/cases/{org.case_b}/agreements/quote",
        data={"csrf_token": csrf, **_plan(clock)},
        headers=HTML,
    )
    assert theirs.status_code == 404 and ZH["error.404"] in theirs.text
    assert web.get("/agreements/inbox", headers=HTML).status_code == 403
    page = web.get("/queue", headers=HTML)
    assert 'href="/agreements/inbox"' not in page.text
    missing_csrf = web.post(f"/cases/{org.case_a}/agreements/quote", data=_plan(clock))
    assert missing_csrf.status_code == 403


def test_payments_and_plan_events_are_labelled_on_the_timeline(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    paid_at = clock.now.isoformat()
    posted = web.post(
        "/api/v1/payments",
        json={"case_id": org.case_a, "amount": "300.00", "paid_at": paid_at,
              "reference": "WX20261125001", "source": "manual"},
        headers=bearer(org.manager_token),
    )  # fmt: skip
    assert posted.status_code == 201, posted.text
    reversed_ = web.post(
        f"/api/v1/payments/{posted.json()['id']}/reversal",
        json={"reason": "重复入账"},
        headers=bearer(org.manager_token),
    )
    assert reversed_.status_code == 200, reversed_.text
    with transaction(engine) as session:  # what the daily cycle writes for a broken promise
        append_event(session, at=clock.now, actor="system", type="promise.broken",
                     entity_type="promise", entity_id=1, case_id=org.case_a,
                     payload={"status": "broken", "amount_fen": 50_000, "paid_fen": 0,
                              "due_date": "2026-11-20"})  # fmt: skip
    login(web, "col_a")
    case = web.get(f"/cases/{org.case_a}", headers=HTML)
    timeline = re.search(r'<ol class="timeline" id="timeline">.*?</ol>', case.text, re.S)
    assert timeline is not None
    for kind, text in (
        ("payment.posted", "WX20261125001"),
        ("payment.reversed", "重复入账"),
        ("promise.broken", "¥500.00"),
    ):
        item = re.search(rf'<li data-type="{re.escape(kind)}">.*?</li>', timeline[0], re.S)
        assert item is not None, kind
        assert ZH[f"event.{kind}"] in item[0] and text in item[0]
        assert f"event.{kind}" not in item[0]  # a label, not the bare key
    assert "¥300.00" in timeline[0]


def _written_event_types() -> set[str]:
    """Every event type the code writes: literal ``type="…"`` (and the importer's
    ``event(options, "…"``), SQL literals, and the families written from a status."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        found |= set(re.findall(r'type_?="([a-z_]+\.[a-z_]+)"', text))
        found |= set(re.findall(r'event\(options, "([a-z_]+\.[a-z_]+)"', text))
        found |= set(re.findall(r":actor, '([a-z_]+\.[a-z_]+)'", text))
    found |= {f"promise.{s}" for s in ("kept", "partly_kept", "broken")}
    found |= {f"case.{c}" for c in ("opened", "closed", "reopened")}
    found |= {f"agreement.{s}" for s in ("approved", "rejected", "completed", "broken")}
    # written as 'case.label_' || change (given, removed)
    found.discard("case.label_")
    found |= {f"case.label_{c}" for c in ("given", "removed")}
    return found


def test_every_event_type_written_has_a_timeline_label_in_both_languages() -> None:
    written = _written_event_types()
    assert {"payment.posted", "payment.reversed", "agreement.requested"} <= written
    missing = sorted(t for t in written if f"event.{t}" not in MESSAGES["en"])
    assert missing == []
    assert all(f"event.{t}" in MESSAGES["zh"] for t in written)


def test_the_inbox_is_in_the_menu_of_approvers_only(web: TestClient, org: Org) -> None:
    for username, shown in (("col_a", False), ("lead_a", True), ("manager", True)):
        web.cookies.clear()
        login(web, username)
        assert ('href="/agreements/inbox"' in web.get("/queue", headers=HTML).text) is shown


def _approve_on_inbox(web: TestClient, approver: str, agreement_id: int) -> None:
    web.cookies.clear()
    csrf = login(web, approver)
    done = web.post(f"/agreements/{agreement_id}/approve",
                    data={"csrf_token": csrf, "reason": "同意"})  # fmt: skip
    assert done.status_code == 200 and ZH["inbox.approved"].format(id=agreement_id) in done.text
    web.cookies.clear()


def test_one_active_agreement_on_the_case_page_withdraw_and_amend(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    url = f"/cases/{org.case_a}/agreements"
    web.post(url, data={"csrf_token": csrf, **_plan(clock)}, headers=HTMX)
    [first] = _agreements(engine)
    # a waiting request: the calculator gives way to a notice and, for its requester, withdraw
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert 'id="agreement-form"' not in page.text and 'id="agreement-pending"' in page.text
    assert ZH["agreement.pending_notice"].format(id=first.id, by="col_a") in page.text
    assert f'action="/agreements/{first.id}/withdraw"' in page.text
    # a form sent from an older page is refused in place, naming the waiting request
    again = web.post(url, data={"csrf_token": csrf, **_plan(clock)}, headers=HTMX)
    # (HTMX swaps only 422 answers, so a refusal shown in place is one)
    assert again.status_code == 422 and f"agreement {first.id} waiting" in again.text
    assert "Traceback" not in again.text and len(_agreements(engine)) == 1
    # withdrawing needs a reason, then frees the case
    blank = web.post(f"/agreements/{first.id}/withdraw", data={"csrf_token": csrf, "reason": ""},
                     headers=HTMX)  # fmt: skip
    assert blank.status_code == 422 and 'data-field="reason"' in blank.text
    reason = {"csrf_token": csrf, "reason": "客户改变主意"}
    withdrawn = web.post(f"/agreements/{first.id}/withdraw", data=reason, headers=HTMX)
    assert withdrawn.status_code == 200
    assert ZH["agreement.withdrawn_notice"].format(id=first.id) in withdrawn.text
    assert 'id="agreement-form"' in withdrawn.text
    assert 'data-type="agreement.withdrawn"' in withdrawn.text  # the timeline, out of band
    assert _agreements(engine)[0].status == "withdrawn"

    # a plan approved: the calculator now amends it
    web.post(url, data={"csrf_token": csrf, **_plan(clock)}, headers=HTMX)
    running = _agreements(engine)[-1]
    _approve_on_inbox(web, "lead_a", running.id)
    csrf = login(web, "col_a")
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert ZH["agreement.running_notice"].format(id=running.id) in page.text
    assert f'name="amends" value="{running.id}"' in page.text
    amend = {**_plan(clock), "waive_penalty": "70", "amends": str(running.id)}
    quoted = web.post(f"{url}/quote", data={"csrf_token": csrf, **amend}, headers=HTMX)
    assert quoted.status_code == 200, quoted.text[:500]
    # the 50.00 the running plan waives comes back; 70.00 is this request's and the case's
    assert re.search(r'id="quote-reinstated">¥50.00 ', quoted.text)
    assert re.search(r'id="quote-this">¥70.00 ', quoted.text)
    assert re.search(r'id="quote-earlier">¥0.00<', quoted.text)
    assert re.search(r'id="quote-cumulative">¥70.00 ', quoted.text)
    assert ZH["agreement.level_note"] in quoted.text
    web.post(url, data={"csrf_token": csrf, **amend}, headers=HTMX)
    amendment = _agreements(engine)[-1]
    assert amendment.amends_id == running.id
    # the approver sees what is amended and the cumulative figures
    web.cookies.clear()
    login(web, "lead_a")
    inbox = web.get("/agreements/inbox", headers=HTML)
    row = re.search(rf'<tr data-agreement-id="{amendment.id}">.*?</tr>', inbox.text, re.S)
    assert row is not None
    assert f"#{running.id}" in row[0] and "¥50.00" in row[0] and 'class="cumulative"' in row[0]
    _approve_on_inbox(web, "lead_a", amendment.id)
    login(web, "col_a")
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    old = re.search(rf'<tr data-agreement-id="{running.id}" data-status="superseded">.*?</tr>',
                    page.text, re.S)  # fmt: skip
    assert old is not None and ZH["agreement.superseded_by"].format(id=amendment.id) in old[0]
    assert 'data-type="agreement.superseded"' in page.text


def test_the_pdf_is_masked_and_the_full_copy_is_offered_to_pii_reveal_only(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    web.post(f"/cases/{org.case_a}/agreements", data={"csrf_token": csrf, **_plan(clock)})
    [agreement] = _agreements(engine)
    _approve_on_inbox(web, "lead_a", agreement.id)
    document = f"/agreements/{agreement.id}/document"
    # the collector: the masked copy, no full-copy action, and a clear 403 when asking anyway
    login(web, "col_a")
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert f'href="{document}"' in page.text and 'class="stack full-copy"' not in page.text
    masked = web.get(document)
    assert masked.status_code == 200 and "张*" in _text(masked.content)
    assert "张伟" not in _text(masked.content)
    refused = web.get(f"{document}?reveal=true&reason=print", headers=HTML)
    assert refused.status_code == 403 and "pii.reveal" in refused.text
    assert "Traceback" not in refused.text
    web.cookies.clear()
    # the team lead: the full copy, with a reason, recorded on the case's timeline
    login(web, "lead_a")
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert 'class="stack full-copy"' in page.text and ZH["agreement.full_copy"] in page.text
    full = web.get(f"{document}?reveal=true&reason=打印签署")
    assert full.status_code == 200 and "张伟" in _text(full.content)
    page = web.get(f"/cases/{org.case_a}", headers=HTML)
    item = re.search(r'<li data-type="pii.revealed">.*?</li>', page.text, re.S)
    assert item is not None
    assert ZH["pii.agreement_document"] in item[0] and "打印签署" in item[0]


def _text(pdf: bytes) -> str:
    return "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
