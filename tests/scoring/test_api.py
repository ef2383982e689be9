"""Scoring in the API, on both stores: the grade, score, reasons and labels of a case file;
the queue and case list filtered by grade and label; the model registry, a model's card and
promoting a champion — each with the permissions of ``auth.rules``.

The store (``tests/scoring/scored.py``): col_a's six cases owing 500.00 … 60,000.00 scored
by a real scorecard on two days; the second is disputed (refused with a reason), the fifth
unreachable (its only own mobile 空号); col_b's case in team B.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.scoring.catalogue import feature
from cuishou.scoring.grades import GRADES, cutoffs_by_points, grade_of
from cuishou.store.db import transaction
from cuishou.store.tables import Event, ModelVersion
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.scoring.scored import DAY_1, DAY_2, Scored, register
from tests.web.factories import Clock, bearer
from tests.web.world import World

pytestmark = pytest.mark.filterwarnings("ignore::Warning:optbinning")


@pytest.fixture
def client(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as test_client:
        yield test_client


def get(client: TestClient, world: World, who: str, path: str, **params: Any) -> Any:
    response = client.get(path, params=params, headers=bearer(world.tokens[who]))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_collector_sees_the_grade_score_reasons_and_labels_of_their_case(
    client: TestClient, world: World, scored: Scored
) -> None:
    card = get(client, world, "auditor", f"/api/v1/models/{scored.version}")
    cutoffs = cutoffs_by_points(*(card["grade_cutoffs"][g] for g in "ABC"))
    files = {cid: get(client, world, "col_a", f"/api/v1/cases/{cid}") for cid in scored.cases}
    for case_id, body in files.items():
        # the grade is the pay_30d champion's score cut by the card's cut-offs
        assert body["risk_grade"] in GRADES
        assert isinstance(body["score"], int)
        assert body["risk_grade"] == grade_of(body["score"], cutoffs), case_id
        # at most three reasons, each a catalogue feature named in zh and en
        assert len(body["reasons"]) <= 3
        for reason in body["reasons"]:
            known = feature(reason["code"])
            assert (reason["zh"], reason["en"]) == (known.zh, known.en)
        (score,) = body["scores"]
        assert score["target"] == "pay_30d" and score["version"] == scored.version
        assert score["score"] == body["score"] and score["reasons"] == body["reasons"]
        # re-scored every day; a score that did not change keeps the day it was given
        assert DAY_1.isoformat() <= score["scored_on"] <= DAY_2.isoformat()
        assert 0 < score["probability"] < 1
    # a smaller debt is likelier paid: the score falls and the grade worsens with the debt
    # (among the cases nobody reached: reaching the debtor counts for them)
    by_debt = [
        files[cid]
        for cid in sorted(scored.cases, key=scored.cases.__getitem__)
        if cid not in (scored.disputed, scored.hardship)
    ]
    scores = [body["score"] for body in by_debt]
    assert scores == sorted(scores, reverse=True) and scores[0] > scores[-1]
    grades = [body["risk_grade"] for body in by_debt]
    assert grades == sorted(grades) and len(set(grades)) >= 2
    # the large debts are pulled down by what they owe
    assert "owed_fen" in [r["code"] for r in by_debt[-1]["reasons"]]

    # the labels with the facts that gave them
    disputed = {lb["code"]: lb for lb in files[scored.disputed]["labels"]}
    assert disputed["dispute"]["zh"] == "争议拒付型" and disputed["dispute"]["en"]
    assert disputed["dispute"]["facts"]["refusals_with_reason_90d"] == 1
    assert disputed["dispute"]["since"] == DAY_1.isoformat()
    unreachable = {lb["code"]: lb for lb in files[scored.unreachable]["labels"]}
    assert unreachable["unreachable"]["zh"] == "失联型"
    assert unreachable["unreachable"]["facts"]["debtor_points_valid"] == 0
    assert "dispute" not in unreachable
    hardship = {lb["code"]: lb for lb in files[scored.hardship]["labels"]}
    assert hardship["hardship"]["facts"]["hardship_contacts_90d"] == 1
    assert hardship["hardship"]["facts"]["paid_fen_90d"] == 0


def test_a_case_not_scored_yet_has_no_grade_score_or_labels(
    engine: Engine, client: TestClient, world: World, scored: Scored
) -> None:
    with transaction(engine) as session:
        fresh = world.case_for_a(session).id
    body = get(client, world, "col_a", f"/api/v1/cases/{fresh}")
    assert (body["risk_grade"], body["score"]) == (None, None)
    assert body["reasons"] == body["scores"] == body["labels"] == []
    # and the list shows every case's grade, null for the fresh one
    listed = get(client, world, "col_a", "/api/v1/cases")["items"]
    items = {i["id"]: i["risk_grade"] for i in listed}
    assert items[fresh] is None
    assert {items[cid] for cid in scored.cases} <= set(GRADES)


def test_the_queue_and_the_case_list_filter_by_grade_and_label_within_scope(
    client: TestClient, world: World, scored: Scored
) -> None:
    grades = {
        cid: get(client, world, "manager", f"/api/v1/cases/{cid}")["risk_grade"]
        for cid in [*scored.cases, scored.other]
    }
    seen = 0
    for grade in GRADES:
        mine = {cid for cid in scored.cases if grades[cid] == grade}
        queue = get(client, world, "col_a", "/api/v1/queue", grade=grade)
        assert {i["id"] for i in queue["items"]} == mine and queue["total"] == len(mine)
        assert all(i["risk_grade"] == grade for i in queue["items"])
        every = {cid for cid, g in grades.items() if g == grade}
        listed = get(client, world, "manager", "/api/v1/cases", grade=grade)
        assert {i["id"] for i in listed["items"]} == every
        seen += len(mine)
    assert seen == len(scored.cases)

    def ids(who: str, path: str, **params: str) -> set[int]:
        return {i["id"] for i in get(client, world, who, path, **params)["items"]}

    assert ids("col_a", "/api/v1/queue", label="dispute") == {scored.disputed}
    assert ids("col_a", "/api/v1/queue", label="unreachable") == {scored.unreachable}
    assert ids("col_a", "/api/v1/cases", label="dispute", grade=grades[scored.disputed]) == {
        scored.disputed
    }
    # another team's collector and lead see none of col_a's labelled cases
    assert ids("col_b", "/api/v1/queue", label="dispute") == set()
    assert ids("lead_b", "/api/v1/cases", label="unreachable") == set()
    assert ids("lead_a", "/api/v1/cases", label="unreachable") == {scored.unreachable}


def test_a_bad_grade_or_label_filter_is_a_clear_error(
    client: TestClient, world: World, scored: Scored
) -> None:
    headers = bearer(world.tokens["col_a"])
    wrong = client.get("/api/v1/queue", params={"label": "rich"}, headers=headers)
    assert wrong.status_code == 422
    assert "unknown label 'rich'" in wrong.json()["message"]
    assert "dispute" in wrong.json()["message"]
    assert client.get("/api/v1/cases", params={"grade": "E"}, headers=headers).status_code == 422


def test_the_registry_and_the_card_are_read_by_the_strategist_managers_and_auditors(
    client: TestClient, world: World, scored: Scored
) -> None:
    for who in ("strategist", "manager", "auditor"):
        (row,) = get(client, world, who, "/api/v1/models")
        assert row["version"] == scored.version and row["status"] == "champion"
        assert 0.6 < row["auc"] <= 1 and 0 < row["ks"] < 1
        assert row["promoted_by"] == "strategist" and len(row["sha256"]) == 64
    assert get(client, world, "auditor", "/api/v1/models", target="cure_30d") == []

    card = get(client, world, "auditor", f"/api/v1/models/{scored.version}")
    assert card["snapshots"] == 23 and card["psi_threshold"] == 0.25
    assert [d["decile"] for d in card["deciles"]] == list(range(1, 11))
    assert sum(d["count"] for d in card["deciles"]) == card["validation_rows"] == 2_000
    assert {f["code"]: (f["zh"], f["en"]) for f in card["features"]} == {
        "owed_fen": ("欠款金额(分)", "amount owed (fen)"),
        "right_party_30d": ("近30天本人接通次数", "right-party contacts in 30 days"),
    }
    # PSI of the score and of each feature, one point per scoring day
    assert set(card["psi"]) == {"score", "owed_fen", "right_party_30d"}
    assert [p["day"] for p in card["psi"]["score"]] == [DAY_1.isoformat(), DAY_2.isoformat()]
    latest = {f["code"]: f["psi"] for f in card["features"]}
    assert latest["owed_fen"] == card["psi"]["owed_fen"][-1]["psi"]
    cut = card["grade_cutoffs"]
    assert cut["A"] >= cut["B"] >= cut["C"]
    assert [v["version"] for v in card["history"]] == [scored.version]

    for who in ("col_a", "lead_a", "compliance", "agency_x", "admin"):
        response = client.get("/api/v1/models", headers=bearer(world.tokens[who]))
        assert response.status_code == 403, who
        assert response.json()["code"] == "permission_denied"
        card_response = client.get(
            f"/api/v1/models/{scored.version}", headers=bearer(world.tokens[who])
        )
        assert card_response.status_code == 403, who
    missing = client.get("/api/v1/models/pay_30d-gbm-9", headers=bearer(world.tokens["auditor"]))
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert client.get("/api/v1/models").status_code == 401


def test_only_the_strategist_promotes_and_a_champion_cannot_be_promoted_again(
    engine: Engine, client: TestClient, world: World, scored: Scored
) -> None:
    with transaction(engine) as session:
        challenger = register(session, number=2)
    path = f"/api/v1/models/{challenger}/promote"
    for who in ("manager", "auditor", "col_a", "admin"):
        refused = client.post(path, headers=bearer(world.tokens[who]))
        assert refused.status_code == 403, who
    # the strategist promotes: the old champion retires, with an event
    promoted = client.post(path, headers=bearer(world.tokens["strategist"]))
    assert promoted.status_code == 200, promoted.text
    body = promoted.json()
    assert body["version"] == challenger and body["status"] == "champion"
    assert body["promoted_by"] == "strategist"
    statuses = {r["version"]: r["status"] for r in get(client, world, "auditor", "/api/v1/models")}
    assert statuses == {challenger: "champion", scored.version: "retired"}
    with transaction(engine) as session:
        event = session.scalars(select(Event).where(Event.type == "model.promoted")).all()[-1]
        assert event.actor == "strategist"
        assert event.payload == {
            "version": challenger,
            "target": "pay_30d",
            "previous": scored.version,
        }
        chosen = session.scalars(
            select(ModelVersion).where(ModelVersion.version == challenger)
        ).one()
        assert event.entity_id == chosen.id
    again = client.post(path, headers=bearer(world.tokens["strategist"]))
    assert again.status_code == 409 and again.json()["code"] == "conflict"
    unknown = client.post(
        "/api/v1/models/pay_30d-gbm-9/promote", headers=bearer(world.tokens["strategist"])
    )
    assert unknown.status_code == 404
    # a case out of a collector's scope stays out of it, graded or not
    other = client.get(f"/api/v1/cases/{scored.other}", headers=bearer(world.tokens["col_a"]))
    assert other.status_code == 404
