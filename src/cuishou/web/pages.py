"""The people's side of the edge: cookie sessions, CSRF, language and page rendering.

A person logs in on ``/login`` and gets a session cookie (``HttpOnly``, ``SameSite=Lax``,
with an expiry) holding an opaque token; only its SHA-256 is stored, in the same table as
the API's bearer tokens, so the lifetime, revocation (logout) and deactivation rules are the
API's. Bearer tokens stay the only way into ``/api/v1``; cookies are never read there.

Every form carries a CSRF token: the HMAC-SHA256 of the session token, so it is per session,
needs no storage and cannot be computed without the HttpOnly cookie. A POST without it or
with a wrong one is refused with 403 before anything else runs. The login form, which has no
session yet, uses a double-submit cookie instead.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import BaseModel, ValidationError
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from cuishou.auth.rules import Principal, can
from cuishou.auth.service import authenticate
from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import CuishouError, InvalidInput, NotAuthenticated
from cuishou.kit.money import format_yuan_grouped
from cuishou.web.deps import NowDep, SessionDep
from cuishou.web.i18n import HTML_LANG, LANGUAGES, language_of, translate

SESSION_COOKIE = "cuishou_session"
LANGUAGE_COOKIE = "cuishou_lang"
LOGIN_CSRF_COOKIE = "cuishou_login_csrf"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
LANGUAGE_COOKIE_AGE = timedelta(days=365)

TEMPLATES = Jinja2Templates(directory=Path(__file__).parent / "templates")
STATIC_DIR = Path(__file__).parent / "static"


class CsrfRefused(CuishouError):
    """A form POST without the session's CSRF token, or with a wrong one (HTTP 403)."""

    code = "csrf_failed"
    http_status = 403


