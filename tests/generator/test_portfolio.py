"""The portfolio generator: realistic, valid, deterministic placements in the import format."""

from __future__ import annotations

import io
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cuishou.accounts.rules import bucket_of
from cuishou.generator import names
from cuishou.generator.portfolio import (
    BAD_ROW_KINDS,
    DPD_MIX,
    SNAPSHOT_LAG_DAYS,
    Portfolio,
    generate_portfolio,
    write_portfolio,
)
from cuishou.kit.dates import parse_date_text
from cuishou.kit.errors import CuishouError, InvalidInput
from cuishou.kit.ids import birth_date_of, gender_of, id_number_problem, mobile_problem
from cuishou.kit.money import parse_yuan
from cuishou.placement.columns import (
    ALL_ACCOUNT_COLUMNS,
    PAYMENT_COLUMNS,
    PRODUCTS,
    RELATIONS,
    header_map,
)

AS_OF = date(2026, 11, 1)
SNAPSHOT = AS_OF - timedelta(days=SNAPSHOT_LAG_DAYS)
DEBTOR_FIELDS = (
    "name", "mobile", "province", "city", "home_address", "employer",
    "work_address", "contact1_name", "contact1_relation", "contact1_phone",
)  # fmt: skip
AMOUNT_FIELDS = ("principal", "interest", "penalty", "fee", "installment", "loan_amount")


@pytest.fixture(scope="module")
def portfolio() -> Portfolio:
    return generate_portfolio(accounts=20_000, seed=11, as_of=AS_OF, creditor="ZSBANK")


@pytest.fixture(scope="module")
def fen(portfolio: Portfolio) -> pl.DataFrame:
    """The accounts with amounts parsed back to fen and dates to dates."""
    return portfolio.accounts.with_columns(
        *[
            pl.col(c).map_elements(parse_yuan, return_dtype=pl.Int64).alias(c)
            for c in AMOUNT_FIELDS
        ],
        *[pl.col(c).str.to_date() for c in ("overdue_since", "contract_date", "snapshot_date")],
        total=pl.sum_horizontal(
            pl.col(c).map_elements(parse_yuan, return_dtype=pl.Int64)
            for c in ("principal", "interest", "penalty", "fee")
        ),
    )


def _csv_bytes(portfolio: Portfolio, tmp: Path) -> tuple[bytes, bytes]:
    write_portfolio(portfolio, tmp)
    return (tmp / "accounts.csv").read_bytes(), (tmp / "payments.csv").read_bytes()


def test_same_seed_and_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    # given two runs with the same arguments, and one with another seed
    first = generate_portfolio(accounts=3_000, seed=5, as_of=AS_OF, creditor="X", bad_rows=0.02)
    again = generate_portfolio(accounts=3_000, seed=5, as_of=AS_OF, creditor="X", bad_rows=0.02)
    other = generate_portfolio(accounts=3_000, seed=6, as_of=AS_OF, creditor="X", bad_rows=0.02)
    # when they are written
    files_first = _csv_bytes(first, tmp_path / "a")
    files_again = _csv_bytes(again, tmp_path / "b")
    files_other = _csv_bytes(other, tmp_path / "c")
    # then the same seed repeats byte for byte and another seed does not
    assert files_first == files_again
    assert files_first[0] != files_other[0]
    assert files_first[1] != files_other[1]


def test_every_id_number_is_valid_unique_per_debtor_and_of_an_adult(portfolio: Portfolio) -> None:
    debtors = portfolio.accounts.select("id_number", "name", "mobile").unique()
    ids = debtors["id_number"].to_list()
    assert len(ids) == len(set(ids)) == portfolio.debtors
    assert [i for i in ids if id_number_problem(i, as_of=AS_OF)] == []
    for id_number in ids:
        born = birth_date_of(id_number)
        age = AS_OF.year - born.year - ((AS_OF.month, AS_OF.day) < (born.month, born.day))
        assert 20 <= age <= 65, id_number
    region_codes = {c.code for p in names.PROVINCES for city in p.cities for c in city.counties}
    assert {i[:6] for i in ids} <= region_codes
    men = sum(gender_of(i) == "M" for i in ids) / len(ids)
    assert 0.55 < men < 0.65


def test_mobiles_are_valid_and_distinct_per_debtor(portfolio: Portfolio) -> None:
    debtors = portfolio.accounts.select("id_number", "mobile").unique()
    mobiles = debtors["mobile"].to_list()
    assert [m for m in mobiles if mobile_problem(m)] == []
    assert len(set(mobiles)) == len(mobiles)


