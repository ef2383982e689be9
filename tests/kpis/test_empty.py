"""An empty store: every count 0 and every rate null (no division by zero), both stores."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Engine

from cuishou.kpis import service
from cuishou.store.db import transaction


def test_an_empty_store_reports_zeros_and_nulls(engine: Engine) -> None:
    for by in (None, "collector", "day", "bucket"):
        with transaction(engine) as session:
            report = service.figures(session, None, date(2026, 11, 1), date(2026, 11, 3), by)
        total = report.total
        assert (total.recovered, total.due_at_start, total.contacts) == ("0.00", "0.00", 0)
        rates = {k: v for k, v in total.model_dump().items() if k.endswith(("_rate", "_day"))}
        assert rates and all(v is None for v in rates.values())
        assert report.roll_rates == []
        assert (report.rows is None) == (by is None)
    # the engine path (the simulator's and the benchmark's) gives the same report
    assert service.figures(engine, None, date(2026, 11, 1), date(2026, 11, 3)) == report.model_copy(
        update={"by": None, "rows": None}
    )
