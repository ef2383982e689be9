"""Promise-to-pay rules (承诺还款): what a valid promise is. Pure."""

from __future__ import annotations

from datetime import date, timedelta

STATUSES: dict[str, tuple[str, str]] = {
    "open": ("待履约", "open"),
    "kept": ("已履约", "kept"),
    "partly_kept": ("部分履约", "partly kept"),
    "broken": ("跳票", "broken"),
}
#: a promise must fall due within this many days (承诺期限)
MAX_PROMISE_DAYS = 30


def promise_problem(
    *, amount_fen: int, due_date: date, today: date, case_due_fen: int, case_status: str
) -> str | None:
    """Why a promise cannot be taken, or ``None``. ``today`` is the debtor's local date."""
    if case_status != "open":
        return "the case is closed; there is nothing to promise"
    if amount_fen <= 0:
        return "amount: a promise must be more than 0.00"
    if amount_fen > case_due_fen:
        return "amount: a promise cannot be more than the case's total due"
    if due_date < today:
        return f"due_date: {due_date.isoformat()} is in the past"
    if due_date > today + timedelta(days=MAX_PROMISE_DAYS):
        return f"due_date: a promise must fall due within {MAX_PROMISE_DAYS} days"
    return None
