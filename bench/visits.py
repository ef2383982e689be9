"""Benchmark: the day's field-visit routes (外访路线) — OR-Tools over district centroids.

    python -m bench.visits [--teams 20] [--visits 50,200] [--time-limit-ms 0,1000] [--json]

For each size, ``--teams`` teams each get that many visits, every visit at a district of the
team's province drawn from the shipped centroid table (``cuishou/visits/data``), weighted
like the generator's addresses (several visits often share a district, as real ones share a
street). Each team's visits are ordered by :func:`cuishou.visits.routing.order_route` — the
function ``cuishou visits route`` runs — with no windows (a day's visits of one pair rarely
all fit their windows at these sizes; the service then takes the shortest route anyway), at
each solver time limit (0 = the first solution, PATH_CHEAPEST_ARC, no local search). Reports
per size and limit: the total wall time over all teams, the slowest team, and the total route
length against the same visits in their unordered (scheduling) sequence. Pure CPU: no store.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections import defaultdict
from typing import Any

from cuishou.visits.geo import districts
from cuishou.visits.routing import Stop, order_route, route_length

SEED = 20261202


def _teams(teams: int, visits: int, rng: random.Random) -> list[list[Stop]]:
    by_province: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for d in districts():
        by_province[d.province].append((d.lat, d.lon))
    # provinces with several districts, as a team covers a region of them
    regions = sorted(p for p, places in by_province.items() if len(places) >= 4)
    out = []
    for team in range(teams):
        places = by_province[regions[team % len(regions)]]
        out.append([Stop(i, *places[rng.randrange(len(places))]) for i in range(visits)])
    return out


def run(teams: int, sizes: list[int], limits: list[int]) -> list[dict[str, Any]]:
    rows = []
    for size in sizes:
        plans = _teams(teams, size, random.Random(SEED + size))
        unordered = sum(route_length(stops) for stops in plans)
        for limit in limits:
            total = 0
            slowest = 0.0
            started = time.perf_counter()
            for stops in plans:
                t0 = time.perf_counter()
                route = order_route(stops, time_limit_ms=limit)
                slowest = max(slowest, time.perf_counter() - t0)
                assert sorted(route.visit_ids) == list(range(size))
                total += route.length_m
            wall = time.perf_counter() - started
            rows.append({
                "teams": teams, "visits_per_team": size, "time_limit_ms": limit,
                "wall_s": round(wall, 2), "slowest_team_s": round(slowest, 2),
                "route_km": round(total / 1000, 1), "unordered_km": round(unordered / 1000, 1),
                "ratio": round(total / unordered, 3) if unordered else None,
            })  # fmt: skip
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teams", type=int, default=20)
    parser.add_argument("--visits", default="50,200", help="visits per team, comma-separated")
    parser.add_argument("--time-limit-ms", default="0,1000", help="solver limits per team")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    rows = run(
        args.teams,
        [int(v) for v in args.visits.split(",")],
        [int(v) for v in args.time_limit_ms.split(",")],
    )
    if args.json:
        print(json.dumps(rows))
        return
    print("teams  visits/team  limit ms  wall s  slowest s  route km  unordered km  ratio")
    for r in rows:
        print(
            f"{r['teams']:>5}  {r['visits_per_team']:>11}  {r['time_limit_ms']:>8}  "
            f"{r['wall_s']:>6}  {r['slowest_team_s']:>9}  {r['route_km']:>8}  "
            f"{r['unordered_km']:>12}  {r['ratio']:>5}"
        )


if __name__ == "__main__":
    main()
