"""What every CLI command shares: the store, JSON output, errors without tracebacks."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from dataclasses import asdict, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from sqlalchemy import Engine

from cuishou.kit.errors import CuishouError
from cuishou.store.db import make_engine, require_current

console = Console(stderr=True)
out = Console()

P = ParamSpec("P")
R = TypeVar("R")


def store_engine(*, migrated: bool = True) -> Engine:
    """The store chosen by ``CUISHOU_DATABASE_URL``; refuses an un-migrated one."""
    engine = make_engine()
    if migrated:
        require_current(engine)
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


def friendly_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn domain errors into one red line and exit code 2 — never a traceback."""

    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except CuishouError as exc:
            console.print(
                f"[bold red]error[/] {escape(f'[{exc.code}]')} {escape(exc.message)}",
                highlight=False,
            )
            raise typer.Exit(code=2) from exc

    return wrapper
