"""Attribution (归属): work counts for who did it, money for who had the case that day.

Given the hand-computed shop (tests/kpis/shop.py) and one more case, D1 (2,000.00 due, M1 at
period start), dealt to col_a on 10-30 (before the period) and reassigned to col_b at 10:00
on 11-05 (Beijing), both through ``cases.service.assign_cases``:

| when (Beijing)   | who   | what                                                   |
|------------------|-------|--------------------------------------------------------|
| 11-03 10:00      | col_a | call, connected_debtor (D1's first RPC), promise 80.00 |
| 11-04            | —     | payment 100.00 (D1 is col_a's)                         |
| 11-05 10:00      | lead  | D1 reassigned to col_b                                 |
| 11-06 09:00      | col_b | call, no_answer                                        |
| 11-06 15:00      | col_a | call, connected_third_party (col_a still works it)     |
| 11-07            | —     | payment 200.00 (D1 is col_b's)                         |
"""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, select

from cuishou.auth.rules import Principal
from cuishou.cases.service import assign_cases
from cuishou.kpis import service
from cuishou.kpis.rules import EVER, owner_on, owners_of
from cuishou.kpis.schemas import KpiRow
from cuishou.promises.service import promise_stats
from cuishou.store.db import transaction
from cuishou.store.tables import Account
from tests.factories import NOW, make_payment
from tests.kpis.shop import END, START, Shop, _contact, _promise, build_shop, local
from tests.web.factories import make_case


@pytest.fixture
def shop(engine: Engine) -> Shop:
    shop = build_shop(engine)
    col_a, col_b, manager = (shop.users[n] for n in ("col_a", "col_b", "manager"))
    boss = Principal(manager.id, manager.username, manager.role, manager.team_id, None)
    with transaction(engine) as session:
        d1 = make_case(session, bucket="M1", dpd=20, due_fen=200_000)
        account = session.scalars(select(Account).where(Account.case_id == d1.id)).one()
        assign_cases(session, boss, [d1.id], collector="col_a", now=local(30, 9, month=10))
        first = _contact(session, d1, col_a, local(3, 10), "connected_debtor", "debtor")
        _promise(session, d1, col_a, first, 8_000, "open")
        make_payment(session, account=account, amount_fen=10_000, paid_at=local(4, 12))
        assign_cases(session, boss, [d1.id], collector="col_b", now=local(5, 10))
        _contact(session, d1, col_b, local(6, 9), "no_answer", "none")
        _contact(session, d1, col_a, local(6, 15), "connected_third_party", "third_party")
        make_payment(session, account=account, amount_fen=20_000, paid_at=local(7, 12))
    shop.cases["D1"] = d1.id
    return shop


def rows(engine: Engine, by: str) -> dict[str | None, KpiRow]:
    return {r.key: r for r in service.figures(engine, None, START, END, by).rows or []}


def test_a_reassigned_case_splits_money_by_owner_and_work_by_actor(
    engine: Engine, shop: Shop
) -> None:
    by = rows(engine, "collector")
    a, b = by["col_a"], by["col_b"]
    # money: col_a 500.00 (the shop) + D1's 100.00 before the switch; col_b 500.00 + 200.00
    assert (a.recovered, b.recovered) == ("600.00", "700.00")
    # col_a: A1, A2 (its second payment reversed) and D1's first; col_b: C1 and D1's second
    assert (a.payments, b.payments) == (3, 2)
    assert (a.paying_cases, b.paying_cases) == (3, 2)  # A1, A2, D1; C1, D1
    # the book goes to who had the case at period start: D1's 2,000.00 is col_a's
    assert (a.due_at_start, b.due_at_start) == ("6000.00", "6450.00")
    assert (a.book_cases, b.book_cases) == (3, 2)
    # calls: the shop's 5 and 2, plus D1's — col_a made two (one after the switch), col_b one
    assert (a.calls, a.connected, b.calls, b.connected) == (7, 5, 3, 1)
    assert (a.right_party, a.promises, a.promise_rate) == (4, 3, 0.75)
    # D1's first right-party contact (with its promise) was col_a's
    assert (a.first_contacts, a.first_contact_promises) == (2, 2)
    assert (b.first_contacts, b.first_contact_promises) == (1, 0)
    # first payment of D1 (11-04) while col_a had it: 34 days from opening
    assert (a.first_payments, b.first_payments) == (3, 1)
    # the slices still add up to the total: nothing is counted twice or lost
    total = service.figures(engine, None, START, END).total
    assert total.recovered == "1300.00" and total.due_at_start == "12450.00"
    for name in ("calls", "connected", "right_party", "promises", "payments", "first_payments"):
        assert getattr(a, name) + getattr(b, name) == getattr(total, name)


