"""``strategy.validate``: each kind of problem found with the right row numbers, in words; the
shipped default strategy is clean. Pure: the store's facts are given as plain data."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from cuishou.compliance.pack import load_pack
from cuishou.scoring.service import default_label_pack
from cuishou.strategy.definition import (
    StrategyError,
    shipped,
    shipped_text,
    strategy_from_text,
)
from cuishou.strategy.rules import CASE_SCHEMA
from cuishou.strategy.validate import Report, StoreFacts, TemplateFact, validate, when_words

CN = load_pack("cn")
US = load_pack("us-regf")
TEMPLATES = {
    code: TemplateFact(code, channel, "debtor")
    for code, channel in (("SMS_REMINDER", "sms"), ("EMAIL_STATEMENT", "email"),
                          ("LETTER_DEMAND", "letter"))
}  # fmt: skip


def case(case_id: int, **values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "case_id": case_id, "debtor_id": case_id, "creditor_code": "BANK", "products": ["card"],
        "bucket": "M2", "dpd": 45, "risk_grade": "B", "labels": [], "amount_tier": "medium",
        "due_fen": 100_000, "days_since_placement": 10, "days_in_bucket": 14,
    }  # fmt: skip
    row.update(values)
    return row


def facts(*cases: dict[str, Any], packs: dict[str, Any] | None = None, **kw: Any) -> StoreFacts:
    return StoreFacts(
        cases=pl.DataFrame(list(cases), schema=CASE_SCHEMA, orient="row"),
        templates=kw.get("templates", TEMPLATES),
        packs=packs if packs is not None else {"BANK": CN},
        products=frozenset({"card", "loan"}),
    )


def table(rules: str, *, policy: str = "unique", path: str = "[{day: 0, action: hold}]") -> Any:
    return strategy_from_text(
        f"""
code: t
zh: 测试
en: Test
hit_policy: {policy}
segments:
  - {{code: S1, zh: 一, en: One, path: {path}}}
  - {{code: S2, zh: 二, en: Two, path: [{{day: 0, action: hold}}]}}
  - {{code: S3, zh: 三, en: Three, path: [{{day: 0, action: hold}}]}}
