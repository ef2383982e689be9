"""Error rendering: every error is JSON ``{code, message, ...}``; never a traceback.

One handler renders :class:`CuishouError`; request validation errors become 422 with
``code`` ``invalid_input``; anything unexpected is logged and answered with a plain 500.
Requests from pages (a browser asking for HTML, or HTMX) get the same errors as an HTML
page instead; a page never shows a traceback either.

Unexpected errors are caught by :class:`UnexpectedErrors`, a middleware inside Starlette's
outermost one: that one re-raises whatever reaches it, and the server (uvicorn) then logs
the raw exception — for a store error, a message quoting row values (PostgreSQL's
``DETAIL:  Key (id_number)=(…)``, ``Failing row contains (…)``). Here the exception stops;
the log gets :func:`~cuishou.store.errors.safe_traceback` (frames kept, values withheld).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from cuishou.kit.errors import ConfigError, CuishouError, InvalidInput, NotFound
from cuishou.store.errors import safe_traceback
from cuishou.web.pages import error_page, wants_html

log = logging.getLogger("cuishou.web")

_HTTP_CODES = {404: "not_found", 405: "method_not_allowed", 401: "not_authenticated"}


def error_response(exc: CuishouError) -> JSONResponse:
    headers: dict[str, str] = {}
    if exc.http_status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry_after = exc.details.get("retry_after")
    if exc.http_status == 429 and isinstance(retry_after, int):
        headers["Retry-After"] = str(retry_after)
    return JSONResponse(exc.to_dict(), status_code=exc.http_status, headers=headers)


def _field_of(location: tuple[Any, ...]) -> str:
    parts = [str(p) for p in location if p not in ("body", "query", "path", "form")]
    return ".".join(parts) or "request"


async def _domain_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, CuishouError)
    if wants_html(request):
        return error_page(request, exc)
    return error_response(exc)


async def _validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _field_of(tuple(e.get("loc", ()))), "message": str(e.get("msg", "invalid"))}
        for e in exc.errors()
    ]
    summary = "; ".join(f"{e['field']}: {e['message']}" for e in errors[:5])
    if wants_html(request):
        return error_page(request, InvalidInput(f"the request is not valid: {summary}"))
    return JSONResponse(
        {
            "code": "invalid_input",
            "message": f"the request is not valid: {summary}",
            "errors": errors,
        },
        status_code=422,
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    if wants_html(request) and exc.status_code == 404:
        return error_page(request, NotFound(f"nothing at {request.url.path}"))
    return JSONResponse(
        {"code": code, "message": str(exc.detail)},
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def _unexpected_response(request: Request) -> Response:
    if wants_html(request):
        return error_page(request, ConfigError("internal error; it has been logged"))
    return JSONResponse(
        {"code": "internal_error", "message": "internal error; it has been logged"},
        status_code=500,
    )


class UnexpectedErrors:
    """Answer any unexpected exception with a plain 500 and log it without values.

    The exception is not re-raised, so the server has nothing to log in full. When the
    response had already started, it is only logged (the client sees a cut response).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watched_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watched_send)
        except Exception as exc:
            request = Request(scope, receive)
            log.error(
                "unhandled error on %s %s\n%s",
                request.method,
                request.url.path,
                safe_traceback(exc).rstrip(),
            )
            if started:
                return
            try:
                response = _unexpected_response(request)
            except Exception as page_exc:  # the error page itself failed: answer plainly
                log.error("the error page failed too\n%s", safe_traceback(page_exc).rstrip())
                response = PlainTextResponse("internal error", status_code=500)
            await response(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(CuishouError, _domain_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_middleware(UnexpectedErrors)
