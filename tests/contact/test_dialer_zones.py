"""The dialer import's clock: ``now`` in any zone is one instant, and the import's "today"
is its business day in the creditor's zone (营业日), not ``now``'s calendar date."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import Engine, select, update

from cuishou.kit.clock import CHINA_TZ
from cuishou.store.db import transaction
from cuishou.store.tables import Creditor, Promise
from tests.contact.dialer_files import call_row, contacts_of, make_world, run, write_csv
from tests.factories import NOW  # 2026-11-01 02:00 UTC = 10:00 in Shanghai = Oct 31 22:00 NY


def test_now_in_the_creditors_zone_is_the_same_instant_as_in_utc(
    engine: Engine, tmp_path: Path
) -> None:
    # given a call one minute before NOW, and NOW given as a Shanghai wall-clock time
    _, (ref,) = make_world(engine)
    path = write_csv(
        tmp_path / "calls.csv", [call_row(ref.account_no, "Z1", "2026-11-01 09:59:00", "NO_ANSWER")]
    )
    # when it is imported (this raised a Polars error comparing UTC and Asia/Shanghai times)
    result = run(engine, path, now=NOW.astimezone(CHINA_TZ))
    # then the call is a contact, not "in the future" and not an error
    assert (result.errors, result.created, result.quarantined) == ([], 1, 0)
    # and a call after NOW (in Shanghai wall-clock) is still refused as in the future
    later = write_csv(
        tmp_path / "later.csv", [call_row(ref.account_no, "Z2", "2026-11-01 10:30:00", "NO_ANSWER")]
    )
    refused = run(engine, later, now=NOW.astimezone(ZoneInfo("America/New_York")))
    assert (refused.created, refused.quarantined) == (0, 1)
    with transaction(engine) as session:
        assert [c.external_id for c in contacts_of(session, ref.case_id)] == ["Z1"]


def test_a_promise_is_judged_by_the_creditors_business_day(engine: Engine, tmp_path: Path) -> None:
    # given a creditor in New York: at NOW its business day is still 2026-10-31
    _, (ref,) = make_world(engine)
    with transaction(engine) as session:
        session.execute(
            update(Creditor).where(Creditor.code == "TESTBANK").values(timezone="America/New_York")
        )
    # a call at 21:00 New York time promising to pay on its business day, 2026-10-31
    rows = [call_row(ref.account_no, "P1", "2026-10-31 21:00:00", "PTP", amount="100.00",
                     due="2026-10-31")]  # fmt: skip
    # when the file is imported with NOW in UTC (whose calendar date is already 2026-11-01)
    result = run(engine, write_csv(tmp_path / "calls.csv", rows))
    # then the promise is not "in the past": it is taken, due on the creditor's today
    assert (result.created, result.quarantined, result.promises) == (1, 0, 1)
    with transaction(engine) as session:
        promise = session.scalar(select(Promise).where(Promise.case_id == ref.case_id))
        assert promise is not None
        assert promise.due_date == date(2026, 10, 31)
