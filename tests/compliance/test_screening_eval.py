"""Precision and recall bookkeeping (the corpus test and the report rely on it)."""

from __future__ import annotations

from typing import Any

import pytest

from cuishou.compliance.screening import Finding, Span
from cuishou.compliance.screening_eval import Case, evaluate, parse_cases, table


def finds(*categories: str) -> tuple[Finding, ...]:
    return tuple(Finding(c, Span(0, 1, "x"), "R", "p") for c in categories)


ANSWERS = {
    "a": finds("threat"),  # expected threat: true positive
    "b": finds("threat", "insult"),  # expected threat: TP threat, FP insult
    "c": finds(),  # expected exposure: FN
    "d": finds("threat", "threat"),  # expected nothing: one FP, however many spans
}


def fake_screen(text: str, **_: Any) -> tuple[Finding, ...]:
    return ANSWERS[text]


def test_counts_are_per_sentence_and_category() -> None:
    cases = [
        Case("a", "debtor", frozenset({"threat"})),
        Case("b", "debtor", frozenset({"threat"})),
        Case("c", "debtor", frozenset({"exposure"})),
        Case("d", "debtor", frozenset()),
    ]
    result = evaluate(cases, fake_screen)
    by = {s.category: s for s in result.per_category}
    assert (by["threat"].true_positives, by["threat"].false_positives) == (2, 1)
    assert by["threat"].precision == pytest.approx(2 / 3) and by["threat"].recall == 1.0
    assert (by["insult"].precision, by["insult"].recall) == (0.0, 1.0)
    assert (by["exposure"].precision, by["exposure"].recall) == (1.0, 0.0)
    assert by["extra_fees"].support == 0 and by["extra_fees"].precision == 1.0
    overall = result.overall
    assert (overall.true_positives, overall.false_positives, overall.false_negatives) == (2, 2, 1)
    assert [m.case.text for m in result.misses] == ["b", "c", "d"]
    assert result.misses[0].spurious == {"insult"} and result.misses[1].missed == {"exposure"}
    lines = table(result)
    assert lines[-1] == "| **overall** | 3 | 2 | 2 | 1 | 0.500 | 0.667 |"


def test_corpus_rows_are_parsed_with_defaults_and_checked() -> None:
    rows = [
        {"text": "t", "audience": "third_party", "expected": "insult|exposure", "note": ""},
        {
            "text": "u",
            "audience": "debtor",
            "expected": "",
            "pack": "us-regf",
            "time_barred": "true",
        },
    ]
    first, second = parse_cases(rows, source="c.csv")
    assert first.expected == {"insult", "exposure"} and first.pack == "cn"
    assert not first.time_barred and second.time_barred and second.pack == "us-regf"
    with pytest.raises(ValueError, match=r"c\.csv line 2: bad audience or category"):
        parse_cases([{"text": "t", "audience": "debtor", "expected": "rude"}], source="c.csv")
