"""Realistic placement portfolios (委案数据) for demos, tests and benchmarks.

:func:`generate_portfolio` builds an accounts file and a payments file in the import
format of :mod:`cuishou.placement.columns`, as a Chinese bank would export them; it is
vectorised (Polars) so a million accounts take seconds. :func:`write_portfolio` writes
them as CSV (UTF-8 or GBK), XLSX or Parquet.

Randomness comes from named SHAKE-256 streams of the seed: every drawn column has its
own stream, so the same seed and arguments always give byte-identical files, on any
machine and Python version, and adding a column later does not change the others.

The distributions (documented in ``docs/generator.md``):

* accounts per debtor (共债): 1 70%, 2 20%, 3 7%, 4 3%;
* products: credit card 55%, consumer loan 35%, small business loan 10%, each with a
  lognormal overdue principal (medians ¥18,000 / ¥35,000 / ¥180,000);
* DPD as of ``as_of``: M1 30%, M2 18%, M3 12%, M4 9%, M5 7%, M6 6%, M7+ 18% (a long
  tail to five years); ``overdue_since = as_of - DPD``;
* the snapshot (数据日期) and placement (委案日期) are ``as_of - 10`` days, so every
  account is already overdue at the snapshot and payments can post in between.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
from openpyxl import Workbook

from cuishou.generator import names
from cuishou.kit.errors import InvalidInput
from cuishou.kit.ids import ID_CHECK, ID_WEIGHTS
from cuishou.placement.columns import (
    ACCOUNT_COLUMNS,
    PAYMENT_COLUMNS,
    Column,
    third_party_columns,
)

SNAPSHOT_LAG_DAYS = 10
"""The snapshot (数据日期) and placement (委案日期) are this many days before ``as_of``."""
PLACEMENT_TERM_DAYS = 90
"""退案日期 = 委案日期 + 90 days."""
MAX_ACCOUNTS = 20_000_000
XLSX_MAX_ROWS = 1_048_575

# 账龄 mix as of ``as_of``: (bucket, lowest DPD, highest DPD or None, share).
DPD_MIX: tuple[tuple[str, int, int | None, float], ...] = (
    ("M1", SNAPSHOT_LAG_DAYS + 1, 30, 0.30),
    ("M2", 31, 60, 0.18),
    ("M3", 61, 90, 0.12),
    ("M4", 91, 120, 0.09),
    ("M5", 121, 150, 0.07),
    ("M6", 151, 180, 0.06),
    ("M7+", 181, None, 0.18),
)
M7_TAIL_MEAN_DAYS = 240
"""M7+ DPD is 181 + an exponential tail with this mean, capped at five years."""
MAX_DPD = 1825

ACCOUNTS_PER_DEBTOR: tuple[tuple[int, float], ...] = ((1, 0.70), (2, 0.20), (3, 0.07), (4, 0.03))
SAME_DPD_SHARE = 0.6
"""Share of a co-debtor's further accounts that went bad together with the first (±15 days)."""
PRODUCT_MIX: tuple[tuple[str, float], ...] = (
    ("credit_card", 0.55),
    ("consumer_loan", 0.35),
    ("small_business", 0.10),
)
MALE_SHARE = 0.6
THIRD_PARTY_COUNTS: tuple[tuple[int, float], ...] = ((0, 0.15), (1, 0.35), (2, 0.35), (3, 0.15))
GENERATED_THIRD_PARTIES = 3
LANDLINE_SHARE = 0.05
PAYING_SHARE = 0.12
"""Share of accounts with payments posted between the snapshot and ``as_of``."""
PAYMENTS_PER_PAYER: tuple[tuple[int, float], ...] = ((1, 0.70), (2, 0.20), (3, 0.10))
CURE_SHARE = 0.15
"""Share of paying accounts that pay everything due (出催/结清)."""

# Relations of named third parties (联系人) by slot, so that nobody has two spouses.
RELATIONS_BY_SLOT: tuple[tuple[tuple[str, float], ...], ...] = (
    (("配偶", 0.45), ("父亲", 0.15), ("母亲", 0.20), ("兄弟姐妹", 0.12), ("子女", 0.08)),
    (("兄弟姐妹", 0.30), ("朋友", 0.35), ("同事", 0.20), ("亲戚", 0.15)),
    (("朋友", 0.40), ("同事", 0.35), ("同学", 0.15), ("亲戚", 0.10)),
)
_SAME_SURNAME_RELATIONS = ("父亲", "兄弟姐妹", "子女")

BAD_ROW_KINDS: tuple[str, ...] = (
    "id_check_digit",
    "mobile",
    "negative_amount",
    "three_decimals",
    "date",
    "unknown_product",
    "duplicate_account_no",
)
UNKNOWN_PRODUCT = "保险分期"


@dataclass(frozen=True, slots=True)
class ProductProfile:
    """How one product's balances look: lognormal principal, rates, loan terms."""

    code: str
    median_yuan: float
    sigma: float
    min_yuan: int
    max_yuan: int
    rate_bands: tuple[tuple[float, float, float], ...]  # (low, high, share)
    terms_months: tuple[int, ...]  # empty for revolving credit
    amount_step_yuan: int  # loan amounts / credit limits are multiples of this
    account_prefix: str


PRODUCT_PROFILES: dict[str, ProductProfile] = {
    "credit_card": ProductProfile(
        "credit_card", 18_000, 0.8, 500, 300_000,
        ((0.1825, 0.1825, 0.85), (0.10, 0.1825, 0.15)), (), 1_000, "62258",
    ),
    "consumer_loan": ProductProfile(
        "consumer_loan", 35_000, 0.75, 2_000, 500_000,
        ((0.036, 0.12, 0.35), (0.12, 0.24, 0.45), (0.24, 0.36, 0.20)), (12, 24, 36), 1_000, "XF",
    ),
    "small_business": ProductProfile(
        "small_business", 180_000, 0.8, 20_000, 3_000_000,
        ((0.035, 0.08, 0.55), (0.08, 0.15, 0.35), (0.15, 0.24, 0.10)), (12, 24, 36), 10_000, "JY",
    ),
}  # fmt: skip

AGE_BANDS: tuple[tuple[float, float, float], ...] = (
    (20.05, 30.0, 0.30),
    (30.0, 40.0, 0.35),
    (40.0, 50.0, 0.22),
    (50.0, 65.9, 0.13),
)
_DAYS_PER_YEAR = 365.2425


@dataclass(frozen=True, slots=True)
class Portfolio:
    """A generated placement: the accounts file and the payments file, as text.

    Columns carry canonical names (``cuishou.placement.columns``); values are the text a
    bank file holds (yuan with two decimals, ``YYYY-MM-DD`` dates, Chinese product names),
    ``null`` for an empty cell. ``bad_rows`` accounts rows were spoiled on purpose.
    """

    accounts: pl.DataFrame
    payments: pl.DataFrame
    debtors: int
    bad_rows: int
    as_of: date
    snapshot_date: date


