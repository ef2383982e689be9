"""What may be said about the store and its errors, in messages and in logs.

A store error carries more than its name: SQLAlchemy's message lists the statement's
parameters (``hide_parameters=True`` on every engine hides them), and the driver's message
quotes row values — PostgreSQL's ``DETAIL:  Key (id_number)=(110…)`` or ``Failing row
contains (…, notes)``. So nothing here ever prints a driver's or SQLAlchemy's message for
a statement: a store error is described by its class, SQLSTATE, table, constraint and the
statement's text (placeholders, no values). Store URLs are shown with the password masked.
"""

from __future__ import annotations

import re
import sqlite3
import traceback

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import InterfaceError, OperationalError, StatementError

#: top-level modules of the drivers whose exceptions may quote row values (ADBC's bulk path
#: raises ``adbc_driver_manager`` and ``pyarrow`` errors)
DRIVER_MODULES = frozenset(
    {"sqlite3", "_sqlite3", "psycopg", "psycopg2", "adbc_driver_manager", "pyarrow"}
)
#: how much of a statement a log line shows
STATEMENT_CHARS = 400


def describe_store(url: str | URL) -> str:
    """``postgresql+psycopg://bob:***@db:5432/cuishou (host db, port 5432, database cuishou)``;
    a SQLite store is named by its file."""
    try:
        parsed = make_url(url) if isinstance(url, str) else url
    except Exception:  # not a URL at all: say so without echoing it (it may hold a password)
        return "an unparseable store URL"
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite":
        return f"{shown} (file {parsed.database or ':memory:'})"
    parts = [f"host {parsed.host or 'localhost'}"]
    if parsed.port:
        parts.append(f"port {parsed.port}")
    parts.append(f"database {parsed.database or '(default)'}")
    return f"{shown} ({', '.join(parts)})"


def is_connection_error(exc: BaseException) -> bool:
    """The store cannot be reached or used at all (refused, down, wrong password, no such
    database, unopenable file) — an operational error, not a bug."""
    return isinstance(exc, OperationalError | InterfaceError)


def connection_reason(exc: BaseException) -> str:
    """The driver's first line for a connection failure (these name hosts, never rows)."""
    orig = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(orig).splitlines() if line.strip()]
    return lines[0] if lines else type(orig).__name__


def _is_driver_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] in DRIVER_MODULES


def _is_operational(exc: BaseException) -> bool:
    """A DB-API ``OperationalError`` or ``InterfaceError`` of any driver."""
    return any(c.__name__ in ("OperationalError", "InterfaceError") for c in type(exc).__mro__)


def _driver_facts(orig: BaseException) -> str:
    """SQLSTATE and the names (table, constraint, column) — never the values."""
    facts: list[str] = []
    sqlstate = getattr(orig, "sqlstate", None)
    if sqlstate:
        facts.append(f"SQLSTATE {sqlstate}")
    diag = getattr(orig, "diag", None)
    for label in ("table", "constraint", "column"):
        value = getattr(diag, f"{label}_name", None) if diag is not None else None
        if value:
            facts.append(f"{label} {value}")
    if isinstance(orig, sqlite3.Error):
        # SQLite's messages name the constraint or column, never a bound value
        code = getattr(orig, "sqlite_errorname", "")
        facts.append(f"{code}: {orig}" if code else str(orig))
    elif _is_operational(orig) and (sqlstate is None or sqlstate.startswith("08")):
        # the connection failed before a statement ran: the reason names hosts, not rows
        facts.append(connection_reason(orig))
    return ", ".join(facts)


def _statement_text(statement: str | None) -> str:
    if not statement:
        return ""
    flat = re.sub(r"\s+", " ", statement).strip()
    return flat if len(flat) <= STATEMENT_CHARS else flat[:STATEMENT_CHARS] + " …"


def is_store_error(exc: BaseException) -> bool:
    """A SQLAlchemy statement error or a driver's error: its message may quote values."""
    return isinstance(exc, StatementError) or _is_driver_error(exc)


def store_error_summary(exc: BaseException, *, statement: bool = True) -> str:
    """What a store error may say in any log: the driver's error class, SQLSTATE, table,
    constraint and the statement with its placeholders — no parameters, no row values."""
    if isinstance(exc, StatementError):
        orig = exc.orig
        facts = _driver_facts(orig) if orig is not None and _is_driver_error(orig) else ""
        inner = type(orig).__name__ if orig is not None else "error"
        inner = f"{inner} ({facts})" if facts else inner
        text = _statement_text(exc.statement) if statement else ""
        return f"{inner} in statement: {text}" if text else inner
    return _driver_facts(exc) or "(message withheld: it may quote row values)"


def one_line(exc: BaseException) -> str:
    """``IntegrityError: UniqueViolation (SQLSTATE 23505, table debtors, constraint …)`` for
    a store error; just the class name for anything else (its message is not vetted)."""
    name = type(exc).__name__
    return f"{name}: {store_error_summary(exc, statement=False)}" if is_store_error(exc) else name


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions behind it (causes, contexts), oldest first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not seen for seen in chain):
        chain.append(current)
        if current.__cause__ is not None:
            current = current.__cause__
        elif current.__context__ is not None and not current.__suppress_context__:
            current = current.__context__
        else:
            current = None
    return chain[::-1]


_CAUSE = "\nThe above exception was the direct cause of the following exception:\n\n"
_CONTEXT = "\nDuring handling of the above exception, another exception occurred:\n\n"


def safe_traceback(exc: BaseException) -> str:
    """The traceback of ``exc`` and its chain, with every store error (and the driver error
    or bind-time error inside it) described by :func:`store_error_summary` instead of its
    message — the frames are kept, the values are not."""
    chain = _chain(exc)
    wrapped = [e.orig for e in chain if isinstance(e, StatementError) and e.orig is not None]
    lines: list[str] = []
    for index, error in enumerate(chain):
        if index:
            lines.append(_CAUSE if error.__cause__ is chain[index - 1] else _CONTEXT)
        if error.__traceback__ is not None:
            lines.append("Traceback (most recent call last):\n")
            lines.extend(traceback.format_tb(error.__traceback__))
        name = type(error).__qualname__
        module = type(error).__module__
        qualified = name if module in ("builtins", "__main__") else f"{module}.{name}"
        if is_store_error(error):
            message = store_error_summary(error)
        elif any(error is orig for orig in wrapped):
            message = "(message withheld: it may quote a statement parameter)"
        else:
            message = str(error)
        lines.append(f"{qualified}: {message}\n" if message else f"{qualified}\n")
    return "".join(lines)
