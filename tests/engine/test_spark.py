"""The daily cycle on Apache Spark (``local[2]``) decides exactly what one machine decides.

Spark tests are skipped when Java or PySpark is missing, unless ``CUISHOU_REQUIRE_SPARK=1``
(CI), which turns a missing one into a failure. One Spark session serves the whole worker.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from bench.spark_lake import AS_OF, write_synthetic_lake
from sqlalchemy import Engine
from typer.testing import CliRunner

from cuishou.cli import app
from cuishou.engine import io
from cuishou.engine.config import DEFAULT_CONFIG
from cuishou.engine.lake import DECISION_TABLES, LakeCycleIO, read_decisions, run_lake_cycle
from cuishou.engine.runner import decide, run_cycle, run_daily_cycle
from cuishou.store.db import make_engine, transaction
from cuishou.store.tables import Promise
from tests.engine.test_daily_cycle import table_dump
from tests.factories import make_account, make_creditor, make_debtor, make_payment
from tests.web.factories import make_user

pytestmark = pytest.mark.spark
REQUIRE_SPARK = os.environ.get("CUISHOU_REQUIRE_SPARK") == "1"
NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
DAY1, DAY2 = date(2026, 11, 1), date(2026, 11, 20)
runner = CliRunner()


def _missing() -> str | None:
    if shutil.which("java") is None:
        return "no Java (Debian: openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "PySpark not installed (pip install -e '.[spark]')"
    return None


@pytest.fixture(scope="session")
def spark() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if REQUIRE_SPARK:
            pytest.fail(f"{reason}, but CUISHOU_REQUIRE_SPARK=1 requires the Spark tests")
        pytest.skip(reason)
    from cuishou.engine.spark import spark_session

    session = spark_session(
        "local[2]", {"spark.driver.memory": "1g", "spark.sql.shuffle.partitions": "4"}
    )
    yield session
    session.stop()


def rows(frame: pl.DataFrame) -> list[tuple[Any, ...]]:
    """A frame's rows in a fixed order (Spark's partitions come back in any order)."""
    return sorted(frame.rows(), key=repr)


def assert_same_decisions(left: io.Decisions, right: io.Decisions) -> None:
    for table in DECISION_TABLES:
        a, b = getattr(left, table), getattr(right, table)
        assert a.columns == b.columns, table
        assert rows(a) == rows(b), table


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    timed = ("steps", "seconds", "step_seconds")
    return {
        k: {n: x for n, x in v.items() if n not in timed} if isinstance(v, dict) else v
        for k, v in result.items()
        if k not in timed
    }


@pytest.mark.parametrize(
    ("buckets", "tasks"),
    [(None, 4), (7, 3), (2, 4)],
    ids=["unbucketed-shuffle", "bucketed", "fewer-buckets-than-asked"],
)
def test_spark_decides_a_synthetic_portfolio_row_for_row_as_one_machine(
    spark: Any, tmp_path: Path, buckets: int | None, tasks: int
) -> None:
    from cuishou.engine.spark import run_spark_cycle

    # given a lake of 3,000 accounts: co-debt, two zones, payments, promises, plans, alerts,
    # as a data platform writes it (one file a table) or bucketed by debtor as the export does
    write_synthetic_lake(tmp_path / "lake", 3000, buckets=buckets)
    # when one machine and Spark run the same day on it
    alone = run_lake_cycle(tmp_path / "lake", tmp_path / "one", AS_OF, DEFAULT_CONFIG)
    spread, stats = run_spark_cycle(tmp_path / "lake", tmp_path / "spark", AS_OF, partitions=tasks)
    # then every decision table is the same, row for row, and so are the counts
    one, _ = read_decisions(tmp_path / "one")
    many, run = read_decisions(tmp_path / "spark")
    assert_same_decisions(one, many)
    assert comparable(spread.to_json()) == comparable(alone.to_json())
    assert run["engine"] == "spark"
    # a bucketed lake runs no more tasks than it has buckets, each writing its own part
    expected = min(tasks, buckets) if buckets else tasks
    assert stats.partitions == len(stats.partition_accounts) == expected
    if buckets:
        parts = sorted(p.name for p in (tmp_path / "spark" / "history").iterdir())
        assert parts == [f"part-{k:05d}.parquet" for k in range(expected)]
    assert sum(stats.partition_accounts) == alone.accounts == 3000
    assert all(stats.partition_accounts)
    # and the day exercised every step
    assert alone.promises_judged["broken"] and alone.agreements_judged["completed"]
    assert alone.alerts_raised["entered_m4_plus"] and alone.movements["rescheme"]
    assert alone.cases_opened and alone.cases_closed and alone.cases_reopened


def seed(engine: Engine) -> None:
    """Two creditors (Beijing and Urumqi time), co-debt, accounts of every age, one settled
    later, payments either side of local midnight, a promise that will break."""
    with transaction(engine) as session:
        bank = make_creditor(session)
        far = make_creditor(session, code="WESTBANK", name="西部银行", timezone="Asia/Urumqi")
        for index, creditor in enumerate((bank, far, bank, far, bank)):
            debtor = make_debtor(session)
            for age in (3, 35 + index, 70 + index, 95, 200 + 30 * index):
                make_account(
                    session,
                    creditor=creditor,
                    debtor=debtor,
                    principal_fen=100_000 * (index + 1),
                    installment_fen=20_000 if age % 2 else 0,
                    overdue_since=date.fromordinal(DAY1.toordinal() - age),
                )


def add_day_two(engine: Engine) -> None:
    from sqlalchemy import select

    from cuishou.store.tables import Account, Case

    with transaction(engine) as session:
        accounts = session.scalars(select(Account).order_by(Account.id)).all()
        # one paid off, one paid in part; one at 23:30 Beijing (still the 10th there)
        make_payment(
            session,
            account=accounts[0],
            amount_fen=accounts[0].principal_fen,
            paid_at=datetime(2026, 11, 5, 2, tzinfo=UTC),
        )
        make_payment(
            session,
            account=accounts[7],
            amount_fen=30_000,
            paid_at=datetime(2026, 11, 10, 15, 30, tzinfo=UTC),
        )
        make_payment(
            session,
            account=accounts[12],
            amount_fen=40_000,
            paid_at=datetime(2026, 11, 10, 17, 30, tzinfo=UTC),
        )
        case = session.scalars(select(Case).order_by(Case.id)).first()
        assert case is not None
        session.add(
            Promise(
                case_id=case.id,
                amount_fen=500_000,
                due_date=date(2026, 11, 12),
                status="open",
                created_by=make_user(session).id,
                created_at=datetime(2026, 11, 3, 2, tzinfo=UTC),
            )
        )


def invoke(*args: str, engine: Engine) -> dict[str, Any]:
    """Run the command line on the store; the test's own connections closed meanwhile (a
    second process's view of SQLite)."""
    engine.dispose()
    result = runner.invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_export_spark_import_ends_where_the_ordinary_daily_would(
    spark: Any, store_env: str, tmp_path: Path
) -> None:
    engine = make_engine(store_env)
    try:
        # given a store cycled once, with payments and a promise since
        seed(engine)
        ordinary_keys = set(invoke("daily", "--as-of", DAY1.isoformat(), engine=engine))
        add_day_two(engine)
        on_store = decide(io.StoreCycleIO(engine).load_snapshot(DAY2), DAY2)
        # when the store is exported and the next day run on Spark
        exported = invoke(
            "lake", "export", "--out", str(tmp_path / "lake"), "--buckets", "3", engine=engine
        )
        assert exported["tables"]["accounts"] == 25 and exported["buckets"] == 3
        lake = str(tmp_path / "lake")
        spread = invoke(
            "daily", "--engine", "spark", "--input", lake, "--output", str(tmp_path / "out"),
            "--as-of", DAY2.isoformat(), "--master", "local[2]", "--partitions", "3", engine=engine,
        )  # fmt: skip
        # then it prints the ordinary daily's keys and decides what the store's run decides
        assert set(spread) == ordinary_keys
        decided, _ = read_decisions(tmp_path / "out")
        assert_same_decisions(on_store, decided)
        assert sum(spread["promises_judged"].values()) == 1
        assert spread["movements"]["roll_forward"] and spread["movements"]["settled"]
        # and one machine on the same lake agrees too
        alone = invoke(
            "daily", "--input", lake, "--output", str(tmp_path / "one"),
            "--as-of", DAY2.isoformat(), engine=engine,
        )  # fmt: skip
        assert comparable(alone) == comparable(spread)
        # when the decisions are imported into the store
        imported = invoke("lake", "import", str(tmp_path / "out"), engine=engine)
        assert imported["as_of"] == DAY2.isoformat() and imported["rerun"] is False
        assert imported["alerts_raised"] == spread["alerts_raised"]
        assert imported["strategy"] is not None  # planned after the write, as daily does
        stored = table_dump(engine)
        # then the store is where the ordinary daily leaves it: running that day again on
        # the store finds nothing to change
        again = run_cycle(io.StoreCycleIO(engine), DAY2, now=NOW)
        assert again.rerun and again.accounts_written == 0
        assert set(again.alerts_raised.values()) == {0}
        assert table_dump(engine) == stored
    finally:
        engine.dispose()


