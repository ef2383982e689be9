"""Token login: argon2 passwords, throttling per username (race-free, whatever the case),
field lengths, token expiry — on both stores."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.store.db import transaction
from cuishou.store.tables import ApiToken, LoginAttempt, LoginThrottle, User
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import NOW
from tests.web.factories import Clock, bearer, make_user
from tests.web.live import run_clients, served
from tests.web.pages import HTML, csrf_of

PASSWORD = "correct horse battery"


def _login(client: TestClient, username: str, password: str) -> tuple[int, dict[str, object]]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    return response.status_code, response.json()


def test_password_login_gives_a_bearer_token_that_works(engine: Engine, client: TestClient) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", role="manager", password=PASSWORD)

    status, body = _login(client, "amy", PASSWORD)

    assert status == 200, body
    assert body["token_type"] == "bearer" and isinstance(body["access_token"], str)
    me = client.get("/api/v1/users", headers=bearer(str(body["access_token"])))
    assert me.status_code == 200
    with transaction(engine) as session:
        stored = session.scalar(select(ApiToken.token_hash))
        hashed = session.scalar(select(User.password_hash).where(User.username == "amy"))
    assert stored is not None and stored != body["access_token"] and len(stored) == 64
    assert hashed is not None and hashed.startswith("$argon2id$")


def test_wrong_password_and_unknown_user_get_the_same_answer(
    engine: Engine, client: TestClient
) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD)
    wrong = _login(client, "amy", "nope-nope")
    unknown = _login(client, "nobody", "nope-nope")
    assert (
        wrong
        == unknown
        == (
            401,
            {"code": "not_authenticated", "message": "wrong username or password"},
        )
    )
    with transaction(engine) as session:
        recorded = session.scalar(
            select(func.count()).select_from(LoginAttempt).where(LoginAttempt.succeeded.is_(False))
        )
    assert recorded == 2  # failed attempts are committed although the answer is an error


def test_five_failures_lock_the_username_for_fifteen_minutes(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD)
        make_user(session, username="bob", password=PASSWORD)
    for minute in range(5):
        clock.now = NOW + timedelta(minutes=minute)
        assert _login(client, "amy", "guess")[0] == 401

    clock.now = NOW + timedelta(minutes=5)
    locked = client.post("/api/v1/auth/token", data={"username": "amy", "password": PASSWORD})
    other_user = _login(client, "bob", PASSWORD)
    clock.now = NOW + timedelta(minutes=15, seconds=1)
    after_window = _login(client, "amy", PASSWORD)

    assert locked.status_code == 429
    assert locked.json()["code"] == "too_many_attempts"
    assert "try again" in locked.json()["message"]
    assert int(locked.headers["retry-after"]) == 600
    assert other_user[0] == 200
    assert after_window[0] == 200


def test_a_success_resets_the_failure_count(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD)
    for _ in range(4):
        _login(client, "amy", "guess")
    assert _login(client, "amy", PASSWORD)[0] == 200
    for _ in range(4):
        _login(client, "amy", "guess")
    assert _login(client, "amy", PASSWORD)[0] == 200


def test_a_token_expires(engine: Engine, client: TestClient, clock: Clock) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", role="admin", password=PASSWORD)
    _status, body = _login(client, "amy", PASSWORD)
    headers = bearer(str(body["access_token"]))

    clock.now = NOW + timedelta(hours=7, minutes=59)
    still_valid = client.get("/api/v1/users", headers=headers)
    clock.now = NOW + timedelta(hours=8)
    expired = client.get("/api/v1/users", headers=headers)

    assert still_valid.status_code == 200
    assert expired.status_code == 401
    assert "expired" in expired.json()["message"]


def test_an_inactive_user_cannot_log_in(engine: Engine, client: TestClient) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD, active=False)
    assert _login(client, "amy", PASSWORD)[0] == 401


def test_the_login_form_needs_both_fields(engine: Engine, client: TestClient) -> None:
    response = client.post("/api/v1/auth/token", data={"username": "amy"})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_input"


# --- issue #9: atomic throttling, field lengths, case ------------------------------------


def _logins_at_once(engine: Engine, clock: Clock, attempts: list[tuple[str, str]]) -> Counter[int]:
    """Send every (username, password) at the same moment to the app under uvicorn."""

    async def run(base: str) -> list[int]:
        async with httpx.AsyncClient(base_url=base, timeout=120.0) as http:
            answers = await asyncio.gather(
                *(
                    http.post("/api/v1/auth/token", data={"username": u, "password": p})
                    for u, p in attempts
                )
            )
        return [a.status_code for a in answers]

    with served(create_app(engine, WebSettings(clock=clock))) as base:
        return Counter(run_clients(run(base)))


def test_thirty_wrong_passwords_at_once_check_only_five(engine: Engine, clock: Clock) -> None:
    # given one user; when 30 wrong passwords arrive at the same moment, in mixed case
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD)
    names = ["amy", "AMY", "Amy"]
    attempts = [(names[i % 3], f"guess-{i}") for i in range(30)]

    answers = _logins_at_once(engine, clock, attempts)

    # then only five passwords were checked (and recorded); every other one was throttled
    assert answers == {401: 5, 429: 25}
    with transaction(engine) as session:
        recorded = session.scalars(select(LoginAttempt.username)).all()
    assert recorded == ["amy"] * 5


def _size_of(engine: Engine) -> int:
    database = Path(str(engine.url.database))
    return sum(p.stat().st_size for p in (database, Path(f"{database}-wal")) if p.exists())


def _written(engine: Engine) -> tuple[int, int]:
    with transaction(engine) as session:
        attempts = session.scalar(select(func.count()).select_from(LoginAttempt))
        names = session.scalar(select(func.count()).select_from(LoginThrottle))
    return attempts or 0, names or 0


def test_a_megabyte_username_is_refused_before_anything_is_written(
    engine: Engine, client: TestClient
) -> None:
    huge = "u" * 1_000_000
    before = _written(engine), _size_of(engine) if engine.dialect.name == "sqlite" else 0

    answers = [
        client.post("/api/v1/auth/token", data={"username": huge, "password": "pw-pw-pw"})
        for _ in range(30)
    ]

    assert {a.status_code for a in answers} == {422}
    assert answers[0].json()["code"] == "invalid_input"
    assert "username" in answers[0].json()["message"]
    assert len(answers[0].content) < 2_000  # the name is not echoed back
    after = _written(engine), _size_of(engine) if engine.dialect.name == "sqlite" else 0
    assert after[0] == before[0] == (0, 0)
    assert after[1] - before[1] < 64 * 1024  # was 63 MB for 30 attempts


def test_field_lengths_at_the_limits(engine: Engine, client: TestClient) -> None:
    with transaction(engine) as session:
        make_user(session, username="amy", password=PASSWORD)

    assert _login(client, "u" * 64, "x" * 1024)[0] == 401  # longest accepted: checked
    too_long_name = _login(client, "u" * 65, "pw")
    too_long_password = _login(client, "amy", "x" * 1025)

    assert too_long_name[0] == too_long_password[0] == 422
    assert too_long_name[1]["errors"][0]["field"] == "username"
    assert too_long_password[1]["errors"][0]["field"] == "password"
    assert _written(engine) == (1, 1)  # only the attempt within the limits


def test_the_login_page_refuses_long_fields_with_a_clear_message(
    engine: Engine, client: TestClient
) -> None:
    form = client.get("/login", headers=HTML)
    page = client.post(
        "/login",
        data={"username": "u" * 1_000_000, "password": "pw", "csrf_token": csrf_of(form.text)},
        headers=HTML,
    )
    assert page.status_code == 422
    assert "用户名最多 64 个字符，密码最多 1024 个字符" in page.text
    assert "uuuu" not in page.text and len(page.content) < 50_000
    assert _written(engine) == (0, 0)


def test_usernames_ignore_case_at_login_and_in_throttling(
    engine: Engine, client: TestClient, clock: Clock
) -> None:
    with transaction(engine) as session:
        make_user(session, username="Col_A", role="admin", password=PASSWORD)

    status, body = _login(client, "col_a", PASSWORD)
    me = client.get("/api/v1/users", headers=bearer(str(body["access_token"])))
    for i, name in enumerate(["col_a", "COL_A", "Col_a", "cOL_A", "col_A"]):
        clock.now = NOW + timedelta(minutes=1, seconds=i)
        assert _login(client, name, "guess")[0] == 401
    locked = _login(client, "Col_A", PASSWORD)

    assert status == 200
    assert "Col_A" in {u["username"] for u in me.json()["items"]}
    assert locked[0] == 429  # five failures under five spellings are five on one name
    with transaction(engine) as session:
        keys = set(session.scalars(select(LoginAttempt.username)))
    assert keys == {"col_a"}
