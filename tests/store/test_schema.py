"""The store on both SQLite and PostgreSQL: migrations match the models, time stays aware."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, select, text
from sqlalchemy.exc import IntegrityError, StatementError

from cuishou.kit.errors import ConfigError, StoreNotReady
from cuishou.store.db import (
    current_revision,
    head_revision,
    make_engine,
    require_current,
    transaction,
)
from cuishou.store.tables import Base, Creditor, Event, Product


# SQLite cannot reflect the expression index users(lower(username)); PostgreSQL compares it
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_migrations_build_exactly_the_models(engine: Engine) -> None:
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []
    assert current_revision(engine) == head_revision()


def test_products_are_seeded(engine: Engine) -> None:
    with transaction(engine) as session:
        codes = set(session.scalars(select(Product.code)))
    assert {"credit_card", "consumer_loan", "small_business"} <= codes


def test_times_come_back_aware_utc(engine: Engine) -> None:
    beijing = timezone(timedelta(hours=8))
    with transaction(engine) as session:
        session.add(
            Creditor(
                code="C1",
                name="银行",
                timezone="Asia/Shanghai",
                created_at=datetime(2026, 11, 3, 9, 0, tzinfo=beijing),
            )
        )
    with transaction(engine) as session:
        stored = session.scalar(select(Creditor.created_at))
    assert stored == datetime(2026, 11, 3, 1, 0, tzinfo=UTC)
    assert stored is not None and stored.tzinfo is not None


def test_naive_time_is_refused(engine: Engine) -> None:
    with pytest.raises(StatementError, match="naive datetime"), transaction(engine) as session:
        naive = datetime(2026, 1, 1)  # noqa: DTZ001 - the point of the test
        session.add(Creditor(code="C2", name="x", timezone="Asia/Shanghai", created_at=naive))


def test_unique_creditor_code(engine: Engine) -> None:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(IntegrityError), transaction(engine) as session:
        session.add(Creditor(code="DUP", name="a", timezone="Asia/Shanghai", created_at=now))
        session.flush()
        session.add(Creditor(code="DUP", name="b", timezone="Asia/Shanghai", created_at=now))
        session.flush()
    with transaction(engine) as session:
        assert session.scalar(select(Creditor).where(Creditor.code == "DUP")) is None


def test_event_payload_round_trips_json(engine: Engine) -> None:
    with transaction(engine) as session:
        session.add(
            Event(
                at=datetime(2026, 1, 1, tzinfo=UTC),
                actor="system",
                type="t",
                entity_type="x",
                entity_id=1,
                payload={"金额": "12.00", "n": [1, 2]},
            )
        )
    with transaction(engine) as session:
        assert session.scalar(select(Event.payload)) == {"金额": "12.00", "n": [1, 2]}


def test_sqlite_store_uses_wal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    engine = make_engine(f"sqlite:///{tmp_path / 'w.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_unmigrated_store_is_refused_with_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(StoreNotReady, match="cuishou init"):
        require_current(make_engine(f"sqlite:///{tmp_path / 'empty.db'}"))


def test_unsupported_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        make_engine("mysql://x@localhost/db")


def test_date_columns_keep_dates(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (d DATE)"))
        connection.execute(text("INSERT INTO probe VALUES (:d)"), {"d": date(2026, 2, 28)})
        assert str(connection.execute(text("SELECT d FROM probe")).scalar()).startswith(
            "2026-02-28"
        )
