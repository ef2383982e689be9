"""Errors are JSON with a code and a message; no traceback reaches a client."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from cuishou.kit.errors import Conflict
from cuishou.store.db import transaction
from cuishou.store.tables import Event
from cuishou.web.app import create_app
from cuishou.web.deps import SessionDep
from tests.web.factories import bearer
from tests.web.world import build_world


def _app_with_failing_routes(engine: Engine) -> TestClient:
    app = create_app(engine)
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
