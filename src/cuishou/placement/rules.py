"""Placement row rules (委案数据校验): what makes a row of a bank file acceptable.

Pure: plain values and Polars expressions, no store, no clock. Each check a bank file
needs a million times has two forms side by side — a scalar form that also explains a
problem in English and Chinese (:class:`Reason`), and a Polars expression that only
says valid or not — and ``tests/placement/test_rules.py`` proves they agree. The
service runs the expressions over the whole file and calls the scalar form only for
the few rows that failed, to tell a person what exactly is wrong.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import TypeVar
from zoneinfo import ZoneInfo

import polars as pl

from cuishou.kit.dates import parse_date_text
from cuishou.kit.ids import (
    PROVINCE_CODES,
    id_check_digit,
    id_check_digit_expr,
    id_number_problem,
    normalize_id_number,
    normalize_mobile,
)
from cuishou.kit.money import AMOUNT_BLANKS, YUAN_PATTERN, AmountProblem, AmountRefused, parse_yuan
from cuishou.placement.columns import PRODUCTS, RELATIONS

T = TypeVar("T")

MAX_AMOUNT_FEN = 10**13
"""Larger amounts (¥100 billion) are a broken cell, not a debt."""
_ID_SHAPE = r"^[0-9]{17}[0-9X]$"
_MOBILE_SHAPE = r"^1[3-9][0-9]{9}$"
_LANDLINE_SHAPE = r"^0[0-9]{2,3}-?[0-9]{7,8}(-[0-9]{1,6})?$"
_LANDLINE_RE = re.compile(_LANDLINE_SHAPE)
_DATE_FAST = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_RATE_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?|\.[0-9]+", re.ASCII)


@dataclass(frozen=True, slots=True)
class Reason:
    """Why a row was rejected, in English and in Chinese, so a person can fix it."""

    en: str
    zh: str


# --- resident ID number 身份证号 (GB 11643) -------------------------------------------------


def id_number_reason(text: str, *, as_of: date) -> Reason | None:
    """Why ``text`` is not a valid 18-digit ID number as of ``as_of``, or ``None``.

    Stricter than the bare pattern in one way: only ASCII digits count (a bank file
    with full-width or other-script digits must be fixed at the source).
    """
    value = normalize_id_number(text)
    if len(value) == 18 and not value.isascii():
        return Reason(
            "ID number must be 17 digits followed by a digit or X",
            f"身份证号「{text.strip()}」应为17位数字加1位数字或X",
        )
    problem = id_number_problem(value, as_of=as_of)
    if problem is None:
        return None
    if len(value) != 18:
        zh = f"身份证号应为18位，实为{len(value)}位"
    elif not re.match(_ID_SHAPE, value):
        zh = f"身份证号「{value}」应为17位数字加1位数字或X"
    elif value[:2] not in PROVINCE_CODES:
        zh = f"身份证号地区码{value[:2]}不是有效省份"
    elif "birth date" in problem:
        zh = f"身份证号中的出生日期{value[6:14]}无效"
    else:
        zh = f"身份证号校验位应为{id_check_digit(value[:17])}，实为{value[17]}"
    return Reason(problem, zh)


def normalize_id_number_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`cuishou.kit.ids.normalize_id_number`."""
    return text.str.strip_chars().str.to_uppercase().str.replace_all(" ", "", literal=True)


def id_number_valid_expr(text: pl.Expr, *, as_of: date) -> pl.Expr:
    """Polars twin of :func:`id_number_reason` (``True`` when valid; null input → False)."""
    value = normalize_id_number_expr(text)
    shape_ok = value.str.contains(_ID_SHAPE)
    region_ok = value.str.slice(0, 2).is_in(list(PROVINCE_CODES))
    born = value.str.slice(6, 8).str.strptime(pl.Date, "%Y%m%d", strict=False)
    born_ok = (born >= date(1900, 1, 1)) & (born <= as_of)
    check_ok = value.str.slice(17, 1) == id_check_digit_expr(value)
    return (
        pl.when(shape_ok)
        .then(region_ok & born_ok & check_ok)
        .otherwise(pl.lit(False))
        .fill_null(False)
    )


