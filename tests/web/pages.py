"""Helpers for page tests: log in through the form, read CSRF tokens out of pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

PASSWORD = "page-test-password"
HTML = {"Accept": "text/html"}
HTMX = {"Accept": "text/html", "HX-Request": "true"}

_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = _CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the login form; returns the CSRF token of the first page."""
    form = client.get("/login", headers=HTML)
    assert form.status_code == 200
    response = client.post(
        "/login",
        data={"username": username, "password": password, "csrf_token": csrf_of(form.text)},
        headers=HTML,
    )
    assert response.status_code == 200, response.text[:500]
    return csrf_of(response.text)
