"""The `cuishou` command line: init, error handling without tracebacks."""

from __future__ import annotations

import json
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.store.db import head_revision, make_engine
from cuishou.web.app import create_app

runner = CliRunner()


def test_init_creates_and_then_migrates_idempotently(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISHOU_DATABASE_URL", f"sqlite:///{tmp_path / 'new.db'}")
    first = runner.invoke(app, ["init", "--json"])
    second = runner.invoke(app, ["init", "--json"])
    assert first.exit_code == 0, first.output
    assert second.exit_code == 0, second.output
    assert json.loads(first.stdout)["revision"] == head_revision()
    assert json.loads(second.stdout)["revision"] == head_revision()


def test_commands_on_an_uninitialised_store_say_run_init(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CUISHOU_DATABASE_URL", f"sqlite:///{tmp_path / 'missing.db'}")
    result = runner.invoke(app, ["daily", "--as-of", "2026-11-01"])
    assert result.exit_code == 2
    assert "cuishou init" in result.output
    assert "Traceback" not in result.output


def test_a_bad_store_url_is_a_clear_error_not_a_traceback(tmp_path: Path) -> None:
    env = {"CUISHOU_DATABASE_URL": "mysql://nobody@localhost/x", "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-m", "cuishou.cli", "init"],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 2
    assert "unsupported store" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def test_demo_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        [
            "demo",
            "--accounts",
            "600",
            "--as-of",
            "2026-11-20",
            "--dir",
            str(tmp_path),
            "--json",
            "--no-serve",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    imported = summary["imported"]
    assert imported["accepted"] + imported["quarantined"] == imported["rows"]
    assert [c["as_of"] for c in summary["cycles"]] == ["2026-11-18", "2026-11-19", "2026-11-20"]
    last = summary["cycles"][-1]
    assert sum(last["buckets"].values()) == last["accounts"] > 0
    assert summary["open_cases"] > 0
    assert (tmp_path / "cuishou-demo.db").exists()
    assert (tmp_path / "accounts.csv").exists()
    assert {login["role"] for login in summary["logins"]} == {
        "collector", "team_lead", "manager", "compliance", "legal", "admin", "auditor", "agency",
    }  # fmt: skip


def test_demo_logins_work_against_the_demo_store(tmp_path: Path) -> None:
    result = runner.invoke(
        app,
        ["demo", "--accounts", "300", "--as-of", "2026-11-20", "--dir", str(tmp_path),
         "--no-serve"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "demo_collector" in result.stdout and "cuishou-demo" in result.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'cuishou-demo.db'}")
    with TestClient(create_app(engine)) as client:
        login = {"username": "demo_collector", "password": "cuishou-demo"}
        token = client.post("/api/v1/auth/token", data=login).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        queue = client.get("/api/v1/queue", headers=headers).json()
        agency = client.post(
            "/api/v1/auth/token", data={"username": "demo_agency", "password": "cuishou-demo"}
        ).json()["access_token"]
        placed = client.get("/api/v1/cases", headers={"Authorization": f"Bearer {agency}"})
    engine.dispose()
    assert queue["total"] > 0
    assert all(item["assigned_to"] == "demo_collector" for item in queue["items"])
    assert placed.json()["total"] > 0
    assert {item["agency"] for item in placed.json()["items"]} == {"DEMOAGENCY"}


def test_demo_rejects_a_bad_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "0", "--dir", str(tmp_path), "--no-serve"])
    assert result.exit_code == 2
    assert "--accounts" in result.output


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_demo_serves_and_the_pages_answer(tmp_path: Path) -> None:
    # given `cuishou demo` as `make demo` runs it (serving at the end), on a free port
    port = _free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "cuishou.cli", "demo", "--accounts", "300", "--as-of",
         "2026-11-20", "--dir", str(tmp_path), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        # when it has built the store and started serving
        deadline = time.monotonic() + 120
        login_page = None
        while time.monotonic() < deadline and demo.poll() is None:
            try:
                login_page = httpx.get(f"{base}/login", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.5)
        assert login_page is not None and login_page.status_code == 200, "demo never served"
        # then a demo collector logs in through the form and sees their queue
        with httpx.Client(base_url=base, follow_redirects=True, timeout=10) as client:
            form = client.get("/login", headers={"Accept": "text/html"})
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
            assert csrf is not None
            queue = client.post(
                "/login",
                data={"username": "demo_collector", "password": "cuishou-demo",
                      "csrf_token": csrf.group(1)},
                headers={"Accept": "text/html"},
            )  # fmt: skip
            assert queue.status_code == 200 and queue.url.path == "/queue"
            assert 'data-case-id="' in queue.text or "/cases/" in queue.text
            assert client.get("/openapi.json").status_code == 200
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert "demo_collector" in output


def test_serve_refuses_a_bad_config_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "cycle.yaml"
    bad.write_text("promises: {horizon_days: -1}\n", encoding="utf-8")
    result = runner.invoke(app, ["serve", "--config", str(bad)])
    assert result.exit_code == 2
    assert "promises.horizon_days" in result.output and "Traceback" not in result.output
