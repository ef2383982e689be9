"""The app factory: ``create_app(engine)`` → FastAPI with the JSON API under ``/api/v1``
and the pages for people (login, queue, case, agreements, team, alerts, overview, KPI
dashboards, model cards, admin) at the root. ``/docs`` is Swagger UI from the vendored files in
``static/swagger-ui`` (nothing is loaded from a CDN, so it works offline); ReDoc is not served."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from cuishou import __version__
from cuishou.agency.api import router as agency_router
from cuishou.agency.pages import router as agency_pages
from cuishou.agreements.api import router as agreements_router
from cuishou.agreements.pages import router as agreements_pages
from cuishou.alerts.api import router as alerts_router
from cuishou.alerts.pages import router as alerts_pages
from cuishou.allocation.api import router as allocation_router
from cuishou.allocation.pages import router as allocation_pages
from cuishou.auth.api import router as auth_router
from cuishou.auth.pages import router as auth_pages
from cuishou.cases.api import router as cases_router
from cuishou.cases.pages import router as cases_pages
from cuishou.compliance.api import router as compliance_router
from cuishou.compliance.pages import router as compliance_pages
from cuishou.contact.api import router as contact_router
from cuishou.contact.pages import router as contact_pages
from cuishou.experiments.api import router as experiments_router
from cuishou.experiments.pages import router as experiments_pages
from cuishou.kpis.api import router as kpis_router
from cuishou.kpis.pages import router as kpis_pages
from cuishou.ledger.api import router as ledger_router
from cuishou.messaging.api import router as messages_router
from cuishou.messaging.pages import router as messages_pages
from cuishou.promises.api import router as promises_router
from cuishou.quality.api import router as quality_router
from cuishou.repayment.api import router as payments_router
from cuishou.reporting.pages import router as reporting_pages
from cuishou.scoring.api import router as scoring_router
from cuishou.scoring.pages import router as scoring_pages
from cuishou.skiptrace.api import router as skiptrace_router
from cuishou.skiptrace.pages import router as skiptrace_pages
from cuishou.strategy.api import router as strategy_router
from cuishou.strategy.pages import router as strategy_pages
from cuishou.templates.api import router as templates_router
from cuishou.visits.api import router as visits_router
from cuishou.visits.pages import router as visits_pages
from cuishou.web.deps import RequestStore, WebSettings
from cuishou.web.errors import install_error_handlers
from cuishou.web.pages import STATIC_DIR

API_PREFIX = "/api/v1"
DOCS_URL = "/docs"
SWAGGER_UI = "/static/swagger-ui"


def _install_docs(app: FastAPI) -> None:
    """Swagger UI at ``/docs`` from the package's own files (``static/swagger-ui``)."""
    openapi_url = app.openapi_url or "/openapi.json"
    redirect_url = app.swagger_ui_oauth2_redirect_url or f"{DOCS_URL}/oauth2-redirect"

    @app.get(DOCS_URL, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — Swagger UI",
            oauth2_redirect_url=redirect_url,
            swagger_js_url=f"{SWAGGER_UI}/swagger-ui-bundle.js",
            swagger_css_url=f"{SWAGGER_UI}/swagger-ui.css",
            swagger_favicon_url=f"{SWAGGER_UI}/favicon-32x32.png",
            # no badge fetched from validator.swagger.io
            swagger_ui_parameters={"validatorUrl": None},
        )

    @app.get(redirect_url, include_in_schema=False)
    def swagger_ui_redirect() -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()


def create_app(engine: Engine, settings: WebSettings | None = None) -> FastAPI:
    app = FastAPI(
        title="Cuishou 催收 API",
        version=__version__,
        description=(
            "Debt-collection workbench API. Log in at `POST /api/v1/auth/token` (OAuth2 "
            "password form) and send `Authorization: Bearer <token>`. Errors are JSON "
            "`{code, message}`. Amounts are yuan decimal strings; PII is masked."
        ),
        # FastAPI's own /docs and /redoc load their scripts from a CDN: see _install_docs
        docs_url=None,
        redoc_url=None,
    )
    _install_docs(app)
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
        ledger_router,
        agreements_router,
        kpis_router,
        scoring_router,
        strategy_router,
        experiments_router,
        allocation_router,
        skiptrace_router,
        agency_router,
        visits_router,
        messages_router,
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
        kpis_pages,
        scoring_pages,
        strategy_pages,
        experiments_pages,
        allocation_pages,
        skiptrace_pages,
        agency_pages,
        visits_pages,
        messages_pages,
    )
    for pages in pages_routers:
        app.include_router(pages)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    return app
