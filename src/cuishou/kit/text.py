"""Text people send us: no NUL characters (PostgreSQL cannot store them) and valid Unicode.

Both stores must accept the same input, so text that one of them cannot hold is refused at
the edge with a message instead of failing deep in a driver.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator


def text_problem(value: str) -> str | None:
    """Why ``value`` cannot be stored as text, or ``None``."""
    if "\x00" in value:
        return "must not contain NUL characters"
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return "is not valid Unicode text"
    return None


def _checked(value: str) -> str:
    problem = text_problem(value)
    if problem:
        raise ValueError(problem)
    return value


#: a ``str`` that both stores can hold; use it for every text field and parameter
Text = Annotated[str, AfterValidator(_checked)]
