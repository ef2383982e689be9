"""Train the starter scorecard shipped in ``src/cuishou/scoring/starter/`` (冷启动模型).

    python scripts/train_starter_model.py [--store PATH]

Simulates 90 business days of a 3,000-account placement from 2026-06-01 (seed 2026, 5
collectors) on a fresh SQLite store — or uses ``--store``, such a store simulated earlier —
then trains a ``pay_30d`` scorecard on it (a snapshot every 3 days, a 14-day out-of-time
validation window) and writes its artefact and registry facts to the package. The same
commands give the same model: the simulation and the fit are seeded.
"""

from __future__ import annotations

import argparse
import tempfile
from datetime import UTC, date, datetime
from pathlib import Path

from cuishou.scoring.service import STARTER_DIRECTORY, STARTER_VERSION, export_version, train_model
from cuishou.simulate.config import load_model_config
from cuishou.simulate.service import SimulationOptions, simulate
from cuishou.store.db import make_engine, transaction, upgrade

FIRST_DAY = date(2026, 6, 1)
#: the simulated clock's "now" (the history ends before it); fixed so the files are stable
NOW = datetime(2026, 10, 1, 2, 0, tzinfo=UTC)
TRAINED_BY = "cuishou starter (simulated history: 3,000 accounts × 90 days, seed 2026)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="a store this script simulated before")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        path = args.store or Path(scratch) / "starter.db"
        engine = make_engine(f"sqlite:///{path}")
        if args.store is None:
            upgrade(engine)
            options = SimulationOptions(
                days=90,
                directory=Path(scratch) / "files",
                truth_path=Path(scratch) / "truth.parquet",
                accounts=3_000,
                seed=2026,
                first_day=FIRST_DAY,
                collectors=5,
            )
            simulate(engine, options, load_model_config(), clock=lambda: NOW)
        result = train_model(
            engine, target="pay_30d", kind="scorecard", actor=TRAINED_BY, now=NOW,
            every=3, validation_days=14,
        )  # fmt: skip
        with transaction(engine) as session:
            export_version(session, result.version, STARTER_DIRECTORY, STARTER_VERSION)
        engine.dispose()
    print(f"{STARTER_VERSION}: AUC {result.auc:.4f}, KS {result.ks:.4f} → {STARTER_DIRECTORY}")


if __name__ == "__main__":
    main()
