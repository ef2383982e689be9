"""What may be said about a store and its errors: no password, no parameters, no row values."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy.exc import IntegrityError, StatementError

from cuishou.store.errors import describe_store, one_line, safe_traceback, store_error_summary

ID_NUMBER = "11010119900307123X"


def test_a_store_is_named_by_host_port_and_database_with_the_password_masked() -> None:
    described = describe_store("postgresql+psycopg://bob:s3cret@db.internal:5433/cuishou")
    assert described == (
        "postgresql+psycopg://bob:***@db.internal:5433/cuishou "
        "(host db.internal, port 5433, database cuishou)"
    )
    assert describe_store("sqlite:////var/lib/cuishou.db").endswith("(file /var/lib/cuishou.db)")
    assert "s3cret" not in describe_store("postgresql://bob:s3cret@/")
    assert describe_store("not a url :: s3cret") == "an unparseable store URL"


def _raised(make: type[BaseException], *args: object) -> BaseException:
    try:
        raise make(*args)
    except BaseException as exc:
        return exc


def test_a_driver_error_is_summarised_without_its_message_values() -> None:
    # given SQLite's refusal wrapped by SQLAlchemy, with the parameters in its message
    try:
        try:
            raise sqlite3.IntegrityError("UNIQUE constraint failed: debtors.id_number")
        except sqlite3.IntegrityError as driver:
            raise IntegrityError(
                "INSERT INTO debtors (id_number) VALUES (?)", (ID_NUMBER,), driver
            ) from driver
    except IntegrityError as exc:
        error = exc
    assert ID_NUMBER in str(error)  # what a plain log would print
    # then the summary and the traceback name the table and the statement, not the value
    summary = store_error_summary(error)
    assert "UNIQUE constraint failed: debtors.id_number" in summary
    assert "INSERT INTO debtors (id_number) VALUES (?)" in summary
    assert one_line(error).startswith("IntegrityError: IntegrityError (")
    text = safe_traceback(error)
    assert "Traceback (most recent call last)" in text and "direct cause" in text
    assert ID_NUMBER not in summary + one_line(error) + text


def test_a_bind_time_error_inside_a_statement_error_is_withheld() -> None:
    # given a value the driver could not bind, quoted by the inner error
    try:
        try:
            raise ValueError(f"invalid literal for int(): {ID_NUMBER!r}")
        except ValueError as inner:
            raise StatementError("bind failed", "UPDATE debtors SET x = ?", None, inner) from inner
    except StatementError as exc:
        error = exc
    text = safe_traceback(error)
    assert "message withheld" in text and "UPDATE debtors SET x = ?" in text
    assert ID_NUMBER not in text


def test_other_errors_keep_their_message_in_the_traceback_but_not_in_one_line() -> None:
    error = _raised(RuntimeError, "the cycle found no snapshot")
    assert "RuntimeError: the cycle found no snapshot" in safe_traceback(error)
    assert one_line(error) == "RuntimeError"


@pytest.mark.parametrize("url", ["sqlite://", "postgresql://u:p@h/d"])
def test_describe_store_never_shows_a_password(url: str) -> None:
    assert ":p@" not in describe_store(url)