def test_headers_are_the_first_chinese_alias_and_all_recognised(tmp_path: Path) -> None:
    small = generate_portfolio(accounts=50, seed=1, as_of=AS_OF)
    write_portfolio(small, tmp_path)
    account_headers = (tmp_path / "accounts.csv").read_text("utf-8").splitlines()[0].split(",")
    payment_headers = (tmp_path / "payments.csv").read_text("utf-8").splitlines()[0].split(",")
    accounts_map, payments_map = header_map(ALL_ACCOUNT_COLUMNS), header_map(PAYMENT_COLUMNS)
    assert [accounts_map[h] for h in account_headers] == small.accounts.columns
    assert [payments_map[h] for h in payment_headers] == small.payments.columns
    assert account_headers[:8] == [
        "委托方代码", "委案批次", "委案日期", "退案日期", "借据号", "产品", "姓名", "身份证号",
    ]  # fmt: skip
    assert "逾期本金" in account_headers and "联系人3电话" in account_headers


def test_english_headers_are_the_canonical_names(tmp_path: Path) -> None:
    small = generate_portfolio(accounts=50, seed=1, as_of=AS_OF)
    write_portfolio(small, tmp_path, headers="en")
    read = pl.read_csv(tmp_path / "accounts.csv", infer_schema=False)
    assert read.columns == small.accounts.columns
    assert read.equals(small.accounts)


def test_dpd_mix_as_of_the_date_is_as_documented(fen: pl.DataFrame) -> None:
    dpd = fen.select((pl.lit(AS_OF) - pl.col("overdue_since")).dt.total_days())
    counts = pl.Series([bucket_of(int(d)) for d in dpd.to_series()]).value_counts()
    shares = dict(zip(counts[:, 0], counts["count"] / fen.height, strict=True))
    for bucket, _, _, share in DPD_MIX:
        assert abs(shares[bucket] - share) < 0.02, (bucket, shares[bucket], share)
    assert "M0" not in shares
    # every account is already overdue on the snapshot date, and the tail is long
    assert (fen["overdue_since"] < fen["snapshot_date"]).all()
    assert int(dpd.to_series().max() or 0) > 720


def test_co_debt_repeats_the_same_debtor_fields_on_each_account(
    portfolio: Portfolio, fen: pl.DataFrame
) -> None:
    per_debtor = portfolio.accounts.group_by("id_number").agg(
        pl.len().alias("accounts"), *[pl.col(c).n_unique().alias(c) for c in DEBTOR_FIELDS]
    )
    shares = per_debtor["accounts"].value_counts(normalize=True)
    share_of = dict(zip(shares["accounts"], shares["proportion"], strict=True))
    assert 0.65 < share_of[1] < 0.75
    assert 0.17 < share_of[2] < 0.23
    assert per_debtor["accounts"].max() == 4
    # the debtor's details are identical on every one of their rows
    assert per_debtor.select(pl.max_horizontal(DEBTOR_FIELDS)).to_series().max() == 1
    assert portfolio.accounts["account_no"].n_unique() == portfolio.accounts.height


def test_third_parties_have_names_known_relations_and_phones(portfolio: Portfolio) -> None:
    debtors = portfolio.accounts.unique("id_number", keep="first")
    counts = debtors.select(
        pl.sum_horizontal(pl.col(f"contact{n}_name").is_not_null() for n in (1, 2, 3))
    ).to_series()
    assert set(counts.unique().to_list()) == {0, 1, 2, 3}
    for n in (1, 2, 3):
        present = debtors.filter(pl.col(f"contact{n}_name").is_not_null())
        assert present[f"contact{n}_relation"].is_in(list(RELATIONS)).all()
        assert present[f"contact{n}_phone"].is_not_null().all()
        phones = present[f"contact{n}_phone"].to_list()
        landlines = [p for p in phones if "-" in p]
        assert all(mobile_problem(p) is None for p in phones if "-" not in p)
        assert all(p.split("-")[0].startswith("0") and len(p.split("-")[1]) == 8 for p in landlines)
        assert 0 < len(landlines) < 0.1 * len(phones)
    spouses = debtors.filter(pl.col("contact1_relation") == "配偶")
    assert spouses.height > 0.3 * debtors.filter(pl.col("contact1_name").is_not_null()).height
    fathers = debtors.filter(pl.col("contact1_relation") == "父亲")
    same = fathers.filter(pl.col("contact1_name").str.slice(0, 1) == pl.col("name").str.slice(0, 1))
    assert same.height > 0.7 * fathers.height
    all_phones = pl.concat([debtors[f"contact{n}_phone"].drop_nulls() for n in (1, 2, 3)])
    assert not all_phones.is_in(debtors["mobile"].implode()).any()


