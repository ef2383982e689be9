"""Repayment agreements (还款协议) through the API on both stores: quote, request, the
approval matrix, nobody approves their own request, the PDF, tracking to settlement."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import Engine, func, select, update

from cuishou.engine.runner import run_daily_cycle
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Agreement, Case, Creditor, Event, Payment
from tests.factories import NOW, make_payment
from tests.web.factories import bearer
from tests.web.world import World, build_world

TODAY = NOW.date()
FIRST = (TODAY + timedelta(days=10)).isoformat()


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
    # a collector's request without waiver is for their team lead
    plan = _post(
        client, "col_a", world, path,
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
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    expected = ["还款协议", "测试银行", "张伟", "110***********", "罚息 ¥120.00 元",
                "¥12,910.50", "第1期", "第2期", "¥6,455.25", "减免的金额予以恢复"]  # fmt: skip
    for phrase in expected:
        assert phrase in text, phrase
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
