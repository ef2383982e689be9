"""Schemathesis against our own OpenAPI schema: no generated input gets a 5xx, on both stores.

Valid and invalid requests are generated for every operation and sent as a manager (who may
write almost everywhere), on a store with cases, contact points and alerts to hit.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case
from sqlalchemy import Engine

from cuishou.store.db import transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.web.factories import Clock, make_alert
from tests.web.world import build_world

FUZZ = settings(
    max_examples=12,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.slow
def test_no_generated_request_gets_a_server_error(engine: Engine) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        for _ in range(3):
            make_alert(session, case=world.case_for_a(session))
    headers = {"Authorization": f"Bearer {world.tokens['manager']}"}
    statuses: set[int] = set()
    app = create_app(engine, WebSettings(clock=Clock()))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 13

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @FUZZ
            @given(case=operation.as_strategy(generation_mode=mode))
            def no_5xx(case: Case) -> None:
                response = case.call(headers=headers)
                statuses.add(response.status_code)
                assert response.status_code < 500, (case.method, case.path, response.text)
                assert "Traceback" not in response.text

            try:
                no_5xx()
            except Unsatisfiable:
                # nothing in this operation can be made invalid (e.g. no parameters)
                assert mode is GenerationMode.NEGATIVE, operation.label
    # the requests were authenticated and reached the endpoints
    assert {200, 404, 422} <= statuses
