"""Repayment agreements (还款协议) through the API on both stores: quote, request, the
approval matrix (judged on the cumulative waiver), nobody approves their own request, one
active agreement per case and amendments, withdrawal, the PDF (masked; the full copy an
audited reveal), tracking to settlement and breaks — with the case's due kept true."""

from __future__ import annotations

import io
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update

from cuishou.agreements import service
from cuishou.agreements.approval import default_matrix
from cuishou.agreements.schemas import AgreementIn
from cuishou.auth.rules import Principal
from cuishou.engine.runner import run_daily_cycle
from cuishou.kit.masking import mask_id_number, mask_name
from cuishou.ledger import service as ledger
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    Agreement,
    Case,
    Creditor,
    Debtor,
    Event,
    LedgerEntry,
    Payment,
)
from tests.factories import NOW, make_payment
from tests.web.factories import Clock, bearer, token_for
from tests.web.world import World, build_world

TODAY = NOW.date()
FIRST_DAY = TODAY + timedelta(days=10)
FIRST = FIRST_DAY.isoformat()


def _case(world: World, engine: Engine, **account: Any) -> tuple[int, int]:
    """A case of col_a whose account owes fee 50, penalty 120, interest 860.50, principal
    12,000 (13,030.50 in all)."""
    with transaction(engine) as session:
        case = world.case_for_a(session, due_fen=1_303_050)
        row = session.scalars(select(Account).where(Account.case_id == case.id)).one()
        row.principal_fen, row.interest_fen, row.penalty_fen, row.fee_fen = (
            1_200_000, 86_050, 12_000, 5_000,
        )  # fmt: skip
        for name, value in account.items():
            setattr(row, name, value)
        return case.id, row.id


def _post(client: TestClient, user: str, world: World, path: str, body: Any) -> Any:
    return client.post(path, json=body, headers=bearer(world.tokens[user]))


def _pdf_text(content: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_a_quote_shows_the_schedule_and_saves_nothing(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, _ = _case(world, engine)
    body = {"kind": "installments", "first_due": FIRST, "installments": 3, "down_payment": "1000"}

    response = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements/quote", body)

    assert response.status_code == 200, response.text
    q = response.json()
    assert q["owed"]["total"] == "13030.50" and q["agreed"] == "13030.50"
    assert [(r["seq"], r["amount"]) for r in q["schedule"]] == [
        (0, "1000.00"), (1, "4010.17"), (2, "4010.17"), (3, "4010.16"),
    ]  # fmt: skip
    assert q["required_level"] == "collector" and q["waiver_share"] == "0.00"
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Agreement)) == 0
    bad = _post(
        client, "col_a", world, f"/api/v1/cases/{case_id}/agreements/quote",
        {**body, "installments": 1},
    )  # fmt: skip
    assert bad.status_code == 422 and "at least 2" in bad.json()["message"]


