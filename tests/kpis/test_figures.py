"""Every metric against the hand-computed shop (tests/kpis/shop.py), on both stores."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import Engine

from cuishou.auth.rules import Principal
from cuishou.kpis import service
from cuishou.kpis.schemas import KpiReport
from cuishou.store.db import transaction
from cuishou.store.tables import User
from tests.kpis.shop import END, START, Shop, build_shop


def principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.team_id, user.agency_id)


@pytest.fixture
def shop(engine: Engine) -> Shop:
    return build_shop(engine)


def report(engine: Engine, by: str | None = None, who: User | None = None,
           start: date = START, end: date = END) -> KpiReport:  # fmt: skip
    with transaction(engine) as session:
        return service.figures(session, principal(who) if who else None, start, end, by)


def test_the_total_is_the_hand_computed_one(engine: Engine, shop: Shop) -> None:
    total = report(engine).total
    # money: 200 + 300 + 100 − 100 (reversed) + 500 = 1,000.00 of a book of
    # 1,000 + 3,000 + (6,000 − 50 paid before the period) + 500 = 10,450.00
    assert (total.recovered, total.due_at_start) == ("1000.00", "10450.00")
    assert total.recovery_rate == 0.0957  # 100,000 / 1,045,000 = 0.09569…
    assert (total.book_cases, total.paying_cases, total.recovery_rate_by_count) == (4, 3, 0.75)
    assert total.payments == 3  # four payments less one reversal
    # contacts: 8 in the period (7 calls, 1 visit); connected calls: A1 RPC, A2 promise,
    # A2 complaint, B1 third party
    assert (total.contacts, total.calls, total.connected, total.connect_rate) == (8, 7, 4, 0.5714)
    assert (total.right_party, total.right_party_rate) == (4, 0.5)
    assert (total.promises, total.promised, total.promise_rate) == (2, "350.00", 0.5)
    # first RPC in the period: A1 (with its promise) and B1 (none); A2's was on 10-30
    assert (total.first_contacts, total.first_contact_promises) == (2, 1)
    assert total.first_contact_promise_rate == 0.5
    assert (total.judged, total.kept, total.kept_rate) == (2, 1, 0.5)
    # delinquent at start: all four; cured: A1 (back to M0), C1 (settled); self-cured: C1
    assert (total.delinquent, total.cured, total.cure_rate) == (4, 2, 0.5)
    assert (total.self_cured, total.self_cure_rate) == (1, 0.25)
    # first payments from opening (10-01): A1 11-03 (33 days), A2 11-04 (34), C1 11-04 (34)
    assert (total.first_payments, total.avg_days_to_first_payment) == (3, 33.6667)
    # collector days: col_a 11-02, 11-03, 11-04; col_b 11-05, 11-07 (the visit)
    assert (total.collector_days, total.contacts_per_collector_day) == (5, 1.6)
    assert total.calls_per_collector_day == 1.75  # 7 calls over 4 collector days with a call
    # cost: 7 calls × 0.30 + 1 visit × 60.00 + 5 days × 8 h × 30.00 = 1,262.10
    assert (total.cost, total.cost_per_yuan) == ("1262.10", 1.2621)
    assert (total.complaints, total.complaints_per_10k) == (1, 1250.0)
    assert total.violations == 1


def test_the_roll_rate_matrix_compares_start_and_end_buckets(engine: Engine, shop: Shop) -> None:
    lines = {(r.from_bucket, r.to_bucket): (r.accounts, r.rate) for r in report(engine).roll_rates}
    assert lines == {
        ("M1", "M2"): (1, 0.5),  # A2 rolled
        ("M1", "settled"): (1, 0.5),  # C1 paid off
        ("M2", "M0"): (1, 1.0),  # A1 cured
        ("M3", "M3"): (1, 1.0),  # B1 stayed
    }


def test_by_collector_splits_the_total_and_ranks_it(engine: Engine, shop: Shop) -> None:
    result = report(engine, "collector")
    rows = {row.key: row for row in result.rows or []}
    assert set(rows) == {"col_a", "col_b"}
    a, b = rows["col_a"], rows["col_b"]
    assert (a.recovered, a.due_at_start, a.recovery_rate) == ("500.00", "4000.00", 0.125)
    assert (b.recovered, b.due_at_start, b.recovery_rate) == ("500.00", "6450.00", 0.0775)
    assert (a.calls, a.connected, a.connect_rate) == (5, 3, 0.6)
    assert (b.calls, b.connected, b.connect_rate) == (2, 1, 0.5)
    assert (a.promise_rate, b.promise_rate) == (0.6667, 0.0)
    assert (a.first_contact_promise_rate, b.first_contact_promise_rate) == (1.0, 0.0)
    assert (a.kept_rate, b.kept_rate) == (0.5, None)  # col_b has no judged promise
    assert a.rank == b.rank == 1  # a tie on the amount recovered
    # targets: the shipped defaults; progress = figure ÷ target
    assert a.target == {"connect_rate": 0.76, "first_contact_promise_rate": 0.42,
                        "recovery_rate": 0.15, "calls_per_collector_day": 85.0}  # fmt: skip
    assert a.progress is not None and a.progress["recovery_rate"] == 0.8333  # 0.125 / 0.15
    for name in ("contacts", "calls", "promises", "right_party", "payments", "violations"):
        assert getattr(a, name) + getattr(b, name) == getattr(result.total, name)


def test_by_team_and_by_bucket(engine: Engine, shop: Shop) -> None:
    teams = {row.key: row.recovered for row in report(engine, "team").rows or []}
    assert teams == {"一组": "500.00", "二组": "500.00"}
    buckets = {
        row.key: (row.recovered, row.book_cases) for row in report(engine, "bucket").rows or []
    }
    # the bucket at period start: A2 and C1 were M1, A1 M2, B1 M3
    assert buckets == {"M1": ("800.00", 2), "M2": ("200.00", 1), "M3": ("0.00", 1)}


def test_by_day_has_every_day_and_the_period_book(engine: Engine, shop: Shop) -> None:
    rows = report(engine, "day").rows or []
    assert [r.key for r in rows] == [f"2026-11-0{d}" for d in range(2, 9)]
    day = {r.key: r for r in rows}
    assert (day["2026-11-02"].contacts, day["2026-11-02"].calls) == (3, 3)
    assert day["2026-11-04"].recovered == "800.00"  # A2 300 + C1 500
    assert day["2026-11-06"].recovered == "-100.00"  # the reversal, on the day it was made
    assert day["2026-11-08"].contacts == 0  # 01:00 on 11-09 in Beijing is not the 8th
    assert all(r.due_at_start == "10450.00" and r.cure_rate is None for r in rows)
    assert sum(r.recovery_rate or 0 for r in rows) == pytest.approx(0.0957, abs=1e-3)
    weeks = report(engine, "week").rows or []
    assert [(w.key, w.recovered) for w in weeks] == [("2026-W45", "1000.00")]


def test_the_engine_path_gives_the_same_figures_as_a_session(engine: Engine, shop: Shop) -> None:
    """The simulator and the benchmark call figures() with an engine; the API with a session."""
    for by in ("collector", "day"):
        assert service.figures(engine, None, START, END, by) == report(engine, by)