def test_products_amounts_rates_and_dates_are_plausible(
    portfolio: Portfolio, fen: pl.DataFrame
) -> None:
    accounts = portfolio.accounts
    assert set(accounts["product"].unique()) == {"信用卡", "消费贷", "小微经营贷"}
    assert accounts["product"].replace_strict(PRODUCTS).is_not_null().all()
    for column in AMOUNT_FIELDS:
        text = accounts[column].drop_nulls()
        assert text.str.contains(r"^\d+\.\d{2}$").all(), column
    assert (fen["principal"] > 0).all() and (fen["loan_amount"] >= fen["principal"]).all()
    assert (fen["contract_date"] < fen["overdue_since"]).all()
    medians = fen.group_by("product").agg(pl.col("principal").median())
    median_of = dict(zip(medians["product"], medians["principal"], strict=True))
    assert median_of["信用卡"] < median_of["消费贷"] < median_of["小微经营贷"]
    assert 1_400_000 < median_of["信用卡"] < 2_200_000  # ¥14k–22k, in fen
    loans = fen.filter(pl.col("product") != "信用卡")
    assert loans["installment"].is_not_null().all() and (loans["installment"] > 0).all()
    rates = accounts["annual_rate"].cast(pl.Float64)
    assert ((rates >= 0.03) & (rates <= 0.36)).all()
    assert (rates > 0.24).sum() > 0  # above the 24% line, for the compliance rules later
    assert accounts["creditor_code"].unique().to_list() == ["ZSBANK"]
    assert set(accounts["snapshot_date"].unique()) == {SNAPSHOT.isoformat()}
    assert set(accounts["return_on"].unique()) == {(SNAPSHOT + timedelta(days=90)).isoformat()}
    cards = accounts.filter(pl.col("product") == "信用卡")["account_no"].to_list()
    assert all(len(c) == 16 and _luhn_ok(c) for c in cards[:2000])


