"""Benchmark: the amount grammar's Polars form and the payment plausibility rule on a
million cells — the per-column cost every accounts and payments file pays.

    python -m bench.amounts [--rows 1000000]

Times (median of 3) ``placement.rules.yuan_fen_expr`` on amount cells as banks write them
(plain ``12345.67``, one in ten grouped ``12,345.67``, one in a hundred ``¥…元``) and
``repayment.rules.payment_refusal_exprs`` on the same number of typed payments; checks
that every cell parsed. No store is involved. Prints one JSON object.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl

from cuishou.placement.rules import yuan_fen_expr
from cuishou.repayment.rules import payment_refusal_exprs

NOW = datetime(2026, 11, 20, 2, 0, tzinfo=UTC)


def _cells(rows: int) -> list[str]:
    rng = random.Random(7)
    cells = []
    for i in range(rows):
        whole, cents = rng.randint(0, 5 * 10**6), rng.randint(0, 99)
        if i % 100 == 0:
            cells.append(f"¥{whole}.{cents:02d}元")
        elif i % 10 == 0:
            cells.append(f"{whole:,}.{cents:02d}")
        else:
            cells.append(f"{whole}.{cents:02d}")
    return cells


def _median(work: Callable[[], object]) -> float:
    runs = []
    for _ in range(3):
        start = time.perf_counter()
        work()
        runs.append(time.perf_counter() - start)
    return round(sorted(runs)[1], 3)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    text = pl.DataFrame({"amount": _cells(args.rows)})
    parsed = text.select(yuan_fen_expr(pl.col("amount"))).to_series()
    assert parsed.null_count() == 0, "every generated cell is a documented spelling"
    typed = pl.DataFrame(
        {
            "amount_fen": parsed,
            "paid_at": pl.datetime_range(
                NOW - timedelta(days=30), NOW, interval="1s", time_zone="UTC", eager=True
            ).head(args.rows),
        }
    )
    refusals = payment_refusal_exprs(pl.col("amount_fen"), pl.col("paid_at"), now=NOW)
    exprs = [expr.alias(refusal.code) for refusal, expr in refusals]
    results = {
        "rows": args.rows,
        "yuan_fen_expr_s": _median(lambda: text.select(yuan_fen_expr(pl.col("amount")))),
        "payment_refusal_exprs_s": _median(lambda: typed.select(exprs)),
    }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
