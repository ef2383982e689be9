"""Calendar helpers shared by rules (pure, no clock)."""

from __future__ import annotations

import calendar
import re
from datetime import date

_DATE_PATTERNS = (
    re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$"),
    re.compile(r"^(\d{4})/(\d{1,2})/(\d{1,2})$"),
    re.compile(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})年(\d{1,2})月(\d{1,2})日?$"),
)


def parse_date_text(text: str) -> date | None:
    """Parse the date spellings found in Chinese bank exports; ``None`` if not a date.

    A trailing time part (``2026-01-05 00:00:00``) is accepted and ignored.
    """
    cleaned = text.strip()
    if " " in cleaned:
        cleaned = cleaned.split(" ", 1)[0]
    if "T" in cleaned and len(cleaned) > 10:
        cleaned = cleaned.split("T", 1)[0]
    for pattern in _DATE_PATTERNS:
        match = pattern.match(cleaned)
        if match:
            year, month, day = (int(g) for g in match.groups())
            try:
                return date(year, month, day)
            except ValueError:
                return None
    return None


def add_months(start: date, months: int) -> date:
    """``start`` moved by whole months, clamped to the month's end (1-31 + 1 month = 2-28).

    Matches Polars' ``dt.offset_by("Nmo")``, the engine twin of this function.
    """
    month_index = start.month - 1 + months
    year = start.year + month_index // 12
    month = month_index % 12 + 1
    day = min(start.day, calendar.monthrange(year, month)[1])
    return date(year, month, day)