StepCallback = Callable[[str], None]

GENERATION_STEPS = ("debtors", "accounts", "third parties", "payments", "bad rows", "rendering")


class _Streams:
    """Named, independent uniform streams of one seed (SHAKE-256, 32-bit resolution)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed

    def uniform(self, name: str, n: int) -> pl.Series:
        """``n`` uniforms in (0, 1), the same for the same seed and name."""
        raw = hashlib.shake_256(f"cuishou-generate:{self._seed}:{name}".encode()).digest(4 * n)
        array = pa.Array.from_buffers(pa.uint32(), n, [None, pa.py_buffer(raw)])
        return ((pl.Series(name, array).cast(pl.Float64) + 0.5) / 4_294_967_296.0).alias(name)

    def integer(self, name: str, bound: int) -> int:
        """One integer in ``[0, bound)``."""
        raw = hashlib.shake_256(f"cuishou-generate:{self._seed}:{name}".encode()).digest(8)
        return int.from_bytes(raw, "little") % bound

    def normal(self, name: str, n: int) -> pl.Series:
        """Standard normal draws (Box–Muller)."""
        u1 = self.uniform(f"{name}:1", n)
        u2 = self.uniform(f"{name}:2", n)
        return ((-2.0 * u1.log()).sqrt() * (2.0 * math.pi * u2).cos()).alias(name)

    def pick(self, name: str, n: int, weights: Sequence[float]) -> pl.Series:
        """Indices into ``weights`` drawn with those weights."""
        return pick_index(self.uniform(name, n), weights).alias(name)


def pick_index(u: pl.Series, weights: Sequence[float]) -> pl.Series:
    """Map uniforms to indices 0…len(weights)-1 with the given weights (inverse CDF)."""
    total = float(sum(weights))
    cumulative: list[float] = []
    running = 0.0
    for weight in weights[:-1]:
        running += weight / total
        cumulative.append(running)
    if not cumulative:
        return pl.Series(u.name, [0] * len(u), dtype=pl.UInt32)
    return pl.Series(cumulative).search_sorted(u, side="right").cast(pl.UInt32)


def _int_between(u: pl.Expr, low: pl.Expr | int, high: pl.Expr | int) -> pl.Expr:
    """An integer in ``[low, high]`` from a uniform."""
    low_e = low if isinstance(low, pl.Expr) else pl.lit(low)
    high_e = high if isinstance(high, pl.Expr) else pl.lit(high)
    return (low_e + (u * (high_e - low_e + 1)).floor()).cast(pl.Int64)


def _gather(values: Sequence[str], index: pl.Expr) -> pl.Expr:
    """``values[index]`` for every row (a lookup into a constant list)."""
    return pl.lit(pl.Series(list(values), dtype=pl.String)).gather(index)


@dataclass(frozen=True, slots=True)
class _Places:
    """Counties flattened for vectorised lookups (one row per county)."""

    table: pl.DataFrame  # county_idx, code, county, city, city_idx, area_code, prefix
    birth_weights: list[float]
    move_weights: list[float]
    city_first: pl.Series  # city_idx -> first county_idx
    city_size: pl.Series  # city_idx -> number of counties


def _places() -> _Places:
    rows: list[dict[str, object]] = []
    birth: list[float] = []
    move: list[float] = []
    city_first: list[int] = []
    city_size: list[int] = []
    for province in names.PROVINCES:
        county_count = sum(len(city.counties) for city in province.cities)
        for city in province.cities:
            city_idx = len(city_first)
            city_first.append(len(rows))
            city_size.append(len(city.counties))
            for county in city.counties:
                prefix = province.name if province.is_municipality else province.name + city.name
                rows.append(
                    {
                        "code": county.code,
                        "county": county.name,
                        "city": city.name,
                        "province": province.name,
                        "city_idx": city_idx,
                        "area_code": city.area_code,
                        "prefix": prefix + county.name,
                    }
                )
                share = province.weight / county_count
                birth.append(share)
                move.append(share * names.MIGRATION_PULL.get(city.name, 0.3))
    return _Places(
        pl.DataFrame(rows),
        birth,
        move,
        pl.Series(city_first, dtype=pl.Int64),
        pl.Series(city_size, dtype=pl.Int64),
    )


def _bucket_dpd(streams: _Streams, name: str, n: int) -> pl.Series:
    """DPD as of ``as_of`` drawn from :data:`DPD_MIX`."""
    bucket = streams.pick(f"{name}:bucket", n, [share for *_, share in DPD_MIX])
    frame = pl.DataFrame(
        {
            "bucket": bucket,
            "u": streams.uniform(f"{name}:within", n),
            "tail": streams.uniform(f"{name}:tail", n),
        }
    )
    lows = pl.Series([low for _, low, _, _ in DPD_MIX], dtype=pl.Int64)
    highs = pl.Series([high or 0 for _, _, high, _ in DPD_MIX], dtype=pl.Int64)
    last = len(DPD_MIX) - 1
    low = pl.lit(lows).gather(pl.col("bucket"))
    high = pl.lit(highs).gather(pl.col("bucket"))
    tail = (-pl.col("tail").log() * M7_TAIL_MEAN_DAYS).floor().cast(pl.Int64)
    dpd = (
        pl.when(pl.col("bucket") == last)
        .then(pl.min_horizontal(low + tail, pl.lit(MAX_DPD)))
        .otherwise(_int_between(pl.col("u"), low, high))
    )
    return frame.select(dpd.alias(name)).to_series()


def _unique_codes(
    streams: _Streams, name: str, build: Callable[[pl.Series, str], pl.Series], n: int
) -> pl.Series:
    """Draw ``n`` integer codes with ``build(uniforms, round)``; redraw duplicates until unique."""
    codes = build(streams.uniform(f"{name}:0", n), "0")
    for attempt in range(1, 100):
        duplicate = ~codes.is_first_distinct()
        if not duplicate.any():
            return codes
        redraw = build(streams.uniform(f"{name}:{attempt}", n), str(attempt))
        codes = pl.select(pl.when(duplicate).then(redraw).otherwise(codes)).to_series()
    raise InvalidInput(f"could not draw {n} unique {name} values; ask for fewer accounts")


def _mobiles(streams: _Streams, n: int) -> pl.Series:
    """``n`` distinct mainland mobiles (手机号) with realistic prefixes (号段)."""
    prefixes = pl.Series([int(p) for p, _ in names.MOBILE_PREFIXES], dtype=pl.Int64)
    weights = [w for _, w in names.MOBILE_PREFIXES]

    def build(u: pl.Series, attempt: str) -> pl.Series:
        prefix = prefixes.gather(streams.pick(f"mobile:prefix:{attempt}", n, weights))
        return prefix * 100_000_000 + (u * 100_000_000).floor().cast(pl.Int64)

    return _unique_codes(streams, "mobile", build, n).cast(pl.String).alias("mobile")


def _digits_weighted_sum(value: pl.Expr, weights: Sequence[int]) -> pl.Expr:
    """Σ digit·weight over the last ``len(weights)`` decimal digits of ``value``."""
    count = len(weights)
    return pl.sum_horizontal(
        [(value // 10 ** (count - 1 - i)) % 10 * w for i, w in enumerate(weights)]
    )


def _id_numbers(streams: _Streams, frame: pl.DataFrame) -> pl.Series:
    """Distinct 18-digit ID numbers (身份证号): region, birth date, sequence, check digit.

    ``frame`` has ``region`` (6 digits), ``birth`` (date) and ``male`` (bool); the
    sequence's last digit is odd for men, even for women (GB 11643).
    """
    n = frame.height
    birth = pl.col("birth")
    stem = frame.select(
        pl.col("region").cast(pl.Int64) * 10**11
        + birth.dt.year().cast(pl.Int64) * 10**7
        + birth.dt.month().cast(pl.Int64) * 10**5
        + birth.dt.day().cast(pl.Int64) * 10**3
    ).to_series()

    def build(u: pl.Series, attempt: str) -> pl.Series:
        return stem + (u * 500).floor().cast(pl.Int64) * 2 + frame["male"].cast(pl.Int64)

    id17 = _unique_codes(streams, "id_seq", build, n)
    check = _gather(list(ID_CHECK), _digits_weighted_sum(pl.col("id17"), ID_WEIGHTS) % 11)
    return (
        pl.DataFrame({"id17": id17})
        .select((pl.col("id17").cast(pl.String) + check).alias("id_number"))
        .to_series()
    )


def _given_names(streams: _Streams, name: str, male: pl.Series) -> pl.Series:
    n = len(male)
    male_chars = names.GIVEN_CHARS_MALE
    female_chars = names.GIVEN_CHARS_FEMALE
    frame = pl.DataFrame(
        {
            "male": male,
            "single": streams.uniform(f"{name}:single", n) < names.SINGLE_CHAR_GIVEN_NAME_SHARE,
            "a": streams.uniform(f"{name}:a", n),
            "b": streams.uniform(f"{name}:b", n),
        }
    )

    def char(u: str) -> pl.Expr:
        m = _gather(male_chars, (pl.col(u) * len(male_chars)).floor().cast(pl.Int64))
        f = _gather(female_chars, (pl.col(u) * len(female_chars)).floor().cast(pl.Int64))
        return pl.when(pl.col("male")).then(m).otherwise(f)

    given = pl.when(pl.col("single")).then(char("a")).otherwise(char("a") + char("b"))
    return frame.select(given.alias(name)).to_series()


def _surnames(streams: _Streams, name: str, n: int) -> pl.Series:
    index = streams.pick(name, n, [w for _, w in names.SURNAMES])
    return pl.select(_gather([s for s, _ in names.SURNAMES], pl.lit(index))).to_series().alias(name)


def _debtors(
    streams: _Streams,
    places: _Places,
    max_dpd: pl.Series,
    has_business: pl.Series,
    mobiles: pl.Series,
    as_of: date,
) -> pl.DataFrame:
    """One row per debtor (债务人): identity, mobile, residence, employer."""
    n = len(max_dpd)
    town = places.table
    frame = pl.DataFrame(
        {
            "max_dpd": max_dpd,
            "has_business": has_business,
            "male": streams.uniform("male", n) < MALE_SHARE,
            "age_band": streams.pick("age_band", n, [s for *_, s in AGE_BANDS]),
            "u_age": streams.uniform("age", n),
            "u_age_floor": streams.uniform("age_floor", n),
            "birth_county": streams.pick("birth_county", n, places.birth_weights),
            "moved": streams.uniform("moved", n) < names.MOVED_SHARE,
            "move_county": streams.pick("move_county", n, places.move_weights),
            "same_county": streams.uniform("same_county", n) < 0.5,
            "u_home_county": streams.uniform("home_county", n),
            "u_work_county": streams.uniform("work_county", n),
        }
    )
    low = pl.lit(pl.Series([b[0] for b in AGE_BANDS])).gather(pl.col("age_band"))
    high = pl.lit(pl.Series([b[1] for b in AGE_BANDS])).gather(pl.col("age_band"))
    age_days = ((low + pl.col("u_age") * (high - low)) * _DAYS_PER_YEAR).floor().cast(pl.Int64)
    # Old enough to have signed before the oldest account went overdue: 18 years + 90 days.
    floor_days = (
        pl.col("max_dpd") + int(18 * _DAYS_PER_YEAR) + 90 + (pl.col("u_age_floor") * 365).floor()
    ).cast(pl.Int64)
    oldest = int(65.9 * _DAYS_PER_YEAR)
    age_days = pl.min_horizontal(pl.max_horizontal(age_days, floor_days), pl.lit(oldest))
    city_of_birth = pl.lit(town["city_idx"]).gather(pl.col("birth_county"))
    within_city = pl.lit(places.city_first).gather(city_of_birth) + (
        pl.col("u_home_county") * pl.lit(places.city_size).gather(city_of_birth)
    ).floor().cast(pl.Int64)
    home = (
        pl.when(pl.col("moved"))
        .then(pl.col("move_county").cast(pl.Int64))
        .when(pl.col("same_county"))
        .then(pl.col("birth_county").cast(pl.Int64))
        .otherwise(within_city)
    )
    frame = frame.with_columns(
        birth=pl.lit(as_of) - pl.duration(days=age_days),
        region=pl.lit(town["code"]).gather(pl.col("birth_county")),
        home_county=home,
    )
    home_city = pl.lit(town["city_idx"]).gather(pl.col("home_county"))
    frame = frame.with_columns(
        work_county=pl.lit(places.city_first).gather(home_city)
        + (pl.col("u_work_county") * pl.lit(places.city_size).gather(home_city))
        .floor()
        .cast(pl.Int64),
    )
    frame = frame.with_columns(
        id_number=_id_numbers(streams, frame.select("region", "birth", "male")),
        surname=_surnames(streams, "surname", n),
        given=_given_names(streams, "given", frame["male"]),
        mobile=mobiles.head(n),
        home_address=_addresses(streams, "home", frame["home_county"], places, residential=True),
        work_address=_addresses(streams, "work", frame["work_county"], places, residential=False),
    )
    employer = _employers(streams, frame, places)
    return frame.with_columns(
        name=pl.col("surname") + pl.col("given"),
        province=pl.lit(town["province"]).gather(pl.col("home_county")),
        city=pl.lit(town["city"]).gather(pl.col("home_county")),
        area_code=pl.lit(town["area_code"]).gather(pl.col("home_county")),
        employer=employer,
    ).with_columns(
        # Nobody has an office address without an employer; freelancers have none either.
        work_address=pl.when(pl.col("employer").is_null() | (pl.col("employer") == "自由职业"))
        .then(None)
        .otherwise(pl.col("work_address")),
    )


def _addresses(
    streams: _Streams, name: str, county: pl.Series, places: _Places, *, residential: bool
) -> pl.Series:
    """``省市区 + 路 + 号`` and, for homes, often ``小区 + 栋/单元/室``."""
    n = len(county)
    frame = pl.DataFrame(
        {
            "county": county,
            "street": streams.pick(f"{name}:street", n, [1.0] * len(names.STREETS)),
            "number": streams.uniform(f"{name}:number", n),
            "compound": streams.pick(
                f"{name}:compound", n, [1.0] * len(names.RESIDENTIAL_COMPOUNDS)
            ),
            "has_compound": streams.uniform(f"{name}:has_compound", n) < 0.65,
            "building": streams.uniform(f"{name}:building", n),
            "unit": streams.uniform(f"{name}:unit", n),
            "room": streams.uniform(f"{name}:room", n),
            "trade": streams.pick(f"{name}:trade", n, [1.0] * len(names.COMPANY_TRADE_NAMES)),
            "has_tower": streams.uniform(f"{name}:has_tower", n) < 0.5,
        }
    )
    base = (
        pl.lit(places.table["prefix"]).gather(pl.col("county"))
        + _gather(names.STREETS, pl.col("street"))
        + _int_between(pl.col("number"), 1, 999).cast(pl.String)
        + "号"
    )
    if residential:
        floor = _int_between(pl.col("room"), 1, 33)
        detail = (
            _gather(names.RESIDENTIAL_COMPOUNDS, pl.col("compound"))
            + _int_between(pl.col("building"), 1, 40).cast(pl.String)
            + "栋"
            + _int_between(pl.col("unit"), 1, 4).cast(pl.String)
            + "单元"
            + floor.cast(pl.String)
            + ((pl.col("room") * 3301).floor().cast(pl.Int64) % 4 + 1).cast(pl.String).str.zfill(2)
            + "室"
        )
        flag = pl.col("has_compound")
    else:
        detail = (
            _gather(names.COMPANY_TRADE_NAMES, pl.col("trade"))
            + "大厦"
            + _int_between(pl.col("unit"), 1, 28).cast(pl.String)
            + "层"
        )
        flag = pl.col("has_tower")
    return frame.select(
        pl.when(flag).then(base + detail).otherwise(base).alias(f"{name}_address")
    ).to_series()


def _employers(streams: _Streams, frame: pl.DataFrame, places: _Places) -> pl.Expr:
    """工作单位: mostly companies (城市 + 商号 + 行业 + 有限公司), some others, some empty."""
    n = frame.height
    others = [t for t, _ in names.OTHER_EMPLOYERS]
    other_index = streams.pick("employer:other", n, [w for _, w in names.OTHER_EMPLOYERS])
    kind = streams.uniform("employer:kind", n)
    trade = streams.pick("employer:trade", n, [1.0] * len(names.COMPANY_TRADE_NAMES))
    industry = streams.pick("employer:industry", n, [1.0] * len(names.COMPANY_INDUSTRIES))
    form = streams.pick("employer:form", n, [w for _, w in names.COMPANY_FORMS])
    city = pl.lit(places.table["city"]).gather(pl.col("home_county"))
    company = (
        city
        + _gather(names.COMPANY_TRADE_NAMES, pl.lit(trade))
        + _gather(names.COMPANY_INDUSTRIES, pl.lit(industry))
        + _gather([f for f, _ in names.COMPANY_FORMS], pl.lit(form))
    )
    other = _gather(others, pl.lit(other_index)).str.replace(
        "{city}", city.str.strip_suffix("市"), literal=True
    )
    # 小微经营贷 borrowers run a business: their employer is a company or 个体经营.
    return (
        pl.when(pl.col("has_business") & (pl.lit(kind) < 0.75))
        .then(company)
        .when(pl.col("has_business"))
        .then(pl.lit("个体经营"))
        .when(pl.lit(kind) < 0.80)
        .then(company)
        .when(pl.lit(kind) < 0.92)
        .then(other)
        .otherwise(None)
    )


def _third_parties(streams: _Streams, debtors: pl.DataFrame, mobiles: pl.Series) -> list[pl.Series]:
    """联系人1..3: name, relation and phone for every debtor (null where none)."""
    n = debtors.height
    count = pl.Series([c for c, _ in THIRD_PARTY_COUNTS]).gather(
        streams.pick("tp:count", n, [w for _, w in THIRD_PARTY_COUNTS])
    )
    columns: list[pl.Series] = []
    for slot, relations in enumerate(RELATIONS_BY_SLOT):
        label = f"tp{slot + 1}"
        relation_words = [r for r, _ in relations]
        frame = pl.DataFrame(
            {
                "present": count > slot,
                "relation": _gather_series(
                    relation_words, streams.pick(f"{label}:relation", n, [w for _, w in relations])
                ),
                "debtor_male": debtors["male"],
                "debtor_surname": debtors["surname"],
                "own_surname": _surnames(streams, f"{label}:surname", n),
                "keep_surname": streams.uniform(f"{label}:keep_surname", n) < 0.85,
                "coin": streams.uniform(f"{label}:male", n) < 0.5,
                "landline": streams.uniform(f"{label}:landline", n) < LANDLINE_SHARE,
                "u_landline": streams.uniform(f"{label}:landline_number", n),
                "area_code": debtors["area_code"],
                "mobile": mobiles.slice(slot * n, n),
            }
        )
        relation = pl.col("relation")
        male = (
            pl.when(relation == "父亲")
            .then(True)
            .when(relation == "母亲")
            .then(False)
            .when(relation == "配偶")
            .then(~pl.col("debtor_male"))
            .otherwise(pl.col("coin"))
        )
        same_surname = relation.is_in(_SAME_SURNAME_RELATIONS) & pl.col("keep_surname")
        same_surname = same_surname & ~((relation == "子女") & ~pl.col("debtor_male"))
        frame = frame.with_columns(male=male)
        given = _given_names(streams, f"{label}:given", frame["male"])
        landline = (
            pl.col("area_code")
            + "-"
            + _int_between(pl.col("u_landline"), 20_000_000, 89_999_999).cast(pl.String)
        )
        out = frame.with_columns(given=given).select(
            pl.when(pl.col("present"))
            .then(
                pl.when(same_surname)
                .then(pl.col("debtor_surname"))
                .otherwise(pl.col("own_surname"))
                + pl.col("given")
            )
            .alias(f"contact{slot + 1}_name"),
            pl.when(pl.col("present")).then(relation).alias(f"contact{slot + 1}_relation"),
            pl.when(pl.col("present"))
            .then(pl.when(pl.col("landline")).then(landline).otherwise(pl.col("mobile")))
            .alias(f"contact{slot + 1}_phone"),
        )
        columns.extend(out.get_columns())
    return columns


def _gather_series(values: Sequence[str], index: pl.Series) -> pl.Series:
    return pl.Series(list(values), dtype=pl.String).gather(index)


def _account_sizes(streams: _Streams, accounts: int) -> pl.Series:
    """共债: how many accounts each debtor holds, truncated to sum to ``accounts``."""
    sizes = pl.Series([s for s, _ in ACCOUNTS_PER_DEBTOR], dtype=pl.Int64).gather(
        streams.pick("debtor_size", accounts, [w for _, w in ACCOUNTS_PER_DEBTOR])
    )
    ends = sizes.cum_sum()
    debtors = int((ends < accounts).sum()) + 1
    sizes = sizes.head(debtors)
    before = int(ends[debtors - 2]) if debtors > 1 else 0
    return pl.concat([sizes.head(debtors - 1), pl.Series([accounts - before], dtype=pl.Int64)])


def _yuan(fen: pl.Expr) -> pl.Expr:
    """Fen as yuan text with two decimals (``123456 -> "1234.56"``)."""
    magnitude = fen.abs()
    text = (magnitude // 100).cast(pl.String) + "." + (magnitude % 100).cast(pl.String).str.zfill(2)
    return pl.when(fen < 0).then("-" + text).otherwise(text)


def _round_up(fen: pl.Expr, step_fen: pl.Expr) -> pl.Expr:
    return ((fen + step_fen - 1) // step_fen) * step_fen


def generate_portfolio(
    *,
    accounts: int,
    seed: int,
    as_of: date,
    creditor: str = "DEMOBANK",
    bad_rows: float = 0.0,
    on_step: StepCallback | None = None,
) -> Portfolio:
    """A realistic placement of ``accounts`` accounts whose DPD mix holds as of ``as_of``.

    ``bad_rows`` (a fraction in ``[0, 1)``) spoils that share of account rows with one
    realistic defect each (see :data:`BAD_ROW_KINDS`) to demonstrate quarantine.
    """
    if accounts < 1 or accounts > MAX_ACCOUNTS:
        raise InvalidInput(
            f"--accounts must be between 1 and {MAX_ACCOUNTS:,}, got {accounts}", field="accounts"
        )
    if not 0.0 <= bad_rows < 1.0:
        raise InvalidInput(
            f"--bad-rows is a fraction of rows in [0, 1), got {bad_rows}", field="bad_rows"
        )
    creditor = creditor.strip()
    if not creditor:
        raise InvalidInput("--creditor must not be empty", field="creditor")
    step = on_step or (lambda _name: None)
    streams = _Streams(seed)
    places = _places()
    snapshot = as_of - timedelta(days=SNAPSHOT_LAG_DAYS)

    # Debtors and which accounts are theirs.
    sizes = _account_sizes(streams, accounts)
    debtor_count = len(sizes)
    ends = sizes.cum_sum()
    index = pl.int_range(0, accounts, eager=True, dtype=pl.Int64).alias("row")
    debtor_of = ends.search_sorted(index, side="right").cast(pl.Int64)
    first_of = (ends - sizes).gather(debtor_of)
    base_dpd = _bucket_dpd(streams, "debtor_dpd", debtor_count)
    frame = pl.DataFrame(
        {
            "row": index,
            "debtor": debtor_of,
            "first": index == first_of,
            "base_dpd": base_dpd.gather(debtor_of),
            "own_dpd": _bucket_dpd(streams, "account_dpd", accounts),
            "same": streams.uniform("same_dpd", accounts) < SAME_DPD_SHARE,
            "jitter": streams.uniform("dpd_jitter", accounts),
            "product": streams.pick("product", accounts, [w for _, w in PRODUCT_MIX]),
        }
    )
    frame = frame.with_columns(
        dpd=pl.when(pl.col("first"))
        .then(pl.col("base_dpd"))
        .when(pl.col("same"))
        .then(
            pl.max_horizontal(
                pl.col("base_dpd") + _int_between(pl.col("jitter"), -15, 15),
                pl.lit(SNAPSHOT_LAG_DAYS + 1),
            )
        )
        .otherwise(pl.col("own_dpd"))
    ).drop("base_dpd", "own_dpd", "same", "jitter")
    business = list(dict(PRODUCT_MIX)).index("small_business")
    per_debtor = frame.group_by("debtor").agg(
        max_dpd=pl.col("dpd").max(), has_business=(pl.col("product") == business).any()
    )
    per_debtor = per_debtor.sort("debtor")
    # One pool of distinct mobiles: debtors' own first, then up to three third parties each.
    mobiles = _mobiles(streams, debtor_count * (GENERATED_THIRD_PARTIES + 1))
    debtors = _debtors(
        streams, places, per_debtor["max_dpd"], per_debtor["has_business"], mobiles, as_of
    )
    step("debtors")

    frame = _account_terms(streams, frame, debtors["birth"], as_of)
    step("accounts")

    contacts = pl.DataFrame(_third_parties(streams, debtors, mobiles.slice(debtor_count)))
    step("third parties")

    offset = streams.integer("account_no_offset", 10**10)
    profiles = [PRODUCT_PROFILES[code] for code, _ in PRODUCT_MIX]
    perm_number = (pl.col("row") * 7_654_321 + offset) % 10**10
    perm = perm_number.cast(pl.String).str.zfill(10)
    card_stem = int(profiles[0].account_prefix) * 10**10 + perm_number
    prefix = _gather([p.account_prefix for p in profiles], pl.col("product"))
    account_no = (
        pl.when(pl.col("product") == 0)
        .then(card_stem.cast(pl.String) + _luhn_digit(card_stem, 15))
        .otherwise(prefix + pl.col("contract_date").dt.strftime("%Y%m") + perm)
    )
    bad_count = round(bad_rows * accounts)
    bad_rank = streams.uniform("bad_rank", accounts).rank("ordinal").cast(pl.Int64) - 1
    frame = frame.with_columns(
        account_no=account_no, bad_slot=pl.when(bad_rank < bad_count).then(bad_rank)
    )
    payments = _payments(streams, frame, snapshot, as_of, creditor)
    step("payments")

    text = _render_accounts(frame, debtors, contacts, creditor, snapshot)
    text = _spoil(text, frame["bad_slot"], bad_count)
    step("bad rows")
    step("rendering")
    return Portfolio(
        accounts=text,
        payments=payments,
        debtors=debtor_count,
        bad_rows=bad_count,
        as_of=as_of,
        snapshot_date=snapshot,
    )


def _luhn_digit(stem: pl.Expr, length: int) -> pl.Expr:
    """The Luhn check digit of a ``length``-digit card number stem (银行卡号校验位)."""
    terms: list[pl.Expr] = []
    for position in range(length):
        digit = (stem // 10 ** (length - 1 - position)) % 10
        if (length - position) % 2 == 1:  # doubled: every second digit from the right
            doubled = digit * 2
            terms.append(pl.when(doubled > 9).then(doubled - 9).otherwise(doubled))
        else:
            terms.append(digit)
    return ((10 - pl.sum_horizontal(terms) % 10) % 10).cast(pl.String)


def _account_terms(
    streams: _Streams, frame: pl.DataFrame, birth: pl.Series, as_of: date
) -> pl.DataFrame:
    """Balances, rates, loan terms and dates of every account (amounts in fen)."""
    n = frame.height
    profiles = [PRODUCT_PROFILES[code] for code, _ in PRODUCT_MIX]
    product = pl.col("product")

    def per_product(values: Sequence[float | int]) -> pl.Expr:
        return pl.lit(pl.Series([float(v) for v in values])).gather(product)

    frame = frame.with_columns(
        z=streams.normal("principal", n),
        u_rate_band=streams.uniform("rate_band", n),
        u_rate=streams.uniform("rate", n),
        u_term=streams.uniform("term", n),
        u_paid=streams.uniform("installments_paid", n),
        u_limit=streams.uniform("limit_use", n),
        u_accrual=streams.uniform("accrual", n),
        u_penalty=streams.uniform("penalty", n),
        u_fee=streams.uniform("fee", n),
        u_fee_amount=streams.uniform("fee_amount", n),
        u_min_pay=streams.uniform("min_payment", n),
        u_opened=streams.uniform("opened", n),
        birth=birth.gather(frame["debtor"]),
        overdue_since=pl.lit(as_of) - pl.duration(days=pl.col("dpd")),
    )
    median = per_product([p.median_yuan for p in profiles])
    sigma = per_product([p.sigma for p in profiles])
    principal_yuan = (median.log() + sigma * pl.col("z")).exp()
    principal_yuan = principal_yuan.clip(
        per_product([p.min_yuan for p in profiles]), per_product([p.max_yuan for p in profiles])
    )
    # Annual rate in basis points: a product's bands, e.g. cards at 日息万五 (18.25%).
    rate_expr: pl.Expr = pl.lit(0.0)
    for code_index, profile in reversed(list(enumerate(profiles))):
        band_expr: pl.Expr = pl.lit(profile.rate_bands[-1][0]) + pl.col("u_rate") * (
            profile.rate_bands[-1][1] - profile.rate_bands[-1][0]
        )
        cumulative = 0.0
        bands = profile.rate_bands
        conditions: list[tuple[float, pl.Expr]] = []
        for low, high, share in bands[:-1]:
            cumulative += share
            conditions.append((cumulative, pl.lit(low) + pl.col("u_rate") * (high - low)))
        for threshold, value in reversed(conditions):
            band_expr = pl.when(pl.col("u_rate_band") < threshold).then(value).otherwise(band_expr)
        rate_expr = pl.when(product == code_index).then(band_expr).otherwise(rate_expr)
    frame = frame.with_columns(
        principal=(principal_yuan * 100).round(0).cast(pl.Int64),
        rate_bp=(rate_expr * 10_000).round(0).cast(pl.Int64),
    )
    # Loans: amortised over a term; k installments were paid before the first missed one,
    # limited by the borrower's age (signed at 18 or older).
    terms = [p.terms_months or (1,) for p in profiles]
    term_table = pl.Series([list(t) for t in terms], dtype=pl.List(pl.Int64))
    term = (
        pl.lit(term_table)
        .gather(product)
        .list.get(
            (pl.col("u_term") * pl.lit(pl.Series([len(t) for t in terms])).gather(product))
            .floor()
            .cast(pl.Int64)
        )
    )
    adult_months = (
        ((pl.col("overdue_since") - pl.col("birth")).dt.total_days() - 18 * _DAYS_PER_YEAR) / 30.5
    ).floor().cast(pl.Int64) - 1
    frame = frame.with_columns(term=term).with_columns(
        paid_installments=pl.min_horizontal(
            (pl.col("u_paid") * (pl.col("term") - 1)).floor().cast(pl.Int64),
            adult_months,
        ).clip(0, None),
    )
    r = pl.col("rate_bp") / 120_000.0  # monthly rate
    growth_term = (1 + r).pow(pl.col("term"))
    growth_paid = (1 + r).pow(pl.col("paid_installments"))
    remaining = (growth_term - growth_paid) / (growth_term - 1)
    step_fen = per_product([p.amount_step_yuan * 100 for p in profiles]).cast(pl.Int64)
    loan_fen = _round_up((pl.col("principal") / remaining).ceil().cast(pl.Int64), step_fen)
    limit_fen = _round_up(
        (pl.col("principal") / (0.6 + 0.4 * pl.col("u_limit"))).ceil().cast(pl.Int64), step_fen
    )
    is_card = product == 0
    frame = frame.with_columns(
        loan_amount=pl.when(is_card).then(limit_fen).otherwise(loan_fen),
    )
    annuity = pl.col("loan_amount") * r / (1 - (1 + r).pow(-pl.col("term")))
    accrual_days = pl.min_horizontal(pl.col("dpd"), pl.lit(720)) + pl.col("u_accrual") * 30
    interest = pl.col("principal") * pl.col("rate_bp") / 10_000.0 * accrual_days / 365.0
    card_opened_days = 180 + (pl.col("u_opened") * 2_700).floor().cast(pl.Int64)
    earliest = pl.col("birth").dt.offset_by("18y") + pl.duration(days=30)
    months_overdue = (pl.col("dpd") / 30.0).ceil().clip(1, 24)
    frame = frame.with_columns(
        interest=interest.round(0).cast(pl.Int64),
        installment=pl.when(~is_card)
        .then(annuity.round(0).cast(pl.Int64))
        .when(pl.col("u_min_pay") < 0.7)
        .then((pl.col("principal") / 10).round(0).cast(pl.Int64))  # 最低还款额 10%
        .otherwise(None),
        contract_date=pl.when(is_card)
        .then(
            pl.max_horizontal(
                pl.col("overdue_since") - pl.duration(days=card_opened_days), earliest
            )
        )
        .otherwise(
            pl.col("overdue_since").dt.offset_by(
                pl.format("-{}mo", pl.col("paid_installments") + 1)
            )
        ),
    )
    frame = frame.with_columns(
        # 罚息: loans carry the 50% surcharge on overdue interest; cards charge 违约金 as a fee.
        penalty=pl.when(is_card)
        .then(0)
        .otherwise((pl.col("interest") * (0.3 + 0.2 * pl.col("u_penalty"))).round(0))
        .cast(pl.Int64),
        fee=pl.when(is_card)
        .then(
            (pl.col("principal") * 0.005 * months_overdue).round(0)
            + pl.when(pl.col("u_fee") < 0.3)
            .then((100 + pl.col("u_fee_amount") * 500).floor() * 100)
            .otherwise(0)
        )
        .when(pl.col("u_fee") < 0.2)
        .then(((20 + pl.col("u_fee_amount") * 280) * 100).round(0))
        .otherwise(0)
        .cast(pl.Int64),
    )
    return frame.select(
        "row", "debtor", "product", "dpd", "overdue_since", "principal", "interest", "penalty",
        "fee", "installment", "loan_amount", "contract_date", "rate_bp",
    )  # fmt: skip


def _payments(
    streams: _Streams, frame: pl.DataFrame, snapshot: date, as_of: date, creditor: str
) -> pl.DataFrame:
    """还款流水 posted after the snapshot: mostly partial, some paying everything (cures)."""
    n = frame.height
    pay_count = pl.Series([c for c, _ in PAYMENTS_PER_PAYER], dtype=pl.Int64).gather(
        streams.pick("pay_count", n, [w for _, w in PAYMENTS_PER_PAYER])
    )
    payers = frame.select(
        "row",
        "installment",
        total=pl.col("principal") + pl.col("interest") + pl.col("penalty") + pl.col("fee"),
        pays=(pl.lit(streams.uniform("pays", n)) < PAYING_SHARE) & pl.col("bad_slot").is_null(),
        count=pl.lit(pay_count),
        cure=pl.lit(streams.uniform("cure", n)) < CURE_SHARE,
        target_share=0.02 + 0.28 * pl.lit(streams.uniform("pay_share", n)),
        by_installment=pl.lit(streams.uniform("by_installment", n)) < 0.4,
    ).filter(pl.col("pays"))
    long = (
        payers.with_columns(j=pl.int_ranges(1, pl.col("count") + 1))
        .explode("j")
        .with_columns(pl.col("j").cast(pl.Int64))
    )
    m = long.height
    long = long.with_columns(
        u_split=streams.uniform("pay_split", m),
        u_round=streams.uniform("pay_round", m),
        u_day=streams.uniform("pay_day", m),
        u_time=streams.uniform("pay_time", m),
        channel=streams.pick("pay_channel", m, [w for _, w in names.PAYMENT_CHANNELS]),
    )
    count = pl.col("count")
    # Partial: a target share of what is due (or whole installments), split evenly.
    partial_target = (
        pl.when(
            pl.col("by_installment")
            & pl.col("installment").is_not_null()
            & (pl.col("installment") * count < pl.col("total"))
        )
        .then(pl.col("installment") * count)
        .otherwise((pl.col("total") * pl.col("target_share")).round(0).cast(pl.Int64))
    )
    each = partial_target // count
    rounded = pl.when((each >= 20_000) & (pl.col("u_round") < 0.5)).then(each // 10_000 * 10_000)
    partial = pl.max_horizontal(rounded.otherwise(each), pl.lit(100))
    # Cure: the first payments pay shares, the last pays exactly what remains.
    share = (pl.col("total") * pl.col("u_split") * 0.9 / count).floor().cast(pl.Int64)
    long = long.with_columns(
        partial=pl.min_horizontal(partial, pl.col("total") // (count + 1)),
        cure_share=share,
    ).with_columns(
        cure_rest=pl.col("total")
        - pl.col("cure_share").sum().over("row")
        + pl.col("cure_share").filter(pl.col("j") == count).sum().over("row"),
    )
    amount = (
        pl.when(~pl.col("cure"))
        .then(pl.col("partial"))
        .when(pl.col("j") == count)
        .then(pl.col("cure_rest"))
        .otherwise(pl.col("cure_share"))
    )
    # Dates in (snapshot, as_of], ascending within an account; 08:00–23:00 local time.
    window = (as_of - snapshot).days
    day = 1 + (((pl.col("j") - 1) + pl.col("u_day")) / count * window).floor().cast(pl.Int64)
    seconds = 8 * 3600 + (pl.col("u_time") * 15 * 3600).floor().cast(pl.Int64)
    long = long.with_columns(
        amount=amount,
        paid_at=pl.lit(snapshot).cast(pl.Datetime("us"))
        + pl.duration(days=pl.min_horizontal(day, pl.lit(window)), seconds=seconds),
    ).sort("paid_at", "row", "j")
    long = long.with_row_index("seq", offset=1).join(
        frame.select("row", "account_no"), on="row", how="left", maintain_order="left"
    )
    channels = [c for c, _ in names.PAYMENT_CHANNELS]
    return long.select(
        creditor_code=pl.lit(creditor),
        account_no=pl.col("account_no"),
        amount=_yuan(pl.col("amount")),
        paid_at=pl.col("paid_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
        # 流水号: unique within the file and stable for the same seed.
        reference=pl.lit("PAY")
        + pl.col("paid_at").dt.strftime("%Y%m%d")
        + pl.col("seq").cast(pl.String).str.zfill(8),
        channel=_gather(channels, pl.col("channel")),
    )


def _render_accounts(
    frame: pl.DataFrame,
    debtors: pl.DataFrame,
    contacts: pl.DataFrame,
    creditor: str,
    snapshot: date,
) -> pl.DataFrame:
    placed = snapshot
    returned = placed + timedelta(days=PLACEMENT_TERM_DAYS)
    batch = pl.when(pl.col("dpd") <= 90).then(pl.lit("A")).when(pl.col("dpd") <= 180)
    batch_no = pl.lit(f"{creditor}-{placed:%Y%m%d}-") + batch.then(pl.lit("B")).otherwise(
        pl.lit("C")
    )
    product_names = [names.PRODUCT_NAMES[code] for code, _ in PRODUCT_MIX]
    people = debtors.select(
        "name", "id_number", "mobile", "province", "city", "home_address", "employer",
        "work_address",
    ).hstack(contacts)  # fmt: skip
    people = people.with_row_index("debtor").with_columns(pl.col("debtor").cast(pl.Int64))
    accounts = frame.join(people, on="debtor", how="left", maintain_order="left")
    rate = pl.col("rate_bp")
    out = accounts.select(
        creditor_code=pl.lit(creditor),
        batch_no=batch_no,
        placed_on=pl.lit(placed.isoformat()),
        return_on=pl.lit(returned.isoformat()),
        account_no=pl.col("account_no"),
        product=_gather(product_names, pl.col("product")),
        name=pl.col("name"),
        id_number=pl.col("id_number"),
        mobile=pl.col("mobile"),
        # the generated debtors have no e-mail address (most bank files carry none)
        email=pl.lit(None, dtype=pl.String),
        province=pl.col("province"),
        city=pl.col("city"),
        language=_language(),
        home_address=pl.col("home_address"),
        employer=pl.col("employer"),
        work_address=pl.col("work_address"),
        principal=_yuan(pl.col("principal")),
        interest=_yuan(pl.col("interest")),
        penalty=_yuan(pl.col("penalty")),
        fee=_yuan(pl.col("fee")),
        overdue_since=pl.col("overdue_since").dt.strftime("%Y-%m-%d"),
        installment=_yuan(pl.col("installment")),
        loan_amount=_yuan(pl.col("loan_amount")),
        contract_date=pl.col("contract_date").dt.strftime("%Y-%m-%d"),
        annual_rate=(rate // 10_000).cast(pl.String)
        + "."
        + (rate % 10_000).cast(pl.String).str.zfill(4),
        snapshot_date=pl.lit(snapshot.isoformat()),
        **{column: pl.col(column) for column in contacts.columns},
    )
    assert tuple(out.columns[: len(ACCOUNT_COLUMNS)]) == tuple(c.name for c in ACCOUNT_COLUMNS)
    return out


#: dialects some debtors of a province speak (方言), and the share of them, in tenths; the
#: rest are left blank (Mandarin). No random draw: the share is taken by the ID number's
#: sequence digits, so the other columns are what they were before this column existed.
DIALECTS: dict[str, tuple[str, int]] = {
    "广东省": ("粤语", 4),
    "福建省": ("闽南语", 3),
    "上海市": ("上海话", 1),
}


def _language() -> pl.Expr:
    """The debtor's language or dialect (语言/方言): null for Mandarin."""
    tenth = pl.col("id_number").str.slice(14, 3).cast(pl.Int64) % 10
    out = pl.lit(None, dtype=pl.String)
    for province, (dialect, tenths) in DIALECTS.items():
        out = (
            pl.when((pl.col("province") == province) & (tenth < tenths))
            .then(pl.lit(dialect))
            .otherwise(out)
        )
    return out