def test_interest_above_the_legal_cap_is_never_demanded(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, _ = _case(
        world, engine, annual_rate=Decimal("0.360000"), contract_date=date(2025, 6, 1)
    )
    body = {"kind": "deferral", "first_due": FIRST}
    path = f"/api/v1/cases/{case_id}/agreements/quote"
    # a licensed lender (the default cap, none): all 860.50 of interest is owed
    licensed = _post(client, "col_a", world, path, body).json()
    assert licensed["owed"]["interest"] == "860.50" and licensed["interest_above_cap"] == "0.00"
    with transaction(engine) as session:
        session.execute(update(Creditor).values(interest_cap="private_lending_4x_lpr"))
    q = _post(client, "col_a", world, path, body).json()
    # a private lender: cap 4 × 3.0% LPR = 12%, a third of the 860.50 accrued at 36% is owed
    assert q["owed"]["interest"] == "286.83" and q["interest_above_cap"] == "573.67"
    assert q["agreed"] == "12456.83"
    assert sum(Decimal(r["amount"]) for r in q["schedule"]) == Decimal(q["agreed"])


def test_the_matrix_decides_who_approves_and_nobody_approves_their_own(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    case_id, _ = _case(world, engine)
    path = f"/api/v1/cases/{case_id}/agreements"
    # a 30% settlement: beyond a team lead's 20%, within a manager's 50%
    settle = {"kind": "settlement", "first_due": FIRST, "discount": "30"}
    requested = _post(client, "lead_a", world, path, settle)
    assert requested.status_code == 201, requested.text
    agreement = requested.json()
    assert (agreement["status"], agreement["required_level"]) == ("requested", "manager")
    assert agreement["agreed"] == "9121.35"
    approve = f"/api/v1/agreements/{agreement['id']}/approve"
    # the requester may not approve it, a team lead may not, compliance may not
    own = _post(client, "lead_a", world, approve, {"reason": "ok"})
    assert own.status_code == 403 and "own request" in own.json()["message"]
    assert _post(client, "compliance", world, approve, {"reason": "ok"}).status_code == 403
    # the inbox: the manager sees it, the requesting lead does not
    inbox = client.get("/api/v1/agreements/inbox", headers=bearer(world.tokens["manager"]))
    assert [a["id"] for a in inbox.json()["items"]] == [agreement["id"]]
    lead_inbox = client.get("/api/v1/agreements/inbox", headers=bearer(world.tokens["lead_a"]))
    assert lead_inbox.json()["items"] == []
    # a collector's request without waiver (on another case: one active agreement a case)
    # is for their team lead
    other_case, _ = _case(world, engine)
    plan = _post(
        client, "col_a", world, f"/api/v1/cases/{other_case}/agreements",
        {"kind": "installments", "first_due": FIRST, "installments": 6},
    ).json()  # fmt: skip
    lead_inbox = client.get("/api/v1/agreements/inbox", headers=bearer(world.tokens["lead_a"]))
    assert [a["id"] for a in lead_inbox.json()["items"]] == [plan["id"]]
    outsider = client.get("/api/v1/agreements/inbox", headers=bearer(world.tokens["lead_b"]))
    assert outsider.json()["items"] == []
    assert _post(client, "lead_b", world, f"/api/v1/agreements/{plan['id']}/approve",
                 {"reason": "x"}).status_code == 404  # fmt: skip
    # rejection and approval are events with reasons; a decided request stays decided
    rejected = _post(client, "lead_a", world, f"/api/v1/agreements/{plan['id']}/reject",
                     {"reason": "收入证明不足"})  # fmt: skip
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    approved = _post(client, "manager", world, approve, {"reason": "客户失业，一次性结清"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "manager")
    again = _post(client, "manager", world, approve, {"reason": "again"})
    assert again.status_code == 409
    with transaction(engine) as session:
        events = dict(
            session.execute(
                select(Event.type, Event.payload).where(Event.entity_type == "agreement")
                .where(Event.type.in_(["agreement.approved", "agreement.rejected"]))
            ).all()
        )  # fmt: skip
    assert events["agreement.rejected"]["reason"] == "收入证明不足"
    assert events["agreement.approved"]["reason"] == "客户失业，一次性结清"


def test_the_creditor_level_needs_the_creditors_reference(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    case_id, _ = _case(world, engine)
    settle = {"kind": "settlement", "first_due": FIRST, "discount": "60"}
    agreement = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements", settle).json()
    assert agreement["required_level"] == "creditor"
    url = f"/api/v1/agreements/{agreement['id']}/approve"
    missing = _post(client, "manager", world, url, {"reason": "ok"})
    assert missing.status_code == 422 and "creditor" in missing.json()["message"]
    done = _post(
        client, "manager", world, url, {"reason": "ok", "creditor_reference": "ZS-2026-118"}
    )
    assert done.status_code == 200, done.text


def test_an_approved_agreement_has_a_chinese_pdf(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, _ = _case(world, engine)
    body = {"kind": "waiver", "first_due": FIRST, "installments": 2, "waive_penalty": "120.00"}
    agreement = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements", body).json()
    url = f"/api/v1/agreements/{agreement['id']}/document"
    assert client.get(url, headers=bearer(world.tokens["col_a"])).status_code == 404  # not yet
    approved = _post(client, "lead_a", world, f"/api/v1/agreements/{agreement['id']}/approve",
                     {"reason": "同意减免罚息"})  # fmt: skip
    assert approved.json()["has_document"] is True

    response = client.get(url, headers=bearer(world.tokens["col_a"]))

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    text = _pdf_text(response.content)
    # the collector's copy: the debtor's name and ID number masked (张*, 110***********1234)
    expected = ["还款协议", "测试银行", "乙方（债务人）：张*", "110***********", "罚息 ¥120.00 元",
                "¥12,910.50", "第1期", "第2期", "¥6,455.25", "减免的金额予以恢复"]  # fmt: skip
    for phrase in expected:
        assert phrase in text, phrase
    assert "张伟" not in text
    assert client.get(url, headers=bearer(world.tokens["col_b"])).status_code == 404


def test_tracking_completes_a_plan_and_settles_the_case(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    case_id, account_id = _case(world, engine, snapshot_date=TODAY - timedelta(days=30))
    body = {"kind": "waiver", "first_due": FIRST, "installments": 2, "waive_penalty": "120.00"}
    agreement = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements", body).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{agreement['id']}/approve",
          {"reason": "ok"})  # fmt: skip
    first_due = date.fromisoformat(FIRST)
    with transaction(engine) as session:
        account = session.get(Account, account_id)
        assert account is not None
        make_payment(session, account=account, amount_fen=645_525,
                     paid_at=datetime(2026, 11, 5, 2, tzinfo=UTC))  # fmt: skip
    # the daily cycle tracks every running plan (履约跟踪)
    counts = run_daily_cycle(engine, first_due, now=NOW).agreements_judged
    assert counts == {"completed": 0, "broken": 0}
    detail = client.get(f"/api/v1/agreements/{agreement['id']}",
                        headers=bearer(world.tokens["col_a"])).json()  # fmt: skip
    assert [(r["status"], r["paid"]) for r in detail["schedule"]] == [
        ("paid", "6455.25"), ("due", "0.00"),
    ]  # fmt: skip
    with transaction(engine) as session:
        account = session.get(Account, account_id)
        assert account is not None
        make_payment(session, account=account, amount_fen=645_525,
                     paid_at=datetime(2026, 12, 5, 2, tzinfo=UTC))  # fmt: skip
    done = run_daily_cycle(engine, date(2026, 12, 6), now=NOW).agreements_judged
    assert done["completed"] == 1
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        account = session.get(Account, account_id)
        assert case is not None and account is not None
        assert (case.status, case.closed_on) == ("closed", date(2026, 12, 6))
        assert (account.status, account.principal_fen, account.penalty_fen) == ("settled", 0, 0)
        assert session.scalar(select(Agreement.status)) == "completed"
    # and the next day leaves it settled: what was waived is not owed again
    again = run_daily_cycle(engine, date(2026, 12, 7), now=NOW)
    assert again.agreements_judged == {"completed": 0, "broken": 0}
    assert again.cases_reopened == 0
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None and (case.status, case.due_fen) == ("closed", 0)


def test_a_missed_plan_breaks_and_the_waiver_is_reinstated(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    case_id, account_id = _case(world, engine)
    body = {"kind": "settlement", "first_due": FIRST, "discount": "10", "break_after_days": 5}
    agreement = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements", body).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{agreement['id']}/approve",
          {"reason": "ok"})  # fmt: skip
    due = date.fromisoformat(FIRST)
    assert (
        run_daily_cycle(engine, due + timedelta(days=5), now=NOW).agreements_judged["broken"] == 0
    )
    assert (
        run_daily_cycle(engine, due + timedelta(days=6), now=NOW).agreements_judged["broken"] == 1
    )
    with transaction(engine) as session:
        event = session.scalars(select(Event).where(Event.type == "agreement.broken")).one()
        account = session.get(Account, account_id)
        assert account is not None
        balances = (account.fee_fen, account.penalty_fen, account.interest_fen)
        payments = session.scalar(select(func.count()).select_from(Payment))
    assert event.payload["reinstated"] == "1303.05"
    assert balances == (5_000, 12_000, 86_050) and payments == 0  # nothing written off


# --- one active agreement, amendments, cumulative limits, the document's PII -------------


def _refresh_tokens(engine: Engine, world: World, now: datetime) -> None:
    """Sessions issued at ``now`` (the world's tokens last 8 hours from NOW)."""
    with transaction(engine) as session:
        for name, user in world.users.items():
            world.tokens[name] = token_for(session, user=session.merge(user), now=now)


def _books_agree(engine: Engine, case_id: int) -> int:
    """The case's amount due is what its accounts owe, and every balance is the sum of its
    ledger entries; returns the amount due."""
    with transaction(engine) as session:
        due = session.scalar(select(Case.due_fen).where(Case.id == case_id))
        owed = session.scalar(
            select(
                func.sum(
                    Account.fee_fen + Account.penalty_fen + Account.interest_fen
                    + Account.principal_fen
                )
            ).where(Account.case_id == case_id)
        )  # fmt: skip
        drift = ledger.check(session)
    assert due == owed, (due, owed)
    assert drift == {"accounts": [], "cases": []}
    return int(due or 0)


def _ledger_case(world: World, engine: Engine, *, principal_fen: int) -> int:
    """A case of col_a whose one account owes ``principal_fen`` of principal, opened in the
    ledger (the case's due is that sum)."""
    with transaction(engine) as session:
        return world.case_for_a(session, due_fen=principal_fen).id


def _waive_principal(amount: str, first_due: date) -> dict[str, Any]:
    """A waiver of principal, the rest paid once; broken 5 days after the due date with the
    waiver kept (the terms the issue's collector chose)."""
    return {"kind": "waiver", "first_due": first_due.isoformat(), "installments": 1,
            "waive_principal": amount, "break_after_days": 5,
            "reinstate_on_break": False}  # fmt: skip


def test_split_waivers_are_judged_together_so_the_second_needs_a_manager(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    """The issue's attack: three waivers of 4,900.00 principal on one case, each within a
    team lead's 5,000.00, each broken with nothing paid and the waiver kept. The matrix adds
    them up: the second already needs a manager."""
    # given a case owing 30,000.00 of principal
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    assert _books_agree(engine, case_id) == 3_000_000
    path = f"/api/v1/cases/{case_id}/agreements"
    today = TODAY
    expected_due = 3_000_000
    requests: list[dict[str, Any]] = []
    for _round in range(3):
        # when the collector asks for 4,900.00 more
        body = _waive_principal("4900.00", today + timedelta(days=10))
        quoted = _post(client, "col_a", world, f"{path}/quote", body)
        requested = _post(client, "col_a", world, path, body)
        assert requested.status_code == 201, requested.text
        made = requested.json()
        requests.append(made)
        assert quoted.json()["required_level"] == made["required_level"]
        assert made["waived"]["principal"] == "4900.00"
        approve = f"/api/v1/agreements/{made['id']}/approve"
        if made["required_level"] == "manager":
            # the team lead may not approve the sum
            refused = _post(client, "lead_a", world, approve, {"reason": "ok"})
            assert refused.status_code == 403 and "manager" in refused.json()["message"]
        approver = "lead_a" if made["required_level"] == "team_lead" else "manager"
        assert _post(client, approver, world, approve, {"reason": "ok"}).status_code == 200
        # then the waiver is off the balances at once and the case's due follows
        expected_due -= 490_000
        assert _books_agree(engine, case_id) == expected_due
        # and nothing is paid: the plan breaks after 5 days, keeping its waiver
        broken_on = today + timedelta(days=16)
        judged = run_daily_cycle(engine, broken_on, now=clock.now).agreements_judged
        assert judged["broken"] == 1
        with transaction(engine) as session:
            event = session.scalars(
                select(Event).where(Event.type == "agreement.broken", Event.entity_id == made["id"])
            ).one()
        assert {k: event.payload[k] for k in ("paid", "written_off", "reinstated",
                                              "waiver_kept")} == {
            "paid": "0.00", "written_off": "0.00", "reinstated": "0.00",
            "waiver_kept": "4900.00",
        }  # fmt: skip
        assert _books_agree(engine, case_id) == expected_due
        today = broken_on
        clock.now = datetime(today.year, today.month, today.day, 2, tzinfo=UTC)
        _refresh_tokens(engine, world, clock.now)
    # the first within a team lead's limits; the second 9,800.00 > 5,000.00 and the third
    # 14,700.00 (49% of 30,000.00) are a manager's
    assert [r["required_level"] for r in requests] == ["team_lead", "manager", "manager"]
    assert [
        (r["cumulative"]["earlier"], r["cumulative"]["waived"], r["cumulative"]["share"])
        for r in requests
    ] == [("0.00", "4900.00", "16.34"), ("4900.00", "9800.00", "32.67"),
          ("9800.00", "14700.00", "49.00")]  # fmt: skip
    assert {r["cumulative"]["window_days"] for r in requests} == {None}  # the case's life
    with transaction(engine) as session:
        waived = session.scalar(
            select(func.sum(LedgerEntry.principal_fen)).where(LedgerEntry.kind == "waiver")
        )
    assert waived == -1_470_000 and expected_due == 1_530_000


def test_the_window_lets_old_waivers_age_out(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    # given a matrix counting waivers of the last 30 days and one waiver of 4,900.00 kept
    # by a broken plan
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    path = f"/api/v1/cases/{case_id}/agreements"
    first = _post(client, "col_a", world, path, _waive_principal("4900.00", FIRST_DAY)).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{first['id']}/approve", {"reason": "ok"})
    run_daily_cycle(engine, FIRST_DAY + timedelta(days=6), now=NOW)
    matrix = replace(default_matrix(), window_days=30)
    body = AgreementIn.model_validate(_waive_principal("4900.00", TODAY + timedelta(days=40)))
    with transaction(engine) as session:
        lead = Principal(
            user_id=world.users["lead_a"].id, username="lead_a", role="team_lead",
            team_id=world.team_a.id, agency_id=None,
        )  # fmt: skip
        within = service.quote_agreement(session, lead, case_id, body, now=NOW, matrix=matrix)
        later = NOW + timedelta(days=31)
        body_later = body.model_copy(update={"first_due": later.date() + timedelta(days=5)})
        aged = service.quote_agreement(session, lead, case_id, body_later, now=later, matrix=matrix)
    # then within 30 days of the first approval it still counts; after, it has aged out
    assert (within.required_level, within.cumulative.earlier) == ("manager", "4900.00")
    assert within.cumulative.window_days == 30
    assert (aged.required_level, aged.cumulative.earlier) == ("team_lead", "0.00")


def test_approval_judges_the_level_again_on_what_the_case_owes_then(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    # given a request for a team lead: 4,900.00 of 30,000.00 (16.34%)
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    made = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements",
                 _waive_principal("4900.00", FIRST_DAY)).json()  # fmt: skip
    assert (made["required_level"], made["cumulative"]["share"]) == ("team_lead", "16.34")
    # when 10,000.00 is paid the next day, before it is decided, the same waiver is 24.5%
    clock.now = NOW + timedelta(days=1)
    _refresh_tokens(engine, world, clock.now)
    posted = _post(client, "manager", world, "/api/v1/payments", {
        "case_id": case_id, "amount": "10000.00", "paid_at": clock.now.isoformat(),
        "reference": "PAY-BEFORE-APPROVAL", "source": "manual"})  # fmt: skip
    assert posted.status_code == 201, posted.text
    # then the team lead may not approve it any more, a manager may
    url = f"/api/v1/agreements/{made['id']}/approve"
    refused = _post(client, "lead_a", world, url, {"reason": "ok"})
    assert refused.status_code == 403 and "now needs manager" in refused.json()["message"]
    approved = _post(client, "manager", world, url, {"reason": "ok"})
    assert approved.status_code == 200 and approved.json()["required_level"] == "manager"
    assert _books_agree(engine, case_id) == 3_000_000 - 1_000_000 - 490_000


def test_a_case_has_one_active_agreement_and_a_running_plan_is_amended(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    path = f"/api/v1/cases/{case_id}/agreements"
    plan = {"kind": "installments", "first_due": FIRST, "installments": 3}
    # a request waits: another is refused, naming it
    first = _post(client, "col_a", world, path, {**plan, "waive_principal": "1000"}).json()
    second = _post(client, "col_a", world, path, plan)
    assert second.status_code == 409
    assert f"agreement {first['id']} waiting for approval" in second.json()["message"]
    assert _post(client, "col_a", world, f"{path}/quote", plan).status_code == 409
    pending_amend = _post(client, "col_a", world, path, {**plan, "amends": first["id"]})
    assert pending_amend.status_code == 409
    # withdrawing: not by someone who neither asked nor approves; by its requester
    url = f"/api/v1/agreements/{first['id']}/withdraw"
    assert _post(client, "compliance", world, url, {"reason": "x"}).status_code == 403
    assert _post(client, "col_b", world, url, {"reason": "x"}).status_code == 404
    assert _post(client, "col_a", world, url, {"reason": ""}).status_code == 422
    withdrawn = _post(client, "col_a", world, url, {"reason": "客户要求重新商议"})
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert _post(client, "col_a", world, url, {"reason": "again"}).status_code == 409
    # the case is free: a plan waiving 1,000.00 is requested and approved
    running = _post(client, "col_a", world, path, {**plan, "waive_principal": "1000"}).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{running['id']}/approve",
          {"reason": "ok"})  # fmt: skip
    assert _books_agree(engine, case_id) == 2_900_000
    # a new plan must amend it
    plain = _post(client, "col_a", world, path, plan)
    assert plain.status_code == 409 and f"amends: {running['id']}" in plain.json()["message"]
    stale = _post(client, "col_a", world, path, {**plan, "amends": first["id"]})
    assert stale.status_code == 409 and "is withdrawn" in stale.json()["message"]
    with transaction(engine) as session:
        elsewhere = world.case_for_b(session).id
    theirs = _post(client, "lead_b", world, f"/api/v1/cases/{elsewhere}/agreements",
                   {**plan, "amends": running["id"]})  # fmt: skip
    assert theirs.status_code == 422 and theirs.json()["field"] == "amends"
    # an amendment is quoted on what is owed now + what the running plan still waives
    amend = {**plan, "amends": running["id"], "waive_principal": "2000"}
    quoted = _post(client, "col_a", world, f"{path}/quote", amend).json()
    assert quoted["owed"]["total"] == "30000.00"
    assert quoted["reinstated_on_approval"] == "1000.00" and quoted["amends"] == running["id"]
    # and the amended plan's own waiver does not count twice: 2,000 of 30,000
    assert (quoted["cumulative"]["earlier"], quoted["cumulative"]["waived"]) == (
        "0.00", "2000.00",
    )  # fmt: skip
    # rejecting an amendment leaves the plan running
    rejected = _post(client, "col_a", world, path, amend).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{rejected['id']}/reject",
          {"reason": "不同意"})  # fmt: skip
    detail = client.get(f"/api/v1/agreements/{running['id']}",
                        headers=bearer(world.tokens["col_a"])).json()  # fmt: skip
    assert detail["status"] == "approved" and _books_agree(engine, case_id) == 2_900_000
    # approving one supersedes the plan: its waiver back, the new one off, one transaction
    amendment = _post(client, "col_a", world, path, amend).json()
    assert amendment["required_level"] == "team_lead"
    done = _post(client, "lead_a", world, f"/api/v1/agreements/{amendment['id']}/approve",
                 {"reason": "客户收入下降，调整方案"})  # fmt: skip
    assert done.status_code == 200, done.text
    old = client.get(f"/api/v1/agreements/{running['id']}",
                     headers=bearer(world.tokens["col_a"])).json()  # fmt: skip
    assert (old["status"], old["superseded_by"]) == ("superseded", amendment["id"])
    assert old["closed_on"] == TODAY.isoformat()
    assert _books_agree(engine, case_id) == 2_800_000
    with transaction(engine) as session:
        entries = [
            (e.kind, e.source_id, e.principal_fen)
            for e in session.scalars(
                select(LedgerEntry).where(LedgerEntry.source == "agreement")
                .order_by(LedgerEntry.id)
            )
        ]  # fmt: skip
        superseded = session.scalars(
            select(Event).where(Event.type == "agreement.superseded")
        ).one()
    assert entries == [
        ("waiver", running["id"], -100_000),
        ("reinstatement", running["id"], 100_000),
        ("waiver", amendment["id"], -200_000),
    ]
    assert superseded.entity_id == running["id"]
    assert superseded.payload["by"] == amendment["id"]
    assert superseded.payload["reinstated"] == "1000.00"
    # the daily cycle tracks only the amendment now
    with transaction(engine) as session:
        statuses = dict(session.execute(select(Agreement.id, Agreement.status)).all())
    assert statuses[running["id"]] == "superseded" and statuses[amendment["id"]] == "approved"


def test_an_amendment_of_a_plan_that_ended_meanwhile_is_refused(
    engine: Engine, client: TestClient
) -> None:
    # given a running plan that keeps its waiver on a break, and an amendment requested
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    path = f"/api/v1/cases/{case_id}/agreements"
    running = _post(client, "col_a", world, path, _waive_principal("1000", FIRST_DAY)).json()
    _post(client, "lead_a", world, f"/api/v1/agreements/{running['id']}/approve",
          {"reason": "ok"})  # fmt: skip
    amend = {**_waive_principal("500", FIRST_DAY), "amends": running["id"]}
    amendment = _post(client, "col_a", world, path, amend).json()
    # when the plan breaks before the amendment is decided
    run_daily_cycle(engine, FIRST_DAY + timedelta(days=6), now=NOW)
    # then approving it is refused (its quote assumed the old waiver would come back)
    refused = _post(client, "lead_a", world, f"/api/v1/agreements/{amendment['id']}/approve",
                    {"reason": "ok"})  # fmt: skip
    assert refused.status_code == 409 and "is broken" in refused.json()["message"]
    rejected = _post(client, "lead_a", world, f"/api/v1/agreements/{amendment['id']}/reject",
                     {"reason": "原协议已违约"})  # fmt: skip
    assert rejected.status_code == 200
    assert _books_agree(engine, case_id) == 2_900_000


def test_the_document_is_masked_and_the_full_copy_is_an_audited_reveal(
    engine: Engine, client: TestClient
) -> None:
    # given an approved agreement of 张伟 on a case of team A (placed with agency X)
    world = build_world(engine)
    case_id = _ledger_case(world, engine, principal_fen=3_000_000)
    made = _post(client, "col_a", world, f"/api/v1/cases/{case_id}/agreements",
                 _waive_principal("1000", FIRST_DAY)).json()  # fmt: skip
    _post(client, "lead_a", world, f"/api/v1/agreements/{made['id']}/approve", {"reason": "ok"})
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        debtor = session.get(Debtor, case.debtor_id)
        assert debtor is not None
        name, id_number = debtor.name, debtor.id_number
    url = f"/api/v1/agreements/{made['id']}/document"

    def get(user: str, **params: str) -> Any:
        return client.get(url, params=params, headers=bearer(world.tokens[user]))

    # everyone who may read the case gets the masked copy, approvers included
    for user in ("col_a", "agency_x", "lead_a", "manager", "auditor"):
        response = get(user)
        assert response.status_code == 200, (user, response.text)
        text = _pdf_text(response.content)
        assert "乙方（债务人）：张*" in text and mask_id_number(id_number) in text, user
        assert name not in text and id_number not in text, user
    masked = _pdf_text(get("col_a").content)
    # a collector or an agency user asking for the full copy is refused, and told why
    for user in ("col_a", "agency_x"):
        refused = get(user, reveal="true", reason="打印签署")
        assert refused.status_code == 403
        assert "pii.reveal" in refused.json()["message"]
        assert "agreement document" in refused.json()["message"]
    # the full copy needs a reason
    assert get("lead_a", reveal="true").status_code == 422
    full = get("lead_a", reveal="true", reason="打印给客户签署")
    assert full.status_code == 200 and full.headers["cache-control"] == "no-store"
    full_text = _pdf_text(full.content)
    assert f"乙方（债务人）：{name}" in full_text and id_number in full_text
    # the same document apart from the masking
    assert (
        full_text.replace(name, mask_name(name)).replace(id_number, mask_id_number(id_number))
        == masked
    )
    with transaction(engine) as session:
        revealed = session.scalars(select(Event).where(Event.type == "pii.revealed")).all()
    assert [(e.actor, e.case_id, e.payload) for e in revealed] == [
        ("lead_a", case_id, {"field": "agreement_document", "agreement_id": made["id"],
                             "reason": "打印给客户签署"}),
    ]  # fmt: skip
    # another team's collector does not learn it exists
    assert get("col_b", reveal="true", reason="x").status_code in (403, 404)
    assert get("col_b").status_code == 404
