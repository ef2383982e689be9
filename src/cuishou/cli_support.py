"""What every CLI command shares: the store, JSON output, errors without tracebacks.

Every ``cuishou`` command imports this module, ``--help`` included, so it imports only the
standard library, Typer and Rich; the store stack (SQLAlchemy, Alembic) is imported when a
command opens the store (ADR 0011).

Errors: a :class:`CuishouError` is one red line and its exit status (2; 69 when the store
cannot be reached). Anything else is a bug: :func:`report_crash` prints one short line; the
traceback goes to stderr only with ``CUISHOU_DEBUG=1``, or to the file ``CUISHOU_LOG_FILE``
names (created ``0600``). Either way store errors are described without their values.
"""

from __future__ import annotations

import getpass
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from cuishou.kit.errors import CuishouError, StoreUnavailable

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL
    from sqlalchemy.orm import Session

    from cuishou.auth.rules import Principal

console = Console(stderr=True)
out = Console()

#: ``CUISHOU_DEBUG=1``: print the traceback of an unexpected error on stderr
DEBUG_ENV = "CUISHOU_DEBUG"
#: ``CUISHOU_LOG_FILE=PATH``: append the traceback of an unexpected error to PATH (0600)
LOG_FILE_ENV = "CUISHOU_LOG_FILE"
#: exit status of an unexpected error (sysexits ``EX_SOFTWARE``)
EX_SOFTWARE = 70

P = ParamSpec("P")
R = TypeVar("R")


def store_unavailable(url: str | URL | None, exc: BaseException) -> StoreUnavailable:
    """The clear error for a store that cannot be reached or used, naming it (password
    masked) when known; the reason is the driver's, without values."""
    # the store stack loads only on this path (ADR 0011)
    from cuishou.store.errors import connection_reason, describe_store, store_error_summary

    statement = getattr(exc, "statement", None)
    reason = store_error_summary(exc) if statement else connection_reason(exc)
    if url is None:
        return StoreUnavailable(f"the store stopped answering: {reason}")
    described = describe_store(url)
    check = (
        "that its directory exists and is writable"
        if described.startswith("sqlite")
        else "that the server is running and reachable"
    )
    return StoreUnavailable(
        f"cannot use the store {described}: {reason} — check CUISHOU_DATABASE_URL and {check}"
    )


def store_engine(*, migrated: bool = True, url: str | None = None) -> Engine:
    """The store chosen by ``url`` or ``CUISHOU_DATABASE_URL``, connected once so that an
    unreachable store is a clear error at once; refuses an un-migrated one."""
    # SQLAlchemy and Alembic load when a command opens the store, not for --help (ADR 0011)
    from cuishou.store.db import make_engine, require_current
    from cuishou.store.errors import is_connection_error

    engine = make_engine(url)
    try:
        if migrated:
            require_current(engine)
        else:
            with engine.connect():
                pass
    except Exception as exc:
        engine.dispose()
        if is_connection_error(exc):
            raise store_unavailable(engine.url, exc) from exc
        raise
    return engine


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Path):
        return str(value)
    if is_dataclass(value) and not isinstance(value, type):
        return asdict(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, default=_default) + "\n")
    sys.stdout.flush()


def _lost_store(exc: Exception) -> StoreUnavailable | None:
    """A store that stops answering in the middle of a command is operational, not a bug."""
    if "sqlalchemy" not in sys.modules:  # no store was opened, so this is no store error
        return None
    from cuishou.store.errors import is_connection_error  # loaded already (see above)

    return store_unavailable(None, exc) if is_connection_error(exc) else None


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one red line and their exit status — never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            try:
                return func(*args, **kwargs)
            except CuishouError:
                raise
            except Exception as exc:
                lost = _lost_store(exc)
                if lost is None:
                    raise
                raise lost from exc
        except CuishouError as exc:
            console.print(
                f"[bold red]error[/] {escape(f'[{exc.code}]')} {escape(exc.message)}",
                highlight=False,
            )
            raise typer.Exit(code=exc.exit_code) from exc

    return wrapper


def _append_private(path: Path, text: str) -> None:
    """Append to ``path``, creating it readable by its owner only."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as handle:
        handle.write(text)


def report_crash(exc: BaseException, *, command: str) -> int:
    """An unexpected error (a bug): one short line on stderr, the traceback only where the
    user asked for it; returns the exit status. Store errors are described without their
    parameters or row values (:mod:`cuishou.store.errors`)."""
    # the formatting of store errors needs SQLAlchemy's exception classes: crash path only
    from cuishou.kit.clock import utc_now
    from cuishou.store.db import database_url
    from cuishou.store.errors import describe_store, one_line, safe_traceback

    details = safe_traceback(exc)
    where: list[str] = []
    if os.environ.get(DEBUG_ENV) == "1":
        sys.stderr.write(details)
        where.append("above")
    log_file = os.environ.get(LOG_FILE_ENV)
    if log_file:
        header = (
            f"--- {utc_now().isoformat(timespec='seconds')} cuishou {command} "
            f"(store {describe_store(database_url())})\n"
        )
        try:
            _append_private(Path(log_file), header + details)
            where.append(f"in {log_file}")
        except OSError as error:
            console.print(f"could not write {escape(log_file)}: {escape(error.strerror or '')}")
    told = (
        f"The traceback is {' and '.join(where)}."
        if where
        else f"Set {DEBUG_ENV}=1 to see the traceback, or {LOG_FILE_ENV}=PATH to log it."
    )
    console.print(
        f"[bold red]internal error[/] — this is a bug in Cuishou, not in your input "
        f"({escape(one_line(exc))}). {told}",
        highlight=False,
    )
    return EX_SOFTWARE


def cli_operator() -> str:
    """Who acts when a command names no user: the command line's operator, ``cli:<login>``."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):  # no login name (a container): still say it was the CLI
        return "cli"


@contextmanager
def store_session(url: str | None = None) -> Iterator[Session]:
    """One transaction on the store (``url``, default ``CUISHOU_DATABASE_URL``), its engine
    disposed after."""
    from cuishou.store.db import transaction

    engine = store_engine(url=url)
    try:
        with transaction(engine) as session:
            yield session
    finally:
        engine.dispose()


def acting_as(session: Session, username: str | None) -> tuple[str, Principal | None]:
    """``--as USER``: that user's name and principal; no user: the operator, no principal."""
    if username is None:
        return cli_operator(), None
    from cuishou.auth.service import principal_named

    principal = principal_named(session, username)
    return principal.username, principal
