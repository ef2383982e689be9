"""The `cuishou` command line: init, error handling without tracebacks."""

from __future__ import annotations

import json
import re
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from typer.testing import CliRunner

from cuishou import cli
from cuishou.cli import app
from cuishou.cli_support import store_engine
from cuishou.store.db import head_revision, make_engine, transaction
from cuishou.web.app import create_app
from cuishou.web.deps import WebSettings
from tests.factories import make_debtor, valid_id_number
from tests.logs import log_everything
from tests.web.factories import Clock
from tests.web.live import free_port

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


#: a small demo: 600 accounts, 300 of them worked through 4 simulated days (the real code path)
SMALL_DEMO = ["--accounts", "600", "--history-accounts", "300", "--days", "4"]
#: the demo's today: its history is 2026-11-16 … 2026-11-19
DEMO_TODAY = ["--as-of", "2026-11-20"]


def test_demo_runs_end_to_end_on_sqlite(tmp_path: Path) -> None:
    # when the demo is built small, its today given (no wall clock)
    result = runner.invoke(
        app, ["demo", *SMALL_DEMO, *DEMO_TODAY, "--dir", str(tmp_path), "--json", "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    # then the history is the days before today, lived by the demo team
    history = summary["history"]
    assert (history["from"], history["to"], history["days"]) == ("2026-11-16", "2026-11-19", 4)
    assert history["accounts_generated"] == 300 and history["collectors"] == 2
    assert history["calls"] > history["connected"] > 0
    assert history["promises"] > 0 and history["payments"] > 0
    assert [day["day"] for day in history["per_day"]] == [
        "2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19",
    ]  # fmt: skip
    # and the rest of the book arrived last night as a new placement, aged today
    imported = summary["imported"]
    accounts = next(f for f in imported["files"] if f["kind"] == "accounts")
    assert accounts["rows"] == 300 and accounts["quarantined"] >= 1
    assert imported["accepted"] + imported["quarantined"] == imported["rows"]
    assert summary["accounts_generated"] == 600
    assert [c["as_of"] for c in summary["cycles"]] == ["2026-11-20"]
    last = summary["cycles"][-1]
    assert sum(last["buckets"].values()) == last["accounts"] > 300
    assert summary["open_cases"] > summary["assigned_cases"] > 0
    # and the manager allocated today: the new team took cases, within the demo's capacity
    allocation = summary["allocation"]
    assert allocation["batch"] is not None and allocation["assigned"] > 0
    new_team = {f"demo_collector_{n:02d}" for n in range(1, 7)}
    assert new_team & set(allocation["by_collector"])
    assert all(count <= 2_000 for count in allocation["by_collector"].values())
    assert (tmp_path / "cuishou-demo.db").exists()
    assert (tmp_path / "accounts.csv").exists()
    assert (tmp_path / "cuishou-demo.db.truth.parquet").exists()
    assert {login["role"] for login in summary["logins"]} == {
        "collector", "team_lead", "manager", "compliance", "legal", "admin", "auditor", "agency",
        "strategist",
    }  # fmt: skip


def test_demo_logins_see_the_simulated_month_in_their_scope(tmp_path: Path) -> None:
    # given a small demo built as of 2026-11-20 (history 11-16 … 11-19)
    result = runner.invoke(
        app, ["demo", *SMALL_DEMO, *DEMO_TODAY, "--dir", str(tmp_path), "--no-serve"]
    )
    assert result.exit_code == 0, result.output
    assert "sim_collector_001" in result.stdout and "cuishou-demo" in result.stdout
    engine = make_engine(f"sqlite:///{tmp_path / 'cuishou-demo.db'}")
    clock = Clock(now=datetime(2026, 11, 20, 2, 0, tzinfo=UTC))  # the demo's day, 10:00
    month = {"from": "2026-11-16", "to": "2026-11-19"}
    with TestClient(create_app(engine, WebSettings(clock=clock))) as client:

        def bearer_of(username: str) -> dict[str, str]:
            login = {"username": username, "password": "cuishou-demo"}
            response = client.post("/api/v1/auth/token", data=login)
            assert response.status_code == 200, (username, response.text)
            return {"Authorization": f"Bearer {response.json()['access_token']}"}

        collector, lead, manager = (
            bearer_of(name) for name in ("sim_collector_001", "demo_team_lead", "demo_manager")
        )
        queue = client.get("/api/v1/queue", headers=collector).json()
        mine = client.get("/api/v1/kpis", params=month, headers=collector).json()["total"]
        team = client.get("/api/v1/kpis", params={**month, "by": "collector"}, headers=lead).json()
        everything = client.get("/api/v1/kpis", params=month, headers=manager).json()["total"]
        placed = client.get("/api/v1/cases", headers=bearer_of("demo_agency")).json()
    engine.dispose()
    # then the collector's queue is theirs, and their own month has calls and promises
    assert queue["total"] > 0
    assert {item["assigned_to"] for item in queue["items"]} == {"sim_collector_001"}
    assert mine["calls"] > 0 and mine["promises"] > 0
    # the team lead sees the team's two collectors, the manager the whole month; cases
    # allocated to the team today had no collector during the month (a row of their own,
    # with no calls in it)
    rows = {row["key"]: row for row in team["rows"]}
    assert {"sim_collector_001", "sim_collector_002"} <= set(rows) <= {
        "sim_collector_001", "sim_collector_002", None,
    }  # fmt: skip
    assert None not in rows or rows[None]["calls"] == 0
    # (the month's figures follow the cases the lead's team holds now: today's allocation
    # may have moved a few large cases to the other team's senior collector)
    assert everything["calls"] >= team["total"]["calls"] > mine["calls"]
    assert everything["payments"] > 0 and everything["recovered"] != "0.00"
    # and the agency sees only the cases placed with it
    assert placed["total"] > 0
    assert {item["agency"] for item in placed["items"]} == {"DEMOAGENCY"}


def test_demo_rejects_a_bad_size(tmp_path: Path) -> None:
    result = runner.invoke(app, ["demo", "--accounts", "0", "--dir", str(tmp_path), "--no-serve"])
    assert result.exit_code == 2
    assert "--accounts" in result.output
    bigger = runner.invoke(
        app,
        ["demo", "--accounts", "10", "--history-accounts", "11", "--dir", str(tmp_path),
         "--no-serve"],
    )  # fmt: skip
    assert bigger.exit_code == 2
    assert "--history-accounts" in bigger.output and "Traceback" not in bigger.output
    no_days = runner.invoke(app, ["demo", "--days", "0", "--dir", str(tmp_path), "--no-serve"])
    assert no_days.exit_code == 2
    assert "--days" in no_days.output and "Traceback" not in no_days.output


def test_demo_serves_and_the_pages_answer(tmp_path: Path) -> None:
    # given `cuishou demo` as `make demo` runs it (serving at the end), on a free port
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "cuishou.cli", "demo", "--accounts", "300",
         "--history-accounts", "200", "--days", "2", "--as-of", "2026-11-20",
         "--dir", str(tmp_path), "--port", str(port)],
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
                data={"username": "sim_collector_001", "password": "cuishou-demo",
                      "csrf_token": csrf.group(1)},
                headers={"Accept": "text/html"},
            )  # fmt: skip
            assert queue.status_code == 200 and queue.url.path == "/queue"
            assert 'data-case-id="' in queue.text or "/cases/" in queue.text
            assert client.get("/openapi.json").status_code == 200
    finally:
        demo.terminate()
        output, _ = demo.communicate(timeout=30)
    assert "sim_collector_001" in output


