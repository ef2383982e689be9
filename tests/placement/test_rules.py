"""Placement row rules: the scalar forms explain, the Polars forms agree with them."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import InvalidInput
from cuishou.kit.ids import id_check_digit
from cuishou.kit.money import parse_yuan
from cuishou.placement.rules import (
    Reason,
    id_number_reason,
    id_number_valid_expr,
    mobile_reason,
    mobile_valid_expr,
    normalize_phone,
    normalize_phone_expr,
    paid_at_fast_expr,
    parse_amount,
    parse_paid_at,
    parse_rate,
    phone_reason,
    phone_valid_expr,
    relation_code,
    yuan_fen_expr,
)

AS_OF = date(2026, 11, 20)


def _valid_id(region: str, born: date, serial: int) -> str:
    first17 = f"{region}0101{born:%Y%m%d}{serial:03d}"
    return first17 + id_check_digit(first17)


ids = st.one_of(
    st.builds(
        _valid_id,
        st.sampled_from(["11", "44", "65", "99", "00"]),
        st.dates(min_value=date(1890, 1, 1), max_value=date(2030, 1, 1)),
        st.integers(0, 999),
    ),
    st.builds(
        lambda s, i, c: s[:i] + c + s[i + 1 :],
        st.builds(_valid_id, st.just("11"), st.just(date(1990, 3, 7)), st.integers(0, 999)),
        st.integers(0, 17),
        st.sampled_from(list("0123456789Xx a")),
    ),
    st.text(alphabet="0123456789X x-", max_size=20),
    st.text(max_size=20),
)
phones = st.one_of(
    st.from_regex(r"\A(\+86|0086|86)? ?1[0-9]{2}[ -]?[0-9]{4}[ -]?[0-9]{4}\Z", fullmatch=True),
    st.from_regex(r"\A\(?0[0-9]{2,3}\)?[- ]?[0-9]{6,9}(-[0-9]{1,7})?\Z", fullmatch=True),
    st.text(alphabet="0123456789+-() ", max_size=16),
    st.text(max_size=14),
)


def _expr(values: list[str], expr: pl.Expr) -> list[bool]:
    return pl.DataFrame({"v": values}, schema={"v": pl.String}).select(expr).to_series().to_list()


def test_check_digit_reason_names_both_digits_in_english_and_chinese() -> None:
    good = _valid_id("44", date(1988, 5, 1), 123)
    wrong = "5" if good[-1] != "5" else "3"
    reason = id_number_reason(good[:17] + wrong, as_of=AS_OF)
    assert reason == Reason(
        f"ID number check digit is {wrong}, expected {good[-1]} (GB 11643)",
        f"身份证号校验位应为{good[-1]}，实为{wrong}",
    )


@settings(max_examples=80, deadline=None)
@given(st.lists(ids, min_size=1, max_size=20))
def test_id_number_expression_agrees_with_the_scalar_rule(values: list[str]) -> None:
    expected = [id_number_reason(v, as_of=AS_OF) is None for v in values]
    assert _expr(values, id_number_valid_expr(pl.col("v"), as_of=AS_OF)) == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(phones, min_size=1, max_size=20))
def test_mobile_expression_agrees_with_the_scalar_rule(values: list[str]) -> None:
    expected = [mobile_reason(v) is None for v in values]
    assert _expr(values, mobile_valid_expr(pl.col("v"))) == expected


@settings(max_examples=80, deadline=None)
@given(st.lists(phones, min_size=1, max_size=20))
def test_phone_expression_agrees_with_the_scalar_rule(values: list[str]) -> None:
    valid = [phone_reason(v) is None for v in values]
    assert _expr(values, phone_valid_expr(pl.col("v"))) == valid
    # and valid phones are stored the same way by both forms
    kept = [v for v, ok in zip(values, valid, strict=True) if ok]
    normalized = pl.DataFrame({"v": kept}, schema={"v": pl.String}).select(
        normalize_phone_expr(pl.col("v"))
    )
    assert normalized.to_series().to_list() == [normalize_phone(v) for v in kept]


@pytest.mark.parametrize(
    ("text", "stored"),
    [("0755-12345678", "0755-12345678"), ("(010)62345678", "01062345678"),
     ("+86 138 1234 5678", "13812345678"), ("021-5432 1098-12", "021-54321098-12")],
)  # fmt: skip
def test_a_contact_phone_may_be_a_mobile_or_a_landline(text: str, stored: str) -> None:
    assert phone_reason(text) is None
    assert normalize_phone(text) == stored


_AMOUNT_ALPHABET = st.sampled_from(
    [*"0123456789,.-+¥￥元%， \u3000\u00a0\t\nRMBe", "١", "٢", "𝟗", "９", "²", "\x1c", "\u2212"]
)
yuan_texts = st.one_of(
    st.from_regex(r"\A[+-]?[0-9]{1,18}(\.[0-9]{0,4})?\Z", fullmatch=True),
    st.from_regex(r"\A-?[¥￥]?[0-9]{1,4}(,[0-9]{2,4}){0,6}(\.[0-9]{1,3}0*)?元?\Z", fullmatch=True),
    st.from_regex(r"\A0{0,25}[0-9]{1,16}(\.[0-9]{1,3}0{0,25})?\Z", fullmatch=True),
    st.text(_AMOUNT_ALPHABET, max_size=14),
    st.text(max_size=12),
)


def _scalar_fen(text: str) -> int | None:
    try:
        return parse_yuan(text)
    except InvalidInput:
        return None


@settings(max_examples=200, deadline=None)
@given(st.lists(yuan_texts, min_size=1, max_size=20))
def test_the_polars_amount_form_accepts_and_values_exactly_what_parse_yuan_does(
    values: list[str],
) -> None:
    # one grammar, two forms: same accept/refuse and same fen on any text, including
    # Unicode digits, malformed groupings, signs, currency marks and odd blanks
    fen = pl.DataFrame({"v": values}).select(yuan_fen_expr(pl.col("v"))).to_series()
    assert fen.to_list() == [_scalar_fen(text) for text in values]


# each spelling the issue (#10) found accepted, refused now by the file path and the scalar
BAD_AMOUNTS = ["1,00", "١٢", "𝟗", "1,0000", "12,34,567", "1，000", "12RMB", "1RMB2", "+5", "12."]


@pytest.mark.parametrize("text", BAD_AMOUNTS)
def test_lenient_spellings_are_refused_by_both_forms(text: str) -> None:
    fen = pl.DataFrame({"v": [text]}).select(yuan_fen_expr(pl.col("v"))).item()
    assert fen is None
    assert isinstance(parse_amount(text, field="amount"), Reason)


@pytest.mark.parametrize(
    ("text", "en", "zh"),
    [
        ("1,00", "commas may only group thousands", "千分位"),
        ("١٢", "digits other than 0-9", "0-9以外的数字"),
        ("𝟗", "digits other than 0-9", "0-9以外的数字"),
        ("12345678901234567", "more than 15 digits", "超过15位"),
    ],
)
def test_a_refused_amount_says_what_to_fix(text: str, en: str, zh: str) -> None:
    reason = parse_amount(text, field="amount")
    assert isinstance(reason, Reason)
    assert en in reason.en and zh in reason.zh


@pytest.mark.parametrize(
    ("text", "fen"),
    [("12.3", 1230), ("1,234.50", 123450), ("¥12", 1200), ("12.340", 1234), ("0012", 1200)],
)
def test_amounts_are_parsed_to_fen(text: str, fen: int) -> None:
    assert parse_amount(text, field="principal") == fen


@pytest.mark.parametrize(
    ("text", "positive", "en", "zh"),
    [
        ("12.345", False, "more than two decimals", "超过两位小数"),
        ("-5", False, "must not be negative", "不能为负"),
        ("0", True, "greater than zero", "必须大于零"),
        ("abc", False, "not an amount", "不是以元为单位的金额"),
    ],
)
def test_bad_amounts_are_explained(text: str, positive: bool, en: str, zh: str) -> None:
    reason = parse_amount(text, field="principal", positive=positive)
    assert isinstance(reason, Reason)
    assert en in reason.en and zh in reason.zh


@pytest.mark.parametrize(
    ("text", "rate"),
    [("0.18", "0.18"), ("18%", "0.18"), ("18", "0.18"), ("18.25％", "0.1825"), ("1", "1")],
)
def test_annual_rates_accept_fraction_percent_and_bare_percent(text: str, rate: str) -> None:
    assert parse_rate(text) == Decimal(rate)


@pytest.mark.parametrize("text", ["١٨", "１８%", "1e1", "1_8", "NaN", "Infinity", "18%%", "-0.18"])
def test_a_rate_is_ascii_digits_too(text: str) -> None:
    reason = parse_rate(text)
    assert isinstance(reason, Reason)
    assert "not a rate" in reason.en and "不是有效利率" in reason.zh


def test_unknown_relation_words_are_kept_as_other() -> None:
    assert relation_code("配偶") == "spouse"
    assert relation_code("Friend") == "friend"
    assert relation_code("表舅") == "other"


def test_paid_at_without_zone_is_the_creditors_local_time() -> None:
    moment = parse_paid_at("2026-11-03 14:20:00", zone=CHINA_TZ)
    assert not isinstance(moment, Reason)
    assert moment.isoformat() == "2026-11-03T06:20:00+00:00"
    assert isinstance(parse_paid_at("yesterday", zone=CHINA_TZ), Reason)


_TIME_TEXTS = st.one_of(
    # the usual spelling, in and out of range (month 13, day 31 of a short month, hour 24 …)
    st.builds(
        "{:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}".format,
        st.integers(1, 9999), st.integers(0, 13), st.integers(0, 32),
        st.integers(0, 25), st.integers(0, 61), st.integers(0, 61),
    ),
    st.datetimes().map(lambda d: d.strftime("%Y-%m-%d %H:%M:%S")),
    st.sampled_from([" 2026-11-03 14:20:00 ", "2026-11-03T14:20:00", "2026/11/03 14:20",
                     "2026-03-08 02:30:00", "2026-11-01 01:30:00", "20261103142000", ""]),
    st.text(alphabet="0123456789-: T/", max_size=20),
)  # fmt: skip


@settings(max_examples=300)
@given(texts=st.lists(_TIME_TEXTS, min_size=1, max_size=20), zone=st.sampled_from(
    ["Asia/Shanghai", "America/New_York", "Europe/London", "UTC"]))  # fmt: skip
def test_the_polars_payment_time_is_the_scalar_rules_where_it_answers(
    texts: list[str], zone: str
) -> None:
    from zoneinfo import ZoneInfo

    where = ZoneInfo(zone)
    fast = pl.select(paid_at_fast_expr(pl.Series(texts, dtype=pl.String), where))
    for text, value in zip(texts, fast.to_series().to_list(), strict=True):
        if value is not None:  # the fast form answers only where the scalar rule agrees
            assert parse_paid_at(text, zone=where) == value, text


def test_the_usual_payment_time_is_read_in_polars_and_odd_ones_are_left() -> None:
    texts = ["2026-11-03 14:20:00", "2026-02-30 10:00:00", "2026-11-03 24:00:00", "2026/11/03"]
    fast = pl.select(paid_at_fast_expr(pl.Series(texts), CHINA_TZ)).to_series().to_list()
    assert fast[0] == parse_paid_at(texts[0], zone=CHINA_TZ)
    assert fast[1:] == [None, None, None]
