"""``cuishou serve [--host 127.0.0.1] [--port 8000]`` — the pages for people and the API."""

from __future__ import annotations

import typer
import uvicorn

from cuishou.cli_support import console, friendly_errors, store_engine
from cuishou.store.db import make_engine, require_current
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings


def serve(engine_url: str | None, host: str, port: int, *, secure_cookies: bool = False) -> None:
    """Serve the store at ``engine_url`` (default: ``CUISHOU_DATABASE_URL``) until stopped."""
    engine = make_engine(engine_url) if engine_url else store_engine()
    require_current(engine)
    console.print(
        f"serving on http://{host}:{port} — log in at http://{host}:{port}/login "
        "(API at /api/v1, docs at /docs, schema at /openapi.json)"
    )
    try:
        app = create_app(engine, WebSettings(secure_cookies=secure_cookies))
        uvicorn.run(app, host=host, port=port, log_level="warning")
    finally:
        engine.dispose()


@friendly_errors
def serve_command(
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on."),
    port: int = typer.Option(8000, "--port", help="Port to listen on."),
    secure_cookies: bool = typer.Option(
        False, "--secure-cookies", help="Mark the session cookie Secure (serving behind HTTPS)."
    ),
) -> None:
    """Serve the workbench pages (/login) and the JSON API (/api/v1, OpenAPI at /openapi.json)."""
    serve(None, host, port, secure_cookies=secure_cookies)
