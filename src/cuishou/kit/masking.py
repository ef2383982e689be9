"""PII masking: names, ID numbers, phones and addresses are masked by default.

Unmasking is a permission checked by the caller and recorded as an audited event.
"""

from __future__ import annotations

import polars as pl


def mask_mobile(value: str) -> str:
    """``13812341234 -> 138****1234``."""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_id_number(value: str) -> str:
    """``110101199003071234 -> 110***********1234``."""
    if len(value) < 7:
        return "*" * len(value)
    return f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}"


def mask_name(value: str) -> str:
    """``张三丰 -> 张**``; Latin names keep the first letter."""
    if not value:
        return value
    return value[0] + "*" * (len(value) - 1)


def mask_address(value: str, keep: int = 6) -> str:
    """Keep the administrative prefix (province/city), mask the street part."""
    if len(value) <= keep:
        return value
    return value[:keep] + "****"


def mask_email(value: str) -> str:
    """``zhangsan@example.com -> z*******@example.com``."""
    local, at, domain = value.partition("@")
    if not at:
        return mask_name(value)
    return f"{mask_name(local)}@{domain}"


def mask_mobile_expr(value: pl.Expr) -> pl.Expr:
    """The Polars twin of :func:`mask_mobile`, for a column of numbers."""
    length = value.str.len_chars()
    stars = pl.lit("*").repeat_by((length - 7).clip(lower_bound=0)).list.join("")
    return (
        pl.when(length < 7)
        .then(pl.lit("*").repeat_by(length).list.join(""))
        .otherwise(pl.concat_str(value.str.slice(0, 3), stars, value.str.slice(-4)))
    )
