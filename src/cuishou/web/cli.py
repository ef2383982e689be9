"""``cuishou serve [--host 127.0.0.1] [--port 8000]`` — the pages for people and the API."""

from __future__ import annotations

from pathlib import Path

import typer

from cuishou.cli_support import console, friendly_errors, store_engine


def serve(
    engine_url: str | None,
    host: str,
    port: int,
    *,
    secure_cookies: bool = False,
    config: Path | None = None,
) -> None:
    """Serve the store at ``engine_url`` (default: ``CUISHOU_DATABASE_URL``) until stopped."""
    # FastAPI, uvicorn and the services load when serving, not for --help (ADR 0011)
    import uvicorn

    from cuishou.engine.config import load_cycle_config
    from cuishou.web.app import create_app
    from cuishou.web.deps import WebSettings

    policy = load_cycle_config(config).promises  # a bad file fails before anything starts
    engine = store_engine(url=engine_url)
    console.print(
        f"serving on http://{host}:{port} — log in at http://{host}:{port}/login "
        "(API at /api/v1, docs at /docs, schema at /openapi.json)"
    )
    try:
        app = create_app(engine, WebSettings(secure_cookies=secure_cookies, promise_policy=policy))
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
    config: Path | None = typer.Option(
        None,
        "--config",
        help="The deployment's cycle config YAML (its promises: section sets the horizon and "
        "minimum of promises taken); the same file as cuishou daily --config.",
    ),
) -> None:
    """Serve the workbench pages (/login) and the JSON API (/api/v1, OpenAPI at /openapi.json)."""
    serve(None, host, port, secure_cookies=secure_cookies, config=config)
