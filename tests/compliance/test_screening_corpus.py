"""The screener against the labelled corpus: precision and recall floors per category.

The corpus has three parts (column ``split``):

* ``dev`` (340 sentences) — written with the lexicon: the seeds' good and banned scripts,
  banned content of every category, hard negatives (denials, rights notices, legitimate
  legal consequences, official channels, notes), third-party calls with and without debt
  detail, English;
* ``review`` (155) — written in two rounds after the lexicon was frozen, each measured
  once (round 2: precision 0.909, recall 0.357; round 3: precision 1.000, recall 0.250),
  then used to broaden the lexicon;
* ``holdout`` (71, round 4) — written after that, measured once and never tuned on. Its
  recall (0.100) is the honest estimate of how the lexicon does on phrasings nobody wrote
  a pattern for: the screener is precise on the phrases it knows, not a paraphrase net.

The floors are the figures achieved (docs/compliance.md, "Content screening"), rounded
down: a change to the lexicon that loses precision or recall fails here.
"""

from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from cuishou.compliance.screening import screen
from cuishou.compliance.screening_eval import Case, Evaluation, evaluate, parse_cases
from cuishou.compliance.screening_lexicon import CATEGORIES

CORPUS = Path(__file__).parent / "corpus" / "screening.csv"


def load(split: str | None = None) -> list[Case]:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if split is None or r["split"] == split]
    return parse_cases(rows, source=str(CORPUS))


def misses(evaluation: Evaluation) -> str:
    return "\n".join(
        f"{sorted(m.missed)} missed, {sorted(m.spurious)} spurious: {m.case.text}"
        for m in evaluation.misses
    )


def test_the_corpus_is_large_varied_and_well_formed() -> None:
    cases = load()
    assert len(cases) >= 300
    keys = Counter((c.text, c.audience, c.pack, c.time_barred) for c in cases)
    assert [k for k, n in keys.items() if n > 1] == []
    support = Counter(category for c in cases for category in c.expected)
    assert all(support[c] >= 10 for c in CATEGORIES), support
    clean = [c for c in cases if not c.expected]
    assert len(clean) >= 150
    assert sum(c.audience == "third_party" for c in cases) >= 40
    assert sum(c.text.isascii() for c in cases) >= 80  # English sentences too
    texts = {c.text for c in cases}
    for seed in ("如果不还款，我们会让你很难堪", "我们是法院的工作人员", "你这种不守信用的人"):
        assert seed in texts


@pytest.mark.parametrize("split", ["dev", "review"])
def test_on_the_sentences_the_lexicon_was_written_from_it_is_nearly_exact(split: str) -> None:
    result = evaluate(load(split), screen)
    assert result.overall.precision >= 0.99, misses(result)
    assert result.overall.recall >= 0.99, misses(result)
    for score in result.per_category:
        assert score.precision >= 0.95, (score, misses(result))
        assert score.recall >= 0.95, (score, misses(result))


def test_on_unseen_sentences_precision_holds_and_recall_is_what_it_is() -> None:
    result = evaluate(load("holdout"), screen)
    assert result.cases >= 60
    assert result.overall.precision >= 0.95, misses(result)
    assert result.overall.recall >= 0.10, misses(result)


def test_over_the_whole_corpus() -> None:
    result = evaluate(load(), screen)
    assert result.overall.precision >= 0.99, misses(result)
    assert result.overall.recall >= 0.88, misses(result)
    for score in result.per_category:
        assert score.precision >= 0.95, score
        assert score.recall >= 0.85, score
