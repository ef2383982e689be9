"""The repair queue (失联修复队列) and repair-vendor files, on both stores: a case enters the
queue when the daily scoring gives it the shared ``unreachable`` label; the request file is
masked; the vendor's results come back as new points, bad rows quarantined with reasons."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select, update

from cuishou.auth.passwords import hash_password
from cuishou.kit.errors import UnreadableFile
from cuishou.scoring.service import score_open_cases
from cuishou.skiptrace.service import export_requests, import_points
from cuishou.store.db import transaction
from cuishou.store.tables import ContactPoint, Debtor, Event, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW
from tests.web.factories import Clock, bearer, debtor_mobile
from tests.web.pages import HTML, PASSWORD, login
from tests.web.world import World, build_world

AS_OF = date(2026, 11, 1)


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock(now=NOW)))) as test_client:
        yield test_client


def setup(engine: Engine) -> tuple[World, int, int, str]:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        debtor = session.get(Debtor, case.debtor_id)
        assert debtor is not None
        return world, case.id, debtor_mobile(session, case).id, debtor.id_number


def queue(client: TestClient, token: str) -> list[dict[str, Any]]:
    response = client.get("/api/v1/skiptrace/queue", headers=bearer(token))
    assert response.status_code == 200, response.text
    return list(response.json())


def make_unreachable(engine: Engine, client: TestClient, world: World, mobile: int) -> None:
    """The debtor's only number reviewed invalid, then the daily scoring labels."""
    reviewed = client.post(
        f"/api/v1/contact-points/{mobile}/verify",
        json={"status": "invalid", "reason": "空号"},
        headers=bearer(world.tokens["col_a"]),
    )
    assert reviewed.status_code == 200, reviewed.text
    score_open_cases(engine, AS_OF, now=NOW)