def test_the_spark_engine_needs_a_lake_and_says_so(tmp_path: Path) -> None:
    result = runner.invoke(app, ["daily", "--engine", "spark", "--as-of", "2026-11-02"])
    assert result.exit_code == 2
    assert "--input" in result.output and "Traceback" not in result.output
    result = runner.invoke(app, ["daily", "--engine", "flink", "--as-of", "2026-11-02"])
    assert result.exit_code == 2 and "--engine" in result.output


def test_importing_a_folder_without_decisions_is_a_clear_error(
    store_env: str, tmp_path: Path
) -> None:
    result = runner.invoke(app, ["lake", "import", str(tmp_path)])
    assert result.exit_code == 2
    assert "run.json" in result.output and "Traceback" not in result.output


def test_a_lake_and_the_store_give_one_machine_the_same_day(engine: Engine, tmp_path: Path) -> None:
    from cuishou.engine.lake import export_lake

    # given a store cycled once, with payments and a promise since
    seed(engine)
    run_daily_cycle(engine, DAY1, now=NOW)
    add_day_two(engine)
    stored = io.StoreCycleIO(engine).load_snapshot(DAY2)
    # when it is exported, the lake read for the next day and for the same day again
    export_lake(engine, tmp_path / "lake")
    lake = LakeCycleIO(tmp_path / "lake", tmp_path / "out")
    # then the lake's cut of each day decides what the store's does
    assert_same_decisions(decide(stored, DAY2), decide(lake.load_snapshot(DAY2), DAY2))
    rerun = io.StoreCycleIO(engine).load_snapshot(DAY1)
    assert_same_decisions(decide(rerun, DAY1), decide(lake.load_snapshot(DAY1), DAY1))
    assert lake.load_snapshot(DAY1).rerun and not lake.load_snapshot(DAY2).rerun