def csrf_token_for(session_token: str) -> str:
    """The per-session CSRF token: HMAC-SHA256 of the (secret, HttpOnly) session token."""
    return hmac.new(session_token.encode("utf-8"), b"cuishou-csrf", hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def tokens_match(sent: object, expected: str) -> bool:
    return isinstance(sent, str) and bool(sent) and hmac.compare_digest(sent, expected)


def language_from(request: Request) -> str:
    return language_of(request.cookies.get(LANGUAGE_COOKIE))


def safe_next(target: str | None, default: str = "/") -> str:
    """Only local paths are followed after login or a language switch (no open redirect)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def wants_html(request: Request) -> bool:
    """Pages answer errors with HTML; the JSON API (and API clients) keep JSON."""
    if request.url.path.startswith("/api/"):
        return False
    if getattr(request.state, "page", False) or request.headers.get("HX-Request") == "true":
        return True
    return "text/html" in request.headers.get("accept", "")


def is_htmx(request: Request) -> bool:
    return request.headers.get("HX-Request") == "true"


def _local_time(moment: datetime | str | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Beijing wall-clock time for people (stored times are UTC; payloads hold ISO text)."""
    if not moment:
        return ""
    if isinstance(moment, str):
        try:
            parsed = datetime.fromisoformat(moment)
        except ValueError:
            return moment
        return _local_time(parsed, fmt)
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(CHINA_TZ).strftime(fmt)


def _yuan_text(amount: str | int) -> str:
    """A yuan decimal string from a schema (``"1234.50"``) or fen, for people."""
    if isinstance(amount, int):
        return format_yuan_grouped(amount)
    whole, _, part = amount.partition(".")
    sign = "-" if whole.startswith("-") else ""
    return f"{sign}¥{int(whole.lstrip('-') or 0):,}.{(part + '00')[:2]}"


TEMPLATES.env.filters["local_time"] = _local_time
TEMPLATES.env.filters["yuan"] = _yuan_text
TEMPLATES.env.globals["zip"] = zip


@dataclass(frozen=True)
class Page:
    """What every page handler gets: the request, who is logged in, language, CSRF token."""

    request: Request
    principal: Principal | None
    language: str
    csrf: str
    now: datetime

    def t(self, key: str, **values: object) -> str:
        return translate(self.language, key, **values)

    def can(self, permission: str) -> bool:
        return self.principal is not None and can(self.principal.role, permission)

    @property
    def user(self) -> Principal:
        if self.principal is None:  # pragma: no cover - page_of always authenticates
            raise NotAuthenticated("log in first")
        return self.principal

    @property
    def today(self) -> date:
        return self.now.astimezone(CHINA_TZ).date()


def nav_for(page: Page) -> list[tuple[str, str]]:
    """(path, label key) of the menu entries this role may open."""
    items: list[tuple[str, str]] = [("/queue", "nav.queue")]
    if page.can("workload.read"):
        items.append(("/team", "nav.team"))
    items.append(("/alerts", "nav.alerts"))
    if page.can("agreement.approve"):
        items.append(("/agreements/inbox", "nav.agreements"))
    if page.can("report.read"):
        items.append(("/overview", "nav.overview"))
        items.append(("/kpis", "nav.kpis"))
    if page.can("workload.read"):
        items.append(("/kpis/team", "nav.kpis_team"))
        items.append(("/allocation", "nav.allocation"))
        items.append(("/skiptrace", "nav.skiptrace"))
    if page.can("visit.read") and page.user.role in ("collector", "team_lead", "manager"):
        items.append(("/visits", "nav.visits"))
    if page.can("model.read"):
        items.append(("/models", "nav.models"))
    if page.can("strategy.read"):
        items.append(("/strategies", "nav.strategies"))
    if page.can("experiment.read"):
        items.append(("/experiments", "nav.experiments"))
    if page.can("agency.read"):
        items.append(("/agency", "nav.agency"))
    if page.can("compliance.report"):
        items.append(("/compliance", "nav.compliance"))
    if page.can("qa.read"):
        items.append(("/qa", "nav.qa"))
    if page.can("user.read") and page.user.role != "team_lead":
        items.append(("/admin/users", "nav.users"))
    if page.can("team.read"):
        items.append(("/admin/teams", "nav.teams"))
    return items


def render(
    page: Page,
    template: str,
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    context: dict[str, Any] = {
        "page": page,
        "t": page.t,
        "lang": page.language,
        "html_lang": HTML_LANG[page.language],
        "languages": LANGUAGES,
        "csrf": page.csrf,
        "principal": page.principal,
        "nav": nav_for(page) if page.principal is not None else [],
        "path": page.request.url.path,
        "full_path": str(page.request.url.path)
        + (f"?{page.request.url.query}" if page.request.url.query else ""),
        **values,
    }
    return TEMPLATES.TemplateResponse(
        page.request, template, context, status_code=status_code, headers=headers
    )


def _page_principal(request: Request, session: SessionDep, now: NowDep) -> Principal:
    request.state.page = True
    token = request.cookies.get(SESSION_COOKIE)
    if not token:
        raise NotAuthenticated("log in first")
    return authenticate(session, token=token, now=now)


def page_of(
    request: Request, principal: Annotated[Principal, Depends(_page_principal)], now: NowDep
) -> Page:
    token = request.cookies.get(SESSION_COOKIE, "")
    return Page(request, principal, language_from(request), csrf_token_for(token), now)


def anonymous_page(request: Request, now: NowDep) -> Page:
    request.state.page = True
    return Page(request, None, language_from(request), "", now)


async def checked_form(
    request: Request, principal: Annotated[Principal, Depends(_page_principal)]
) -> FormData:
    """The POSTed form, after its CSRF token matched the session's (else 403)."""
    form = await request.form()
    token = request.cookies.get(SESSION_COOKIE, "")
    sent = form.get(CSRF_FIELD) or request.headers.get(CSRF_HEADER)
    if not tokens_match(sent, csrf_token_for(token)):
        raise CsrfRefused(
            "the form's security token is missing or wrong; reload the page and try again"
        )
    return form


PageDep = Annotated[Page, Depends(page_of)]
AnonymousPageDep = Annotated[Page, Depends(anonymous_page)]
FormDep = Annotated[FormData, Depends(checked_form)]


def form_errors(exc: ValidationError) -> list[tuple[str, str]]:
    """(field, message) pairs from a form that did not validate, for inline display."""
    errors = []
    for error in exc.errors():
        location = [str(p) for p in error.get("loc", ())]
        errors.append((location[-1] if location else "request", str(error.get("msg", "invalid"))))
    return errors


M = TypeVar("M", bound=BaseModel)
R = TypeVar("R")
FormErrors = list[tuple[str, str]]


def validated(model: type[M], payload: dict[str, Any]) -> M:
    """A form's payload as the API's input model; a form that does not validate is a clear
    422 naming each field (for forms whose errors need no inline display)."""
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise InvalidInput("; ".join(f"{f}: {m}" for f, m in form_errors(exc))) from exc


def refusal(exc: CuishouError, fields: Collection[str] = ()) -> tuple[str, str]:
    """(field, message) for a domain refusal shown beside a form: the field its details name,
    or the one a message like ``"first_due: …"`` starts with when it is one of ``fields``."""
    field = str(exc.details.get("field", ""))
    message = exc.message
    named, sep, rest = message.partition(": ")
    if not field and sep and named in fields:
        field, message = named, rest
    return (field or "request", message)


@dataclass(frozen=True)
class Attempt(Generic[R]):
    """What a form's action came to: its result, or the errors to show and their status
    (422 for input that does not validate, the refusal's own status otherwise)."""

    result: R | None
    errors: FormErrors
    status: int = 200


def attempt(
    session: Session,
    action: Callable[[], R],
    *,
    shown: Collection[int] = (422,),
    fields: Collection[str] = (),
) -> Attempt[R]:
    """Run a form's action (validate its input, call the service). Input that does not
    validate, and a refusal whose status is in ``shown`` (one the person can act on), come
    back as inline errors, and whatever the action wrote is rolled back; other errors
    propagate to the error page. The one shape every form handler uses:
    validate → service → errors inline → again."""
    try:
        return Attempt(action(), [])
    except ValidationError as exc:
        session.rollback()
        return Attempt(None, form_errors(exc), 422)
    except CuishouError as exc:
        if exc.http_status not in shown:
            raise
        session.rollback()  # nothing of a refused action is kept
        return Attempt(None, [refusal(exc, fields)], exc.http_status)


def redirect(path: str) -> Response:
    """After a successful POST: see the result with a GET (303)."""
    return RedirectResponse(path, status_code=303)


def login_redirect(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = f"/login?next={quote(target, safe='')}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


def error_page(request: Request, exc: CuishouError) -> Response:
    """A domain error on a page: 401 goes to the login page, the rest is a plain error page."""
    if exc.http_status == 401:
        return login_redirect(request)
    language = language_from(request)
    headline_key = (
        "error.csrf"
        if isinstance(exc, CsrfRefused)
        else f"error.{exc.http_status}"
        if exc.http_status in (403, 404, 409, 422, 500)
        else "error.generic"
    )
    page = Page(request, None, language, "", request.app.state.settings.clock())
    detail = "" if exc.http_status >= 500 else exc.message
    return render(
        page,
        "error.html",
        status_code=exc.http_status,
        headline=page.t(headline_key),
        detail=detail,
        status=exc.http_status,
    )