def _spoil(accounts: pl.DataFrame, bad_slot: pl.Series, bad_count: int) -> pl.DataFrame:
    """Give ``bad_count`` rows one realistic defect each, cycling through the kinds."""
    if bad_count == 0:
        return accounts
    kind = (bad_slot % len(BAD_ROW_KINDS)).alias("kind")
    frame = accounts.with_columns(kind=kind)
    is_kind = {name: pl.col("kind") == i for i, name in enumerate(BAD_ROW_KINDS)}
    wrong_check = (
        pl.col("id_number")
        .str.slice(17, 1)
        .replace_strict({c: ID_CHECK[(i + 3) % 11] for i, c in enumerate(ID_CHECK)})
    )
    good_account = pl.when(pl.col("kind").is_null()).then(pl.col("account_no"))
    # A duplicate of the nearest good account number above (or below, for the first rows).
    duplicate = good_account.forward_fill().fill_null(good_account.backward_fill())
    frame = frame.with_columns(
        id_number=pl.when(is_kind["id_check_digit"])
        .then(pl.col("id_number").str.slice(0, 17) + wrong_check)
        .otherwise(pl.col("id_number")),
        mobile=pl.when(is_kind["mobile"])
        .then(pl.col("mobile").str.slice(0, 10))
        .otherwise(pl.col("mobile")),
        principal=pl.when(is_kind["negative_amount"])
        .then("-" + pl.col("principal"))
        .when(is_kind["three_decimals"])
        .then(pl.col("principal") + "5")
        .otherwise(pl.col("principal")),
        overdue_since=pl.when(is_kind["date"])
        .then(pl.col("overdue_since").str.slice(0, 4) + "-02-30")
        .otherwise(pl.col("overdue_since")),
        product=pl.when(is_kind["unknown_product"])
        .then(pl.lit(UNKNOWN_PRODUCT))
        .otherwise(pl.col("product")),
        account_no=pl.when(is_kind["duplicate_account_no"])
        .then(duplicate)
        .otherwise(pl.col("account_no")),
    )
    return frame.drop("kind")


