"""The pure visit rules, the district table and the router."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time

from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.generator.names import PROVINCES
from cuishou.visits.geo import districts, locate
from cuishou.visits.routing import SERVICE_MINUTES, Stop, order_route, route_length
from cuishou.visits.rules import (
    Collector,
    gate_moments,
    may_see,
    record_problem,
    schedule_problem,
    window_of,
)

TODAY = date(2026, 11, 4)
A = Collector("col_a", 1, "collector", 7, True)
B = Collector("col_b", 2, "collector", 7, True)


def _problem(**over: object) -> str | None:
    args: dict[str, object] = {
        "status": "requested", "case_team_id": 7, "day": TODAY, "today": TODAY,
        "start": time(9), "end": time(11), "collectors": [A, B],
    }  # fmt: skip
    args.update(over)
    return schedule_problem(**args)  # type: ignore[arg-type]


def test_a_request_of_the_team_schedules_and_bad_ones_say_why() -> None:
    assert _problem() is None
    assert "past" in (_problem(day=date(2026, 11, 3)) or "")
    assert "15 minutes" in (_problem(end=time(9, 10)) or "")
    assert "no team" in (_problem(case_team_id=None) or "")
    assert "twice" in (_problem(collectors=[A, A]) or "")
    assert "not in the case's team" in (
        _problem(collectors=[A, Collector("x", 3, "collector", 8, True)]) or ""
    )
    assert "not a collector" in (
        _problem(collectors=[A, Collector("lead", 3, "team_lead", 7, True)]) or ""
    )
    assert "no active user" in (_problem(collectors=[A, Collector("ghost", None)]) or "")
    assert "cannot be scheduled" in (_problem(status="done") or "")


def test_one_collector_is_left_to_the_gate() -> None:
    # CN-14 (两人同行) is the gate's rule, judged by the pack: the shape check lets it through
    assert _problem(collectors=[A]) is None


def test_the_window_is_local_and_judged_at_its_first_and_last_minute() -> None:
    start, end = window_of(date(2026, 11, 5), time(18), time(20), "Asia/Shanghai")
    assert start.astimezone(UTC) == datetime(2026, 11, 5, 10, tzinfo=UTC)
    first, last = gate_moments(start, end)
    assert first == start and (last.hour, last.minute) == (19, 59)  # inside [08:00, 20:00)


def test_only_a_scheduled_collector_records_a_scheduled_visit() -> None:
    now = datetime(2026, 11, 5, 3, tzinfo=UTC)
    ok = {"status": "scheduled", "collector_ids": [1, 2], "recorder_id": 2,
          "visited_at": now, "now": now, "window_start": now}  # fmt: skip
    assert record_problem(**ok) is None  # type: ignore[arg-type]
    assert "only a collector" in (record_problem(**{**ok, "recorder_id": 9}) or "")  # type: ignore[arg-type]
    assert "already" in (record_problem(**{**ok, "status": "done"}) or "")  # type: ignore[arg-type]
    assert "schedule it first" in (record_problem(**{**ok, "status": "requested"}) or "")  # type: ignore[arg-type]
    future = now.replace(hour=5)
    assert "future" in (record_problem(**{**ok, "visited_at": future}) or "")  # type: ignore[arg-type]


def test_who_sees_a_visit() -> None:
    assert may_see(role="collector", user_id=1, collector_ids=[1], case_in_scope=False)
    assert not may_see(role="collector", user_id=5, collector_ids=[1], case_in_scope=False)
    assert may_see(role="team_lead", user_id=5, collector_ids=[1], case_in_scope=True)
    assert not may_see(role="agency", user_id=5, collector_ids=[1], case_in_scope=True)


def test_every_district_the_generator_writes_addresses_in_is_located() -> None:
    for province in PROVINCES:
        for city in province.cities:
            for county in city.counties:
                prefix = (province.name if province.is_municipality
                          else province.name + city.name) + county.name  # fmt: skip
                found = locate(prefix + "人民路1号")
                assert found is not None and found.precision == "district", prefix
                assert found.name == prefix
                assert 18 < found.lat < 54 and 73 < found.lon < 135  # inside China
    assert len(districts()) == 197


def test_addresses_are_located_by_district_then_city() -> None:
    assert locate("吉林省长春市朝阳区解放路1号") != locate("北京市朝阳区解放路1号")
    city = locate("深圳市 某街道 9号")
    assert city is not None and city.precision == "city" and city.name == "广东省深圳市"
    assert locate("火星基地") is None


def _stops(n: int, seed: int) -> list[Stop]:
    rng = random.Random(seed)
    return [Stop(i, 22.5 + rng.random() * 0.3, 113.8 + rng.random() * 0.4) for i in range(n)]


def test_the_route_visits_each_stop_once_and_is_shorter_than_the_given_order() -> None:
    stops = _stops(30, 1)
    route = order_route(stops, time_limit_ms=200)
    assert sorted(route.visit_ids) == list(range(30))
    assert route.length_m < route_length(stops) * 0.6
    by_id = {s.visit_id: s for s in stops}
    assert route.length_m == route_length([by_id[i] for i in route.visit_ids])


def test_windows_are_kept_when_they_fit_and_dropped_when_they_cannot() -> None:
    near = _stops(4, 2)
    # the last stop in the list must come first: its window closes early
    timed = [Stop(s.visit_id, s.lat, s.lon, 9 * 60, 20 * 60) for s in near[:3]]
    timed.append(Stop(near[3].visit_id, near[3].lat, near[3].lon, 9 * 60, 9 * 60 + 10))
    route = order_route(timed, time_limit_ms=0)
    assert route.windows_kept and route.visit_ids[0] == near[3].visit_id
    crowded = [Stop(i, 22.5, 113.9 + i / 100, 9 * 60, 9 * 60 + SERVICE_MINUTES) for i in range(5)]
    dropped = order_route(crowded, time_limit_ms=0)
    assert not dropped.windows_kept and sorted(dropped.visit_ids) == list(range(5))


@settings(max_examples=20)
@given(st.integers(min_value=0, max_value=12), st.integers(min_value=0, max_value=10**6))
def test_any_set_of_stops_gets_a_complete_route(n: int, seed: int) -> None:
    stops = _stops(n, seed)
    route = order_route(stops, time_limit_ms=0)
    assert sorted(route.visit_ids) == sorted(s.visit_id for s in stops)
