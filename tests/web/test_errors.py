"""Errors are JSON with a code and a message; no traceback reaches a client."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.kit.errors import Conflict
from cuishou.store.db import transaction
from cuishou.store.tables import Event
from cuishou.web.app import create_app
from cuishou.web.deps import SessionDep, WebSettings
from tests.factories import make_debtor, valid_id_number
from tests.logs import log_everything
from tests.web.factories import Clock, bearer
from tests.web.pages import HTML
from tests.web.world import build_world


def _app_with_failing_routes(engine: Engine) -> TestClient:
    app = create_app(engine, WebSettings(clock=Clock()))
    router = APIRouter()

    @router.get("/boom")
    def boom(session: SessionDep) -> dict[str, str]:
        session.execute(
            Event.__table__.insert().values(  # written, then rolled back
                at=func.now(), actor="t", type="t", entity_type="t", payload={}
            )
        )
        raise RuntimeError("secret internal detail")

    @router.get("/conflict")
    def conflict(session: SessionDep) -> dict[str, str]:
        raise Conflict("already done", field="x")

    app.include_router(router)
    return TestClient(app, raise_server_exceptions=False)


def test_an_unexpected_error_is_a_plain_500_and_rolls_back(engine: Engine) -> None:
    client = _app_with_failing_routes(engine)
    response = client.get("/boom")
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "message": "internal error; it has been logged",
    }
    assert "Traceback" not in response.text and "secret" not in response.text
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Event)) == 0


def test_a_domain_error_renders_its_code_status_and_details(engine: Engine) -> None:
    response = _app_with_failing_routes(engine).get("/conflict")
    assert response.status_code == 409
    assert response.json() == {"code": "conflict", "message": "already done", "field": "x"}


def test_unknown_routes_and_methods_are_json(engine: Engine, client: TestClient) -> None:
    missing = client.get("/api/v1/nothing-here")
    wrong_method = client.delete("/api/v1/cases")
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"
    assert wrong_method.status_code == 405 and wrong_method.json()["code"] == "method_not_allowed"


def test_malformed_json_and_huge_ids_are_422(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    headers = bearer(world.tokens["col_a"]) | {"content-type": "application/json"}
    broken = client.post("/api/v1/cases/1/contacts", content=b"{not json", headers=headers)
    huge = client.get(f"/api/v1/cases/{2**70}", headers=headers)
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_input"
    assert huge.status_code == 422 and huge.json()["code"] == "invalid_input"


def test_openapi_lists_the_api(engine: Engine, client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    paths = set(schema["paths"])
    assert {
        "/api/v1/auth/token",
        "/api/v1/queue",
        "/api/v1/cases",
        "/api/v1/cases/{case_id}",
        "/api/v1/cases/{case_id}/contacts",
        "/api/v1/cases/{case_id}/promises",
        "/api/v1/cases/{case_id}/assign",
        "/api/v1/alerts",
        "/api/v1/users",
    } <= paths
    assert "OAuth2PasswordBearer" in schema["components"]["securitySchemes"]


def test_text_no_store_can_hold_is_refused_on_both_stores(
    engine: Engine, client: TestClient
) -> None:
    world = build_world(engine)
    login = client.post("/api/v1/auth/token", data={"username": "a\x00b", "password": "x"})
    listed = client.get("/api/v1/cases?assigned=a%00b", headers=bearer(world.tokens["admin"]))
    assert login.status_code == 422 and login.json()["field"] == "username"
    assert listed.status_code == 422 and listed.json()["errors"][0]["field"] == "assigned"


@contextmanager
def _served(app: FastAPI) -> Iterator[str]:
    """``app`` under uvicorn, as ``cuishou serve`` runs it, on a free port; uvicorn's own
    loggers (``uvicorn.error`` logs what escapes the app) propagate to ``caplog``."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = int(sock.getsockname()[1])
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, log_level=None)
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            pytest.fail("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_a_store_error_puts_the_id_number_in_no_response_and_no_server_log(
    engine: Engine, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # given a debtor with this ID number, and routes with a bug: each stores a second
    # debtor with the same number, so the store refuses with an error carrying it
    number = valid_id_number(serial=712, born=date(1979, 12, 1))
    with transaction(engine) as session:
        make_debtor(session, id_number=number)
    app = create_app(engine, WebSettings(clock=Clock()))
    router = APIRouter()

    @router.post("/api/v1/duplicate-debtor")
    @router.post("/duplicate-debtor")
    def duplicate(session: SessionDep) -> dict[str, str]:
        make_debtor(session, id_number=number, name="重复")
        return {}

    app.include_router(router)
    log_everything(caplog)
    # when the API and a page call them on the server
    with _served(app) as url:
        api = httpx.post(f"{url}/api/v1/duplicate-debtor", timeout=30)
        page = httpx.post(f"{url}/duplicate-debtor", headers=HTML, timeout=30)
    out, err = capfd.readouterr()
    # then both get a plain 500 and the log says what failed, by name only
    assert api.status_code == 500 and api.json()["code"] == "internal_error"
    assert page.status_code == 500 and "<html" in page.text
    assert "unhandled error on POST /api/v1/duplicate-debtor" in caplog.text
    assert "IntegrityError" in caplog.text and "debtors" in caplog.text
    assert "INSERT INTO debtors" in caplog.text  # SQLAlchemy's statement log was captured
    # and the full ID number is in no response, no log record and no output of the server
    for text in (api.text, page.text, caplog.text, out, err):
        assert number not in text
