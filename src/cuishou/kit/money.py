"""Money is integer fen (分) inside Cuishou; yuan (元) with two decimals only at the edges.

There is exactly one rounding function, :func:`round_fen`, used wherever a computed
amount (a rate times a balance) has to become fen.

There is exactly one amount grammar (金额格式), :data:`YUAN_PATTERN`, used by every path
that reads an amount a person or a bank wrote — the API, configs, agreements and (as a
Polars expression, ``placement.rules.yuan_fen_expr``) the file imports:

* ASCII digits only (``0``–``9``): ``١٢`` (Arabic-Indic), ``𝟗`` (mathematical) or ``１２``
  (full-width) are refused, never read as numbers;
* an optional ``-`` in front, an optional ``¥``/``￥`` before the digits and ``元`` after them;
* the whole part either plain (``1234``, leading zeros allowed, at most 15 significant
  digits) or grouped by ASCII commas in threes (``1,234`` or ``12,345,678``) — ``1,00``,
  ``1,0000``, ``12,34,567`` and the full-width ``，`` are refused;
* then optionally ``.`` and one or two decimals; zeros past the fen are allowed
  (``12.300`` is exactly 12.30, as Parquet decimals and Excel write it), any other third
  decimal is refused rather than rounded;
* spaces, tabs, line breaks, no-break and ideographic spaces around it are ignored; nothing
  else is (no ``RMB``, no ``+``, no ``12.``, no ``.5``, no inner spaces).
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal
from typing import Literal

import polars as pl

from cuishou.kit.errors import InvalidInput

FEN_PER_YUAN = 100
BOOKED_CURRENCY = "CNY"
"""The one currency Cuishou books (``accounts.currency``): every amount is Chinese yuan."""

AMOUNT_BLANKS = " \t\r\n\u00a0\u3000"
"""What may surround an amount and is ignored: space, tab, CR, LF, no-break, ideographic space."""
_PLAIN = r"0*([0-9]{1,15})"
_GROUPED = r"([1-9][0-9]{0,2}(?:,[0-9]{3}){1,4})"
_CENTS = r"(?:\.([0-9]{1,2})0*)?"
YUAN_PATTERN = rf"(-?)[¥￥]?(?:{_PLAIN}|{_GROUPED}){_CENTS}元?"
"""The amount grammar, unanchored (match it against the whole text): groups are 1 the sign,
2 the plain whole part, 3 the grouped whole part (one of 2, 3 is set), 4 the decimals."""
PERCENT_PATTERN = rf"(-?){_PLAIN}{_CENTS}[%％]?"
"""A percentage to two decimals (``5``, ``5%``, ``12.5％``): groups 1 sign, 2 whole, 3 decimals."""

_YUAN_RE = re.compile(YUAN_PATTERN, re.ASCII)
_PERCENT_RE = re.compile(PERCENT_PATTERN, re.ASCII)
_TOO_LONG_RE = re.compile(
    r"-?[¥￥]?(?:0*[1-9][0-9]{15,}|[1-9][0-9]{0,2}(?:,[0-9]{3}){5,})(?:\.[0-9]+)?元?", re.ASCII
)
_TOO_PRECISE_RE = re.compile(rf"-?[¥￥]?(?:{_PLAIN}|{_GROUPED})\.[0-9]{{3,}}元?", re.ASCII)

AmountProblem = Literal["decimals", "digits", "grouping", "too_long", "syntax"]


class AmountRefused(InvalidInput):
    """A text that is not an amount; ``problem`` says which rule it broke (for translations)."""

    def __init__(self, message: str, *, field: str, problem: AmountProblem) -> None:
        super().__init__(message, field=field)
        self.problem: AmountProblem = problem


def round_fen(amount: Decimal) -> int:
    """Round a fractional fen amount to whole fen, half away from zero (四舍五入)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _hundredths(sign: str, whole: str, cents: str | None) -> int:
    value = int(whole.replace(",", "")) * FEN_PER_YUAN + int(((cents or "") + "00")[:2])
    return -value if sign == "-" else value