# --- phones 手机号 / 联系电话 --------------------------------------------------------------


def normalize_mobile_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`cuishou.kit.ids.normalize_mobile`."""
    cleaned = text.str.strip_chars().str.replace_all(r"[\s\-()]", "")
    return (
        pl.when(cleaned.str.starts_with("+86"))
        .then(cleaned.str.slice(3))
        .when(cleaned.str.starts_with("0086"))
        .then(cleaned.str.slice(4))
        .when(cleaned.str.starts_with("86") & (cleaned.str.len_chars() == 13))
        .then(cleaned.str.slice(2))
        .otherwise(cleaned)
    )


def mobile_reason(text: str, *, field: str = "mobile") -> Reason | None:
    """Why ``text`` is not a mainland mobile (11 digits, 13x–19x), or ``None``."""
    if re.match(_MOBILE_SHAPE, normalize_mobile(text)):
        return None
    shown = text.strip()
    return Reason(
        f"{field}: {shown!r} is not an 11-digit mainland mobile starting 13-19",
        f"{field}：「{shown}」不是11位手机号（13-19开头）",
    )


def mobile_valid_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`mobile_reason`."""
    return normalize_mobile_expr(text).str.contains(_MOBILE_SHAPE).fill_null(False)


def normalize_phone(text: str) -> str:
    """A contact phone as stored: a mobile as 11 digits, a landline as ``0755-12345678``."""
    mobile = normalize_mobile(text)
    if re.match(_MOBILE_SHAPE, mobile):
        return mobile
    return re.sub(r"[\s()（）]", "", text.strip())


def phone_kind(normalized: str) -> str:
    """``mobile`` or ``phone`` (a landline) for a normalised contact phone."""
    return "mobile" if re.match(_MOBILE_SHAPE, normalized) else "phone"


def phone_reason(text: str, *, field: str = "phone") -> Reason | None:
    """Why ``text`` is neither a mobile nor a landline (区号-号码), or ``None``."""
    value = normalize_phone(text)
    if re.match(_MOBILE_SHAPE, value) or _LANDLINE_RE.match(value):
        return None
    shown = text.strip()
    return Reason(
        f"{field}: {shown!r} is neither a mobile (11 digits) nor a landline like 0755-12345678",
        f"{field}：「{shown}」既不是11位手机号，也不是固定电话（如0755-12345678）",
    )


def normalize_phone_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`normalize_phone`."""
    mobile = normalize_mobile_expr(text)
    return (
        pl.when(mobile.str.contains(_MOBILE_SHAPE))
        .then(mobile)
        .otherwise(text.str.strip_chars().str.replace_all(r"[\s()（）]", ""))
    )


def phone_valid_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`phone_reason`."""
    value = normalize_phone_expr(text)
    return (value.str.contains(_MOBILE_SHAPE) | value.str.contains(_LANDLINE_SHAPE)).fill_null(
        False
    )


# --- amounts 金额 (yuan → fen) --------------------------------------------------------------


_AMOUNT_ZH: dict[AmountProblem, str] = {
    "decimals": "{field}：金额「{shown}」超过两位小数（金额以元计，精确到分）",
    "digits": "{field}：金额「{shown}」含有0-9以外的数字（请使用半角数字）",
    "grouping": "{field}：金额「{shown}」的逗号只能作千分位分隔（如1,234.56）",
    "too_long": "{field}：金额「{shown}」整数部分超过15位",
    "syntax": "{field}：「{shown}」不是以元为单位的金额（如1234.56、1,234.56或¥1234.56）",
}


