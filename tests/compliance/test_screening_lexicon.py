"""The screening lexicon: the shipped one is sound; a bad one is refused naming the field."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cuishou.compliance import screening_lexicon as lexicon_module
from cuishou.compliance.screening import Screener, categories_of, shipped_screener
from cuishou.compliance.screening_lexicon import (
    CATEGORIES,
    LexiconError,
    fold,
    load_lexicon,
    load_lexicon_file,
    parse_lexicon,
)

SHIPPED = Path(lexicon_module.__file__).parent / "lexicon" / "screening.yaml"
LEXICON = load_lexicon()


def raw_lexicon() -> dict[str, Any]:
    raw = yaml.safe_load(SHIPPED.read_text(encoding="utf-8"))
    assert isinstance(raw, dict)
    return raw


def test_the_shipped_lexicon_is_versioned_and_covers_every_category() -> None:
    assert LEXICON.version == "2026.1"
    assert {p.category for p in LEXICON.patterns} == set(CATEGORIES)
    assert set(LEXICON.perspectives) == {"cn", "us-regf"}
    assert LEXICON.perspectives["us-regf"].screens_time_barred_suits()
    assert not LEXICON.perspectives["cn"].screens_time_barred_suits()


@pytest.mark.parametrize("entry", LEXICON.patterns, ids=lambda p: p.id)
def test_every_pattern_matches_its_own_examples_and_the_screener_reports_them(entry: Any) -> None:
    assert entry.examples, f"{entry.id} has no examples"
    audience = "third_party" if entry.category == "debt_to_third_party" else "debtor"
    for example in entry.examples:
        assert entry.compiled().search(fold(example)), example
        found = shipped_screener().screen(
            example, audience=audience, pack="us-regf", time_barred=True
        )
        assert entry.category in categories_of(found), example


def test_fold_keeps_the_length_and_maps_full_width_to_ascii() -> None:
    assert fold("如果不还，你就等着瞧！ＡＢＣ　１２３") == "如果不还,你就等着瞧!ABC 123"
    text = "（ｔｅｓｔ）　；：？"
    assert len(fold(text)) == len(text)


def test_a_changed_lexicon_changes_what_is_found(tmp_path: Path) -> None:
    # given a compliance officer adds a pattern
    raw = raw_lexicon()
    raw["patterns"].append(
        {"id": "insult.custom", "category": "insult", "regex": "铁公鸡", "examples": ["铁公鸡"]}
    )
    path = tmp_path / "mine.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    # when the lexicon file is used
    screener = Screener(load_lexicon_file(path))
    # then the new words are found, and negation still applies to them
    assert categories_of(screener.screen("你这个铁公鸡", audience="debtor")) == {"insult"}
    assert screener.screen("我们不会说您是铁公鸡", audience="debtor") == ()
    assert screener.version == "2026.1"


def first_pattern(raw: dict[str, Any], pattern_id: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in raw["patterns"] if p["id"] == pattern_id)
    return found


Change = Callable[[dict[str, Any]], None]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda r: first_pattern(r, "threat.violence").update(category="thret"),
            "patterns[threat.violence].category: Input should be 'threat', 'insult'",
        ),
        (
            lambda r: first_pattern(r, "insult.names").update(regex=""),
            "patterns[insult.names].regex: String should have at least 1 character",
        ),
        (
            lambda r: first_pattern(r, "insult.names").update(regex="   "),
            "patterns[insult.names].regex: must not be empty",
        ),
        (
            lambda r: first_pattern(r, "exposure.make_public").update(regex="曝光(你"),
            "patterns[exposure.make_public].regex: invalid regular expression '曝光(你'",
        ),
        (
            lambda r: first_pattern(r, "exposure.make_public").update(regex="(曝光)?"),
            "patterns[exposure.make_public].regex: regular expression '(曝光)?' matches "
            "the empty string",
        ),
        (
            lambda r: first_pattern(r, "exposure.make_public").update(regx="曝光"),
            "patterns[exposure.make_public].regx: Extra inputs are not permitted",
        ),
        (
            lambda r: r["patterns"].append(dict(first_pattern(r, "insult.names"))),
            "pattern id 'insult.names' is used twice",
        ),
        (
            lambda r: r["perspectives"]["cn"]["rule_ids"].pop("extra_fees"),
            "perspectives.cn: rule_ids has no id for the category(ies) extra_fees",
        ),
        (
            lambda r: r["perspectives"]["cn"]["rule_ids"].update(bribery="CN-12"),
            "perspectives.cn.rule_ids.bribery.[key]: Input should be 'threat'",
        ),
        (
            lambda r: r["negation"].update(cues=["不", ""]),
            "negation.cues: must not contain an empty word",
        ),
        (
            lambda r: r["negation"].update(window_tokens=0),
            "negation.window_tokens: Input should be greater than or equal to 1",
        ),
        (
            lambda r: r.pop("version"),
            "version: Field required",
        ),
        (
            lambda r: r.update(
                patterns=[p for p in r["patterns"] if p["category"] != "new_borrowing"]
            ),
            "no pattern for the category(ies) new_borrowing",
        ),
    ],
)
def test_a_bad_lexicon_is_refused_naming_the_field(change: Change, message: str) -> None:
    raw = copy.deepcopy(raw_lexicon())
    change(raw)
    with pytest.raises(LexiconError) as refused:
        parse_lexicon(raw, source="my.yaml")
    assert refused.value.message.startswith("lexicon my.yaml: ")
    assert message in refused.value.message


def test_an_unreadable_or_shapeless_lexicon_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("patterns: [unclosed", encoding="utf-8")
    with pytest.raises(LexiconError, match="cannot read lexicon"):
        load_lexicon_file(broken)
    listed = tmp_path / "list.yaml"
    listed.write_text("- a\n- b\n", encoding="utf-8")
    with pytest.raises(LexiconError, match="expected a mapping of fields at the top level"):
        load_lexicon_file(listed)
    with pytest.raises(LexiconError, match="no lexicon 'nope'; shipped: screening"):
        load_lexicon("nope")
