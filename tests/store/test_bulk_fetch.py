"""An ADBC read of many rows gives every row, typed by the whole read rather than by its
first thousand rows (``AdbcBulk.fetch``; SQLite's driver infers types batch by batch)."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from sqlalchemy import Engine

from cuishou.store.bulk import BulkStore

ROWS = 3_000
#: the first half of the teams have no code; the driver's default batch was 1,024 rows
UNNAMED = 1_500


def test_a_text_column_null_in_its_first_thousand_rows_reads_as_text(engine: Engine) -> None:
    created = datetime(2026, 11, 1, tzinfo=UTC)
    with BulkStore(engine).write() as bulk:
        bulk.execute(
            """INSERT INTO teams (name, created_at)
            SELECT 'team ' || CAST(n AS TEXT), :at FROM (
                WITH RECURSIVE n(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM n WHERE n < :rows)
                SELECT n FROM n
            ) AS numbers""",
            at=created,
            rows=ROWS,
        )
    with BulkStore(engine).read() as bulk:
        read = bulk.fetch(
            """SELECT id, CASE WHEN id > :unnamed THEN name END AS name, created_at AS at
            FROM teams ORDER BY id""",
            {"id": pl.Int64(), "name": pl.String(), "at": pl.Datetime("us", "UTC")},
            unnamed=UNNAMED,
        )
    assert read.height == ROWS
    assert read.get_column("name").null_count() == UNNAMED
    assert read.get_column("name")[UNNAMED] == f"team {UNNAMED + 1}"
    assert read.get_column("at").unique().to_list() == [created]
