"""The daily cycle on Apache Spark against the single-machine engine, on the same lake.

    python -m bench.spark --accounts 1000000,2000000 [--master local[2]] [--dir /tmp/x]

For each size: a synthetic lake (``bench/spark_lake.py``: the second day of a portfolio with
co-debt, two zones, payments, promises, plans, alerts), then in fresh child processes

* **one machine**: ``cuishou daily --input LAKE --output DIR`` (Polars, all cores);
* **Spark**: ``cuishou daily --engine spark`` on ``--master`` (``local[2]``: both cores),
  a new session each time, so its start-up is measured; then the same run again in that
  session (warm: no start-up, JVM compiled).

Reported per run: wall time, time per million accounts, peak memory of the whole process tree
(driver, JVM and Python workers, sampled every 0.2 s), Spark's start-up, and the partitions'
own time (cut + steps + Arrow in/out, summed over partitions): the per-partition cost from
which ``bench/README.md`` projects a cluster. The two runs' counts must agree.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from bench.spark_lake import AS_OF, write_synthetic_lake
from cuishou.engine.lake import default_buckets


def _tree_rss_mb(root: int) -> float:
    """Resident memory of ``root`` and all its descendants (from /proc)."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            pid, ppid, pages = int(entry), int(fields[1]), int(fields[21])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(pid)
        rss[pid] = pages
    total, stack = 0, [root]
    while stack:
        pid = stack.pop()
        total += rss.get(pid, 0)
        stack.extend(children.get(pid, []))
    return total * os.sysconf("SC_PAGE_SIZE") / 2**20


def _child(args: list[str]) -> dict[str, Any]:
    """Run ``python -m bench.spark --child ...`` and sample its tree's memory."""
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "bench.spark", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    peak = 0.0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not done.is_set():
            peak = max(peak, _tree_rss_mb(process.pid))
            time.sleep(0.2)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    out, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"child {args} failed ({process.returncode})")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    result["process_seconds"] = time.perf_counter() - started
    result["peak_mb"] = round(peak)
    return result


def run_polars(lake: Path, out: Path) -> dict[str, Any]:
    from cuishou.engine.config import DEFAULT_CONFIG
    from cuishou.engine.lake import run_lake_cycle

    started = time.perf_counter()
    result = run_lake_cycle(lake, out, AS_OF, DEFAULT_CONFIG)  # as `daily --input` runs it
    return {
        "seconds": time.perf_counter() - started,
        "steps": {s.name: round(s.seconds, 3) for s in result.steps},
        "counts": _counts(result.to_json()),
    }


def run_spark(lake: Path, out: Path, master: str, memory: str) -> dict[str, Any]:
    from cuishou.engine.spark import run_spark_cycle, spark_session

    began = time.perf_counter()
    spark_session(master, {"spark.driver.memory": memory})
    start = time.perf_counter() - began
    runs = []
    for _ in range(2):  # cold (first jobs of the JVM), then warm
        t = time.perf_counter()
        result, stats = run_spark_cycle(lake, out, AS_OF)
        runs.append(
            {
                "seconds": time.perf_counter() - t,
                "steps": {s.name: round(s.seconds, 3) for s in result.steps},
                "spark": stats.to_json(),
                "counts": _counts(result.to_json()),
            }
        )
    return {"start_seconds": start, "cold": runs[0], "warm": runs[1]}


def _counts(result: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in result.items() if k not in ("steps", "seconds")}


def report(rows: list[dict[str, Any]]) -> None:
    print(
        "| accounts | lake | one machine | s/M | peak | Spark cold | Spark warm | s/M warm | "
        "× one machine | start-up | tasks | task s (sum) | accounts/task-s | peak |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    for row in rows:
        n, one = row["accounts"], row.get("polars")
        millions = n / 1e6
        mine = (
            f"{one['seconds']:.1f} s | {one['seconds'] / millions:.2f} | "
            f"{one['peak_mb'] / 1024:.2f} GB"
            if one
            else "— | — | —"
        )
        for kind, label in (("spark", f"{row['buckets']} buckets"), ("shuffle", "unbucketed")):
            if kind not in row:
                continue
            spark = row[kind]
            warm = spark["warm"]
            ratio = f"{warm['seconds'] / one['seconds']:.2f}×" if one else "—"
            print(
                f"| {n:,} | {label} | {mine} | {spark['cold']['seconds']:.1f} s | "
                f"{warm['seconds']:.1f} s | {warm['seconds'] / millions:.2f} | {ratio} | "
                f"{spark['start_seconds']:.1f} s | {warm['spark']['partitions']} | "
                f"{warm['spark']['partition_seconds_total']:.1f} s | "
                f"{warm['spark']['partition_accounts_per_second']:,} | "
                f"{spark['peak_mb'] / 1024:.2f} GB |"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--accounts", default="1000000,2000000")
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--memory", default="6g", help="Spark driver memory (local mode)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/cuishou-bench-spark"))
    parser.add_argument(
        "--polars-upto", type=int, default=10_000_000,
        help="run the single-machine engine up to this many accounts",
    )  # fmt: skip
    parser.add_argument(
        "--shuffle-upto", type=int, default=1_000_000,
        help="run Spark on an unbucketed lake (the shuffle) up to this many accounts",
    )  # fmt: skip
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, lake, out = args.child[:3]
        if kind == "polars":
            result = run_polars(Path(lake), Path(out))
        else:
            result = run_spark(Path(lake), Path(out), args.master, args.memory)
        sys.stdout.write(json.dumps(result, default=str) + "\n")
        return
    rows = []
    for n in (int(x) for x in args.accounts.split(",")):
        root = args.dir / str(n)
        shutil.rmtree(root, ignore_errors=True)
        t = time.perf_counter()
        buckets = default_buckets(n)
        tables = write_synthetic_lake(root / "lake", n, buckets=buckets)
        print(
            f"{n:,} accounts: lake {tables}, {buckets} buckets, in {time.perf_counter() - t:.1f} s",
            flush=True,
        )
        row: dict[str, Any] = {"accounts": n, "buckets": buckets}
        if n <= args.polars_upto:
            row["polars"] = _child(["--child", "polars", str(root / "lake"), str(root / "one")])
            print(f"  one machine: {json.dumps(row['polars'])}", flush=True)
            shutil.rmtree(root / "one", ignore_errors=True)
        row["spark"] = _child(
            [
                "--master", args.master, "--memory", args.memory,
                "--child", "spark", str(root / "lake"), str(root / "spark"),
            ]
        )  # fmt: skip
        print(f"  spark, bucketed lake: {json.dumps(row['spark'])}", flush=True)
        shutil.rmtree(root / "spark", ignore_errors=True)
        if n <= args.shuffle_upto:
            write_synthetic_lake(root / "plain", n)
            row["shuffle"] = _child(
                [
                    "--master", args.master, "--memory", args.memory,
                    "--child", "spark", str(root / "plain"), str(root / "spark"),
                ]
            )  # fmt: skip
            print(f"  spark, unbucketed lake: {json.dumps(row['shuffle'])}", flush=True)
        counts = [row[k]["warm"]["counts"] for k in ("spark", "shuffle") if k in row]
        if "polars" in row:
            counts.append(row["polars"]["counts"])
        assert all(c == counts[0] for c in counts), "Spark and one machine disagree"
        rows.append(row)
        shutil.rmtree(root, ignore_errors=True)
    report(rows)
    sys.stdout.write(json.dumps(rows, default=str) + "\n")


if __name__ == "__main__":
    main()
