"""Content screening: precision/recall on the labelled corpus, and time per sentence.

    python -m bench.screening_report [--corpus tests/compliance/corpus/screening.csv]
                                     [--misses] [--repeat 20]

Prints the score table (Markdown, the form recorded in docs/compliance.md) for each part
of the corpus (dev, review, holdout) and for the whole, then the time to screen one
sentence: each corpus sentence is screened ``--repeat`` times after a warm-up and its
median taken; the report gives the median and the 95th percentile of those, and the
one-off start-up (lexicon + jieba dictionary) of a fresh process.
"""

from __future__ import annotations

import argparse
import csv
import statistics
import subprocess
import sys
import time
from pathlib import Path

from cuishou.compliance.screening import screen, shipped_screener
from cuishou.compliance.screening_eval import Case, evaluate, parse_cases, table

DEFAULT_CORPUS = Path(__file__).parent.parent / "tests" / "compliance" / "corpus" / "screening.csv"
SPLITS = ("dev", "review", "holdout")


def _startup_seconds() -> float:
    """Lexicon load + jieba dictionary + first screen, in a fresh interpreter."""
    code = (
        "import time; t = time.perf_counter();"
        "from cuishou.compliance.screening import screen;"
        "screen('我们不会通知您的单位', audience='debtor');"
        "print(time.perf_counter() - t)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True
    ).stdout
    return float(out.strip())


def _timings(cases: list[Case], repeat: int) -> list[float]:
    per_sentence = []
    for case in cases:
        runs = []
        for _ in range(repeat):
            started = time.perf_counter()
            screen(case.text, audience=case.audience, pack=case.pack, time_barred=case.time_barred)
            runs.append(time.perf_counter() - started)
        per_sentence.append(statistics.median(runs))
    return per_sentence


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--misses", action="store_true", help="list every wrong sentence")
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args(argv)

    with args.corpus.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    parts = {s: parse_cases([r for r in rows if r["split"] == s], source=s) for s in SPLITS}
    everything = [case for s in SPLITS for case in parts[s]]

    print(f"lexicon version {shipped_screener().version}, corpus {args.corpus.name}")
    for name, cases in (*parts.items(), ("all", everything)):
        result = evaluate(cases, screen)
        print(f"\n### {name} — {result.cases} sentences\n")
        print("\n".join(table(result)))
        if args.misses and name != "all":
            for miss in result.misses:
                print(
                    f"  missed {sorted(miss.missed)} spurious {sorted(miss.spurious)}: "
                    f"{miss.case.text}"
                )

    _timings(everything[:20], 3)  # warm-up
    timings = _timings(everything, args.repeat)
    median = statistics.median(timings)
    p95 = statistics.quantiles(timings, n=20)[-1]
    mean_chars = statistics.mean(len(c.text) for c in everything)
    print(
        f"\ntime per sentence ({len(everything)} sentences, mean {mean_chars:.0f} characters, "
        f"median of {args.repeat} runs each): median {median * 1e6:.0f} µs, "
        f"p95 {p95 * 1e6:.0f} µs, max {max(timings) * 1e6:.0f} µs"
    )
    print(f"start-up in a fresh process (lexicon + jieba dictionary): {_startup_seconds():.2f} s")


if __name__ == "__main__":
    main()