def test_a_case_enters_the_queue_when_the_daily_scoring_labels_it_unreachable(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    score_open_cases(engine, AS_OF, now=NOW)
    assert queue(client, world.tokens["col_a"]) == []  # a working number: not 失联

    make_unreachable(engine, client, world, mobile)

    [item] = queue(client, world.tokens["col_a"])
    assert item["case_id"] == case_id and item["debtor_name"] == "张*"
    assert item["facts"]["debtor_points_valid"] == 0 and item["since"] == "2026-11-01"
    assert item["requested_at"] is None
    assert queue(client, world.tokens["col_b"]) == []  # another collector's scope


def test_the_request_file_is_masked_and_each_case_sent_is_an_event(
    engine: Engine, client: TestClient, tmp_path: Path
) -> None:
    world, case_id, mobile, id_number = setup(engine)
    make_unreachable(engine, client, world, mobile)
    target = tmp_path / "request.csv"

    with transaction(engine) as session:
        result = export_requests(
            session, target, vendor="ACME", as_of=AS_OF, actor="lead_a", now=NOW
        )

    assert result.cases == 1
    text = target.read_bytes().decode("utf-8-sig")
    [row] = list(csv.DictReader(text.splitlines()))
    assert row == {
        "case_id": str(case_id), "debtor_name": "张*",
        "id_number": f"{id_number[:3]}{'*' * 11}{id_number[-4:]}",
        "province": "北京市", "city": "北京市", "requested_on": "2026-11-01",
    }  # fmt: skip
    assert id_number not in text
    with transaction(engine) as session:
        event = session.scalars(select(Event).where(Event.type == "skiptrace.requested")).one()
    assert event.case_id == case_id and event.payload["vendor"] == "ACME"
    assert queue(client, world.tokens["col_a"])[0]["requested_at"] is not None


def test_vendor_results_add_new_points_and_quarantine_bad_rows_with_reasons(
    engine: Engine, tmp_path: Path
) -> None:
    _world, case_id, _mobile, _ = setup(engine)
    results = tmp_path / "results.csv"
    results.write_text(
        "案件号,类型,联系方式,归属,联系人姓名,关系\n"
        f"{case_id},mobile,+86 136 5555 6666,本人,,\n"  # row 2: good
        f"{case_id},mobile,12345,本人,,\n"  # row 3: not a mobile
        "999999,mobile,13677778888,本人,,\n"  # row 4: no such case
        f"{case_id},mobile,13812341234,本人,,\n"  # row 5: already on file
        f"{case_id},phone,010-66667777,第三方,,同事\n"  # row 6: third party unnamed
        f"{case_id},address,北京市朝阳区建国路88号,第三方,王芳,同事\n"  # row 7: good
        "abc,mobile,13677778888,本人,,\n",  # row 8: bad case id
        encoding="gb18030",
    )

    result = import_points(engine, results, source="repair_vendor", actor="cli", now=NOW)

    assert (result.rows, result.created, result.quarantined) == (7, 2, 5)
    assert result.encoding == "gb18030"
    assert result.quarantine_file is not None
    text = Path(result.quarantine_file).read_bytes().decode("utf-8-sig")
    quarantined = {int(r["row"]): r for r in csv.DictReader(text.splitlines())}
    assert sorted(quarantined) == [3, 4, 5, 6, 8]
    assert "11-digit" in quarantined[3]["reason"] and "no case 999999" in quarantined[4]["reason"]
    assert "already" in quarantined[5]["reason"] and "name" in quarantined[6]["reason"]
    assert "case id" in quarantined[8]["reason"] and quarantined[8]["reason_zh"]
    with transaction(engine) as session:
        added = session.scalars(
            select(ContactPoint).where(ContactPoint.source == "repair_vendor")
            .order_by(ContactPoint.id)
        ).all()  # fmt: skip
        assert [(p.kind, p.value, p.owner, p.relation) for p in added] == [
            ("mobile", "13655556666", "debtor", None),
            ("address", "北京市朝阳区建国路88号", "third_party", "colleague"),
        ]
        assert {(p.verification, p.status) for p in added} == {("new", "active")}
        events = session.scalars(select(Event).where(Event.type == "contact_point.added")).all()
    assert len(events) == 2 and {e.case_id for e in events} == {case_id}
    assert {e.payload["source"] for e in events} == {"repair_vendor"}


def test_a_clean_file_leaves_no_quarantine_and_a_file_without_its_columns_is_refused(
    engine: Engine, tmp_path: Path
) -> None:
    _world, case_id, _, _ = setup(engine)
    good = tmp_path / "public.csv"
    good.write_text(f"case_id,kind,value,source\n{case_id},email,Zhang@Example.COM,public_record\n")
    result = import_points(engine, good, source="repair_vendor", actor="cli", now=NOW)
    assert (result.created, result.quarantined, result.quarantine_file) == (1, 0, None)
    with transaction(engine) as session:
        point = session.scalars(select(ContactPoint).where(ContactPoint.kind == "email")).one()
    assert (point.value, point.source) == ("Zhang@example.com", "public_record")

    wrong = tmp_path / "wrong.csv"
    wrong.write_text("name,amount\n张三,100\n")
    with pytest.raises(UnreadableFile, match="missing required column"):
        import_points(engine, wrong, source="repair_vendor", actor="cli", now=NOW)


def test_the_queue_page_lists_the_case_for_its_team_lead_masked(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, mobile, _ = setup(engine)
    make_unreachable(engine, client, world, mobile)
    with transaction(engine) as session:
        session.execute(
            update(User)
            .where(User.username == "lead_a")
            .values(password_hash=hash_password(PASSWORD))
        )
    login(client, "lead_a")
    page = client.get("/skiptrace", headers=HTML)
    assert page.status_code == 200
    assert f'data-case-id="{case_id}"' in page.text and "张*" in page.text
    assert "debtor_points_valid=0" in page.text and 'href="/skiptrace"' in page.text
