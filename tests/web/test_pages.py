"""The pages for people, through the app on both stores: sessions, CSRF, scope, forms.

The browser tests (``tests/browser``) drive the same pages in Chromium; these check the
rules behind them quickly and on PostgreSQL too.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    ApiToken,
    Case,
    Contact,
    Event,
    Payment,
    Promise,
    Team,
    User,
)
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from cuishou.web.i18n import MESSAGES
from tests.factories import make_payment
from tests.web.factories import (
    WORKDAY_MORNING,
    Clock,
    debtor_mobile,
    make_alert,
    make_case,
    make_team,
    make_user,
)
from tests.web.pages import HTML, HTMX, PASSWORD, csrf_of, login

TEMPLATES = Path(__file__).parents[2] / "src" / "cuishou" / "web" / "templates"


@dataclass
class Org:
    case_a: int
    case_a_point: int
    case_b: int
    alert_a: int


@pytest.fixture
def clock() -> Clock:
    return Clock(now=WORKDAY_MORNING)


@pytest.fixture
def org(engine: Engine) -> Org:
    with transaction(engine) as session:
        team_a = make_team(session, name="一组")
        team_b = make_team(session, name="二组")
        col_a = make_user(session, username="col_a", team=team_a, password=PASSWORD)
        make_user(session, username="col_a2", team=team_a, password=PASSWORD)
        col_b = make_user(session, username="col_b", team=team_b, password=PASSWORD)
        make_user(session, username="lead_a", role="team_lead", team=team_a, password=PASSWORD)
        make_user(session, username="manager", role="manager", password=PASSWORD)
        make_user(session, username="admin", role="admin", password=PASSWORD)
        case_a = make_case(session, assigned=col_a, team=team_a, debtor_name="王小明")
        case_b = make_case(session, assigned=col_b, team=team_b)
        alert = make_alert(session, case=case_a)
        return Org(case_a.id, debtor_mobile(session, case_a).id, case_b.id, alert.id)


@pytest.fixture
def web(engine: Engine, clock: Clock) -> Iterator[TestClient]:
    app = create_app(engine, WebSettings(clock=clock))
    with TestClient(app, follow_redirects=True) as client:
        yield client


def _count(engine: Engine, table: type) -> int:
    with transaction(engine) as session:
        return int(session.scalar(select(func.count()).select_from(table)) or 0)


def test_login_sets_an_httponly_lax_session_cookie_with_an_expiry(
    web: TestClient, org: Org
) -> None:
    form = web.get("/login", headers=HTML)
    web.follow_redirects = False
    response = web.post(
        "/login",
        data={"username": "col_a", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        headers=HTML,
    )
    assert response.status_code == 303
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("cuishou_session=")
    )
    assert "HttpOnly" in cookie and "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert "expires=" in cookie.lower() and "Secure" not in cookie
    assert response.headers["location"] == "/"
    web.follow_redirects = True
    home = web.get("/", headers=HTML)
    assert home.url.path == "/queue" and 'lang="zh-CN"' in home.text


def test_the_session_cookie_is_secure_when_served_behind_https(
    engine: Engine, clock: Clock, org: Org
) -> None:
    app = create_app(engine, WebSettings(clock=clock, secure_cookies=True))
    with TestClient(app, base_url="https://testserver") as client:
        form = client.get("/login", headers=HTML)
        response = client.post(
            "/login",
            data={"username": "col_a", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
            headers=HTML,
            follow_redirects=False,
        )
    cookie = next(
        h for h in response.headers.get_list("set-cookie") if h.startswith("cuishou_session=")
    )
    assert "Secure" in cookie and "HttpOnly" in cookie


def test_the_login_form_checks_its_own_csrf_token(web: TestClient, org: Org) -> None:
    web.get("/login", headers=HTML)
    response = web.post(
        "/login",
        data={"username": "col_a", "password": PASSWORD, "csrf_token": "forged"},
        headers=HTML,
    )
    assert response.status_code == 403
    assert MESSAGES["zh"]["error.csrf"] in response.text
    assert "cuishou_session" not in web.cookies


def test_a_post_without_or_with_a_wrong_csrf_token_is_refused(
    web: TestClient, engine: Engine, org: Org
) -> None:
    login(web, "col_a")
    form = {
        "contact_point_id": str(org.case_a_point),
        "channel": "call",
        "outcome": "no_answer",
    }
    missing = web.post(f"/cases/{org.case_a}/contacts", data=form, headers=HTML)
    wrong = web.post(
        f"/cases/{org.case_a}/contacts", data={**form, "csrf_token": "0" * 64}, headers=HTML
    )
    for response in (missing, wrong):
        assert response.status_code == 403
        assert MESSAGES["zh"]["error.csrf"] in response.text
        assert "Traceback" not in response.text
    assert _count(engine, Contact) == 0


def test_wrong_passwords_are_throttled_with_a_clear_message(web: TestClient, org: Org) -> None:
    for _ in range(5):
        form = web.get("/login", headers=HTML)
        failed = web.post(
            "/login",
            data={"username": "col_a", "password": "wrong-one", "csrf_token": csrf_of(form.text)},
            headers=HTML,
        )
        assert failed.status_code == 401
        assert MESSAGES["zh"]["login.failed"] in failed.text
    form = web.get("/login", headers=HTML)
    locked = web.post(
        "/login",
        data={"username": "col_a", "password": PASSWORD, "csrf_token": csrf_of(form.text)},
        headers=HTML,
    )
    assert locked.status_code == 429
    assert "登录失败次数过多，请 15 分钟后再试" in locked.text


def test_logout_revokes_the_session(web: TestClient, engine: Engine, org: Org) -> None:
    csrf = login(web, "col_a")
    out = web.post("/logout", data={"csrf_token": csrf}, headers=HTML)
    assert out.url.path == "/login" and MESSAGES["zh"]["login.logged_out"] in out.text
    with transaction(engine) as session:
        assert session.scalar(select(ApiToken.revoked_at)) is not None
    again = web.get("/queue", headers=HTML)
    assert again.url.path == "/login"


def test_pages_send_people_without_a_session_to_the_login_page(web: TestClient) -> None:
    response = web.get("/cases/1?x=1", headers=HTML)
    assert response.url.path == "/login"
    assert 'name="next" value="/cases/1?x=1"' in response.text


def test_a_collector_cannot_open_another_collectors_case(web: TestClient, org: Org) -> None:
    login(web, "col_a")
    theirs = web.get(f"/cases/{org.case_b}", headers=HTML)
    nothing = web.get("/cases/999999", headers=HTML)
    assert theirs.status_code == nothing.status_code == 404
    assert MESSAGES["zh"]["error.404"] in theirs.text
    main = re.compile(r"<main>.*</main>", re.S)
    theirs_main, nothing_main = main.search(theirs.text), main.search(nothing.text)
    assert theirs_main is not None and nothing_main is not None
    assert theirs_main[0].replace(f"case {org.case_b} ", "case N ") == nothing_main[0].replace(
        "case 999999 ", "case N "
    )


@pytest.mark.parametrize(
    ("username", "path", "status"),
    [
        ("col_a", "/team", 403),
        ("col_a", "/overview", 403),
        ("col_a", "/admin/users", 403),
        ("col_a", "/admin/teams", 403),
        ("lead_a", "/overview", 403),
        ("lead_a", "/admin/teams", 403),
        ("lead_a", "/team", 200),
        ("manager", "/overview", 200),
        ("admin", "/admin/users", 200),
        ("admin", "/admin/teams", 200),
    ],
)
def test_pages_follow_the_permission_table(
    web: TestClient, org: Org, username: str, path: str, status: int
) -> None:
    login(web, username)
    response = web.get(path, headers=HTML)
    assert response.status_code == status
    if status == 403:
        assert MESSAGES["zh"]["error.403"] in response.text


def test_the_queue_and_case_pages_show_the_case_masked_in_yuan(web: TestClient, org: Org) -> None:
    login(web, "col_a")
    queue = web.get("/queue", headers=HTML)
    assert f'data-case-id="{org.case_a}"' in queue.text
    assert f'data-case-id="{org.case_b}"' not in queue.text
    case = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert "王**" in case.text and "王小明" not in case.text
    assert "138****1234" in case.text and "13812341234" not in case.text
    assert "¥12,345.67" in case.text and ">12345.67<" not in case.text  # every amount in ¥
    assert "李*" in case.text and "spouse" in case.text
    assert MESSAGES["zh"]["common.reveal"] not in case.text  # a collector may not reveal


def test_logging_a_contact_with_a_promise_updates_the_timeline_and_the_queue(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    today = clock.now.astimezone(CHINA_TZ).date()
    callback = (clock.now + timedelta(hours=1)).astimezone(CHINA_TZ)
    response = web.post(
        f"/cases/{org.case_a}/contacts",
        data={
            "csrf_token": csrf,
            "contact_point_id": str(org.case_a_point),
            "channel": "call",
            "outcome": "promise",
            "promise_amount": "500.50",
            "promise_date": today.isoformat(),
            "callback_at": callback.strftime("%Y-%m-%dT%H:%M"),
            "notes": "答应今天转账",
        },
        headers=HTMX,
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="activity"')
    assert MESSAGES["zh"]["contact.saved"] in response.text
    assert "¥500.50" in response.text and 'data-type="promise.created"' in response.text
    assert 'data-type="contact.logged"' in response.text
    with transaction(engine) as session:
        promise = session.scalars(select(Promise)).one()
        assert promise.amount_fen == 50_050 and promise.due_date == today
    queue = web.get("/queue", headers=HTML)
    row = re.search(rf'<tr data-case-id="{org.case_a}">.*?</tr>', queue.text, re.S)
    assert row is not None and MESSAGES["zh"]["queue.promise_due"] in row.group(0)


def test_contact_form_errors_are_shown_inline_and_nothing_is_kept(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    csrf = login(web, "col_a")
    too_late = clock.now.astimezone(CHINA_TZ).date() + timedelta(days=45)
    cases = [
        {"outcome": "", "channel": "call"},
        {"outcome": "promise", "channel": "call"},
        {"outcome": "promise", "channel": "call", "promise_amount": "abc", "promise_date": "x"},
        {
            "outcome": "promise",
            "channel": "call",
            "promise_amount": "10",
            "promise_date": too_late.isoformat(),
        },
        {"outcome": "no_answer", "channel": "visit"},
        {"outcome": "no_answer", "channel": "call", "callback_at": "not a time"},
    ]
    for fields in cases:
        response = web.post(
            f"/cases/{org.case_a}/contacts",
            data={"csrf_token": csrf, "contact_point_id": str(org.case_a_point), **fields},
            headers=HTMX,
        )
        assert response.status_code == 422, fields
        assert 'class="errors"' in response.text and "Traceback" not in response.text
        assert response.text.lstrip().startswith('<div id="activity"')
    assert _count(engine, Contact) == 0 and _count(engine, Promise) == 0


def test_reveal_is_audited_and_offered_only_to_permitted_roles(
    web: TestClient, engine: Engine, org: Org
) -> None:
    csrf = login(web, "manager")
    case = web.get(f"/cases/{org.case_a}", headers=HTML)
    assert MESSAGES["zh"]["common.reveal"] in case.text
    shown = web.post(
        f"/cases/{org.case_a}/reveal",
        data={"csrf_token": csrf, "field": "debtor_name"},
        headers=HTMX,
    )
    assert shown.status_code == 200 and "王小明" in shown.text
    with transaction(engine) as session:
        event = session.scalars(select(Event).where(Event.type == "pii.revealed")).one()
        assert event.actor == "manager" and event.payload["field"] == "debtor_name"
    web.post("/logout", data={"csrf_token": csrf}, headers=HTML)
    csrf = login(web, "col_a")
    refused = web.post(
        f"/cases/{org.case_a}/reveal", data={"csrf_token": csrf, "field": "id_number"}, headers=HTML
    )
    assert refused.status_code == 403


def test_a_team_lead_reassigns_cases_within_the_team_and_handles_alerts(
    web: TestClient, engine: Engine, org: Org
) -> None:
    csrf = login(web, "lead_a")
    team = web.get("/team", headers=HTML)
    assert 'data-collector="col_a"' in team.text and 'data-collector="col_b"' not in team.text
    assert f'data-case-id="{org.case_b}"' not in team.text
    done = web.post(
        "/team/assign",
        data={"csrf_token": csrf, "collector": "col_a2", "case_ids": [str(org.case_a)]},
        headers=HTML,
    )
    assert done.status_code == 200 and "col_a2" in done.text
    outside = web.post(
        "/team/assign",
        data={"csrf_token": csrf, "collector": "col_b", "case_ids": [str(org.case_a)]},
        headers=HTML,
    )
    assert outside.status_code == 403
    not_ours = web.post(
        "/team/assign",
        data={"csrf_token": csrf, "collector": "col_a", "case_ids": [str(org.case_b)]},
        headers=HTML,
    )
    assert not_ours.status_code == 404
    none_chosen = web.post(
        "/team/assign", data={"csrf_token": csrf, "collector": "col_a"}, headers=HTML
    )
    assert none_chosen.status_code == 422 and 'class="errors"' in none_chosen.text
    with transaction(engine) as session:
        case = session.get(Case, org.case_a)
        assert case is not None
        assigned = session.scalar(select(User.username).where(User.id == case.assigned_user_id))
        assert assigned == "col_a2"

    alerts = web.get("/alerts", headers=HTML)
    assert f'data-alert-id="{org.alert_a}"' in alerts.text
    acknowledged = web.post(
        f"/alerts/{org.alert_a}/acknowledge", data={"csrf_token": csrf}, headers=HTML
    )
    assert MESSAGES["zh"]["alert_status.acknowledged"] in acknowledged.text
    web.post(f"/alerts/{org.alert_a}/resolve", data={"csrf_token": csrf}, headers=HTML)
    twice = web.post(f"/alerts/{org.alert_a}/resolve", data={"csrf_token": csrf}, headers=HTML)
    assert twice.status_code == 409 and "Traceback" not in twice.text
    with transaction(engine) as session:
        types = set(session.scalars(select(Event.type).where(Event.type.like("alert.%"))))
    assert types == {"alert.acknowledged", "alert.resolved"}


def test_the_overview_counts_today_and_shows_zero_recovery_honestly(
    web: TestClient, engine: Engine, org: Org, clock: Clock
) -> None:
    with transaction(engine) as session:
        account = session.scalars(select(Account).where(Account.case_id == org.case_a)).one()
        make_payment(session, account=account, amount_fen=12_300, paid_at=clock.now)
    login(web, "manager")
    page = web.get("/overview", headers=HTML)
    assert page.status_code == 200
    recovery = re.search(r'<table class="grid compact" id="recovery">.*?</table>', page.text, re.S)
    assert recovery is not None
    assert re.search(r"一组</td><td class=\"num\">1</td><td class=\"num\">¥123.00", recovery[0])
    assert re.search(r"二组</td><td class=\"num\">0</td><td class=\"num\">¥0.00", recovery[0])
    assert 'id="chart-data"' in page.text and "/static/echarts.min.js" in page.text
    assert _count(engine, Payment) == 1


def test_an_admin_creates_users_and_teams_with_inline_errors(
    web: TestClient, engine: Engine, org: Org
) -> None:
    csrf = login(web, "admin")
    created = web.post(
        "/admin/users",
        data={
            "csrf_token": csrf,
            "username": "new_col",
            "role": "collector",
            "team": "三组",
            "password": "long-enough-pw",
        },
        headers=HTML,
    )
    assert created.status_code == 200 and 'data-username="new_col"' in created.text
    duplicate = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "new_col", "role": "collector", "password": "x" * 9},
        headers=HTML,
    )
    short = web.post(
        "/admin/users",
        data={"csrf_token": csrf, "username": "other", "role": "collector", "password": "x"},
        headers=HTML,
    )
    assert duplicate.status_code == short.status_code == 422
    assert 'class="errors"' in duplicate.text and 'class="errors"' in short.text
    team = web.post("/admin/teams", data={"csrf_token": csrf, "name": "四组"}, headers=HTML)
    assert team.status_code == 200 and "四组" in team.text
    with transaction(engine) as session:
        names = set(session.scalars(select(Team.name)))
    assert {"三组", "四组"} <= names


def test_the_language_switch_persists_in_a_cookie(web: TestClient, org: Org) -> None:
    login(web, "col_a")
    assert MESSAGES["zh"]["queue.title"] in web.get("/queue", headers=HTML).text
    switched = web.get("/lang/en?next=/queue", headers=HTML)
    assert switched.url.path == "/queue"
    assert MESSAGES["en"]["queue.title"] in switched.text and 'lang="en"' in switched.text
    assert MESSAGES["en"]["queue.title"] in web.get("/queue", headers=HTML).text
    away = web.get("/lang/zh?next=https://evil.example/", headers=HTML)
    assert away.url.host != "evil.example"


def test_unknown_pages_are_html_and_the_api_stays_json(web: TestClient) -> None:
    page = web.get("/no-such-page", headers=HTML)
    api = web.get("/api/v1/no-such-thing", headers=HTML)
    assert page.status_code == api.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert api.json()["code"] == "not_found"


def test_every_label_has_both_languages_and_templates_hold_no_labels() -> None:
    assert MESSAGES["zh"].keys() == MESSAGES["en"].keys()
    cjk = re.compile(r"[\u4e00-\u9fff]")
    for template in TEMPLATES.glob("*.html"):
        text = template.read_text(encoding="utf-8")
        assert not cjk.search(text), f"{template.name} has a Chinese label outside i18n"
        for key in re.findall(r'(?<![\w.])t\("([a-z_.]+)"', text):
            # "kind." ~ value: a family of labels, at least one of which must exist
            known = key in MESSAGES["en"] or (
                key.endswith(".") and any(k.startswith(key) for k in MESSAGES["en"])
            )
            assert known, f"{template.name}: unknown label {key}"
