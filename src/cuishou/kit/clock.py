"""Aware time. Stored in UTC; a debtor's local time comes from their region.

Only the service layer and the edges call :func:`utc_now`; rules take ``as_of`` or
``now`` as arguments.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cuishou.kit.dates import parse_date_text
from cuishou.kit.errors import InvalidInput

#: The deployment's default zone: new creditors and debtors get it, and pages show times in
#: it. A business date is always taken in the creditor's own zone (:func:`business_day_in`).
DEFAULT_TZ = "Asia/Shanghai"
CHINA_TZ = ZoneInfo(DEFAULT_TZ)


def utc_now() -> datetime:
    return datetime.now(UTC)


def today_local(tz: str = DEFAULT_TZ) -> date:
    return utc_now().astimezone(zone(tz)).date()


def business_day_in(now: datetime, tz: str) -> date:
    """The business date at ``now`` in zone ``tz`` (a creditor's zone: its "today")."""
    if now.tzinfo is None:
        raise ValueError("business_day_in needs an aware time")
    return now.astimezone(zone(tz)).date()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise InvalidInput(f"unknown time zone {name!r}", field="timezone") from exc


def ensure_aware(moment: datetime, *, assume: str = DEFAULT_TZ) -> datetime:
    """Attach ``assume`` to a naive datetime (bank files give local wall-clock times)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=zone(assume))
    return moment


def to_utc(moment: datetime, *, assume: str = DEFAULT_TZ) -> datetime:
    return ensure_aware(moment, assume=assume).astimezone(UTC)


def parse_date(text: str, *, field: str = "date") -> date:
    """Parse ``YYYY-MM-DD`` (also ``YYYY/MM/DD``, ``YYYYMMDD``, ``YYYY年M月D日``)."""
    parsed = parse_date_text(text)
    if parsed is None:
        raise InvalidInput(f"{field}: {text!r} is not a date (expected YYYY-MM-DD)", field=field)
    return parsed