def test_teams_follow_the_collector_and_buckets_the_case(engine: Engine, shop: Shop) -> None:
    teams = {k: (r.recovered, r.calls) for k, r in rows(engine, "team").items()}
    assert teams == {"一组": ("600.00", 7), "二组": ("700.00", 3)}
    buckets = {k: (r.recovered, r.book_cases) for k, r in rows(engine, "bucket").items()}
    # D1 was M1 at period start whoever had it: M1 holds A2, C1 and D1
    assert buckets == {"M1": ("1100.00", 3), "M2": ("200.00", 1), "M3": ("0.00", 1)}


def test_promise_stats_are_the_kpi_figures(engine: Engine, shop: Shop) -> None:
    """One definition: /promises/stats shows the KPI layer's 承诺率 and 履约率 per collector."""
    manager = shop.users["manager"]
    boss = Principal(manager.id, manager.username, manager.role, manager.team_id, None)
    with transaction(engine) as session:
        stats = promise_stats(session, boss, since=START, until=END, now=NOW)
    kpi = rows(engine, "collector")
    assert [(r.name, r.team, r.rpc_contacts, r.promises, r.open) for r in stats.collectors] == [
        ("col_a", "一组", 4, 3, 1),  # A1 kept, A2 broken, D1 open (taken before the switch)
        ("col_b", "二组", 1, 0, 0),
    ]
    for row in stats.collectors:
        k = kpi[row.name]
        assert (row.rpc_contacts, row.promises, row.judged, row.kept) == (
            k.right_party, k.promises, k.judged, k.kept,
        )  # fmt: skip
        assert row.promise_rate == (None if k.promise_rate is None else f"{k.promise_rate:.4f}")
        assert row.kept_rate == (None if k.kept_rate is None else f"{k.kept_rate:.4f}")
    assert [(t.name, t.promise_rate, t.kept_rate) for t in stats.teams] == [
        ("一组", "0.7500", "0.5000"), ("二组", "0.0000", None),
    ]  # fmt: skip


def test_owners_before_the_first_event_are_its_from_collector() -> None:
    """A case assigned before events were kept: its first event's ``from`` had it before."""
    cases = pl.DataFrame(
        {"case_id": [1, 2], "tz": ["Asia/Shanghai"] * 2, "collector": ["b", "c"],
         "team": ["T2", "T3"], "agency": [None, None]},
        schema_overrides={"agency": pl.String},
    )  # fmt: skip
    assignments = pl.DataFrame(
        {"case_id": [1], "at": [local(5, 23, 30)], "event_id": [7], "from_collector": ["a"],
         "collector": ["b"], "team": ["T2"], "agency": [None]},
        schema_overrides={"agency": pl.String},
    )  # fmt: skip
    users = pl.DataFrame(
        {"user_id": [1, 2], "collector": ["a", "b"], "team": ["T1", "T2"], "agency": [None, None]},
        schema_overrides={"agency": pl.String},
    )
    owners = owners_of(cases, assignments, users).sort("case_id", "since")
    assert owners.select("case_id", "since", "until", "collector", "team").rows() == [
        (1, EVER, date(2026, 11, 5), "a", "T1"),
        (1, date(2026, 11, 5), None, "b", "T2"),  # 23:30 Beijing, 15:30 UTC: the 5th
        (2, EVER, None, "c", "T3"),  # never assigned by an event: its current collector
    ]
    # asked from the 6th on, case 1 is b's throughout: its earlier interval is left out
    later = owners_of(cases, assignments, users, date(2026, 11, 6)).sort("case_id")
    assert later.select("case_id", "since", "until", "collector").rows() == [
        (1, EVER, None, "b"),
        (2, EVER, None, "c"),
    ]
    frame = pl.DataFrame({"case_id": [1, 1, 2], "day": [date(2026, 11, 4), date(2026, 11, 5),
                                                        date(2026, 11, 4)]})  # fmt: skip
    keyed = owner_on(frame, owners, "collector").sort("case_id", "day")
    assert keyed["key"].to_list() == ["a", "b", "c"]