def parse_amount(text: str, *, field: str, positive: bool = False) -> int | Reason:
    """A yuan amount as fen, or why it is not one (negative, 3 decimals, not a number).

    The grammar is :data:`cuishou.kit.money.YUAN_PATTERN`; :func:`yuan_fen_expr` is its
    Polars form.
    """
    shown = text.strip()
    try:
        fen = parse_yuan(text, field=field)
    except AmountRefused as exc:
        return Reason(exc.message, _AMOUNT_ZH[exc.problem].format(field=field, shown=shown))
    if abs(fen) > MAX_AMOUNT_FEN:
        return Reason(f"{field}: {shown!r} is implausibly large", f"{field}：金额「{shown}」过大")
    if positive and fen <= 0:
        return Reason(
            f"{field}: {shown!r} must be greater than zero", f"{field}：金额「{shown}」必须大于零"
        )
    if fen < 0:
        return Reason(
            f"{field}: {shown!r} must not be negative", f"{field}：金额「{shown}」不能为负"
        )
    return fen


def yuan_fen_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`cuishou.kit.money.parse_yuan`: fen, or null where it refuses.

    The same grammar (:data:`cuishou.kit.money.YUAN_PATTERN`), the same value; only the
    explanation of a refusal is left to the scalar form (:func:`parse_amount`). The
    grammar is matched without captures (a DFA, fast on a million cells); the value of a
    matching cell is its digits read as a decimal — past the fen only zeros can follow.
    """
    blanks = f"[{AMOUNT_BLANKS}]*"
    valid = text.str.contains(f"^{blanks}(?:{YUAN_PATTERN}){blanks}$")
    number = text.str.replace_all(f"[¥￥元,{AMOUNT_BLANKS}]", "")
    fen = (number.cast(pl.Decimal(18, 2), strict=False) * 100).cast(pl.Int64, strict=False)
    return pl.when(valid).then(fen).otherwise(pl.lit(None, dtype=pl.Int64))


# --- dates 日期 -----------------------------------------------------------------------------


def parse_business_date(text: str, *, field: str) -> date | Reason:
    """A business date as banks spell it (2026-06-15, 2026/6/15, 20260615, 2026年6月15日)."""
    parsed = parse_date_text(text)
    if parsed is None:
        shown = text.strip()
        return Reason(
            f"{field}: {shown!r} is not a date (expected YYYY-MM-DD)",
            f"{field}：「{shown}」不是有效日期（应为YYYY-MM-DD）",
        )
    return parsed


def date_fast_expr(text: pl.Expr) -> pl.Expr:
    """The ISO spelling parsed in Polars; null for every other spelling (scalar form then)."""
    cleaned = text.str.strip_chars()
    return (
        pl.when(cleaned.str.contains(_DATE_FAST))
        .then(cleaned.str.strptime(pl.Date, "%Y-%m-%d", strict=False))
        .otherwise(pl.lit(None, dtype=pl.Date))
    )


_DATETIME_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M:%S",
    "%Y-%m-%dT%H:%M:%S",
)


#: the usual spelling of a payment time, years 1970–2039, where Polars' zone rules and
#: Python's agree (later years follow each zone's rule string in Python only); the rest goes
#: to the scalar rule
_PAID_AT_FAST = (
    r"^(19[7-9][0-9]|20[0-3][0-9])-[0-9]{2}-[0-9]{2} ([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$"
)


def paid_at_fast_expr(text: pl.Expr, zone: ZoneInfo) -> pl.Expr:
    """:func:`parse_paid_at` in Polars for ``YYYY-MM-DD HH:MM:SS`` local times (what bank
    files write): the UTC instant, or null for every other spelling and for a local time the
    zone skips or repeats (the scalar rule decides those, so both forms agree)."""
    cleaned = text.str.strip_chars()
    local = cleaned.str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False)
    return (
        pl.when(cleaned.str.contains(_PAID_AT_FAST))
        .then(
            local.dt.replace_time_zone(
                zone.key, ambiguous="null", non_existent="null"
            ).dt.convert_time_zone("UTC")
        )
        .otherwise(pl.lit(None, dtype=pl.Datetime("us", "UTC")))
    )


def parse_paid_at(text: str, *, zone: ZoneInfo, field: str = "paid_at") -> datetime | Reason:
    """When a payment was made, as aware UTC; naive times are the creditor's local time.

    A date alone means the start of that local day.
    """
    cleaned = text.strip()
    moment: datetime | None = None
    try:
        moment = datetime.fromisoformat(cleaned)
    except ValueError:
        for spelling in _DATETIME_FORMATS:
            try:
                moment = datetime.strptime(cleaned, spelling)  # noqa: DTZ007 - zone added below
                break
            except ValueError:
                continue
    if moment is None:
        day = parse_date_text(cleaned) if len(cleaned) <= 11 else None
        if day is not None:
            moment = datetime(day.year, day.month, day.day)  # noqa: DTZ001 - zone added below
    if moment is None:
        return Reason(
            f"{field}: {cleaned!r} is not a date and time (expected YYYY-MM-DD HH:MM:SS)",
            f"{field}：「{cleaned}」不是有效时间（应为YYYY-MM-DD HH:MM:SS）",
        )
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # 0001-01-01 east of UTC: not a time anyone paid
        return Reason(
            f"{field}: {cleaned!r} is not a plausible payment time",
            f"{field}：「{cleaned}」不是合理的还款时间",
        )


def local_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


# --- rates, products, relations --------------------------------------------------------------


def parse_rate(text: str, *, field: str = "annual_rate") -> Decimal | Reason:
    """An annual rate as a fraction: ``0.18``, ``18%`` and ``18`` all mean 18 %.

    A bare number above 1 is read as a percentage (no consumer loan charges 100 %+).
    """
    shown = text.strip()
    cleaned = shown.replace("％", "%").replace(" ", "")
    percent = cleaned.endswith("%")
    number = cleaned.removesuffix("%")
    # ASCII digits only: Decimal() would also read ١٨, 1e1, 1_8, NaN and Infinity
    value = Decimal(number) if _RATE_RE.fullmatch(number) else Decimal("NaN")
    if not value.is_finite():
        return Reason(
            f"{field}: {shown!r} is not a rate (write 0.18, 18% or 18)",
            f"{field}：「{shown}」不是有效利率（如0.18、18%或18）",
        )
    if percent or value > 1:
        value = value / 100
    if value < 0 or value >= 10:
        return Reason(
            f"{field}: {shown!r} is out of range (0 to 1000%)",
            f"{field}：利率「{shown}」超出范围",
        )
    quantized = value.quantize(Decimal("0.000001"))
    if quantized != value:
        return Reason(
            f"{field}: {shown!r} has more than six decimals as a fraction",
            f"{field}：利率「{shown}」精度超过小数点后6位",
        )
    return quantized.normalize() if quantized == quantized.to_integral() else quantized


def product_code(text: str) -> str | None:
    """The product code for a product word (信用卡 → credit_card), or ``None`` if unknown."""
    cleaned = text.strip()
    return PRODUCTS.get(cleaned) or PRODUCTS.get(cleaned.lower())


def relation_code(text: str) -> str:
    """The relation code for a relation word (配偶 → spouse).

    An unrecognised word is kept as ``other`` rather than rejecting the account: the
    contact is still worth having, and the relation can be corrected later.
    """
    cleaned = text.strip()
    return RELATIONS.get(cleaned) or RELATIONS.get(cleaned.lower()) or "other"


# --- applying a scalar rule to the rows the fast path left ----------------------------------


def apply_scalar(
    texts: pl.Series,
    parse: Callable[[str], T | Reason],
    *,
    dtype: pl.DataType | type[pl.DataType],
) -> tuple[pl.Series, pl.Series, pl.Series]:
    """Run ``parse`` once per distinct text: (values, English reasons, Chinese reasons).

    Nulls stay null with no reason. Distinct values are few for dates, products and
    rates, so this is fast even on a million rows.
    """
    distinct = texts.drop_nulls().unique()
    values: list[T | None] = []
    en: list[str | None] = []
    zh: list[str | None] = []
    for text in distinct.to_list():
        result = parse(text)
        if isinstance(result, Reason):
            values.append(None)
            en.append(result.en)
            zh.append(result.zh)
        else:
            values.append(result)
            en.append(None)
            zh.append(None)
    lookup = pl.DataFrame(
        {
            "_text": distinct,
            "_value": pl.Series(values, dtype=dtype),
            "_en": pl.Series(en, dtype=pl.String),
            "_zh": pl.Series(zh, dtype=pl.String),
        }
    )
    joined = pl.DataFrame({"_text": texts}).join(
        lookup, on="_text", how="left", maintain_order="left"
    )
    return joined["_value"], joined["_en"], joined["_zh"]


# --- idempotency: the content of an account row ----------------------------------------------

ACCOUNT_SNAPSHOT_FIELDS: tuple[str, ...] = (
    "product_code",
    "principal_fen",
    "interest_fen",
    "penalty_fen",
    "fee_fen",
    "overdue_since",
    "installment_fen",
    "loan_amount_fen",
    "contract_date",
    "annual_rate",
    "snapshot_date",
)
"""The snapshot fields stored on the account row itself."""

SNAPSHOT_FIELDS: tuple[str, ...] = (
    *ACCOUNT_SNAPSHOT_FIELDS,
    "id_number",
    "name",
    "mobile",
    "province",
    "city",
    "home_address",
    "employer",
    "work_address",
    "contacts",
)
"""What an account row says; two rows with the same values are the same snapshot."""


#: snapshot fields added after the first release: in the content text only when present,
#: so the hash of a row without them (every row stored before) does not change
OPTIONAL_SNAPSHOT_FIELDS: tuple[str, ...] = ("email", "language")


def content_text_expr(
    fields: Sequence[str] = SNAPSHOT_FIELDS, optional: Sequence[str] = ()
) -> pl.Expr:
    """The row's snapshot fields as one text (unit separator between fields); each
    ``optional`` field is appended as ``name=value`` only when the row has it."""
    base = pl.concat_str(
        [pl.col(name).cast(pl.String).fill_null("") for name in fields], separator="\x1f"
    )
    extras = [
        pl.when(pl.col(name).is_not_null())
        .then(pl.lit(f"\x1f{name}=") + pl.col(name).cast(pl.String))
        .otherwise(pl.lit(""))
        for name in optional
    ]
    return pl.concat_str([base, *extras]) if extras else base


#: an e-mail address as the import and the contact-point API accept it (one definition)
EMAIL_SHAPE = re.compile(r"^[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(\.[A-Za-z0-9\-]+)+$")


def email_reason(text: str, *, field: str = "email") -> Reason | None:
    """Why ``text`` is not an e-mail address, or ``None``."""
    shown = text.strip()
    if EMAIL_SHAPE.match(shown):
        return None
    return Reason(
        f"{field}: {shown!r} is not an e-mail address like name@example.com",
        f"{field}：「{shown}」不是邮箱地址（如 name@example.com）",
    )


def normalize_email(text: str) -> str:
    """An e-mail as stored: trimmed, the domain lower-cased (the local part kept)."""
    local, _at, domain = text.strip().partition("@")
    return f"{local}@{domain.lower()}"


def email_valid_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`email_reason` (true when valid)."""
    return text.str.strip_chars().str.contains(EMAIL_SHAPE.pattern).fill_null(False)


def normalize_email_expr(text: pl.Expr) -> pl.Expr:
    """Polars twin of :func:`normalize_email`."""
    trimmed = text.str.strip_chars()
    return pl.concat_str(
        trimmed.str.extract(r"^(.*)@", 1),
        pl.lit("@"),
        trimmed.str.extract(r"@(.*)$", 1).str.to_lowercase(),
    )


def content_hashes(texts: Iterable[str]) -> list[str]:
    """SHA-256 of each content text: stable across versions and machines."""
    return [hashlib.sha256(text.encode("utf-8")).hexdigest() for text in texts]


def snapshot_diff(
    old: dict[str, object], new: dict[str, object], fields: Sequence[str]
) -> dict[str, list[object]]:
    """``{field: [old, new]}`` for the fields whose value changed."""
    return {
        name: [old.get(name), new.get(name)] for name in fields if old.get(name) != new.get(name)
    }