def header_names(columns: Sequence[Column], headers: str) -> dict[str, str]:
    """Canonical name → header written: the first Chinese alias (``zh``) or the name (``en``)."""
    if headers == "en":
        return {c.name: c.name for c in columns}
    return {c.name: c.aliases[0] for c in columns}


def check_output_options(*, fmt: str, encoding: str, headers: str) -> None:
    """Refuse an output format, encoding or header style that cannot be written."""
    if fmt not in ("csv", "xlsx", "parquet"):
        raise InvalidInput(f"--format must be csv, xlsx or parquet, got {fmt!r}", field="format")
    if encoding not in ("utf-8", "gbk"):
        raise InvalidInput(f"--encoding must be utf-8 or gbk, got {encoding!r}", field="encoding")
    if encoding != "utf-8" and fmt != "csv":
        raise InvalidInput("--encoding applies to CSV only", field="encoding")
    if headers not in ("zh", "en"):
        raise InvalidInput(f"--headers must be zh or en, got {headers!r}", field="headers")


def write_portfolio(
    portfolio: Portfolio,
    out_dir: Path,
    *,
    fmt: str = "csv",
    encoding: str = "utf-8",
    headers: str = "zh",
) -> list[Path]:
    """Write ``accounts.<fmt>`` and ``payments.<fmt>`` into ``out_dir``; returns the paths."""
    check_output_options(fmt=fmt, encoding=encoding, headers=headers)
    if fmt == "xlsx" and portfolio.accounts.height > XLSX_MAX_ROWS:
        raise InvalidInput(
            f"an XLSX sheet holds at most {XLSX_MAX_ROWS:,} rows; use --format csv or parquet",
            field="format",
        )
    out_dir.mkdir(parents=True, exist_ok=True)
    account_columns = ACCOUNT_COLUMNS + third_party_columns()
    present = set(portfolio.accounts.columns)
    account_headers = header_names([c for c in account_columns if c.name in present], headers)
    payment_headers = header_names(PAYMENT_COLUMNS, headers)
    written: list[Path] = []
    for stem, frame, mapping in (
        ("accounts", portfolio.accounts, account_headers),
        ("payments", portfolio.payments, payment_headers),
    ):
        path = out_dir / f"{stem}.{fmt}"
        table = frame.rename(mapping)
        if fmt == "csv":
            _write_csv(table, path, encoding)
        elif fmt == "parquet":
            table.write_parquet(path)
        else:
            _write_xlsx(table, path)
        written.append(path)
    return written


def _write_csv(frame: pl.DataFrame, path: Path, encoding: str) -> None:
    if encoding == "utf-8":
        frame.write_csv(path)
        return
    chunk_rows = 200_000
    with path.open("wb") as handle:
        for start in range(0, max(frame.height, 1), chunk_rows):
            chunk = frame.slice(start, chunk_rows)
            handle.write(chunk.write_csv(include_header=start == 0).encode(encoding))


def _write_xlsx(frame: pl.DataFrame, path: Path) -> None:
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(path.stem)
    sheet.append(frame.columns)
    for row in frame.iter_rows():
        sheet.append(list(row))
    workbook.save(path)
