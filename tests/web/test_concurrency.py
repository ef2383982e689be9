"""Many clients at once, no think time: writes queue, nothing answers 5xx — on both stores.

The app runs under uvicorn in a thread (its event loop and thread pool, as ``cuishou
serve``); 100 collectors, each with their own case and connection, open their queue, open
the case and log a contact, back to back, all at the same time — more requests in flight
than the server has worker threads (40) or pooled connections. Nothing here is timed: the
test asserts that every request got its normal answer and that every contact was stored.
(Before docs/adr/0012 this gave 500s on both stores: ``QueuePool limit … reached``.)
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Awaitable
from contextlib import AsyncExitStack

import httpx
import pytest
from sqlalchemy import Engine, func, select

from cuishou.store.db import transaction
from cuishou.store.tables import Contact
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.web.factories import (
    Clock,
    bearer,
    debtor_mobile,
    make_case,
    make_team,
    make_user,
    token_for,
)
from tests.web.live import run_clients, served

COLLECTORS = 100
ROUNDS = 2


def _seed(engine: Engine) -> list[tuple[str, int, int]]:
    """(token, case id, debtor mobile id) for each collector."""
    with transaction(engine) as session:
        team = make_team(session, name="并发组")
        seeded = []
        for i in range(COLLECTORS):
            user = make_user(session, username=f"load_{i:02d}", team=team)
            case = make_case(session, assigned=user, team=team)
            seeded.append((token_for(session, user=user), case.id, debtor_mobile(session, case).id))
        return seeded


async def _ask(answers: Counter[str], kind: str, request: Awaitable[httpx.Response]) -> None:
    try:
        response = await request
    except httpx.HTTPError as exc:  # counted, so the assertion shows what went wrong
        answers[f"{kind} {type(exc).__name__}"] += 1
        return
    answers[f"{kind} {response.status_code}"] += 1


async def _collector(
    client: httpx.AsyncClient, token: str, case_id: int, point_id: int, answers: Counter[str]
) -> None:
    headers = bearer(token)
    for _ in range(ROUNDS):
        await _ask(answers, "queue", client.get("/api/v1/queue", headers=headers))
        await _ask(answers, "case", client.get(f"/api/v1/cases/{case_id}", headers=headers))
        await _ask(
            answers,
            "contact",
            client.post(
                f"/api/v1/cases/{case_id}/contacts",
                json={"contact_point_id": point_id, "channel": "call", "outcome": "no_answer"},
                headers=headers,
            ),
        )


async def _run(base: str, seeded: list[tuple[str, int, int]]) -> Counter[str]:
    answers: Counter[str] = Counter()
    async with AsyncExitStack() as stack:
        clients = [
            await stack.enter_async_context(httpx.AsyncClient(base_url=base, timeout=300.0))
            for _ in seeded
        ]
        await asyncio.gather(
            *(
                _collector(client, *one, answers)
                for client, one in zip(clients, seeded, strict=True)
            )
        )
    return answers


@pytest.mark.slow
def test_a_hundred_clients_without_think_time_get_no_server_error(engine: Engine) -> None:
    seeded = _seed(engine)
    app = create_app(engine, WebSettings(clock=Clock()))

    with served(app) as base:
        answers = run_clients(_run(base, seeded))

    assert answers == {
        "queue 200": COLLECTORS * ROUNDS,
        "case 200": COLLECTORS * ROUNDS,
        "contact 201": COLLECTORS * ROUNDS,
    }
    with transaction(engine) as session:
        stored = session.scalar(select(func.count()).select_from(Contact))
    assert stored == COLLECTORS * ROUNDS