def test_serve_refuses_a_bad_config_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "cycle.yaml"
    bad.write_text("promises: {horizon_days: -1}\n", encoding="utf-8")
    result = runner.invoke(app, ["serve", "--config", str(bad)])
    assert result.exit_code == 2
    assert "promises.horizon_days" in result.output and "Traceback" not in result.output


def _run_cuishou(
    args: list[str], env: dict[str, str], cwd: Path
) -> subprocess.CompletedProcess[str]:
    """``cuishou ARGS`` in a fresh process, with a wide terminal so lines do not wrap."""
    return subprocess.run(
        [sys.executable, "-m", "cuishou.cli", *args],
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "COLUMNS": "300", **env},
        cwd=cwd,
        check=False,
    )


def test_an_unreachable_store_is_a_clear_error_with_the_password_masked(tmp_path: Path) -> None:
    # given a PostgreSQL URL with a password and nothing listening on its port
    url = "postgresql://bob:PASSWORD@127.0.0.1:1/x"
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    for args in (["daily", "--as-of", "2026-11-01"], ["init"], ["serve"]):
        # when a command needs the store
        done = _run_cuishou(
            args, {"CUISHOU_DATABASE_URL": url, "TMPDIR": str(private_tmp)}, tmp_path
        )
        # then it says which store it cannot use (host, port, database; password masked)
        output = done.stdout + done.stderr
        assert done.returncode == 69, output
        assert "store_unavailable" in done.stderr
        assert "host 127.0.0.1, port 1, database x" in done.stderr
        assert "bob:***@127.0.0.1:1/x" in done.stderr
        assert "PASSWORD" not in output
        assert "internal error" not in output and "Traceback" not in output
    # and nothing was written anywhere: no error log in the temp directory
    assert list(private_tmp.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["tmp"]


def test_an_unopenable_sqlite_store_names_its_file(tmp_path: Path) -> None:
    missing = tmp_path / "no-such-dir" / "cuishou.db"
    done = _run_cuishou(["init"], {"CUISHOU_DATABASE_URL": f"sqlite:///{missing}"}, tmp_path)
    assert done.returncode == 69
    assert f"(file {missing})" in done.stderr and "Traceback" not in done.stderr


@pytest.fixture
def stored_id_number(engine: Engine, store_env: str) -> str:
    """An ID number already held by a debtor in the test store (``CUISHOU_DATABASE_URL``)."""
    number = valid_id_number(serial=711, born=date(1985, 6, 30))
    with transaction(engine) as session:
        make_debtor(session, id_number=number)
    return number


@pytest.fixture
def buggy_command(stored_id_number: str) -> Iterator[str]:
    """A command with a bug: it stores a second debtor with an ID number already taken, so
    the store refuses with an integrity error that carries the number (PostgreSQL's
    ``DETAIL:  Key (id_number)=(…)``, SQLAlchemy's parameter list)."""

    def add_duplicate_debtor() -> None:
        engine = store_engine()
        with transaction(engine) as session:
            make_debtor(session, id_number=stored_id_number, name="重复")

    app.command("add-duplicate-debtor")(add_duplicate_debtor)
    try:
        yield "add-duplicate-debtor"
    finally:
        app.registered_commands[:] = [
            c for c in app.registered_commands if c.callback is not add_duplicate_debtor
        ]


def _files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]


