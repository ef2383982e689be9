"""Benchmark: ``case_scores`` replaced wholesale (DELETE + INSERT) vs. only changed rows
rewritten (``registry.write_scores``), on the store ``bench.scoring_daily`` left scored.

    python -m bench.scoring_writes   # after python -m bench.scoring_daily
"""

import time

import polars as pl

from cuishou.scoring import registry
from cuishou.store.bulk import BulkStore
from cuishou.store.db import make_engine

engine = make_engine("sqlite:////tmp/cuishou-bench-scoring/scoring.db")  # scoring_daily's
store = BulkStore(engine)
with store.read() as bulk:
    now = bulk.fetch(
        "SELECT case_id, probability, score, CAST(reasons AS TEXT) AS reasons, version, "
        "scored_on FROM case_scores WHERE target = 'pay_30d'",
        {**registry.SCORES_SCHEMA, "version": pl.String(), "scored_on": pl.Date()},
    )
version, day = now["version"][0], now["scored_on"].max()
scores = now.select(*registry.SCORES_SCHEMA)
print(now.height, version, day)


def clock(label, work):
    t = time.perf_counter()
    c = time.process_time()
    with store.write() as bulk:
        work(bulk)
    print(
        f"{label:45s} {time.perf_counter() - t:6.2f} s cpu {time.process_time() - c:6.2f}",
        flush=True,
    )


def replace(bulk, frame):
    staged = bulk.stage("stg_scores", frame, schema=registry.SCORES_SCHEMA)
    bulk.execute("DELETE FROM case_scores WHERE target = 'pay_30d'")
    bulk.execute(
        f"""INSERT INTO case_scores (case_id, target, version, probability, score, reasons,
            scored_on)
        SELECT s.case_id, 'pay_30d', :version, s.probability, s.score, s.reasons, :as_of
        FROM {staged} s""",
        version=version,
        as_of=day,
    )


changed = scores.with_columns(
    pl.when(pl.col("case_id") % 10 == 0)
    .then(pl.col("score") + 1)
    .otherwise(pl.col("score"))
    .alias("score")
)
clock("replace wholesale (old), nothing changed", lambda b: replace(b, scores))
clock(
    "changed rows only (new), nothing changed",
    lambda b: registry.write_scores(b, scores, target="pay_30d", version=version, as_of=day),
)
clock(
    "changed rows only (new), 10% changed",
    lambda b: registry.write_scores(b, changed, target="pay_30d", version=version, as_of=day),
)
clock(
    "changed rows only (new), 10% changed back",
    lambda b: registry.write_scores(b, scores, target="pay_30d", version=version, as_of=day),
)
clock("replace wholesale (old), 10% changed", lambda b: replace(b, changed))
clock(
    "changed rows only (new), 100% (new version)",
    lambda b: registry.write_scores(b, scores, target="pay_30d", version=version + "x", as_of=day),
)
clock(
    "restore",
    lambda b: registry.write_scores(b, scores, target="pay_30d", version=version, as_of=day),
)