def _luhn_ok(number: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(number)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def test_residence_matches_the_id_region_most_of_the_time(portfolio: Portfolio) -> None:
    city_of_code = {
        c.code: city.name for p in names.PROVINCES for city in p.cities for c in city.counties
    }
    debtors = portfolio.accounts.unique("id_number")
    same = sum(
        city_of_code[i[:6]] == city
        for i, city in zip(debtors["id_number"], debtors["city"], strict=True)
    )
    assert 0.75 < same / debtors.height < 0.9
    assert debtors["home_address"].str.starts_with(debtors["province"]).all()


def test_payments_post_after_the_snapshot_to_existing_accounts(
    portfolio: Portfolio, fen: pl.DataFrame
) -> None:
    payments = portfolio.payments
    assert payments.height > 0.1 * portfolio.accounts.height
    assert payments["account_no"].is_in(portfolio.accounts["account_no"].implode()).all()
    assert payments["reference"].n_unique() == payments.height
    paid_at = payments["paid_at"].str.to_datetime("%Y-%m-%d %H:%M:%S")
    assert (paid_at > datetime.combine(SNAPSHOT + timedelta(days=1), datetime.min.time())).all()
    assert (paid_at < datetime.combine(AS_OF + timedelta(days=1), datetime.min.time())).all()
    amounts = payments.with_columns(
        fen=pl.col("amount").map_elements(parse_yuan, return_dtype=pl.Int64)
    )
    assert (amounts["fen"] > 0).all()
    per_account = amounts.group_by("account_no").agg(pl.col("fen").sum(), pl.len().alias("n"))
    joined = per_account.join(fen.select("account_no", "total"), on="account_no")
    cured = joined.filter(pl.col("fen") == pl.col("total"))
    assert 0.08 < cured.height / joined.height < 0.22  # pays everything: cures
    assert (joined["fen"] <= joined["total"]).all()
    assert set(joined["n"].unique()) == {1, 2, 3}
    assert set(payments["channel"].unique()) <= {c for c, _ in names.PAYMENT_CHANNELS}


def test_gbk_csv_round_trips_and_every_constant_is_gbk(tmp_path: Path) -> None:
    for text in names.all_text_constants():
        text.encode("gbk")
    small = generate_portfolio(accounts=3_000, seed=3, as_of=AS_OF, bad_rows=0.01)
    write_portfolio(small, tmp_path / "gbk", encoding="gbk", headers="en")
    write_portfolio(small, tmp_path / "utf8", headers="en")
    raw = (tmp_path / "gbk" / "accounts.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    decoded = pl.read_csv(io.StringIO(raw.decode("gbk")), infer_schema=False)
    assert decoded.equals(small.accounts)
    assert raw.decode("gbk") == (tmp_path / "utf8" / "accounts.csv").read_text("utf-8")
    payments = (tmp_path / "gbk" / "payments.csv").read_bytes().decode("gbk")
    assert pl.read_csv(io.StringIO(payments), infer_schema=False).equals(small.payments)


@pytest.mark.parametrize("fmt", ["xlsx", "parquet"])
def test_xlsx_and_parquet_hold_the_same_rows(tmp_path: Path, fmt: str) -> None:
    small = generate_portfolio(accounts=300, seed=2, as_of=AS_OF)
    files = write_portfolio(small, tmp_path, fmt=fmt)
    assert [f.name for f in files] == [f"accounts.{fmt}", f"payments.{fmt}"]
    if fmt == "xlsx":
        read = pl.read_excel(files[0], infer_schema_length=0)
    else:
        read = pl.read_parquet(files[0])
    assert read.columns[4] == "借据号"
    assert read.rename(dict(zip(read.columns, small.accounts.columns, strict=True))).equals(
        small.accounts
    )


def _row_problems(accounts: pl.DataFrame) -> list[str | None]:
    """What an importer would say about each row, using the kit's own validators."""
    problems: list[str | None] = []
    for row in accounts.iter_rows(named=True):
        problem = id_number_problem(row["id_number"]) or mobile_problem(row["mobile"])
        if row["product"] not in PRODUCTS:
            problem = problem or "unknown product"
        if parse_date_text(row["overdue_since"]) is None:
            problem = problem or "bad date"
        for column in AMOUNT_FIELDS:
            if row[column] is None:
                continue
            try:
                if parse_yuan(row[column]) < 0:
                    problem = problem or "negative"
            except CuishouError as exc:
                problem = problem or exc.message
        problems.append(problem)
    return problems


def test_a_clean_portfolio_has_no_row_an_importer_would_reject(portfolio: Portfolio) -> None:
    assert portfolio.bad_rows == 0
    assert [p for p in _row_problems(portfolio.accounts.head(5_000)) if p] == []


def test_bad_rows_spoil_exactly_the_requested_share_with_every_kind() -> None:
    # given a request for 3.5% bad rows in 2,000 accounts
    spoiled = generate_portfolio(accounts=2_000, seed=9, as_of=AS_OF, bad_rows=0.035)
    clean = generate_portfolio(accounts=2_000, seed=9, as_of=AS_OF)
    # then 70 rows are bad: 60 with a field problem and 10 repeating another account number
    assert spoiled.bad_rows == 70
    problems = _row_problems(spoiled.accounts)
    duplicates = spoiled.accounts.height - spoiled.accounts["account_no"].n_unique()
    assert sum(p is not None for p in problems) + duplicates == 70
    assert duplicates == 70 // len(BAD_ROW_KINDS)
    changed = spoiled.accounts.with_row_index().join(
        clean.accounts.with_row_index(), on="index", suffix="_clean"
    )
    differs = pl.any_horizontal(
        pl.col(c).ne_missing(pl.col(f"{c}_clean")) for c in clean.accounts.columns
    )
    assert changed.filter(differs).height == 70
    texts = " ".join(p for p in problems if p)
    for expected in ("check digit", "mobile", "negative", "more than two decimals", "bad date"):
        assert expected in texts
    assert "unknown product" in texts
    # and no payment points at a spoiled row
    spoiled_numbers = changed.filter(differs)["account_no_clean"]
    assert not spoiled.payments["account_no"].is_in(spoiled_numbers.implode()).any()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"accounts": 0}, "--accounts"),
        ({"bad_rows": 1.0}, "--bad-rows"),
        ({"bad_rows": -0.1}, "--bad-rows"),
        ({"creditor": "  "}, "--creditor"),
    ],
)
def test_impossible_requests_are_refused_with_a_reason(
    kwargs: dict[str, object], message: str
) -> None:
    arguments: dict[str, object] = {"accounts": 10, "seed": 1, "as_of": AS_OF, **kwargs}
    with pytest.raises(InvalidInput, match=message):
        generate_portfolio(**arguments)  # type: ignore[arg-type]


def test_xlsx_refuses_more_rows_than_a_sheet_holds_and_gbk_only_for_csv(tmp_path: Path) -> None:
    small = generate_portfolio(accounts=10, seed=1, as_of=AS_OF)
    with pytest.raises(InvalidInput, match="CSV only"):
        write_portfolio(small, tmp_path, fmt="parquet", encoding="gbk")
    with pytest.raises(InvalidInput, match="--format"):
        write_portfolio(small, tmp_path, fmt="json")


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    accounts=st.integers(min_value=1, max_value=40),
    seed=st.integers(min_value=0, max_value=2**40),
    as_of=st.dates(min_value=date(2015, 1, 1), max_value=date(2035, 12, 31)),
)
def test_any_small_portfolio_is_valid(accounts: int, seed: int, as_of: date) -> None:
    result = generate_portfolio(accounts=accounts, seed=seed, as_of=as_of)
    assert result.accounts.height == accounts
    assert 1 <= result.debtors <= accounts
    assert all(id_number_problem(i, as_of=as_of) is None for i in result.accounts["id_number"])
    assert _row_problems(result.accounts) == [None] * accounts
    overdue = result.accounts["overdue_since"].str.to_date()
    assert (overdue < as_of - timedelta(days=SNAPSHOT_LAG_DAYS)).all()
