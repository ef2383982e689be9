"""``/docs``: Swagger UI from the package's own files — it works offline."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

_REFERENCE = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']""")


def test_the_docs_page_references_only_local_assets_and_they_are_served(
    client: TestClient,
) -> None:
    # given the API docs page
    page = client.get("/docs")
    assert page.status_code == 200 and "SwaggerUIBundle" in page.text
    # then it names no other host: no absolute URL, not even protocol-relative
    assert "http://" not in page.text and "https://" not in page.text
    assert "//" not in "".join(_REFERENCE.findall(page.text))
    assert '"validatorUrl": null' in page.text  # no badge fetched from validator.swagger.io
    assert "url: '/openapi.json'" in page.text
    # and every script, style sheet and icon it references is served by the app itself
    references = _REFERENCE.findall(page.text)
    assert {r.rsplit("/", 1)[-1] for r in references} >= {
        "swagger-ui-bundle.js",
        "swagger-ui.css",
        "favicon-32x32.png",
    }
    for reference in references:
        assert reference.startswith("/static/swagger-ui/"), reference
        asset = client.get(reference)
        assert asset.status_code == 200 and len(asset.content) > 500, reference
    assert client.get("/openapi.json").status_code == 200


def test_the_oauth2_redirect_of_the_docs_is_served_and_redoc_is_gone(
    client: TestClient,
) -> None:
    redirect = client.get("/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text.lower()
    assert "https://" not in redirect.text
    assert client.get("/redoc").status_code == 404  # ReDoc loads from a CDN: not served
