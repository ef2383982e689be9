"""The gate through the API on real stores: history from the store counts at once, holds
suspend contact, logged contacts are judged, every decision is an event."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from cuishou.store.db import transaction
from cuishou.store.tables import Account, Alert, Case, ContactPoint, Creditor, Debtor, Event
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW  # 2026-11-01 10:00 in Shanghai
from tests.web.factories import Clock, bearer, debtor_mobile, make_contact_point, token_for
from tests.web.world import World, build_world


@pytest.fixture
def clock() -> Clock:
    return Clock(now=NOW)


@pytest.fixture
def client(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=clock))) as test_client:
        yield test_client


def setup(engine: Engine) -> tuple[World, int, int, int]:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        third = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == case.debtor_id, ContactPoint.owner == "third_party"
            )
        ).one()
        return world, case.id, debtor_mobile(session, case).id, third.id


def ask(client: TestClient, token: str, **body: Any) -> Any:
    return client.post("/api/v1/compliance/check", json=body, headers=bearer(token))


def log(client: TestClient, token: str, case_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/cases/{case_id}/contacts", json=body, headers=bearer(token))


def test_allowed_in_hours_denied_after_with_the_next_allowed_time(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    token = world.tokens["col_a"]
    ok = ask(client, token, case_id=case_id, contact_point_id=mobile, channel="call")
    assert ok.status_code == 200, ok.text
    assert ok.json()["allowed"] is True and ok.json()["rules"] == []
    late = ask(
        client, token, case_id=case_id, contact_point_id=mobile, channel="call",
        at="2026-11-01T21:30:00+08:00",
    )  # fmt: skip
    body = late.json()
    assert body["allowed"] is False
    assert [r["id"] for r in body["rules"]] == ["CN-01"]
    assert body["rules"][0]["reason"] and body["rules"][0]["reason_en"]
    assert datetime.fromisoformat(body["next_allowed_at"]) == datetime.fromisoformat(
        "2026-11-02T08:00:00+08:00"
    )
    # and every decision is an event an auditor can read
    with transaction(engine) as session:
        events = session.scalars(
            select(Event).where(Event.type == "compliance.checked").order_by(Event.id)
        ).all()
    assert [e.payload["allowed"] for e in events] == [True, False]
    assert events[1].payload["rules"] == ["CN-01"] and events[1].actor == "col_a"


def test_contacts_logged_by_anyone_count_at_once_across_collectors_and_agencies(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    # given the same debtor's case at another creditor, worked by agency Y
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        other_creditor = Creditor(code="OTHER", name="其他银行", created_at=NOW)
        session.add(other_creditor)
        session.flush()
        other = Case(
            creditor_id=other_creditor.id, debtor_id=case.debtor_id, status="open",
            opened_on=NOW.date(), agency_id=world.agency_y.id, created_at=NOW, updated_at=NOW,
        )  # fmt: skip
        session.add(other)
        session.flush()
        other_id = other.id
    # when collector A talks to the debtor twice and agency Y once, earlier today
    for token, case, hour in (
        (world.tokens["col_a"], case_id, 9),
        (world.tokens["agency_y"], other_id, 9),
        (world.tokens["col_a"], case_id, 9),
    ):
        logged = log(
            client, token, case, contact_point_id=mobile, channel="call",
            outcome="negotiating", at=f"2026-11-01T0{hour}:{10 + hour}:00+08:00",
        )  # fmt: skip
        assert logged.status_code == 201, logged.text
        assert logged.json()["compliance"]["allowed"] is True
    # then a fourth connected call today is refused for everyone
    refused = ask(client, world.tokens["lead_a"], case_id=case_id, contact_point_id=mobile,
                  channel="call")  # fmt: skip
    assert [r["id"] for r in refused.json()["rules"]] == ["CN-04"]
    assert datetime.fromisoformat(refused.json()["next_allowed_at"]) == datetime.fromisoformat(
        "2026-11-02T08:00:00+08:00"
    )


def test_a_contact_logged_out_of_hours_is_kept_and_flagged(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    logged = log(
        client, world.tokens["col_a"], case_id, contact_point_id=mobile, channel="call",
        outcome="no_answer", at="2026-11-01T07:10:00+08:00",
    )  # fmt: skip
    assert logged.status_code == 201
    body = logged.json()
    assert body["compliance"] == {"allowed": False, "rules": ["CN-01"]}
    assert body["alerts_raised"] == ["compliance_violation"]
    with transaction(engine) as session:
        alert = session.scalars(select(Alert).where(Alert.kind == "compliance_violation")).one()
        assert alert.case_id == case_id and alert.details["rules"] == ["CN-01"]
        violation = session.scalars(select(Event).where(Event.type == "compliance.violation")).one()
        assert violation.entity_id == body["contact"]["id"]


def test_a_dispute_suspends_contact_until_a_team_lead_lifts_it(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    opened = client.post(
        f"/api/v1/cases/{case_id}/holds",
        json={"kind": "dispute", "reason": "债务人称该笔借款已结清"},
        headers=bearer(world.tokens["col_a"]),
    )
    assert opened.status_code == 201, opened.text
    hold_id = opened.json()["id"]
    denied = ask(client, world.tokens["col_a"], case_id=case_id, contact_point_id=mobile,
                 channel="sms")  # fmt: skip
    assert [r["id"] for r in denied.json()["rules"]] == ["CN-X-SUSPEND"]
    assert denied.json()["next_allowed_at"] is None
    # a collector may record a dispute but not lift it
    lift = f"/api/v1/cases/{case_id}/holds/{hold_id}/lift"
    assert client.post(lift, headers=bearer(world.tokens["col_a"])).status_code == 403
    # a team lead of another team does not even see the case
    assert client.post(lift, headers=bearer(world.tokens["lead_b"])).status_code == 404
    lifted = client.post(lift, headers=bearer(world.tokens["lead_a"]))
    assert lifted.status_code == 200 and lifted.json()["lifted_by"] == "lead_a"
    assert client.post(lift, headers=bearer(world.tokens["lead_a"])).status_code == 409
    again = ask(client, world.tokens["col_a"], case_id=case_id, contact_point_id=mobile,
                channel="sms")  # fmt: skip
    assert again.json()["allowed"] is True
    holds = client.get(f"/api/v1/cases/{case_id}/holds", headers=bearer(world.tokens["col_a"]))
    assert [h["kind"] for h in holds.json()] == ["dispute"]


def test_an_opt_out_stops_only_its_channel(engine: Engine, client: TestClient) -> None:
    world, case_id, mobile, _ = setup(engine)
    token = world.tokens["col_a"]
    bad = client.post(f"/api/v1/cases/{case_id}/holds", json={"kind": "opt_out"},
                      headers=bearer(token))  # fmt: skip
    assert bad.status_code == 422 and "channel" in bad.json()["message"]
    client.post(f"/api/v1/cases/{case_id}/holds", json={"kind": "opt_out", "channel": "sms"},
                headers=bearer(token))  # fmt: skip
    # under the default cn pack: no more SMS, whatever the hour; calls and WeChat go on
    sms = ask(client, token, case_id=case_id, contact_point_id=mobile, channel="sms")
    assert sms.json()["pack"] == "cn" and sms.json()["allowed"] is False
    assert [r["id"] for r in sms.json()["rules"]] == ["CN-X-OPTOUT"]
    assert sms.json()["next_allowed_at"] is None
    for channel in ("call", "wechat"):
        other = ask(client, token, case_id=case_id, contact_point_id=mobile, channel=channel)
        assert other.json()["allowed"] is True, channel
    # an SMS sent all the same is recorded — and judged a violation
    sent = log(client, token, case_id, contact_point_id=mobile, channel="sms",
               outcome="no_answer")  # fmt: skip
    assert sent.status_code == 201, sent.text
    assert sent.json()["compliance"] == {"allowed": False, "rules": ["CN-X-OPTOUT"]}
    # and under the US pack too
    with transaction(engine) as session:
        session.execute(update(Creditor).values(rule_pack="us-regf"))
        case = session.get(Case, case_id)
        assert case is not None
        session.execute(
            update(Debtor).where(Debtor.id == case.debtor_id).values(timezone="America/New_York")
        )
    at = "2026-11-01T10:00:00-05:00"
    sms = ask(client, token, case_id=case_id, contact_point_id=mobile, channel="sms", at=at)
    assert [r["id"] for r in sms.json()["rules"]] == ["US-04"]
    assert sms.json()["pack"] == "us-regf"
    call = ask(client, token, case_id=case_id, contact_point_id=mobile, channel="call", at=at)
    assert call.json()["allowed"] is True


def test_third_parties_only_once_the_debtor_is_unreachable(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, spouse = setup(engine)
    token = world.tokens["col_a"]
    first = ask(client, token, case_id=case_id, contact_point_id=spouse, channel="call")
    assert [r["id"] for r in first.json()["rules"]] == ["CN-08"]
    logged = log(client, token, case_id, contact_point_id=mobile, channel="call",
                 outcome="invalid_number", at="2026-11-01T09:00:00+08:00")  # fmt: skip
    assert logged.status_code == 201
    # the debtor's only number is now invalid (空号): the named spouse may be called
    assert ask(client, token, case_id=case_id, contact_point_id=spouse, channel="call").json()[
        "allowed"
    ]


def test_scope_roles_and_bad_input(engine: Engine, client: TestClient) -> None:
    world, case_id, mobile, _ = setup(engine)
    body = {"case_id": case_id, "contact_point_id": mobile, "channel": "call"}
    # out of scope looks like nothing there; auditors may not ask; compliance may
    assert ask(client, world.tokens["col_b"], **body).status_code == 404
    assert ask(client, world.tokens["auditor"], **body).status_code == 403
    assert ask(client, world.tokens["compliance"], **body).status_code == 200
    # a contact point of another debtor, a naive time, an unknown channel
    with transaction(engine) as session:
        other = world.case_for_b(session)
        foreign = debtor_mobile(session, other).id
    wrong = ask(client, world.tokens["col_a"], **{**body, "contact_point_id": foreign})
    assert wrong.status_code == 422 and "does not belong" in wrong.json()["message"]
    naive = ask(client, world.tokens["col_a"], **body, at="2026-11-01T10:00:00")
    assert naive.status_code == 422
    ancient = ask(client, world.tokens["col_a"], **body, at="0001-01-01T00:00:00Z")
    assert ancient.status_code == 422 and "plausible" in ancient.json()["message"]
    assert ask(client, world.tokens["col_a"], **{**body, "channel": "fax"}).status_code == 422


def test_an_unknown_debtor_zone_is_an_error_never_a_silent_allow(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        session.execute(
            update(Debtor).where(Debtor.id == case.debtor_id).values(timezone="Mars/Olympus")
        )
    response = ask(client, world.tokens["col_a"], case_id=case_id, contact_point_id=mobile,
                   channel="call")  # fmt: skip
    assert response.status_code == 422
    assert "Mars/Olympus" in response.json()["message"]


def test_an_unknown_rule_pack_on_a_creditor_is_a_clear_error(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    with transaction(engine) as session:
        session.execute(update(Creditor).values(rule_pack="xx"))
    response = ask(client, world.tokens["col_a"], case_id=case_id, contact_point_id=mobile,
                   channel="call")  # fmt: skip
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_rule_pack"


def test_case_file_shows_the_interest_cap_and_the_limitation_period(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    with transaction(engine) as session:
        session.execute(
            update(Account)
            .where(Account.case_id == case_id)
            .values(
                interest_fen=100_000,
                annual_rate=Decimal("0.24"),
                contract_date=date(2025, 6, 1),
                overdue_since=date(2026, 9, 1),
            )
        )
    token = world.tokens["col_a"]
    # a bank (the default cap, none) may demand its 24% interest in full
    licensed = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).json()
    account = licensed["accounts"][0]
    assert account["above_interest_cap"] is False and account["demandable_interest"] == "1000.00"
    assert account["interest_cap_rate"] is None
    # a private lender: above 4 × LPR (12%), half of it may be demanded (CN-21)
    with transaction(engine) as session:
        session.execute(update(Creditor).values(interest_cap="private_lending_4x_lpr"))
    before = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).json()["accounts"][0]
    assert before["above_interest_cap"] is True and before["demandable_interest"] == "500.00"
    assert before["interest_cap_rate"] == "12.00"
    assert before["limitation_expires_on"] == "2029-09-01"
    # a conversation with the debtor is a demand: the three years start again
    logged = log(client, token, case_id, contact_point_id=mobile, channel="call",
                 outcome="negotiating", at="2026-11-01T09:30:00+08:00")  # fmt: skip
    assert logged.status_code == 201
    after = client.get(f"/api/v1/cases/{case_id}", headers=bearer(token)).json()["accounts"][0]
    assert after["limitation_expires_on"] == "2029-11-01"


def test_an_override_sets_aside_an_overridable_rule_for_its_window_only(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    world, case_id, mobile, spouse = setup(engine)
    late = "2026-11-01T21:30:00+08:00"
    body = {"case_id": case_id, "contact_point_id": mobile, "channel": "call"}
    override = {**body, "at": late, "minutes": 30, "reason": "债务人要求晚上9点半下班后回电"}
    # a collector may not approve exceptions; a team lead may, with a reason
    assert client.post("/api/v1/compliance/overrides", json=override,
                       headers=bearer(world.tokens["col_a"])).status_code == 403  # fmt: skip
    approved = client.post("/api/v1/compliance/overrides", json=override,
                           headers=bearer(world.tokens["lead_a"]))  # fmt: skip
    assert approved.status_code == 201, approved.text
    assert approved.json()["rules"] == ["CN-01"]
    checked = ask(client, world.tokens["col_a"], **body, at="2026-11-01T21:45:00+08:00")
    assert checked.json()["allowed"] is True and checked.json()["overridden"] == ["CN-01"]
    # outside the window, or on another channel, the rule stands
    after = ask(client, world.tokens["col_a"], **body, at="2026-11-01T22:05:00+08:00")
    assert after.json()["allowed"] is False
    sms = ask(client, world.tokens["col_a"], **{**body, "channel": "sms"}, at=late)
    assert sms.json()["allowed"] is False
    # a call made inside the window and logged afterwards is not a violation
    clock.now = datetime.fromisoformat("2026-11-01T22:00:00+08:00")
    with transaction(engine) as session:
        fresh = token_for(session, user=world.users["col_a"], now=clock.now)
    logged = log(client, fresh, case_id, contact_point_id=mobile,
                 channel="call", outcome="negotiating", at="2026-11-01T21:40:00+08:00")  # fmt: skip
    assert logged.status_code == 201, logged.text
    assert logged.json()["compliance"]["allowed"] is False  # the rule did apply …
    assert logged.json()["alerts_raised"] == []  # … but it was set aside: no violation
    # third-party conditions cannot be overridden, nor can an allowed contact
    clock.now = NOW
    refused = client.post(
        "/api/v1/compliance/overrides",
        json={**body, "contact_point_id": spouse, "at": "2026-11-01T10:00:00+08:00",
              "reason": "配偶主动来电"},
        headers=bearer(world.tokens["lead_a"]),
    )  # fmt: skip
    assert refused.status_code == 409 and "CN-08" in refused.json()["message"]
    nothing = client.post(
        "/api/v1/compliance/overrides",
        json={**body, "at": "2026-11-01T10:00:00+08:00", "reason": "no reason needed"},
        headers=bearer(world.tokens["lead_a"]),
    )
    assert nothing.status_code == 409 and "nothing to override" in nothing.json()["message"]


def test_the_compliance_report_counts_blocks_violations_overrides_and_exports_csv(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, spouse = setup(engine)
    body = {"case_id": case_id, "contact_point_id": mobile, "channel": "call"}
    ask(client, world.tokens["col_a"], **body)  # allowed
    ask(client, world.tokens["col_a"], **body, at="2026-11-01T22:30:00+08:00")  # CN-01
    ask(client, world.tokens["agency_x"], **{**body, "contact_point_id": spouse})  # CN-08
    log(client, world.tokens["agency_x"], case_id, contact_point_id=mobile, channel="call",
        outcome="no_answer", at="2026-11-01T07:30:00+08:00")  # fmt: skip
    client.post("/api/v1/compliance/overrides",
                json={**body, "at": "2026-11-01T21:10:00+08:00", "reason": "约定晚间回电"},
                headers=bearer(world.tokens["lead_a"]))  # fmt: skip
    url = "/api/v1/compliance/report?date_from=2026-11-01&date_to=2026-11-01"
    assert client.get(url, headers=bearer(world.tokens["col_a"])).status_code == 403
    report = client.get(url, headers=bearer(world.tokens["compliance"]))
    assert report.status_code == 200, report.text
    got = report.json()
    day = got["days"][0]
    assert (day["day"], day["checks"], day["blocked"], day["violations"], day["overrides"]) == (
        "2026-11-01",
        3,
        2,
        1,
        1,
    )
    assert {c["key"]: c["count"] for c in got["blocked_by_rule"]} == {"CN-01": 1, "CN-08": 1}
    assert got["violations_by_collector"] == [
        {"collector": "agency_x", "agency": "AGX", "key": "CN-01", "count": 1}
    ]
    assert got["overrides"][0]["approved_by"] == "lead_a"
    exported = client.get(url + "&format=csv", headers=bearer(world.tokens["auditor"]))
    assert exported.headers["content-type"].startswith("text/csv")
    assert "attachment" in exported.headers["content-disposition"]
    lines = exported.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "section,day,collector,agency,key,count"
    assert "violations_by_collector,,agency_x,AGX,CN-01,1" in lines
    bad = client.get("/api/v1/compliance/report?date_from=2026-11-02&date_to=2026-11-01",
                     headers=bearer(world.tokens["compliance"]))  # fmt: skip
    assert bad.status_code == 422
    far = client.get("/api/v1/compliance/report?date_to=9999-12-31",
                     headers=bearer(world.tokens["compliance"]))  # fmt: skip
    assert far.status_code == 422 and "plausible" in far.json()["message"]


def test_hours_hold_in_every_zone_of_the_debtors_numbers(
    engine: Engine, client: TestClient
) -> None:
    # a US debtor whose home is New York but whose mobile has a Los Angeles area code
    world, case_id, mobile, _ = setup(engine)
    with transaction(engine) as session:
        session.execute(update(Creditor).values(rule_pack="us-regf"))
        case = session.get(Case, case_id)
        assert case is not None
        session.execute(
            update(Debtor).where(Debtor.id == case.debtor_id).values(timezone="America/New_York")
        )
        session.execute(
            update(ContactPoint)
            .where(ContactPoint.id == mobile)
            .values(timezone="America/Los_Angeles")
        )
    body = {"case_id": case_id, "contact_point_id": mobile, "channel": "call"}
    early = ask(client, world.tokens["col_a"], **body, at="2026-11-02T08:30:00-05:00")
    assert [r["id"] for r in early.json()["rules"]] == ["US-01"]  # 05:30 in Los Angeles
    assert datetime.fromisoformat(early.json()["next_allowed_at"]) == datetime.fromisoformat(
        "2026-11-02T11:00:00-05:00"
    )
    later = ask(client, world.tokens["col_a"], **body, at="2026-11-02T11:00:00-05:00")
    assert later.json()["allowed"] is True


def test_an_override_for_a_visit_is_judged_for_the_collectors_who_go(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, _, _ = setup(engine)
    with transaction(engine) as session:
        debtor_id = session.scalars(select(Case.debtor_id).where(Case.id == case_id)).one()
        home = make_contact_point(
            session, debtor_id=debtor_id, kind="address", value="广东省深圳市南山区科技园路1号"
        ).id
    body = {"case_id": case_id, "contact_point_id": home, "channel": "visit",
            "at": "2026-11-02T20:30:00+08:00", "minutes": 60,
            "reason": "债务人约定下班后面谈"}  # fmt: skip
    # two collectors going after visiting hours: only the hour is set aside (CN-01)
    approved = client.post("/api/v1/compliance/overrides", json={**body, "collectors": 2},
                           headers=bearer(world.tokens["lead_a"]))  # fmt: skip
    assert approved.status_code == 201, approved.text
    assert approved.json()["rules"] == ["CN-01"]
    # a visit override that does not say how many go is refused, not judged as one person
    missing = client.post("/api/v1/compliance/overrides", json=body,
                          headers=bearer(world.tokens["lead_a"]))  # fmt: skip
    assert missing.status_code == 422 and "collectors" in missing.text
