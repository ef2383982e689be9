"""Content screening: spans, negation, audience, time-barred debts, odd inputs, properties."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.compliance.screening import (
    Finding,
    categories_of,
    may_have_findings,
    prefilter_pattern,
    screen,
)
from cuishou.kit.errors import InvalidInput


def only(findings: tuple[Finding, ...]) -> Finding:
    assert len(findings) == 1, findings
    return findings[0]


def spans(findings: tuple[Finding, ...]) -> list[tuple[str, str]]:
    return [(f.category, f.span.text) for f in findings]


# -- spans --------------------------------------------------------------------------------


def test_the_span_points_at_the_banned_words_in_the_original_text() -> None:
    text = "如果不还款，我们会让你很难堪"
    finding = only(screen(text, audience="debtor"))
    assert finding.category == "threat" and finding.rule_id == "CN-12"
    assert finding.span.text == "让你很难堪"
    assert (finding.span.start, finding.span.end) == (9, 14)
    assert text[finding.span.start : finding.span.end] == "让你很难堪"


def test_several_findings_come_in_order_of_position_each_with_its_own_span() -> None:
    text = "你这个老赖再不还钱，我们就通知你的单位，转到我个人账户也行"
    found = screen(text, audience="debtor")
    assert spans(found) == [
        ("insult", "老赖"),
        ("exposure", "通知你的单位"),
        ("extra_fees", "转到我个人账户"),
    ]
    assert [f.span.start for f in found] == sorted(f.span.start for f in found)
    assert [f.rule_id for f in found] == ["CN-12", "CN-12", "CN-13"]
    assert all(text[f.span.start : f.span.end] == f.span.text for f in found)


def test_overlapping_matches_of_one_category_collapse_to_one_finding() -> None:
    found = screen("臭不要脸", audience="debtor")
    assert spans(found) == [("insult", "臭不要脸")]


def test_the_same_words_twice_are_two_findings() -> None:
    found = screen("老赖就是老赖", audience="debtor")
    assert [(f.span.start, f.span.end) for f in found] == [(0, 2), (4, 6)]


# -- negation ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "我们不会通知您的单位",
        "我们不是法院的工作人员，是受银行委托的催收机构",
        "请不要相信任何要求您转账到个人账户的人",
        "我们不会收取任何额外费用",
        "不建议您通过借新贷来还款",
        "请您放心，我们绝不会曝光您的个人信息",
        "我不能保证减免利息，需要提交银行审批",
        "禁止使用老赖、骗子等侮辱性词汇",
        "如果有人要求您把钱转到私人账户，请立即挂断并报警",
        "We will not contact your employer.",
        "We won't post anything on social media.",
        "I cannot promise that the interest will be waived; the bank decides.",
    ],
)
def test_a_denial_or_a_warning_is_not_a_finding(text: str) -> None:
    assert screen(text, audience="debtor") == ()


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("我们会通知您的单位", "exposure"),
        ("我们是法院的工作人员", "false_identity"),
        ("你直接转账到我个人账户", "extra_fees"),
        ("我们会收取额外费用", "extra_fees"),
        ("你去借新贷来还款", "new_borrowing"),
        ("我们会曝光您的个人信息", "exposure"),
        ("We will contact your employer.", "exposure"),
    ],
)
def test_without_the_denial_the_same_sentence_is_a_finding(text: str, category: str) -> None:
    assert category in categories_of(screen(text, audience="debtor"))


@pytest.mark.parametrize(
    ("text", "category", "words"),
    [
        ("如果不还款，我们会让你很难堪", "threat", "让你很难堪"),
        ("你不还钱我们就通知你家人", "exposure", "通知你家人"),
        ("你不还钱我们通知你家人", "exposure", "通知你家人"),
        ("如果您不希望我们联系您的单位，请今天还款", "exposure", "联系您的单位"),
        ("If you don't pay we will tell your employer", "exposure", "tell your employer"),
        ("If this isn't resolved we will contact your family.", "exposure", "contact your family"),
        ("Why don't you take out a payday loan?", "new_borrowing", "take out a payday loan"),
        ("我们不会通知您的单位，但会通知您的家人", "exposure", "通知您的家人"),
        ("我们不会放过你的", "threat", "不会放过你"),
        ("一定不会影响征信", "over_promise", "一定不会影响征信"),
    ],
)
def test_a_condition_or_a_negation_inside_the_banned_phrase_is_still_a_finding(
    text: str, category: str, words: str
) -> None:
    found = screen(text, audience="debtor")
    assert (category, words) in spans(found)


def test_negation_words_that_jieba_keeps_whole_do_not_negate() -> None:
    # 不良 / 不断 / 不好意思 are words of their own, not the cue 不
    assert categories_of(screen("不好意思，我们会通知你的单位", audience="debtor")) == {"exposure"}
    assert categories_of(screen("你的不良记录会让你好看", audience="debtor")) == {"threat"}


# -- audience ------------------------------------------------------------------------------


def test_debt_details_are_a_finding_only_when_a_third_party_hears_them() -> None:
    text = "他欠了我们8,000元，账号尾号3321"
    assert screen(text, audience="debtor") == ()
    found = screen(text, audience="third_party")
    assert {f.category for f in found} == {"debt_to_third_party"}
    assert {f.rule_id for f in found} == {"CN-08"}
    assert [f.span.text for f in found] == ["欠了", "8,000元", "账号", "尾号"]
    assert {f.rule_id for f in screen(text, audience="third_party", pack="us-regf")} == {"US-07"}


def test_to_a_third_party_even_a_refusal_to_discuss_the_debt_discloses_it() -> None:
    found = screen("我们不能透露他的欠款情况，请他本人回电", audience="third_party")
    assert spans(found) == [("debt_to_third_party", "欠款")]


def test_a_location_call_to_a_third_party_is_clean() -> None:
    text = "您好，请问您认识张伟先生吗？我们有重要事情需要联系他，麻烦请他回电95555"
    assert screen(text, audience="third_party") == ()


def test_conduct_is_screened_whoever_the_audience_is() -> None:
    found = screen("我们是法院的，请他明天来一趟", audience="third_party")
    assert categories_of(found) == {"false_identity"}


# -- time-barred debts ---------------------------------------------------------------------


def test_a_threat_of_suit_is_a_finding_under_reg_f_only_for_a_time_barred_debt() -> None:
    text = "We will sue you if this isn't paid within 10 days."
    found = screen(text, audience="debtor", pack="us-regf", time_barred=True)
    assert spans(found) == [("time_barred_suit", "We will sue")]
    assert only(found).rule_id == "US-09"
    assert screen(text, audience="debtor", pack="us-regf", time_barred=False) == ()
    # the China pack has no such rule (a demand interrupts limitation, CN-22)
    assert screen(text, audience="debtor", pack="cn", time_barred=True) == ()


@pytest.mark.parametrize(
    "text",
    [
        "Because of the age of your debt, we will not sue you for it.",
        "You have the right to sue us if we violate the law.",
        "由于债务已超过诉讼时效，我们不会对您提起诉讼",
        "您可以向法院起诉维护自己的权益",
    ],
)
def test_saying_there_will_be_no_suit_or_explaining_rights_is_clean(text: str) -> None:
    assert screen(text, audience="debtor", pack="us-regf", time_barred=True) == ()


def test_the_perspective_chooses_the_rule_ids() -> None:
    text = "你这个老赖，转到我个人账户"
    assert [f.rule_id for f in screen(text, audience="debtor")] == ["CN-12", "CN-13"]
    us = screen(text, audience="debtor", pack="us-regf")
    assert [f.rule_id for f in us] == ["FDCPA-806", "FDCPA-808"]


# -- odd input -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\t", "\u3000\u3000", "。，！"])
def test_empty_whitespace_or_punctuation_only_text_has_no_findings(text: str) -> None:
    assert screen(text, audience="debtor") == ()
    assert screen(text, audience="third_party", pack="us-regf", time_barred=True) == ()


def test_full_width_punctuation_letters_and_mixed_english() -> None:
    text = (
        "如果不还款，你就等着瞧！Ｗｅ ｋｎｏｗ ｗｈｅｒｅ ｙｏｕ ｌｉｖｅ．We will call your boss."
    )
    found = screen(text, audience="debtor")
    assert spans(found) == [
        ("threat", "你就等着瞧"),
        ("threat", "Ｗｅ ｋｎｏｗ ｗｈｅｒｅ ｙｏｕ ｌｉｖｅ"),
        ("exposure", "call your boss"),
    ]
    assert all(text[f.span.start : f.span.end] == f.span.text for f in found)


def test_a_very_long_transcript_is_screened_whole_with_exact_offsets() -> None:
    clean = "您好，我是受XX银行委托的客户经理，想和您沟通一下还款计划。"
    banned = "不还就让你好看。"
    parts = [clean] * 3000
    parts[1500] = banned
    parts[2999] = banned
    text = "".join(parts)
    found = screen(text, audience="debtor")
    first = len(clean) * 1500 + banned.index("让你好看")
    second = len(clean) * 2998 + len(banned) + banned.index("让你好看")
    assert [(f.category, f.span.start) for f in found] == [("threat", first), ("threat", second)]
    assert len(text) > 80_000


def test_a_long_clause_without_punctuation_still_finds_and_negates() -> None:
    filler = "我们理解您的情况" * 200
    assert categories_of(screen(filler + "我们会通知你的单位", audience="debtor")) == {"exposure"}
    assert screen(filler + "我们不会通知你的单位", audience="debtor") == ()


def test_a_wrong_audience_or_pack_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidInput) as audience:
        screen("你好", audience="relative")  # type: ignore[arg-type]
    assert audience.value.details == {"field": "audience"}
    with pytest.raises(InvalidInput, match="no screening perspective for rule pack 'uk'"):
        screen("你好", audience="debtor", pack="uk")


# -- properties ----------------------------------------------------------------------------

FRAGMENTS = [
    "您好，",
    "我们会让你很难堪",
    "我们不会通知您的单位",
    "你这个老赖",
    "转到我个人账户",
    "请通过官方App还款",
    "We will call your employer",
    "we will not sue you",
    "他欠了8,000元",
    "。",
    "，",
    "! ",
    " ",
    "\n",
    "abc",
    "不",
]
texts = st.lists(st.sampled_from(FRAGMENTS) | st.text(max_size=6), max_size=12).map("".join)
FULL_WIDTH = {code: code + 0xFEE0 for code in range(0x21, 0x7F)} | {0x20: 0x3000}


@settings(max_examples=200, deadline=None)
@given(texts, st.sampled_from(["debtor", "third_party"]), st.sampled_from(["cn", "us-regf"]))
def test_every_span_is_the_text_at_its_offsets(text: str, audience: str, pack: str) -> None:
    for finding in screen(text, audience=audience, pack=pack, time_barred=True):  # type: ignore[arg-type]
        assert 0 <= finding.span.start < finding.span.end <= len(text)
        assert text[finding.span.start : finding.span.end] == finding.span.text


@settings(max_examples=150, deadline=None)
@given(texts)
def test_full_width_text_has_the_same_findings_at_the_same_offsets(text: str) -> None:
    wide = text.translate(FULL_WIDTH)

    def where(found: tuple[Finding, ...]) -> list[tuple[str, int, int]]:
        return [(f.category, f.span.start, f.span.end) for f in found]

    assert where(screen(wide, audience="third_party")) == where(
        screen(text, audience="third_party")
    )


NEUTRAL = ["我们理解您的困难。", "请通过官方App还款。", "Thank you for your payment."]


@settings(max_examples=150, deadline=None)
@given(texts, st.sampled_from(NEUTRAL))
def test_a_neutral_sentence_after_the_text_takes_no_finding_away(text: str, neutral: str) -> None:
    before = screen(text, audience="debtor")
    after = screen(text + "。" + neutral, audience="debtor")
    assert set(before) <= set(after)


# --- the bulk prefilter (批量预筛) ----------------------------------------------------------

CORPUS = Path(__file__).parent / "corpus" / "screening.csv"


@settings(max_examples=200, deadline=None)
@given(st.lists(texts, max_size=8), st.sampled_from(["debtor", "third_party"]), st.booleans())
def test_the_bulk_prefilter_never_drops_a_text_with_a_finding(
    batch: list[str], audience: str, time_barred: bool
) -> None:
    marked = may_have_findings(batch, audience=audience, time_barred=time_barred)  # type: ignore[arg-type]
    assert len(marked) == len(batch)
    for text, flag in zip(batch, marked, strict=True):
        for pack in ("cn", "us-regf"):
            if screen(text, audience=audience, pack=pack, time_barred=time_barred):  # type: ignore[arg-type]
                assert flag, (text, audience, pack)


def test_the_bulk_prefilter_keeps_every_corpus_text_the_screener_flags() -> None:
    with CORPUS.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    texts_ = [row["text"] for row in rows]
    for audience in ("debtor", "third_party"):
        marked = may_have_findings(texts_, audience=audience, time_barred=True)  # type: ignore[arg-type]
        flagged = [
            t
            for t in texts_
            if screen(t, audience=audience, pack="us-regf", time_barred=True)  # type: ignore[arg-type]
        ] + [t for t in texts_ if screen(t, audience=audience)]  # type: ignore[arg-type]
        assert flagged, "the corpus has texts the screener flags"
        kept = {t for t, flag in zip(texts_, marked, strict=True) if flag}
        assert set(flagged) <= kept
    # and a plain reminder is let through unscreened
    plain = "您好，您的账单已逾期，请于2026-11-20前通过官方App还款。"
    assert may_have_findings([plain], audience="debtor") == [False]


def test_the_prefilter_pattern_drops_lookarounds_and_word_boundaries_only() -> None:
    assert prefilter_pattern(r"\bya(?<!警惕)b(?!短[a\)]x)c\(d(?=e(f))g[\b]\\b") == (
        r"yabc\(dg[\b]\\b"
    )
