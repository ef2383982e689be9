"""Scoring on the pages, on both stores: the case page's grade, reasons, scores and labels
with readable facts; the queue's grade column and filters; the model registry and card pages
and their permissions; promoting from the card with its CSRF token.

The store is ``tests/scoring/scored.py``'s (see ``test_api.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.store.db import transaction
from cuishou.store.tables import Case, ModelVersion
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.scoring.scored import Scored, register
from tests.web.factories import Clock
from tests.web.pages import HTML, csrf_of
from tests.web.world import World

pytestmark = pytest.mark.filterwarnings("ignore::Warning:optbinning")


@pytest.fixture
def web(engine: Engine) -> Iterator[TestClient]:
    with TestClient(create_app(engine, WebSettings(clock=Clock()))) as client:
        yield client


def as_user(web: TestClient, world: World, who: str, lang: str = "zh") -> TestClient:
    web.cookies.set("cuishou_session", world.tokens[who])
    web.cookies.set("cuishou_lang", lang)
    return web


def page(web: TestClient, path: str, status: int = 200) -> str:
    response = web.get(path, headers=HTML)
    assert response.status_code == status, response.text[:800]
    return response.text


def grade_of(engine: Engine, case_id: int) -> str | None:
    with transaction(engine) as session:
        case = session.get(Case, case_id)
        assert case is not None
        return case.risk_grade


def test_the_case_page_shows_the_grade_reasons_scores_and_labels_with_readable_facts(
    engine: Engine, web: TestClient, world: World, scored: Scored
) -> None:
    as_user(web, world, "col_a")
    html = page(web, f"/cases/{scored.disputed}")
    grade = grade_of(engine, scored.disputed)
    assert grade in "ABCD"
    # the badge in the heading and in the panel
    assert html.count(f'class="grade g-{grade}" data-grade="{grade}"') == 2
    panel = html[html.index('id="scoring"') :]
    assert re.search(r'id="pay-score">评分 <strong>\d+</strong>', panel)
    # the reasons in zh with the en name on hover
    assert 'title="right-party contacts in 30 days">近30天本人接通次数</li>' in panel or (
        'title="amount owed (fen)">欠款金额(分)</li>' in panel
    )
    assert '<tr data-target="pay_30d">' in panel and "30天内还款" in panel
    assert f'href="/models/{scored.version}"' not in panel  # a collector reads no model card
    # the label with its facts: names from the catalogue, values formatted
    label = panel[panel.index('data-label="dispute"') :]
    assert '<span class="label-tag" title="Disputes the debt">争议拒付型</span>' in label
    assert (
        '<dt data-fact="refusals_with_reason_90d" title="refusals with a reason in 90 days">'
        "近90天有理由拒付次数</dt>" in label
    )
    assert '<dd data-fact="refusals_with_reason_90d">1</dd>' in label
    assert '<dd data-fact="dispute_hold">否</dd>' in label

    # in English the names swap; the unreachable case shows its facts
    as_user(web, world, "col_a", lang="en")
    english = page(web, f"/cases/{scored.unreachable}")
    facts = english[english.index('data-label="unreachable"') :]
    assert '<span class="label-tag" title="失联型">Unreachable</span>' in facts
    assert (
        '<dt data-fact="debtor_points_valid" title="本人有效联系方式数">valid own contact points'
        "</dt>" in facts
    )
    assert '<dd data-fact="debtor_points_valid">0</dd>' in facts
    # a fact in fen is shown in yuan, its name without the unit
    as_user(web, world, "col_a")
    hardship = page(web, f"/cases/{scored.hardship}")
    label = hardship[hardship.index('data-label="hardship"') :].split("</div>")[0]
    assert '<span class="label-tag" title="Temporary hardship">暂时困难型</span>' in label
    assert '<dd data-fact="hardship_contacts_90d">1</dd>' in label
    assert (
        '<dt data-fact="paid_fen_90d" title="paid in 90 days">近90天还款金额</dt>'
        '<dd data-fact="paid_fen_90d">¥0.00</dd>' in label
    )


def test_the_case_page_of_a_case_not_scored_says_so(
    engine: Engine, web: TestClient, world: World, scored: Scored
) -> None:
    with transaction(engine) as session:
        fresh = world.case_for_a(session).id
    html = page(as_user(web, world, "col_a"), f"/cases/{fresh}")
    panel = html[html.index('id="scoring"') :]
    assert "尚未评分" in panel and "暂无画像标签" in panel
    # the manager, who reads model cards, gets a link to the model
    manager = page(as_user(web, world, "manager"), f"/cases/{scored.disputed}")
    assert f'href="/models/{scored.version}"' in manager


def test_the_queue_shows_the_grade_and_filters_by_grade_and_label(
    engine: Engine, web: TestClient, world: World, scored: Scored
) -> None:
    as_user(web, world, "col_a")

    def rows(path: str) -> dict[int, str]:
        html = page(web, path)
        table = html[html.index('id="queue"') :]
        return {
            int(case_id): grade
            for case_id, grade in re.findall(
                r'<tr data-case-id="(\d+)">.*?data-grade="([A-D]?)"', table, re.S
            )
        }

    everything = rows("/queue")
    assert everything == {cid: grade_of(engine, cid) for cid in scored.cases}
    for grade in sorted(set(everything.values())):
        assert rows(f"/queue?grade={grade}") == {
            cid: g for cid, g in everything.items() if g == grade
        }
    assert set(rows("/queue?label=dispute")) == {scored.disputed}
    assert set(rows("/queue?label=unreachable&grade=")) == {scored.unreachable}
    html = page(web, "/queue?label=dispute")
    assert '<option value="dispute" selected>争议拒付型</option>' in html
    assert '<option value="A">A · 风险最低</option>' in html
    # col_b's queue holds none of col_a's disputed cases
    as_user(web, world, "col_b")
    assert rows("/queue?label=dispute") == {}
    as_user(web, world, "col_a")
    assert "unknown label" in page(web, "/queue?label=rich", status=422)


def test_the_model_pages_are_for_the_strategist_managers_and_auditors(
    web: TestClient, world: World, scored: Scored
) -> None:
    for who in ("strategist", "manager", "auditor"):
        html = page(as_user(web, world, who), "/models")
        assert '<a href="/models" class="active" aria-current="page">模型库</a>' in html, who
        row = html[html.index(f'<tr data-version="{scored.version}"') :].split("</tr>")[0]
        assert 'data-status="champion"' in row and "★ 冠军" in row
        assert re.search(r'<td class="num">0\.\d{3}</td>', row)
    for who in ("col_a", "lead_a", "admin", "agency_x"):
        as_user(web, world, who)
        assert 'href="/models"' not in page(web, "/queue"), who
        page(web, "/models", status=403)
        page(web, f"/models/{scored.version}", status=403)
    page(as_user(web, world, "auditor"), "/models/pay_30d-gbm-9", status=404)


def test_the_model_card_shows_metrics_charts_features_cutoffs_and_history(
    web: TestClient, world: World, scored: Scored
) -> None:
    html = page(as_user(web, world, "auditor"), f"/models/{scored.version}")
    assert re.search(r'data-metric="auc">0\.\d{3}<', html)
    for field in ("train_rows", "validation_rows", "train_window", "sha256", "promoted"):
        assert f'data-field="{field}"' in html
    assert "2026-04-01 — 2026-08-05" in html and "strategist" in html
    for chart in ("chart-lift", "chart-calibration", "chart-psi"):
        assert f'id="{chart}"' in html
    assert '<script src="/static/echarts.min.js" defer></script>' in html
    data = json.loads(
        html.split('<script type="application/json" id="chart-data">')[1].split("</")[0]
    )
    assert data["lift"]["deciles"] == list(range(1, 11)) and len(data["lift"]["lift"]) == 10
    assert data["calibration"]["observed"] and data["calibration"]["predicted"]
    assert data["psi"]["days"] == ["2026-11-03", "2026-11-04"]
    assert [s["id"] for s in data["psi"]["series"]] == ["score", "owed_fen", "right_party_30d"]
    assert data["psi"]["threshold"] == 0.25
    features = html[html.index('id="features"') :].split("</table>")[0]
    assert "欠款金额(分)" in features and "amount owed (fen)" in features
    assert html.count('<tr data-grade="') == 4
    assert f'<tr data-version="{scored.version}" data-status="champion" aria-current' in html
    assert 'id="promote"' not in html  # an auditor reads; a champion is not promoted again


def test_the_strategist_promotes_from_the_card_with_the_csrf_token(
    engine: Engine, web: TestClient, world: World, scored: Scored
) -> None:
    with transaction(engine) as session:
        challenger = register(session, number=2)
    as_user(web, world, "manager")
    assert 'id="promote"' not in page(web, f"/models/{challenger}")
    manager_csrf = csrf_of(page(web, "/queue"))
    refused = web.post(
        f"/models/{challenger}/promote", data={"csrf_token": manager_csrf}, headers=HTML
    )
    assert refused.status_code == 403

    html = page(as_user(web, world, "strategist"), f"/models/{challenger}")
    assert 'id="promote"' in html
    forged = web.post(f"/models/{challenger}/promote", data={"csrf_token": "x"}, headers=HTML)
    assert forged.status_code == 403
    done = web.post(
        f"/models/{challenger}/promote",
        data={"csrf_token": csrf_of(html)},
        headers=HTML,
        follow_redirects=False,
    )
    assert (
        done.status_code == 303 and done.headers["location"] == f"/models/{challenger}?promoted=1"
    )
    after = page(web, done.headers["location"])
    assert 'id="promoted"' in after and 'id="promote"' not in after
    with transaction(engine) as session:
        statuses = dict(session.execute(select(ModelVersion.version, ModelVersion.status)).all())
    assert statuses == {challenger: "champion", scored.version: "retired"}
