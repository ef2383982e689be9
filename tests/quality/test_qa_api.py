"""Notes and transcripts are screened; banned content becomes a QA item to review, and
the compliance report counts the findings by category and by collector/agency."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Contact, Event, QaItem
from tests.web.factories import bearer, debtor_mobile
from tests.web.world import World, build_world

runner = CliRunner()


def setup(engine: Engine) -> tuple[World, int, int]:
    world = build_world(engine)
    with transaction(engine) as session:
        case = world.case_for_a(session)
        return world, case.id, debtor_mobile(session, case).id


def log(client: TestClient, token: str, case_id: int, point: int, notes: str) -> Any:
    return client.post(
        f"/api/v1/cases/{case_id}/contacts",
        json={"contact_point_id": point, "channel": "call", "outcome": "refused",
              "notes": notes},
        headers=bearer(token),
    )  # fmt: skip


def test_a_note_with_banned_content_raises_a_qa_item_and_a_clean_note_does_not(
    engine: Engine, client: TestClient
) -> None:
    world, case_id, point = setup(engine)
    clean = log(client, world.tokens["col_a"], case_id, point, "客户称本月资金紧张，下周再联系")
    assert clean.status_code == 201 and clean.json()["note_findings"] == []
    # notes quote what was said (third-person retellings are a known gap: docs/compliance.md)
    dirty = log(client, world.tokens["agency_x"], case_id, point,
                "跟客户说了“你不还钱我们就通知你单位领导”")  # fmt: skip
    assert dirty.status_code == 201
    assert set(dirty.json()["note_findings"]) >= {"exposure"}
    listed = client.get("/api/v1/qa/items", headers=bearer(world.tokens["compliance"]))
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert len(items) == 1 and items[0]["source"] == "note" and items[0]["subject"] == "agency_x"
    finding = items[0]["findings"][0]
    text = items[0]["text"]
    assert text[finding["span"]["start"] : finding["span"]["end"]] == finding["span"]["text"]
    # collectors cannot see the QA queue; compliance reviews it once
    assert client.get("/api/v1/qa/items", headers=bearer(world.tokens["col_a"])).status_code == 403
    url = f"/api/v1/qa/items/{items[0]['id']}/review"
    review = {"verdict": "confirmed", "note": "已约谈该外包催收员"}
    assert client.post(url, json=review, headers=bearer(world.tokens["manager"])).status_code == 403
    done = client.post(url, json=review, headers=bearer(world.tokens["compliance"]))
    assert done.status_code == 200 and done.json()["status"] == "confirmed"
    assert (
        client.post(url, json=review, headers=bearer(world.tokens["compliance"])).status_code == 409
    )
    assert (
        client.get("/api/v1/qa/items", headers=bearer(world.tokens["compliance"])).json()["total"]
        == 0
    )
    # and the report counts the finding against the agency collector
    report = client.get(
        "/api/v1/compliance/report?date_from=2026-11-01&date_to=2026-11-01",
        headers=bearer(world.tokens["compliance"]),
    ).json()
    assert report["days"][0]["findings"] >= 1
    assert {(p["collector"], p["agency"]) for p in report["findings_by_collector"]} == {
        ("agency_x", "AGX")
    }


def test_a_transcript_is_screened_for_its_audience(engine: Engine, client: TestClient) -> None:
    world, case_id, point = setup(engine)
    contact_id = log(client, world.tokens["col_a"], case_id, point, "").json()["contact"]["id"]
    url = f"/api/v1/contacts/{contact_id}/transcript"
    clean = client.post(url, json={"text": "您好，我是受银行委托的催收员，想和您确认还款计划。"},
                        headers=bearer(world.tokens["col_a"]))  # fmt: skip
    assert clean.status_code == 201 and clean.json()["qa_item_id"] is None
    bad = client.post(url, json={"text": "我们是法院的工作人员，今天不还就上门"},
                      headers=bearer(world.tokens["col_a"]))  # fmt: skip
    assert bad.json()["qa_item_id"] is not None
    assert "false_identity" in {f["category"] for f in bad.json()["findings"]}
    # out of scope: another team's collector gets 404
    assert (
        client.post(url, json={"text": "x"}, headers=bearer(world.tokens["col_b"])).status_code
        == 404
    )
    with transaction(engine) as session:
        events = session.scalars(select(Event.type).where(Event.type == "contact.transcript_added"))
        assert len(list(events)) == 2


def test_transcripts_import_from_a_file_with_quarantine(store_env: str, tmp_path: Path) -> None:
    engine = make_engine(store_env)
    world, case_id, point = setup(engine)
    with transaction(engine) as session:
        user = world.users["col_a"]
        contact = Contact(case_id=case_id, contact_point_id=point, user_id=user.id,
                          channel="call", party="debtor", outcome="refused", notes="",
                          at=world.users["col_a"].created_at,
                          created_at=world.users["col_a"].created_at)  # fmt: skip
        session.add(contact)
        session.flush()
        contact_id = contact.id
    engine.dispose()
    path = tmp_path / "转写.csv"
    path.write_text(
        "contact_id,text\n"
        f"{contact_id},你这种老赖就是不要脸\n"
        f"{contact_id},您好，请问您方便沟通还款安排吗\n"
        "999999,查无此人\n"
        f"{contact_id},\n"
        "abc,文本\n"
        "999998,=cmd|' /C calc'!A0\n",
        encoding="gb18030",
    )
    result = runner.invoke(app, ["compliance", "transcripts", str(path), "--json"])
    assert result.exit_code == 0, result.output
    counts = json.loads(result.stdout)
    assert (counts["rows"], counts["imported"], counts["with_findings"], counts["quarantined"]) == (
        6,
        2,
        1,
        4,
    )
    quarantine = Path(counts["quarantine_file"]).read_text(encoding="utf-8-sig").splitlines()
    assert quarantine[0] == "row,reason,contact_id,text"
    assert any("no contact 999999" in line for line in quarantine)
    assert any("text is empty" in line for line in quarantine)
    # a cell that would run as a formula in Excel is written as text
    assert any(",'=cmd|' /C calc'!A0" in line for line in quarantine)
    engine = make_engine(store_env)
    with transaction(engine) as session:
        item = session.scalars(select(QaItem)).one()
        assert item.source == "transcript" and item.subject == "col_a"
    engine.dispose()
    missing = tmp_path / "wrong.csv"
    missing.write_text("id,words\n1,x\n", encoding="utf-8")
    refused = runner.invoke(app, ["compliance", "transcripts", str(missing)])
    assert refused.exit_code != 0 and "contact_id" in refused.output
