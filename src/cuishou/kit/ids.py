"""Identifiers people type: resident ID numbers (身份证号, GB 11643) and mobiles (手机号)."""

from __future__ import annotations

import re
from datetime import date

import polars as pl

#: GB 11643-1999: the weights of the first 17 digits and the check character by sum mod 11
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
_ID_RE = re.compile(r"^\d{17}[\dX]$")
_MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")

# GB/T 2260 province-level codes (first two digits of an ID number).
PROVINCE_CODES: dict[str, str] = {
    "11": "北京市", "12": "天津市", "13": "河北省", "14": "山西省", "15": "内蒙古自治区",
    "21": "辽宁省", "22": "吉林省", "23": "黑龙江省", "31": "上海市", "32": "江苏省",
    "33": "浙江省", "34": "安徽省", "35": "福建省", "36": "江西省", "37": "山东省",
    "41": "河南省", "42": "湖北省", "43": "湖南省", "44": "广东省", "45": "广西壮族自治区",
    "46": "海南省", "50": "重庆市", "51": "四川省", "52": "贵州省", "53": "云南省",
    "54": "西藏自治区", "61": "陕西省", "62": "甘肃省", "63": "青海省", "64": "宁夏回族自治区",
    "65": "新疆维吾尔自治区", "71": "台湾省", "81": "香港特别行政区", "82": "澳门特别行政区",
}  # fmt: skip


def id_check_digit(first17: str) -> str:
    """The GB 11643-1999 check character for the first 17 digits."""
    total = sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK[total % 11]


def id_check_digit_expr(text: pl.Expr) -> pl.Expr:
    """The Polars twin of :func:`id_check_digit` over the first 17 characters of ``text``
    (null where one of them is not a digit)."""
    weighted = pl.sum_horizontal(
        text.str.slice(i, 1).cast(pl.Int64, strict=False) * w for i, w in enumerate(ID_WEIGHTS)
    )
    return pl.lit(ID_CHECK).str.slice(weighted % 11, 1)


def normalize_id_number(text: str) -> str:
    return text.strip().upper().replace(" ", "")


def id_number_problem(text: str, *, as_of: date | None = None) -> str | None:
    """Why ``text`` is not a valid 18-digit resident ID number, or ``None`` if it is."""
    value = normalize_id_number(text)
    if len(value) != 18:
        return f"ID number must have 18 characters, got {len(value)}"
    if not _ID_RE.match(value):
        return "ID number must be 17 digits followed by a digit or X"
    if value[:2] not in PROVINCE_CODES:
        return f"ID number region code {value[:2]} is not a Chinese province"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"ID number birth date {value[6:14]} is not a real date"
    if born.year < 1900 or (as_of is not None and born > as_of):
        return f"ID number birth date {born.isoformat()} is out of range"
    expected = id_check_digit(value[:17])
    if value[17] != expected:
        return f"ID number check digit is {value[17]}, expected {expected} (GB 11643)"
    return None


def is_valid_id_number(text: str) -> bool:
    return id_number_problem(text) is None


def birth_date_of(id_number: str) -> date:
    value = normalize_id_number(id_number)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def birth_date_expr(id_number: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`birth_date_of` (null where the number holds no real date)."""
    value = id_number.str.strip_chars().str.to_uppercase().str.replace_all(" ", "", literal=True)
    return value.str.slice(6, 8).str.to_date("%Y%m%d", strict=False)


def gender_of(id_number: str) -> str:
    """``"M"`` or ``"F"`` from the 17th digit (odd = male)."""
    return "M" if int(normalize_id_number(id_number)[16]) % 2 == 1 else "F"


def normalize_mobile(text: str) -> str:
    cleaned = re.sub(r"[\s\-()]", "", text.strip())
    if cleaned.startswith("+86"):
        cleaned = cleaned[3:]
    elif cleaned.startswith("0086"):
        cleaned = cleaned[4:]
    elif cleaned.startswith("86") and len(cleaned) == 13:
        cleaned = cleaned[2:]
    return cleaned


def mobile_problem(text: str) -> str | None:
    """Why ``text`` is not a mainland mobile number (11 digits, 13x–19x), or ``None``."""
    value = normalize_mobile(text)
    if not _MOBILE_RE.match(value):
        return f"mobile {text.strip()!r} is not an 11-digit mainland number starting 13-19"
    return None
