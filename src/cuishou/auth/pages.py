"""Pages for signing in and out, the language switch, and the admin's users and teams."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from cuishou.auth import service
from cuishou.auth.rules import MAX_PASSWORD_LENGTH, MAX_USERNAME_LENGTH, ROLES, login_problem
from cuishou.auth.schemas import TeamIn, TeamOut, UserIn, UserOut
from cuishou.kit.errors import InvalidInput, TooManyAttempts
from cuishou.web.deps import NowDep, SessionDep, SettingsDep
from cuishou.web.i18n import LANGUAGES
from cuishou.web.pages import (
    LANGUAGE_COOKIE,
    LANGUAGE_COOKIE_AGE,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AnonymousPageDep,
    CsrfRefused,
    FormDep,
    PageDep,
    attempt,
    new_login_csrf,
    redirect,
    render,
    safe_next,
    tokens_match,
)

router = APIRouter(include_in_schema=False)

#: where each role starts after logging in
HOME = {
    "collector": "/queue",
    "agency": "/queue",
    "team_lead": "/team",
    "manager": "/overview",
    "admin": "/admin/users",
    "auditor": "/overview",
}


@router.get("/")
def home(page: PageDep) -> Response:
    return redirect(HOME.get(page.user.role, "/queue"))


def _login_form(
    page: AnonymousPageDep,
    *,
    next_path: str,
    error: str = "",
    username: str = "",
    status_code: int = 200,
) -> Response:
    token = new_login_csrf()
    response = render(
        page,
        "login.html",
        status_code=status_code,
        login_csrf=token,
        next_path=next_path,
        error=error,
        username=username,
        notice=page.t("login.logged_out") if page.request.query_params.get("bye") else "",
    )
    response.set_cookie(
        LOGIN_CSRF_COOKIE, token, httponly=True, samesite="lax", path="/login", max_age=3600
    )
    return response


@router.get("/login")
def login_page(page: AnonymousPageDep, next: Annotated[str | None, Query()] = None) -> Response:
    return _login_form(page, next_path=safe_next(next))


@router.post("/login")
def login(
    page: AnonymousPageDep,
    request: Request,
    session: SessionDep,
    now: NowDep,
    settings: SettingsDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form(max_length=200)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    """Password login for people: the API's argon2 check and throttling, then a cookie."""
    if not tokens_match(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "")):
        raise CsrfRefused("the login form has expired; reload the page and try again")
    next_path = safe_next(next)
    problem = login_problem(username=username, password=password)
    if problem is not None:
        # missing or too long: answered before anything is written or hashed
        refusal = (
            page.t("login.too_long", username=MAX_USERNAME_LENGTH, password=MAX_PASSWORD_LENGTH)
            if problem.kind == "too_long"
            else page.t("login.invalid")
        )
        shown = username if len(username) <= MAX_USERNAME_LENGTH else ""
        return _login_form(
            page, next_path=next_path, error=refusal, username=shown, status_code=422
        )
    result = service.login(
        session,
        username=username,
        password=password,
        now=now,
        remote=request.client.host if request.client else "",
        ttl=settings.token_ttl,
    )
    if result.error is not None:
        error = result.error
        if isinstance(error, TooManyAttempts):
            wait = int(error.details.get("retry_after", 60))
            message = page.t("login.throttled", minutes=(wait + 59) // 60)
        elif isinstance(error, InvalidInput):
            message = page.t("login.invalid")
        else:
            message = page.t("login.failed")
        # the failed attempt is committed by the session dependency, like the API's
        return _login_form(
            page,
            next_path=next_path,
            error=message,
            username=username,
            status_code=error.http_status,
        )
    assert result.token is not None
    response = redirect(next_path)
    response.set_cookie(
        SESSION_COOKIE,
        result.token.access_token,
        max_age=int(settings.token_ttl.total_seconds()),
        expires=result.token.expires_at,
        httponly=True,
        samesite="lax",
        secure=settings.secure_cookies,
        path="/",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout")
def logout(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    service.end_session(session, token=page.request.cookies.get(SESSION_COOKIE, ""), now=now)
    response = redirect("/login?bye=1")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/lang/{language}")
def switch_language(
    language: str, request: Request, next: Annotated[str | None, Query()] = None
) -> Response:
    """The language switch (语言): a preference cookie, then back to where the person was."""
    response = redirect(safe_next(next))
    if language in LANGUAGES:
        response.set_cookie(
            LANGUAGE_COOKIE,
            language,
            max_age=int(LANGUAGE_COOKIE_AGE.total_seconds()),
            httponly=True,
            samesite="lax",
            path="/",
        )
    return response


@router.get("/admin/users")
def users_page(page: PageDep, session: SessionDep) -> Response:
    users = service.list_users(session, page.user)
    return render(page, "admin_users.html", users=users.items, roles=list(ROLES))


@router.post("/admin/users")
def create_user(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    values = {
        name: str(form.get(name) or "").strip() or None
        for name in ("username", "role", "password", "display_name", "team", "agency")
    }

    def create() -> UserOut:
        data = UserIn.model_validate({k: v for k, v in values.items() if v is not None})
        return service.create_user(session, page.user, data, now=now)

    created = attempt(session, create, shown=(409, 422))
    if created.result is None:
        users = service.list_users(session, page.user)
        return render(
            page,
            "admin_users.html",
            status_code=422,
            users=users.items,
            roles=list(ROLES),
            errors=created.errors,
            values=values,
        )
    return redirect(f"/admin/users?created={created.result.username}")


@router.get("/admin/teams")
def teams_page(page: PageDep, session: SessionDep) -> Response:
    return render(page, "admin_teams.html", teams=service.list_teams(session, page.user).items)


@router.post("/admin/teams")
def create_team(page: PageDep, form: FormDep, session: SessionDep, now: NowDep) -> Response:
    values = {name: str(form.get(name) or "").strip() or None for name in ("name", "agency")}

    def create() -> TeamOut:
        data = TeamIn.model_validate({k: v for k, v in values.items() if v is not None})
        return service.create_team(session, page.user, data, now=now)

    created = attempt(session, create, shown=(409, 422))
    if created.result is None:
        teams = service.list_teams(session, page.user).items
        return render(
            page,
            "admin_teams.html",
            status_code=422,
            teams=teams,
            errors=created.errors,
            values=values,
        )
    return redirect(f"/admin/teams?created={created.result.name}")