rules:
{rules}
""",
        source="test",
    )


def kinds(report: Report) -> list[tuple[str, tuple[int, ...]]]:
    return [(p.kind, p.rows) for p in report.problems]


def test_overlaps_that_break_unique_name_both_rows_and_an_example() -> None:
    strategy = table(
        """  - {segment: S1, when: {bucket: [M1, M2]}}
  - {segment: S2, when: {bucket: [M3]}}
  - {segment: S3, when: {dpd: {min: 40}, labels_all: [dispute]}}"""
    )
    cases = [case(1, labels=["dispute"]), case(2, bucket="M3", dpd=70), case(3, bucket="M1", dpd=9)]
    report = validate(strategy, store=facts(*cases), default_pack=CN)
    assert kinds(report) == [("overlap", (1, 3)), ("overlap", (2, 3))]
    first = report.problems[0]
    assert "rows 1 (S1) and 3 (S3) can both match the same case" in first.en
    # the bucket is narrowed to the one that fits DPD ≥ 40, and the label is named
    assert "bucket M2; DPD 40–60; labelled dispute" in first.en
    assert first.data["cases"] == 1  # case 1 (M2, DPD 45, disputed) matches both
    assert "第 1 行（S1）与第 3 行（S3）" in first.zh


def test_rows_that_cannot_meet_are_no_overlap() -> None:
    strategy = table(
        """  - {segment: S1, when: {bucket: [M1]}}
  - {segment: S2, when: {dpd: {min: 91}}}
  - {segment: S3, when: {labels_none: [dispute], risk_grade: [A, B]}}
  - {segment: S3, when: {labels_any: [dispute], risk_grade: [B, C]}}"""
    )
    report = validate(strategy, store=None, default_pack=CN)
    # M1 is DPD 1–30, so never ≥ 91; rows 3 and 4 differ on the dispute label; but
    # rows 1/3, 1/4 and 2/3, 2/4 can meet
    assert kinds(report) == [
        ("overlap", (1, 3)), ("overlap", (1, 4)), ("overlap", (2, 3)), ("overlap", (2, 4)),
    ]  # fmt: skip


def test_a_row_an_earlier_row_covers_is_shadowed_under_first() -> None:
    strategy = table(
        """  - {segment: S1, when: {risk_grade: [B, C]}}
  - {segment: S2, when: {risk_grade: [B], bucket: [M2]}}
  - {segment: S3, when: {risk_grade: [A]}}
  - {segment: S3}""",
        policy="first",
    )
    report = validate(strategy, store=None, default_pack=CN)
    assert kinds(report) == [("shadowed", (1, 2))]
    assert report.problems[0].en.startswith("row 2 (S2) can never decide a case: row 1 (S1)")


def test_gaps_count_the_open_cases_no_row_matches_by_bucket_grade_and_tier() -> None:
    strategy = table(
        """  - {segment: S1, when: {risk_grade: [A, B]}}
  - {segment: S2, when: {risk_grade: [C], bucket: [M1]}}""",
        policy="first",
    )
    cases = [
        case(1), case(2, risk_grade="C", bucket="M3", dpd=70),
        case(3, risk_grade="C", bucket="M3", dpd=80), case(4, risk_grade=None, amount_tier="large"),
    ]  # fmt: skip
    report = validate(strategy, store=facts(*cases), default_pack=CN)
    assert kinds(report) == [("gap", ())]
    gap = report.problems[0]
    assert gap.data["cases"] == 3
    assert gap.en.startswith("3 open cases match no row")
    assert "bucket M3 · grade C · medium: 2; bucket M2 · grade ungraded · large: 1" in gap.en
    assert [(r.row, r.matched, r.decided) for r in report.rows] == [(1, 1, 1), (2, 0, 0)]


def test_unknown_and_mismatched_templates_and_a_store_without_templates() -> None:
    path = (
        "[{day: 0, action: sms, template: SMS_NEW},"
        " {day: 1, action: email, template: SMS_REMINDER}]"
    )
    strategy = table("  - {segment: S1}", policy="first", path=path)
    report = validate(strategy, store=facts(case(1)), default_pack=CN)
    assert kinds(report) == [("unknown_template", (1,)), ("template_channel", (1,))]
    assert "template SMS_NEW is not an active template." in report.problems[0].en
    assert "SMS_REMINDER is a sms template for debtor" in report.problems[1].en
    empty = validate(strategy, store=facts(case(1), templates={}), default_pack=CN)
    assert "the store has no active message templates at all" in empty.problems[0].en


def test_a_call_cadence_the_pack_never_allows() -> None:
    path = (
        "[{from: 0, every: 1, action: call, priority: 1},"
        " {from: 0, every: 2, action: ivr, priority: 2}]"
    )
    strategy = table("  - {segment: S1, when: {creditor: [USBANK]}}\n  - {segment: S2}",
                     policy="first", path=path)  # fmt: skip
    packs = {"BANK": CN, "USBANK": US}
    report = validate(strategy, store=facts(case(1), packs=packs), default_pack=CN)
    assert kinds(report) == [("never_allowed", (1,))]
    problem = report.problems[0]
    assert problem.data == {"pack": "us-regf", "rule_id": "US-02", "calls": 11, "limit": 7,
                            "days": [0, 6]}  # fmt: skip
    assert "so 4 of them can never be made" in problem.en
    # the same path for the Chinese creditor's cases only: cn has no weekly cap
    cn_only = table("  - {segment: S1, when: {creditor: [BANK]}}\n  - {segment: S2}",
                    policy="first", path=path)  # fmt: skip
    assert validate(cn_only, store=facts(case(1), packs=packs), default_pack=CN).clean


def test_values_the_cycle_or_the_store_never_gives() -> None:
    strategy = table(
        """  - {segment: S1, when: {bucket: [M9], amount_tier: [huge]}}
  - {segment: S2, when: {creditor: [NOBANK], product: [card]}}
  - {segment: S3}""",
        policy="first",
    )
    report = validate(strategy, store=facts(case(1)), default_pack=CN)
    assert kinds(report) == [
        ("unknown_value", (1,)), ("unknown_value", (1,)), ("unknown_value", (2,)),
    ]  # fmt: skip
    assert report.problems[0].en.startswith("row 1 names bucket M9, which does not exist")


def test_label_names_the_label_pack_never_gives() -> None:
    strategy = table(
        """  - {segment: S1, when: {labels_any: [disputed, hardship]}}
  - {segment: S2, when: {labels_none: [evasive]}}
  - {segment: S3}""",
        policy="first",
    )
    labels = frozenset({"dispute", "hardship", "evading"})
    report = validate(strategy, store=facts(case(1)), default_pack=CN, labels=labels)
    assert kinds(report) == [("unknown_value", (1,)), ("unknown_value", (2,))]
    first, second = report.problems
    assert first.data == {"field": "labels_any", "values": ["disputed"]}
    assert first.en.startswith("row 1 names label disputed, which does not exist")
    assert first.en.endswith("that condition matches no case.")
    assert second.en.endswith("that condition excludes no case.")
    assert "此条件不会排除任何案件" in second.zh
    # without the label pack's codes, label names are not checked
    assert validate(strategy, store=facts(case(1)), default_pack=CN).clean


def test_the_shipped_default_strategy_is_clean() -> None:
    cases = [
        case(1), case(2, risk_grade=None), case(3, labels=["dispute"]),
        case(4, risk_grade="D", dpd=120, bucket="M4"), case(5, risk_grade="A", bucket="M1", dpd=3),
    ]  # fmt: skip
    labels = frozenset(rule.code for rule in default_label_pack().labels)
    report = validate(shipped(), store=facts(*cases), default_pack=CN, labels=labels)
    assert report.clean, report.problems
    assert {r.segment: r.decided for r in report.rows if r.decided} == {
        "B_CALL": 1, "NEW": 1, "DISPUTE": 1, "D_LEGAL": 1, "A_REMIND": 1,
    }  # fmt: skip


def test_conditions_in_words() -> None:
    rule = shipped().rules[1]
    assert when_words(rule.when, "en") == "labelled hardship; not labelled evading"
    assert when_words(rule.when, "zh") == "标签含 hardship，标签不含 evading"
    assert when_words(shipped().rules[-1].when, "zh") == "所有案件"
    assert when_words(shipped().rules[3].when, "en") == "DPD ≥91; grade D"


def test_a_document_error_names_the_row_by_its_number() -> None:
    text = shipped_text().replace("{risk_grade: [D], dpd: {min: 91}}", "{dpd: {min: 9, max: 2}}")
    with pytest.raises(StrategyError, match=r"rules\[row 4\]\.when\.dpd: min 9 is above max 2"):
        strategy_from_text(text, source="x.yaml")
