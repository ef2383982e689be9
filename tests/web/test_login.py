"""Token login: argon2 passwords, throttling per username, token expiry — on both stores."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.store.db import transaction
from cuishou.store.tables import ApiToken, LoginAttempt, User
from tests.factories import NOW
from tests.web.factories import Clock, bearer, make_user

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