def parse_yuan(text: str | int | float | Decimal, *, field: str = "amount") -> int:
    """Parse a yuan amount (``"1,234.50"``, ``"¥12"``, ``"12.3元"``) into fen.

    The grammar is :data:`YUAN_PATTERN` (see the module docstring). More than two
    decimals is an error rather than a silent rounding: a bank file with ``12.345`` is
    wrong and a person must look at it. Raises :class:`AmountRefused`.
    """
    if isinstance(text, bool):
        raise AmountRefused(f"{field}: not an amount: {text!r}", field=field, problem="syntax")
    if isinstance(text, int):
        return text * FEN_PER_YUAN
    if isinstance(text, float):
        text = repr(text)
    if isinstance(text, Decimal):
        text = format(text, "f")
    match = _YUAN_RE.fullmatch(text.strip(AMOUNT_BLANKS))
    if match is None:
        raise _refusal(text, field)
    sign, plain, grouped, cents = match.groups()
    return _hundredths(sign, plain or grouped, cents)


def _refusal(text: str, field: str) -> AmountRefused:
    """Why ``text`` is not an amount, as precisely as a person needs to fix it."""
    cleaned = text.strip(AMOUNT_BLANKS)
    problem: AmountProblem
    if any(ch.isdigit() and not ch.isascii() for ch in cleaned):
        problem, why = "digits", "has digits other than 0-9 (write amounts with ASCII digits)"
    elif _TOO_PRECISE_RE.fullmatch(cleaned):
        problem, why = "decimals", "has more than two decimals (amounts are in yuan, to the fen)"
    elif _TOO_LONG_RE.fullmatch(cleaned):
        problem, why = "too_long", "has more than 15 digits before the decimal point"
    elif "," in cleaned or "，" in cleaned:
        problem, why = "grouping", "is not an amount: commas may only group thousands (1,234.56)"
    else:
        problem, why = "syntax", "is not an amount in yuan (write 1234.56, 1,234.56 or ¥1234.56)"
    return AmountRefused(f"{field}: {text!r} {why}", field=field, problem=problem)


def parse_percent_bp(text: str, *, field: str) -> int:
    """A percentage to two decimals as basis points: ``"5%"`` → 500, ``"12.5"`` → 1250.

    The same digits as :func:`parse_yuan` (ASCII only, at most two decimals) with an
    optional ``%``/``％`` and no currency signs or thousands separators. Ranges are the
    caller's business.
    """
    match = _PERCENT_RE.fullmatch(text.strip(AMOUNT_BLANKS))
    if match is None:
        raise InvalidInput(
            f"{field}: {text!r} is not a percentage (write 5, 5% or 12.5%, ASCII digits, "
            "at most two decimals)",
            field=field,
        )
    sign, whole, cents = match.groups()
    return _hundredths(sign, whole, cents)


def format_yuan(fen: int) -> str:
    """Fen as a yuan decimal string with two places: ``123456 -> "1234.56"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}{whole}.{part:02d}"


def format_yuan_expr(fen: pl.Expr) -> pl.Expr:
    """The Polars twin of :func:`format_yuan` (``123456 -> "1234.56"``), for bulk payloads."""
    whole = fen.abs() // FEN_PER_YUAN
    part = (fen.abs() % FEN_PER_YUAN).cast(pl.String).str.zfill(2)
    sign = pl.when(fen < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, whole.cast(pl.String), pl.lit("."), part)


def format_yuan_grouped(fen: int) -> str:
    """Fen for people: ``123456789 -> "¥1,234,567.89"``."""
    sign = "-" if fen < 0 else ""
    whole, part = divmod(abs(fen), FEN_PER_YUAN)
    return f"{sign}¥{whole:,}.{part:02d}"
