"""Money is integer fen (分) inside Cuishou; yuan (元) with two decimals only at the edges.

There is exactly one rounding function, :func:`round_fen`, used wherever a computed
amount (a rate times a balance) has to become fen.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

import polars as pl

from cuishou.kit.errors import InvalidInput

FEN_PER_YUAN = 100
_YUAN_RE = re.compile(r"^[+-]?(\d+)(?:\.(\d{0,2}))?$")


def round_fen(amount: Decimal) -> int:
    """Round a fractional fen amount to whole fen, half away from zero (四舍五入)."""
    return int(amount.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def parse_yuan(text: str | int | float | Decimal, *, field: str = "amount") -> int:
    """Parse a yuan amount (``"1,234.50"``, ``"¥12"``, ``"12.3元"``) into fen.

    More than two decimals is an error rather than a silent rounding: a bank file
    with ``12.345`` is wrong and a person must look at it.
    """
    if isinstance(text, bool):
        raise InvalidInput(f"{field}: not an amount: {text!r}", field=field)
    if isinstance(text, int):
        return text * FEN_PER_YUAN
    if isinstance(text, float):
        text = repr(text)
    if isinstance(text, Decimal):
        text = format(text, "f")
    cleaned = (
        text.strip()
        .replace(",", "")
        .replace("，", "")
        .replace("¥", "")
        .replace("￥", "")
        .replace("元", "")
        .replace("RMB", "")
        .strip()
    )
    match = _YUAN_RE.match(cleaned)
    if match is None:
        if re.match(r"^[+-]?\d+\.\d{3,}$", cleaned):
            try:
                exact = Decimal(cleaned)
            except InvalidOperation:  # pragma: no cover - regex guarantees digits
                exact = None
            if exact is not None and exact == exact.quantize(Decimal("0.01")):
                return int(exact * FEN_PER_YUAN)
            raise InvalidInput(
                f"{field}: {text!r} has more than two decimals (amounts are in yuan, to the fen)",
                field=field,
            )
        raise InvalidInput(f"{field}: {text!r} is not an amount in yuan", field=field)
    whole, frac = match.group(1), (match.group(2) or "")
    fen = int(whole) * FEN_PER_YUAN + int((frac + "00")[:2])
    return -fen if cleaned.startswith("-") else fen


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
