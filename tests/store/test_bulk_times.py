"""SQLite's text times read back as aware datetimes (``Dialect.conform``, ``text_times``):
the fixed-format fast path gives exactly what the general parser gives, and anything else
goes through the general parser (same values, same errors)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine

from cuishou.store.bulk import BulkStore, Dialect, text_times

SQLITE = Dialect("sqlite")
AT = {"at": pl.Datetime("us", "UTC")}


def general(values: list[str | None]) -> pl.Series:
    """What conform did before the fast path: one general parse of the column."""
    col = pl.col("at")
    return (
        pl.DataFrame({"at": values}, schema={"at": pl.String})
        .select(
            pl.when(col == "")
            .then(None)
            .otherwise(col)
            .str.to_datetime("%Y-%m-%d %H:%M:%S%.f", time_unit="us", time_zone="UTC")
            .alias("at")
        )
        .get_column("at")
    )


def conformed(values: list[str | None]) -> pl.Series:
    frame = pl.DataFrame({"at": values}, schema={"at": pl.String})
    return SQLITE.conform(frame, AT).get_column("at")


#: Hypothesis takes naive bounds and makes the times aware with ``timezones``
moments = st.datetimes(
    min_value=datetime(1970, 1, 1),  # noqa: DTZ001
    max_value=datetime(2099, 12, 31),  # noqa: DTZ001
    timezones=st.just(UTC),
)


@given(st.lists(st.one_of(moments, st.none(), st.just("")), max_size=40))
def test_the_stores_own_format_reads_as_the_general_parser_reads_it(
    values: list[datetime | str | None],
) -> None:
    texts = [SQLITE.value(v) if isinstance(v, datetime) else v for v in values]
    got = conformed(texts)
    assert got.dtype == pl.Datetime("us", "UTC")
    assert got.to_list() == general(texts).to_list()
    assert got.to_list() == [v if isinstance(v, datetime) else None for v in values]


def test_microseconds_nulls_and_blanks_in_the_fixed_format() -> None:
    got = conformed(
        ["2026-11-01 03:56:51.000001", None, "", "1999-12-31 23:59:59.999999"]
    ).to_list()
    assert got == [
        datetime(2026, 11, 1, 3, 56, 51, 1, tzinfo=UTC),
        None,
        None,
        datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
    ]


@pytest.mark.parametrize(
    "odd",
    [
        "2026-11-01 03:56:51",  # no fractional seconds (SQLite's CURRENT_TIMESTAMP)
        "2026-11-01 03:56:51.5",  # a short fraction
        "2026-11-01 03:56:60.000000",  # a leap second: the general parser's next minute
    ],
)
def test_other_forms_are_read_by_the_general_parser(odd: str) -> None:
    values = ["2026-11-01 03:56:51.000000", odd, None]
    assert conformed(values).to_list() == general(values).to_list()
    assert conformed(values)[1] is not None


@pytest.mark.parametrize(
    "bad",
    [
        "2026-11-01 03:56:51+08:00",  # an offset: the store keeps UTC without one
        "2026-11-01 03:56:51.000000+08:00",
        "2026-11-01T03:56:51.000000",  # ISO's T is not the store's format
        "2026-02-30 03:56:51.000000",  # no such day
        "2026-11-01 24:00:00.000000",  # no such hour
        "2026-11-01 03:61:00.000000",
        "not a time at all, really",
    ],
)
def test_what_the_general_parser_refuses_is_refused_the_same_way(bad: str) -> None:
    values = ["2026-11-01 03:56:51.000000", bad]
    with pytest.raises(pl.exceptions.InvalidOperationError) as before:
        general(values)
    with pytest.raises(pl.exceptions.InvalidOperationError) as now:
        conformed(values)
    assert str(now.value) == str(before.value)


def test_an_empty_or_all_null_column_is_an_empty_or_null_time_column() -> None:
    assert conformed([]).dtype == pl.Datetime("us", "UTC")
    assert conformed([None, None, ""]).to_list() == [None, None, None]
    assert text_times(pl.Series("x", [], dtype=pl.String)).len() == 0


def test_times_written_by_the_store_come_back_to_the_microsecond(engine: Engine) -> None:
    """Through a real read on both stores (PostgreSQL returns typed times, SQLite text)."""
    base = datetime(2026, 11, 1, 3, 56, 51, tzinfo=UTC)
    ats = [base, base + timedelta(microseconds=1), base + timedelta(days=400, hours=20)]
    with BulkStore(engine).write() as bulk:
        for i, at in enumerate(ats):
            bulk.execute(
                "INSERT INTO teams (name, created_at) VALUES (:name, :at)", name=f"T{i}", at=at
            )
    with BulkStore(engine).read() as bulk:
        read = bulk.fetch(
            "SELECT created_at AS at FROM teams WHERE name LIKE 'T%' ORDER BY name", AT
        )
    assert read.get_column("at").to_list() == ats
