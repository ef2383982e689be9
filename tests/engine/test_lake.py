"""A bucketed lake: every row in one bucket, a debtor's rows of every table in the same one.

These need no Spark: they check the files a Spark task reads (``lake.read_buckets``) and
that the single-machine run reads a bucketed lake as it reads a plain one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from bench.spark_lake import AS_OF, synthetic_lake

from cuishou.engine import lake
from cuishou.engine.runner import decide
from cuishou.kit.errors import InvalidInput


def rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    return sorted(frame.rows(), key=repr)


@pytest.fixture(scope="module")
def tables() -> dict[str, pl.DataFrame]:
    return synthetic_lake(2000, seed=11)


def test_every_row_is_in_exactly_one_bucket_with_its_debtor(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    # given the lake written in 5 buckets
    lake.write_tables(tmp_path, tables, buckets=5)
    assert lake.lake_buckets(tmp_path) == 5
    debtor_of_account = dict(tables["accounts"].select("id", "debtor_id").iter_rows())
    debtor_of_case = dict(tables["cases"].select("id", "debtor_id").iter_rows())
    for name, schema in lake.LAKE_TABLES.items():
        if name in lake.UNBUCKETED:
            continue
        # then the buckets of each table hold its rows once each
        parts = [lake.read_buckets(tmp_path, name, schema, [b]) for b in range(5)]
        assert rows(pl.concat(parts)) == rows(tables[name]), name
        # and a bucket holds only debtors whose id falls in it
        for bucket, part in enumerate(parts):
            if "debtor_id" in part.columns:
                debtors = part.get_column("debtor_id")
            elif "account_id" in part.columns:
                debtors = part.get_column("account_id").replace_strict(debtor_of_account)
            elif "case_id" in part.columns:
                debtors = part.get_column("case_id").replace_strict(debtor_of_case)
            else:  # installments: through their plan's case
                plans = dict(tables["agreements"].select("agreement_id", "case_id").iter_rows())
                cases = part.get_column("agreement_id").replace_strict(plans)
                debtors = cases.replace_strict(debtor_of_case)
            assert set((debtors % 5).unique().to_list()) <= {bucket}, (name, bucket)
    # and the whole-lake tables are not split
    assert (tmp_path / "cycle_runs" / "part-00000.parquet").is_file()


def test_one_machine_decides_the_same_day_on_a_bucketed_lake(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    lake.write_tables(tmp_path / "plain", tables)
    lake.write_tables(tmp_path / "split", tables, buckets=4)
    assert lake.lake_buckets(tmp_path / "plain") is None
    plain = lake.LakeCycleIO(tmp_path / "plain", tmp_path / "x").load_snapshot(AS_OF)
    split = lake.LakeCycleIO(tmp_path / "split", tmp_path / "y").load_snapshot(AS_OF)
    one, other = decide(plain, AS_OF), decide(split, AS_OF)
    for name in lake.DECISION_TABLES:
        assert rows(getattr(one, name)) == rows(getattr(other, name)), name


def test_a_row_whose_account_is_not_in_the_lake_is_left_out_as_spark_leaves_it(
    tables: dict[str, pl.DataFrame],
) -> None:
    orphan = tables["payments"].head(1).with_columns(pl.lit(10**12).alias("account_id"))
    with_orphan = {**tables, "payments": pl.concat([tables["payments"], orphan])}
    split = lake.bucket_tables(with_orphan, 3)
    assert split["payments"].height == tables["payments"].height
    assert split["payments"].get_column("_bucket").is_between(0, 2).all()


def test_rewriting_a_lake_unbucketed_removes_its_manifest(
    tables: dict[str, pl.DataFrame], tmp_path: Path
) -> None:
    lake.write_tables(tmp_path, tables, buckets=2)
    lake.write_tables(tmp_path, tables)
    assert lake.lake_buckets(tmp_path) is None
    assert not list((tmp_path / "accounts").glob("bucket=*"))


@pytest.mark.parametrize("manifest", ["{}", '{"buckets": 0}', "not json", '{"buckets": "x"}'])
def test_a_bad_bucket_manifest_is_a_clear_error(tmp_path: Path, manifest: str) -> None:
    (tmp_path / lake.BUCKETS_FILE).write_text(manifest)
    with pytest.raises(InvalidInput, match="bucket"):
        lake.lake_buckets(tmp_path)


def test_a_lake_needs_a_bucket(tables: dict[str, pl.DataFrame]) -> None:
    with pytest.raises(InvalidInput, match="at least one bucket"):
        lake.bucket_tables(tables, 0)


def test_the_default_is_a_bucket_per_fifty_thousand_accounts() -> None:
    assert [lake.default_buckets(n) for n in (0, 1, 50_000, 50_001, 10_000_000)] == [
        1, 1, 1, 2, 200,
    ]  # fmt: skip


def test_the_manifest_says_how_to_bucket(tables: dict[str, pl.DataFrame], tmp_path: Path) -> None:
    lake.write_tables(tmp_path, tables, buckets=3)
    manifest = json.loads((tmp_path / lake.BUCKETS_FILE).read_text())
    assert manifest == {"buckets": 3, "key": "debtor_id", "rule": "debtor_id % buckets"}
