"""Who can do what: every role against every endpoint, with the expected status written out.

Each request acts on fresh data inside the acting user's scope, so the only thing that
decides the answer is the role. The table is written by hand on purpose: it is the
specification, not a copy of ``auth.rules.PERMISSIONS``.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from cuishou.scoring.service import starter_files
from cuishou.store.db import transaction
from cuishou.store.tables import Account, Agreement, ModelVersion, StrategyVersion
from cuishou.strategy.definition import shipped_text, text_sha256
from tests.factories import NOW, make_payment
from tests.web.factories import bearer, debtor_mobile, make_alert
from tests.web.world import ROLE_ACTORS, World, build_world

ROLES = list(ROLE_ACTORS)
_names = itertools.count(1)


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: dict[str, Any] | None = None


def _case_call(
    suffix: str, body: Callable[[World, Any, Any], dict[str, Any] | None], method: str = "POST"
) -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        with transaction(engine) as session:
            case = world.case_for_a(session)
            point = debtor_mobile(session, case)
            return Call(method, f"/api/v1/cases/{case.id}{suffix}", body(world, case, point))

    return make


def _alert_call(action: str) -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        with transaction(engine) as session:
            alert = make_alert(session, case=world.case_for_a(session))
            return Call("POST", f"/api/v1/alerts/{alert.id}/{action}")

    return make


def _bulk_assign(world: World, engine: Engine) -> Call:
    with transaction(engine) as session:
        case = world.case_for_a(session)
        return Call("POST", "/api/v1/cases/assign", {"collector": "col_a", "case_ids": [case.id]})


def _plain(
    method: str, path: str, body: dict[str, Any] | None = None
) -> Callable[[World, Engine], Call]:
    return lambda _world, _engine: Call(method, path, body)


def _new_user(_world: World, _engine: Engine) -> Call:
    body = {"username": f"new{next(_names)}", "role": "collector", "password": "s3cret-pass"}
    return Call("POST", "/api/v1/users", body)


def _payment_call(source: str) -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        with transaction(engine) as session:
            account = _backdated_account(session, world)
            body = {
                "account_no": account.account_no,
                "amount": "10.00",
                "paid_at": NOW.isoformat(),
                "reference": f"MX{next(_names)}",
                "source": source,
            }
            return Call("POST", "/api/v1/payments", body)

    return make


def _backdated_account(session: Any, world: World) -> Account:
    case = world.case_for_a(session)
    account = session.scalars(select(Account).where(Account.case_id == case.id)).one()
    account.snapshot_date = NOW.date() - timedelta(days=7)
    return account  # type: ignore[no-any-return]


def _payment_on_file(suffix: str, method: str = "POST") -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        with transaction(engine) as session:
            account = _backdated_account(session, world)
            payment = make_payment(session, account=account, amount_fen=1_000, paid_at=NOW)
            body = {"reason": "退票"} if method == "POST" else None
            return Call(method, f"/api/v1/payments/{payment.id}{suffix}", body)

    return make


PLAN = {"kind": "deferral", "first_due": (NOW.date() + timedelta(days=10)).isoformat()}


def _agreement_call(world: World, engine: Engine) -> Call:
    """A plan col_a requested on a case of team A (collector level: no waiver)."""
    with transaction(engine) as session:
        case = world.case_for_a(session)
        agreement = Agreement(
            case_id=case.id, kind="deferral", status="requested", owed_fen=case.due_fen,
            excess_interest_fen=0, agreed_fen=case.due_fen, waived_fee_fen=0,
            waived_penalty_fen=0, waived_interest_fen=0, waived_principal_fen=0,
            waiver_share_bp=0, required_level="collector", terms={},
            requested_by=world.users["col_a"].id, requested_at=NOW, decision_reason="",
        )  # fmt: skip
        session.add(agreement)
        session.flush()
        return Call("POST", f"/api/v1/agreements/{agreement.id}/approve", {"reason": "ok"})


def _model_call(suffix: str, method: str) -> Callable[[World, Engine], Call]:
    """A fresh candidate version of the shipped starter scorecard (a real artefact)."""

    def make(world: World, engine: Engine) -> Call:
        artefact, meta = (path.read_text(encoding="utf-8") for path in starter_files())
        facts = json.loads(meta)
        with transaction(engine) as session:
            version = f"pay_30d-scorecard-m{next(_names)}"
            session.add(
                ModelVersion(
                    version=version, target="pay_30d", kind="scorecard", status="candidate",
                    train_from=NOW.date(), train_to=NOW.date(), validation_from=NOW.date(),
                    validation_to=NOW.date(), train_rows=1, validation_rows=1,
                    features=facts["features"], metrics=facts["metrics"], reference={},
                    artefact=artefact.encode(), sha256=facts["sha256"], trained_by="t",
                    trained_at=NOW,
                )
            )  # fmt: skip
        return Call(method, f"/api/v1/models/{version}{suffix}")

    return make


def _stored_strategy(session: Any, status: str) -> StrategyVersion:
    """A version of the shipped default strategy (its own text), written by another person."""
    text = shipped_text() + f"\n# matrix {next(_names)}\n"
    version = StrategyVersion(
        code="default", version=next(_names), zh="默认", en="Default", body=text,
        sha256=text_sha256(text), status=status, note="", author="someone-else",
        created_at=NOW, approved_by="another" if status != "draft" else None,
        approved_at=NOW if status != "draft" else None,
        effective_from=NOW.date() if status == "active" else None,
        activated_by="another" if status == "active" else None,
        activated_at=NOW if status == "active" else None,
    )  # fmt: skip
    session.add(version)
    session.flush()
    return version  # type: ignore[no-any-return]


def _strategy_call(
    suffix: str, status: str, method: str = "POST"
) -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        with transaction(engine) as session:
            version = _stored_strategy(session, status)
            return Call(method, f"/api/v1/strategies/{version.id}{suffix}")

    return make


def _strategy_text(path: str) -> Callable[[World, Engine], Call]:
    def make(world: World, engine: Engine) -> Call:
        return Call("POST", path, {"body": shipped_text() + f"\n# matrix {next(_names)}\n"})

    return make


def _strategy_diff(world: World, engine: Engine) -> Call:
    with transaction(engine) as session:
        a, b = _stored_strategy(session, "draft"), _stored_strategy(session, "draft")
        return Call("GET", f"/api/v1/strategies/diff?a={a.id}&b=default@{b.version}")


def _strategy_rollback(world: World, engine: Engine) -> Call:
    """Two versions in force one after the other, so that there is something to roll back."""
    with transaction(engine) as session:
        _stored_strategy(session, "active")
        _stored_strategy(session, "active")
    return Call("POST", "/api/v1/strategies/rollback")


PROMISE = {"amount": "100.00", "due_date": (NOW.date() + timedelta(days=3)).isoformat()}

ENDPOINTS: dict[str, Callable[[World, Engine], Call]] = {
    "GET /queue": _plain("GET", "/api/v1/queue"),
    "GET /cases": _plain("GET", "/api/v1/cases"),
    "GET /cases/{id}": _case_call("", lambda w, c, p: None, method="GET"),
    "POST /cases/{id}/contacts": _case_call(
        "/contacts",
        lambda w, c, p: {"contact_point_id": p.id, "channel": "call", "outcome": "no_answer"},
    ),
    "POST /cases/{id}/promises": _case_call("/promises", lambda w, c, p: PROMISE),
    "POST /cases/{id}/assign": _case_call("/assign", lambda w, c, p: {"collector": "col_a2"}),
    "POST /cases/assign": _bulk_assign,
    "POST /cases/{id}/reveal": _case_call("/reveal", lambda w, c, p: {"field": "id_number"}),
    "GET /alerts": _plain("GET", "/api/v1/alerts"),
    "POST /alerts/{id}/acknowledge": _alert_call("acknowledge"),
    "POST /alerts/{id}/resolve": _alert_call("resolve"),
    "GET /users": _plain("GET", "/api/v1/users"),
    "POST /users": _new_user,
    "POST /payments (api)": _payment_call("api"),
    "POST /payments (manual)": _payment_call("manual"),
    "GET /payments/{id}": _payment_on_file("", method="GET"),
    "POST /payments/{id}/reversal": _payment_on_file("/reversal"),
    "GET /promises/stats": _plain("GET", "/api/v1/promises/stats"),
    "POST /cases/{id}/agreements/quote": _case_call("/agreements/quote", lambda w, c, p: PLAN),
    "POST /cases/{id}/agreements": _case_call("/agreements", lambda w, c, p: PLAN),
    "GET /agreements/inbox": _plain("GET", "/api/v1/agreements/inbox"),
    "POST /agreements/{id}/approve": _agreement_call,
    "GET /models": _plain("GET", "/api/v1/models"),
    "GET /models/{version}": _model_call("", "GET"),
    "POST /models/{version}/promote": _model_call("/promote", "POST"),
    "GET /strategies": _plain("GET", "/api/v1/strategies"),
    "GET /strategies/{id}": _strategy_call("", "draft", "GET"),
    "GET /strategies/diff": _strategy_diff,
    "POST /strategies": _strategy_text("/api/v1/strategies"),
    "POST /strategies/validate": _strategy_text("/api/v1/strategies/validate"),
    "POST /strategies/{id}/approve": _strategy_call("/approve", "draft"),
    "POST /strategies/{id}/reject": _strategy_call("/reject", "draft"),
    "POST /strategies/{id}/activate": _strategy_call("/activate", "approved"),
    "POST /strategies/rollback": _strategy_rollback,
}

#                                  collector lead mgr  compl legal admin audit agency strat
EXPECTED: dict[str, tuple[int, ...]] = {
    "GET /queue":                    (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /cases":                    (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "GET /cases/{id}":               (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /cases/{id}/contacts":     (201, 201, 201, 403, 403, 403, 403, 201, 403),
    "POST /cases/{id}/promises":     (201, 201, 201, 403, 403, 403, 403, 201, 403),
    "POST /cases/{id}/assign":       (403, 200, 200, 403, 403, 200, 403, 403, 403),
    "POST /cases/assign":            (403, 200, 200, 403, 403, 200, 403, 403, 403),
    "POST /cases/{id}/reveal":       (403, 200, 200, 200, 200, 200, 200, 403, 200),
    "GET /alerts":                   (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /alerts/{id}/acknowledge": (403, 200, 200, 403, 403, 403, 403, 403, 403),
    "POST /alerts/{id}/resolve":     (403, 200, 200, 403, 403, 403, 403, 403, 403),
    "GET /users":                    (403, 200, 200, 403, 403, 200, 200, 403, 403),
    "POST /users":                   (403, 403, 403, 403, 403, 201, 403, 403, 403),
    "POST /payments (api)":          (403, 403, 201, 403, 403, 201, 403, 403, 403),
    "POST /payments (manual)":       (403, 201, 201, 403, 403, 403, 403, 403, 403),
    "GET /payments/{id}":            (200, 200, 200, 200, 200, 200, 200, 200, 200),
    "POST /payments/{id}/reversal":  (403, 403, 200, 403, 403, 403, 403, 403, 403),
    "GET /promises/stats":           (403, 200, 200, 403, 403, 403, 200, 403, 403),
    "POST /cases/{id}/agreements/quote": (200, 200, 200, 403, 403, 403, 403, 403, 403),
    "POST /cases/{id}/agreements":   (201, 201, 201, 403, 403, 403, 403, 403, 403),
    "GET /agreements/inbox":         (403, 200, 200, 403, 403, 403, 403, 403, 403),
    "POST /agreements/{id}/approve": (403, 200, 200, 403, 403, 403, 403, 403, 403),
    "GET /models":                   (403, 403, 200, 403, 403, 403, 200, 403, 200),
    "GET /models/{version}":         (403, 403, 200, 403, 403, 403, 200, 403, 200),
    "POST /models/{version}/promote": (403, 403, 403, 403, 403, 403, 403, 403, 200),
    "GET /strategies":               (403, 200, 200, 200, 403, 403, 200, 403, 200),
    "GET /strategies/{id}":          (403, 200, 200, 200, 403, 403, 200, 403, 200),
    "GET /strategies/diff":          (403, 200, 200, 200, 403, 403, 200, 403, 200),
    "POST /strategies":              (403, 403, 403, 403, 403, 403, 403, 403, 201),
    "POST /strategies/validate":     (403, 200, 200, 200, 403, 403, 200, 403, 200),
    "POST /strategies/{id}/approve": (403, 403, 200, 403, 403, 403, 403, 403, 200),
    "POST /strategies/{id}/reject":  (403, 403, 200, 403, 403, 403, 403, 403, 200),
    "POST /strategies/{id}/activate": (403, 403, 200, 403, 403, 403, 403, 403, 200),
    "POST /strategies/rollback":     (403, 403, 200, 403, 403, 403, 403, 403, 200),
}  # fmt: skip


def _send(client: TestClient, call: Call, headers: dict[str, str]) -> int:
    response = client.request(call.method, call.path, json=call.body, headers=headers)
    if response.status_code >= 400:
        assert set(response.json()) >= {"code", "message"}, response.text
    return response.status_code


def test_role_by_endpoint_matrix(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    got: dict[str, tuple[int, ...]] = {}
    for name, make_call in ENDPOINTS.items():
        statuses = []
        for role in ROLES:
            call = make_call(world, engine)
            statuses.append(_send(client, call, bearer(world.tokens[ROLE_ACTORS[role]])))
        got[name] = tuple(statuses)
    assert got == EXPECTED


def test_every_endpoint_needs_a_token(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    for name, make_call in ENDPOINTS.items():
        call = make_call(world, engine)
        for headers in ({}, bearer("not-a-token")):
            response = client.request(call.method, call.path, json=call.body, headers=headers)
            assert response.status_code == 401, name
            assert response.json()["code"] == "not_authenticated"
            assert response.headers["www-authenticate"] == "Bearer"


def test_a_deactivated_user_token_stops_working(engine: Engine, client: TestClient) -> None:
    world = build_world(engine)
    with transaction(engine) as session:
        user = session.merge(world.users["manager"])
        user.active = False
    response = client.get("/api/v1/cases", headers=bearer(world.tokens["manager"]))
    assert response.status_code == 401
