"""Auth endpoints: token login (OAuth2 password form) and users."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request, status
from fastapi.responses import JSONResponse

from cuishou.auth import service
from cuishou.auth.schemas import LoginIn, TokenOut, UserIn, UserList, UserOut
from cuishou.web.deps import NowDep, PrincipalDep, SessionDep, SettingsDep
from cuishou.web.errors import error_response

router = APIRouter(tags=["auth"])


@router.post(
    "/auth/token",
    response_model=TokenOut,
    summary="Log in with username and password for a bearer token",
    responses={
        401: {"description": "wrong credentials"},
        422: {"description": "a field missing or too long (username ≤ 64, password ≤ 1,024)"},
        429: {"description": "throttled"},
    },
)
def token(
    form: Annotated[LoginIn, Form()],
    request: Request,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
) -> TokenOut | JSONResponse:
    # A failed attempt is recorded and committed too, so it is answered, not raised.
    result = service.login(
        session,
        username=form.username,
        password=form.password,
        now=now,
        remote=request.client.host if request.client else "",
        ttl=settings.token_ttl,
    )
    if result.error is not None:
        return error_response(result.error)
    assert result.token is not None
    return result.token


@router.get(
    "/users",
    response_model=UserList,
    summary="Users (admin, manager, auditor; team lead: own team)",
)
def list_users(session: SessionDep, principal: PrincipalDep) -> UserList:
    return service.list_users(session, principal)


@router.post(
    "/users",
    response_model=UserOut,
    status_code=status.HTTP_201_CREATED,
    summary="Create a user (admin)",
)
def create_user(data: UserIn, session: SessionDep, principal: PrincipalDep, now: NowDep) -> UserOut:
    return service.create_user(session, principal, data, now=now)
