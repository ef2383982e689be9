"""Where a visit is: the district (区县) of an address, from the shipped centroid table.

``data/district_centroids.csv`` holds the seat coordinates (WGS-84 degrees) of every
county-level division the portfolio generator writes addresses in, built once by
``scripts/build_district_centroids.py`` from the table the ``cpca`` package ships (MIT); no
geocoder is asked and nothing is downloaded. An address is located by the first
``province+city+district`` (or ``city+district``) it starts with or contains — the way
Chinese addresses are written (省市区 + 路 + 号) — and otherwise by its city alone (the mean
of the city's districts, precision ``city``). Pure: the table is package data.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

TABLE = Path(__file__).parent / "data" / "district_centroids.csv"
EARTH_RADIUS_M = 6_371_000.0


@dataclass(frozen=True, slots=True)
class District:
    code: str
    province: str
    city: str
    district: str
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class Location:
    code: str  # the district's code (or the city's first district's, for precision city)
    name: str  # 省市区 as located
    lat: float
    lon: float
    precision: Literal["district", "city"]


@cache
def districts() -> tuple[District, ...]:
    with TABLE.open(encoding="utf-8") as handle:
        return tuple(
            District(
                code=row["code"],
                province=row["province"],
                city=row["city"],
                district=row["district"],
                lat=float(row["latitude"]),
                lon=float(row["longitude"]),
            )
            for row in csv.DictReader(handle)
        )


@cache
def _keys() -> tuple[tuple[str, District], ...]:
    """(text to find, district), longest first: 省+市+区, 市+区 (a municipality: 市+区)."""
    keys: list[tuple[str, District]] = []
    for d in districts():
        city = "" if d.city == d.province else d.city
        keys.append((d.province + city + d.district, d))
        keys.append(((city or d.province) + d.district, d))
    return tuple(sorted(keys, key=lambda item: -len(item[0])))


def _name(province: str, city: str) -> str:
    return province if province == city else province + city


def _compact(address: str) -> str:
    return "".join(address.split())


def locate(address: str) -> Location | None:
    """The district an address lies in, or its city, or ``None`` when neither is known."""
    text = _compact(address)
    best: tuple[int, District] | None = None
    for key, d in _keys():
        at = text.find(key)
        if at >= 0 and (best is None or at < best[0]):
            best = (at, d)
            if at == 0:
                break
    if best is not None:
        d = best[1]
        return Location(d.code, _name(d.province, d.city) + d.district, d.lat, d.lon, "district")
    for d in districts():
        if d.city in text:
            same = [x for x in districts() if x.city == d.city]
            lat = sum(x.lat for x in same) / len(same)
            lon = sum(x.lon for x in same) / len(same)
            return Location(same[0].code, _name(d.province, d.city), lat, lon, "city")
    return None


def by_code(code: str) -> District | None:
    return next((d for d in districts() if d.code == code), None)


def distance_m(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle distance in metres between two (lat, lon) points (haversine)."""
    lat1, lon1, lat2, lon2 = map(math.radians, (*a, *b))
    h = (
        math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2
    )
    return 2 * EARTH_RADIUS_M * math.asin(min(1.0, math.sqrt(h)))
