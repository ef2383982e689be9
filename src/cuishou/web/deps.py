"""Request-scoped dependencies: one transaction per request, the clock, the principal.

The session commits when the endpoint returns and rolls back when it raises; both happen
before the response is sent (``scope="function"``), so a client never sees success for
work that was not committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker

from cuishou.auth.rules import Principal
from cuishou.auth.service import DEFAULT_TOKEN_TTL, authenticate
from cuishou.kit.clock import utc_now
from cuishou.promises.rules import DEFAULT_POLICY, PromisePolicy

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


def _sessions(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


def settings_of(request: Request) -> WebSettings:
    settings: WebSettings = request.app.state.settings
    return settings


def get_session(request: Request) -> Iterator[Session]:
    """One request = one transaction: commit on success, roll back on any error."""
    session = _sessions(request)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


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
AgreementId = Annotated[int, Path(ge=1, le=MAX_ID, description="agreement id")]