def test_export_one_machine_import_ends_where_the_ordinary_daily_would(
    store_env: str, tmp_path: Path
) -> None:
    engine = make_engine(store_env)
    try:
        # given a store cycled once, with payments and a promise since, exported
        seed(engine)
        invoke("daily", "--as-of", DAY1.isoformat(), engine=engine)
        add_day_two(engine)
        invoke("lake", "export", "--out", str(tmp_path / "lake"), engine=engine)
        # when the next day is decided on the lake by one machine and imported
        alone = invoke(
            "daily", "--input", str(tmp_path / "lake"), "--output", str(tmp_path / "out"),
            "--as-of", DAY2.isoformat(), engine=engine,
        )  # fmt: skip
        imported = invoke("lake", "import", str(tmp_path / "out"), engine=engine)
        # (the store scores and plans after the import: the lake run's own say is ADR 0035's)
        off_store = {"scoring": None, "strategy": None, "agency": None}
        assert comparable(imported) | off_store == comparable(alone) | off_store
        stored = table_dump(engine)
        # then running that day again on the store finds nothing to change
        again = run_cycle(io.StoreCycleIO(engine), DAY2, now=NOW)
        assert again.rerun and again.accounts_written == 0
        assert table_dump(engine) == stored
        # and importing the same decisions twice is a re-run that adds nothing
        twice = invoke("lake", "import", str(tmp_path / "out"), engine=engine)
        assert twice["rerun"] is True and set(twice["alerts_raised"].values()) == {0}
        assert table_dump(engine) == stored
    finally:
        engine.dispose()
