"""``strategy.diff``: rows added, removed and changed by number; segments and path steps."""

from __future__ import annotations

from cuishou.strategy.definition import shipped_text, strategy_from_text
from cuishou.strategy.diff import diff_strategies


def edited(text: str, *pairs: tuple[str, str]) -> str:
    for old, new in pairs:
        assert old in text, old
        text = text.replace(old, new, 1)
    return text


def test_identical_strategies_are_the_same() -> None:
    a = strategy_from_text(shipped_text(), source="a")
    diff = diff_strategies(a, strategy_from_text(shipped_text() + "\n# a comment\n", source="b"))
    assert diff.same and diff.lines == []


def test_rows_segments_and_steps_changed() -> None:
    base = shipped_text()
    changed = edited(
        base,
        # row 4 (D_LEGAL) now from DPD 121
        ("when: {risk_grade: [D], dpd: {min: 91}}", "when: {risk_grade: [D], dpd: {min: 121}}"),
        # row 9 (A_REMIND) removed
        ("  - segment: A_REMIND\n    when: {risk_grade: [A]}\n", ""),
        # B_CALL: the e-mail moves from day 10 to day 7, a letter is added
        ("      - {day: 10, action: email, template: EMAIL_STATEMENT}\n",
         "      - {day: 7, action: email, template: EMAIL_STATEMENT}\n"
         "      - {day: 20, action: letter, template: LETTER_DEMAND}\n"),
    )  # fmt: skip
    diff = diff_strategies(
        strategy_from_text(base, source="a"), strategy_from_text(changed, source="b")
    )
    assert [(r["change"], r["a_row"], r["b_row"]) for r in diff.rows] == [
        ("changed", 4, 4), ("removed", 9, None),
    ]  # fmt: skip
    assert diff.rows[0]["fields"] == ["dpd"]
    assert (
        "row 4 changed (now row 4): DPD ≥91; grade D → D_LEGAL ⇒ DPD ≥121; grade D → D_LEGAL"
        in diff.lines
    )
    assert "row 9 removed: grade A → A_REMIND" in diff.lines
    assert diff.segments == [
        {"change": "changed", "code": "B_CALL", "fields": [], "steps": [
            {"change": "changed", "a": "day 10: email EMAIL_STATEMENT",
             "b": "day 7: email EMAIL_STATEMENT"},
            {"change": "added", "a": None, "b": "day 20: letter LETTER_DEMAND"},
        ]},
    ]  # fmt: skip
    assert "删除第 9 行：风险等级 A → A_REMIND" in diff.lines_zh


def test_a_row_inserted_renumbers_without_calling_the_rest_changed() -> None:
    base = shipped_text()
    changed = edited(
        base,
        ("rules:\n", "rules:\n  - segment: DISPUTE\n    when: {labels_any: [complaint]}\n"),
        ("  - code: DEFAULT\n",
         "  - {code: VIP, zh: 贵宾, en: VIP, path: [{day: 0, action: hold}]}\n"
         "  - code: DEFAULT\n"),
        ("\nhit_policy: first\n", "\nhit_policy: unique\n"),
    )  # fmt: skip
    diff = diff_strategies(
        strategy_from_text(base, source="a"), strategy_from_text(changed, source="b")
    )
    assert [(r["change"], r["a_row"], r["b_row"]) for r in diff.rows] == [("added", None, 1)]
    assert diff.header == [{"field": "hit_policy", "a": "first", "b": "unique"}]
    assert diff.segments == [{"change": "added", "code": "VIP", "steps": ["day 0: hold"]}]
    assert diff.lines[0] == "hit_policy: 'first' ⇒ 'unique'"
