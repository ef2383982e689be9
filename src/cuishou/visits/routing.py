"""A team's route of the day (外访路线): the order its visits are made in.

An open route — it starts at the first visit and ends at the last, as a pair of field
collectors sets out from home or the office of the day — found with OR-Tools' routing
solver over great-circle distances between the visits' district centroids. Each visit keeps
its scheduled window: travel takes distance at :data:`SPEED_KMH`, a visit
:data:`SERVICE_MINUTES`; when the windows cannot all be kept on one route the windows are
dropped and the shortest route is taken (``windows_kept`` says which). Pure: plain data in,
plain data out; the solver's time limit is an argument.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from cuishou.visits.geo import distance_m

SPEED_KMH = 25.0  # city traffic, door to door
SERVICE_MINUTES = 40  # a visit, with finding the door
#: a day's minutes: windows are minutes since the day's local midnight
DAY_MINUTES = 24 * 60
#: the latest a route may end (minutes): windows, not the horizon, bound a day's work
HORIZON = 7 * DAY_MINUTES
#: a search for a route within the windows stops after this long at least (it may have none)
WINDOWS_SEARCH_MS = 500


@dataclass(frozen=True, slots=True)
class Stop:
    visit_id: int
    lat: float
    lon: float
    #: the window, in minutes since local midnight (``None``: any time)
    earliest: int | None = None
    latest: int | None = None


@dataclass(frozen=True, slots=True)
class Route:
    visit_ids: tuple[int, ...]
    length_m: int
    windows_kept: bool


def route_length(stops: Sequence[Stop]) -> int:
    """Metres from the first stop to the last, in the order given."""
    return sum(round(distance_m((a.lat, a.lon), (b.lat, b.lon))) for a, b in pairwise(stops))


def _matrix(stops: Sequence[Stop]) -> list[list[int]]:
    """Metres between stops; node 0 is a free start/end (an open route)."""
    n = len(stops)
    matrix = [[0] * (n + 1) for _ in range(n + 1)]
    for i, a in enumerate(stops, start=1):
        for j, b in enumerate(stops, start=1):
            if i != j:
                matrix[i][j] = round(distance_m((a.lat, a.lon), (b.lat, b.lon)))
    return matrix


def _minutes(metres: int) -> int:
    return round(metres / 1000 / SPEED_KMH * 60)


def _solve(stops: Sequence[Stop], matrix: list[list[int]], *, windows: bool,
           time_limit_ms: int) -> tuple[int, ...] | None:  # fmt: skip
    manager = pywrapcp.RoutingIndexManager(len(matrix), 1, 0)
    routing = pywrapcp.RoutingModel(manager)

    def node(index: int) -> int:
        return int(manager.IndexToNode(index))

    def distance(i: int, j: int) -> int:
        return matrix[node(i)][node(j)]

    arc = routing.RegisterTransitCallback(distance)
    routing.SetArcCostEvaluatorOfAllVehicles(arc)
    if windows:

        def travel(i: int, j: int) -> int:
            a, b = node(i), node(j)
            service = SERVICE_MINUTES if a != 0 else 0
            return 0 if b == 0 else service + _minutes(matrix[a][b])

        routing.AddDimension(
            routing.RegisterTransitCallback(travel), DAY_MINUTES, HORIZON, False, "time"
        )
        clock = routing.GetDimensionOrDie("time")
        for position, stop in enumerate(stops, start=1):
            if stop.earliest is not None and stop.latest is not None:
                clock.CumulVar(manager.NodeToIndex(position)).SetRange(stop.earliest, stop.latest)
    params = pywrapcp.DefaultRoutingSearchParameters()
    params.first_solution_strategy = routing_enums_pb2.FirstSolutionStrategy.PATH_CHEAPEST_ARC
    if time_limit_ms > 0:
        params.local_search_metaheuristic = (
            routing_enums_pb2.LocalSearchMetaheuristic.GUIDED_LOCAL_SEARCH
        )
        params.time_limit.FromMilliseconds(time_limit_ms)
    elif windows:  # a first solution within windows may not exist: never search forever
        params.time_limit.FromMilliseconds(WINDOWS_SEARCH_MS)
    solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    order: list[int] = []
    index = solution.Value(routing.NextVar(routing.Start(0)))
    while not routing.IsEnd(index):
        order.append(node(index) - 1)
        index = solution.Value(routing.NextVar(index))
    return tuple(order)


def windows_may_fit(stops: Sequence[Stop]) -> bool:
    """False when the visits cannot all be made within their windows whatever the order
    (their service time alone overruns the span of the windows): no search is spent then."""
    timed = [s for s in stops if s.earliest is not None and s.latest is not None]
    if not timed:
        return True
    span = max(s.latest for s in timed if s.latest is not None) - min(
        s.earliest for s in timed if s.earliest is not None
    )
    return (len(timed) - 1) * SERVICE_MINUTES <= span


def order_route(stops: Sequence[Stop], *, time_limit_ms: int = 1000) -> Route:
    """The order to make ``stops`` in: the shortest open route the solver finds within
    ``time_limit_ms`` (0: its first solution only), keeping every window when it can."""
    if len(stops) <= 1:
        return Route(tuple(s.visit_id for s in stops), 0, True)
    matrix = _matrix(stops)
    order = None
    if windows_may_fit(stops):
        order = _solve(stops, matrix, windows=True, time_limit_ms=time_limit_ms)
    kept = order is not None
    if order is None:
        order = _solve(stops, matrix, windows=False, time_limit_ms=time_limit_ms)
    if order is None:  # pragma: no cover - an unconstrained open route always exists
        order = tuple(range(len(stops)))
    ordered = [stops[i] for i in order]
    return Route(tuple(s.visit_id for s in ordered), route_length(ordered), kept)
