"""The API docs in Chromium with every other host unreachable: Swagger UI still works."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import Site

pytestmark = pytest.mark.browser


def test_the_api_docs_render_offline(page: Any, site: Site) -> None:
    # given a browser that can reach only the app: any other host is refused
    elsewhere: list[str] = []

    def only_the_app(route: Any) -> None:
        if route.request.url.startswith(site.url):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    page.route("**/*", only_the_app)
    # when the docs are opened
    page.goto(f"{site.url}/docs")
    # then Swagger UI draws the API from the app's own files and schema
    page.locator(".swagger-ui .info .title").wait_for()
    assert "Cuishou" in page.locator(".swagger-ui .info .title").inner_text()
    page.locator(".opblock").first.wait_for()
    assert page.locator(".opblock").count() > 20
    assert page.locator('.opblock[id*="auth"]').count() >= 1
    assert elsewhere == []
