"""The app factory: ``create_app(engine)`` → FastAPI with the JSON API under ``/api/v1``
and the pages for people (login, queue, case, agreements, team, alerts, overview, admin)
at the root."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from cuishou import __version__
from cuishou.agreements.api import router as agreements_router
from cuishou.agreements.pages import router as agreements_pages
from cuishou.alerts.api import router as alerts_router
from cuishou.alerts.pages import router as alerts_pages
from cuishou.auth.api import router as auth_router
from cuishou.auth.pages import router as auth_pages
from cuishou.cases.api import router as cases_router
from cuishou.cases.pages import router as cases_pages
from cuishou.compliance.api import router as compliance_router
from cuishou.compliance.pages import router as compliance_pages
from cuishou.contact.api import router as contact_router
from cuishou.contact.pages import router as contact_pages
from cuishou.promises.api import router as promises_router
from cuishou.quality.api import router as quality_router
from cuishou.repayment.api import router as payments_router
from cuishou.reporting.pages import router as reporting_pages
from cuishou.templates.api import router as templates_router
from cuishou.web.deps import RequestStore, WebSettings
from cuishou.web.errors import install_error_handlers
from cuishou.web.pages import STATIC_DIR

API_PREFIX = "/api/v1"


def create_app(engine: Engine, settings: WebSettings | None = None) -> FastAPI:
    app = FastAPI(
        title="Cuishou 催收 API",
        version=__version__,
        description=(
            "Debt-collection workbench API. Log in at `POST /api/v1/auth/token` (OAuth2 "
            "password form) and send `Authorization: Bearer <token>`. Errors are JSON "
            "`{code, message}`. Amounts are yuan decimal strings; PII is masked."
        ),
    )
    app.state.engine = engine
    app.state.store = RequestStore.of(engine)
    app.state.settings = settings or WebSettings()
    install_error_handlers(app)
    routers = (
        auth_router,
        cases_router,
        contact_router,
        promises_router,
        alerts_router,
        compliance_router,
        quality_router,
        templates_router,
        payments_router,
        agreements_router,
    )
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    pages_routers = (
        auth_pages,
        cases_pages,
        contact_pages,
        alerts_pages,
        reporting_pages,
        compliance_pages,
        agreements_pages,
    )
    for pages in pages_routers:
        app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
