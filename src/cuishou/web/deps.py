"""Request-scoped dependencies: one transaction per request, the clock, the principal.

The session commits when the endpoint returns and rolls back when it raises; both happen
before the response is sent (``scope="function"``), so a client never sees success for
work that was not committed.

Waiting happens in the event loop, never in a worker thread (docs/adr/0012). A request
takes its turn before its session exists: a *writer* (any method but GET, HEAD and
OPTIONS) on SQLite first waits for the one writer's turn, and then every request waits for
a free connection of the pool. A thread that runs an endpoint therefore never blocks on
the pool or on SQLite's write lock, so the requests holding them always find a thread to
finish on. On SQLite a writer's transaction begins ``BEGIN IMMEDIATE`` and it has a
connection of its own; readers never wait for it (WAL).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Annotated

import anyio
from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cuishou.auth.rules import Principal
from cuishou.auth.service import DEFAULT_TOKEN_TTL, authenticate
from cuishou.kit.clock import utc_now
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy
from cuishou.store.db import is_sqlite, pool_capacity, session_factory, writer_engine

TOKEN_URL = "/api/v1/auth/token"


@dataclass(frozen=True)
class WebSettings:
    """What the app factory may be told; tests pass a fixed clock."""

    token_ttl: timedelta = DEFAULT_TOKEN_TTL
    clock: Callable[[], datetime] = field(default=utc_now)
    #: mark the session cookie ``Secure`` (serve behind HTTPS); off for http://127.0.0.1
    secure_cookies: bool = False
    #: how promises are taken (horizon, minimum amount)
    promise_policy: PromisePolicy = DEFAULT_POLICY


#: methods that never write; every other request is a writer
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class RequestStore:
    """How requests reach the store; built once per app by :meth:`of`."""

    readers: sessionmaker[Session]
    writers: sessionmaker[Session]
    #: SQLite only: the one writer's turn (FIFO)
    writer_turn: anyio.Lock | None
    #: connections requests may hold at once without waiting on the pool: all of them on
    #: PostgreSQL; on SQLite all but the one kept for the writer
    connections: anyio.Semaphore | None

    @classmethod
    def of(cls, engine: Engine) -> RequestStore:
        capacity = pool_capacity(engine)
        sqlite = is_sqlite(engine)
        if capacity is not None and sqlite:
            capacity -= 1
        return cls(
            readers=session_factory(engine),
            writers=session_factory(writer_engine(engine)),
            writer_turn=anyio.Lock() if sqlite else None,
            connections=anyio.Semaphore(capacity) if capacity is not None else None,
        )

    @asynccontextmanager
    async def turn(self, *, writer: bool) -> AsyncIterator[None]:
        """Wait (in the event loop) until this request may use the store."""
        async with AsyncExitStack() as stack:
            if self.writer_turn is not None and writer:
                await stack.enter_async_context(self.writer_turn)
            elif self.connections is not None:
                await stack.enter_async_context(self.connections)
            yield


def _store(request: Request) -> RequestStore:
    store: RequestStore = request.app.state.store
    return store


def is_writer(request: Request) -> bool:
    return request.method not in READ_METHODS


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def _end(session: Session, *, commit: bool) -> None:
    try:
        if commit:
            session.commit()
        else:
            session.rollback()
    finally:
        session.close()


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One request = one transaction: commit on success, roll back on any error.

    The turn is taken and the session made in the event loop; the commit (or rollback)
    runs in a worker thread, shielded so a cancelled request still gives back its
    connection and its turn.
    """
    store = _store(request)
    writer = is_writer(request)
    async with store.turn(writer=writer):
        session = (store.writers if writer else store.readers)()
        try:
            yield session
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(partial(_end, session, commit=False))
            raise
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(partial(_end, session, commit=True))


def get_now(request: Request) -> datetime:
    """The request's ``now`` (one reading of the clock per request)."""
    return settings_of(request).clock()


SessionDep = Annotated[Session, Depends(get_session, scope="function")]
NowDep = Annotated[datetime, Depends(get_now)]
SettingsDep = Annotated[WebSettings, Depends(settings_of)]

_bearer = OAuth2PasswordBearer(tokenUrl=TOKEN_URL, auto_error=False)


def current_principal(
    session: SessionDep, now: NowDep, token: Annotated[str | None, Depends(_bearer)]
) -> Principal:
    return authenticate(session, token=token, now=now)


PrincipalDep = Annotated[Principal, Depends(current_principal)]

#: ids are BIGINT: larger numbers cannot name a row (and must not reach the driver)
MAX_ID = 2**63 - 1
CaseId = Annotated[int, Path(ge=1, le=MAX_ID, description="case id")]
AlertId = Annotated[int, Path(ge=1, le=MAX_ID, description="alert id")]
PointId = Annotated[int, Path(ge=1, le=MAX_ID, description="contact point id")]
AgreementId = Annotated[int, Path(ge=1, le=MAX_ID, description="agreement id")]
PlacementId = Annotated[int, Path(ge=1, le=MAX_ID, description="agency placement id")]
