"""Measuring the screener on a labelled corpus: precision and recall per category.

Pure: labelled cases in, a score table out. The corpus and the printing live with the
tests (``tests/compliance/corpus/screening.csv``) and the bench
(``python -m bench.screening_report``).

A case counts once per category: a true positive when the category is both expected and
found in the text (however many spans), a false positive when found but not expected, a
false negative when expected but not found. ``overall`` sums the counts (micro average).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from cuishou.compliance.screening import Audience, Finding, categories_of
from cuishou.compliance.screening_lexicon import CATEGORIES

Screen = Callable[..., tuple[Finding, ...]]


@dataclass(frozen=True, slots=True)
class Case:
    """One labelled sentence of the corpus."""

    text: str
    audience: Audience
    expected: frozenset[str]
    note: str = ""
    pack: str = "cn"
    time_barred: bool = False


@dataclass(frozen=True, slots=True)
class Score:
    category: str
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float:
        found = self.true_positives + self.false_positives
        return self.true_positives / found if found else 1.0

    @property
    def recall(self) -> float:
        expected = self.true_positives + self.false_negatives
        return self.true_positives / expected if expected else 1.0

    @property
    def support(self) -> int:
        return self.true_positives + self.false_negatives


@dataclass(frozen=True, slots=True)
class Miss:
    """A case the screener got wrong: what was expected, what was found."""

    case: Case
    found: frozenset[str]

    @property
    def missed(self) -> frozenset[str]:
        return self.case.expected - self.found

    @property
    def spurious(self) -> frozenset[str]:
        return self.found - self.case.expected


@dataclass(frozen=True, slots=True)
class Evaluation:
    per_category: tuple[Score, ...]
    overall: Score
    misses: tuple[Miss, ...]
    cases: int


def evaluate(cases: Iterable[Case], screen: Screen) -> Evaluation:
    counts = {c: [0, 0, 0] for c in CATEGORIES}
    misses: list[Miss] = []
    total = 0
    for case in cases:
        total += 1
        found = categories_of(
            screen(case.text, audience=case.audience, pack=case.pack, time_barred=case.time_barred)
        )
        for category in found | case.expected:
            slot = counts[category]
            if category in found and category in case.expected:
                slot[0] += 1
            elif category in found:
                slot[1] += 1
            else:
                slot[2] += 1
        if found != case.expected:
            misses.append(Miss(case, found))
    per_category = tuple(Score(c, *counts[c]) for c in CATEGORIES)
    overall = Score("overall", *(sum(s[i] for s in counts.values()) for i in range(3)))
    return Evaluation(per_category, overall, tuple(misses), total)


def parse_cases(rows: Iterable[dict[str, str]], *, source: str) -> list[Case]:
    """Corpus rows (``text, audience, expected, note, pack, time_barred``) as cases."""
    cases = []
    for number, row in enumerate(rows, start=2):
        audience = row["audience"].strip()
        expected = frozenset(c for c in row["expected"].split("|") if c.strip())
        unknown = sorted(expected - set(CATEGORIES))
        if audience not in ("debtor", "third_party") or unknown:
            raise ValueError(f"{source} line {number}: bad audience or category {unknown}")
        flag = row.get("time_barred", "").strip().lower()
        cases.append(
            Case(
                text=row["text"],
                audience="debtor" if audience == "debtor" else "third_party",
                expected=expected,
                note=row.get("note", ""),
                pack=row.get("pack", "").strip() or "cn",
                time_barred=flag in {"true", "1", "yes"},
            )
        )
    return cases


def read_corpus(path: Path) -> list[Case]:
    with path.open(encoding="utf-8", newline="") as handle:
        return parse_cases(csv.DictReader(handle), source=str(path))


def table(evaluation: Evaluation) -> Sequence[str]:
    """The score table as Markdown lines (the form recorded in docs/compliance.md)."""
    lines = [
        "| category | support | TP | FP | FN | precision | recall |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for score in (*evaluation.per_category, evaluation.overall):
        name = f"**{score.category}**" if score is evaluation.overall else score.category
        lines.append(
            f"| {name} | {score.support} | {score.true_positives} | {score.false_positives} "
            f"| {score.false_negatives} | {score.precision:.3f} | {score.recall:.3f} |"
        )
    return lines