def test_an_integrity_error_puts_the_id_number_in_no_output_or_log(
    buggy_command: str,
    stored_id_number: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # given every logger at DEBUG (SQLAlchemy's included), the traceback asked for on
    # stderr and in a log file, and a private temp directory
    log_everything(caplog)
    log_file = tmp_path / "logs" / "cuishou.log"
    log_file.parent.mkdir()
    private_tmp, workdir = tmp_path / "tmp", tmp_path / "cwd"
    private_tmp.mkdir()
    workdir.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.chdir(workdir)
    monkeypatch.setenv("CUISHOU_DEBUG", "1")
    monkeypatch.setenv("CUISHOU_LOG_FILE", str(log_file))
    monkeypatch.setattr(sys, "argv", ["cuishou", buggy_command])
    # when the buggy command runs through the real entry point
    with pytest.raises(SystemExit) as exited:
        cli.main()
    # then it is reported as a bug, with the traceback where it was asked for
    output = capsys.readouterr()
    assert exited.value.code == 70
    assert "internal error" in output.err and "IntegrityError" in output.err
    assert "Traceback (most recent call last)" in output.err
    assert log_file.exists() and "debtors" in log_file.read_text(encoding="utf-8")
    assert "INSERT INTO debtors" in caplog.text  # SQLAlchemy's statement log was captured
    assert stat.S_IMODE(log_file.stat().st_mode) == 0o600
    # and the full ID number is in no output, no log record and no file written (the log
    # file, the temp directory, the working directory)
    files = _files_under(log_file.parent, private_tmp, workdir)
    written = [p.read_text(encoding="utf-8", errors="replace") for p in files]
    for text in (output.out, output.err, caplog.text, *written):
        assert stored_id_number not in text


def test_an_unexpected_error_writes_no_file_unless_asked_and_no_traceback(
    buggy_command: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.delenv("CUISHOU_DEBUG", raising=False)
    monkeypatch.delenv("CUISHOU_LOG_FILE", raising=False)
    workdir = tmp_path / "cwd"
    workdir.mkdir()
    monkeypatch.chdir(workdir)
    monkeypatch.setattr(sys, "argv", ["cuishou", buggy_command])
    with pytest.raises(SystemExit) as exited:
        cli.main()
    err = capsys.readouterr().err
    assert exited.value.code == 70
    assert "internal error" in err and "CUISHOU_DEBUG=1" in err and "CUISHOU_LOG_FILE" in err
    assert "Traceback" not in err
    assert _files_under(private_tmp, workdir) == []


#: what `cuishou --help` must not load: each costs from 0.1 s to over a second (ADR 0011)
HEAVY_MODULES = (
    "alembic", "argon2", "fastapi", "jieba", "jinja2", "numpy", "openpyxl", "polars",
    "psycopg", "pyarrow", "reportlab", "sqlalchemy", "starlette", "uvicorn", "yaml",
)  # fmt: skip

_HELP_EVERYWHERE = """
import json, sys
from cuishou.cli import app, run

loaded_by_import = sorted(m for m in HEAVY if m in sys.modules)

def paths(typer_app, prefix):
    for command in typer_app.registered_commands:
        yield [*prefix, command.name]
    for group in typer_app.registered_groups:
        yield [*prefix, group.name]
        yield from paths(group.typer_instance, [*prefix, group.name])

commands = [[], *paths(app, [])]
for args in commands:
    try:
        run([*args, "--help"])
    except SystemExit as exc:
        assert exc.code == 0, (args, exc.code)
print(json.dumps({"import": loaded_by_import, "help": sorted(m for m in HEAVY if m in sys.modules),
                  "commands": [" ".join(c) for c in commands]}))
"""


def test_the_command_line_and_every_help_load_no_heavy_stack() -> None:
    # when `import cuishou.cli` and then every command's --help run in a fresh process
    done = subprocess.run(
        [sys.executable, "-c", f"HEAVY = {HEAVY_MODULES!r}\n{_HELP_EVERYWHERE}"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout.strip().splitlines()[-1])
    # then none of the heavy stacks was imported (each command imports its own when it runs)
    assert found["import"] == []
    assert found["help"] == []
    assert {"", "daily", "import", "serve", "demo", "compliance check", "user add"} <= set(
        found["commands"]
    )
