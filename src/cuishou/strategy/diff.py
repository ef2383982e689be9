"""What changed between two strategies (``cuishou strategy diff A B``), in plain language.

Pure. Rows are compared in order (a decision table under ``first`` means its order): an
edit script over the rows says which were added, removed or changed, by their 1-based
numbers on each side. Segments are compared by code, and each path step by step (an edit
script again), described as the strategy file would be read (``days 1+ every 2: call
(priority 4)``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

from cuishou.strategy.definition import Rule, Segment, Step, Strategy
from cuishou.strategy.validate import when_words

HEADER_FIELDS = ("code", "zh", "en", "description", "hit_policy")


@dataclass(frozen=True, slots=True)
class Diff:
    header: list[dict[str, Any]] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    segments: list[dict[str, Any]] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    lines_zh: list[str] = field(default_factory=list)

    @property
    def same(self) -> bool:
        return not (self.header or self.rows or self.segments)

    def to_json(self) -> dict[str, Any]:
        return {
            "same": self.same,
            "header": self.header,
            "rows": self.rows,
            "segments": self.segments,
            "lines": self.lines,
            "lines_zh": self.lines_zh,
        }


def _key(model: Rule | Step) -> str:
    return json.dumps(model.model_dump(mode="json", by_alias=True, exclude_none=True),
                      sort_keys=True, ensure_ascii=False)  # fmt: skip


def _row_json(rule: Rule) -> dict[str, Any]:
    return rule.model_dump(mode="json", exclude_none=True, exclude_defaults=True)


def _row_text(rule: Rule, language: str) -> str:
    return f"{when_words(rule.when, language)} → {rule.segment}"


def _paired(
    a: tuple[Any, ...], b: tuple[Any, ...], key: Any
) -> list[tuple[str, int | None, int | None]]:
    """(change, index in a, index in b) for every item that differs: ``added``,
    ``removed`` or ``changed`` (a replaced item paired with its replacement)."""
    out: list[tuple[str, int | None, int | None]] = []
    matcher = SequenceMatcher(a=[key(x) for x in a], b=[key(x) for x in b], autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            continue
        left, right = list(range(i1, i2)), list(range(j1, j2))
        paired = min(len(left), len(right)) if tag == "replace" else 0
        out += [("changed", left[k], right[k]) for k in range(paired)]
        out += [("removed", i, None) for i in left[paired:]]
        out += [("added", None, j) for j in right[paired:]]
    return out


def _fields(old: Rule, new: Rule) -> list[str]:
    changed = [name for name in ("segment", "note") if getattr(old, name) != getattr(new, name)]
    changed += [
        name for name in type(old.when).model_fields
        if getattr(old.when, name) != getattr(new.when, name)
    ]  # fmt: skip
    return changed


def _rows(a: Strategy, b: Strategy, diff: Diff) -> None:
    for change, i, j in _paired(a.rules, b.rules, _key):
        old = a.rules[i] if i is not None else None
        new = b.rules[j] if j is not None else None
        a_row = i + 1 if i is not None else None
        b_row = j + 1 if j is not None else None
        entry: dict[str, Any] = {
            "change": change,
            "a_row": a_row,
            "b_row": b_row,
            "a": _row_json(old) if old else None,
            "b": _row_json(new) if new else None,
        }
        if old is not None and new is not None:
            entry["fields"] = _fields(old, new)
            diff.lines.append(
                f"row {a_row} changed (now row {b_row}): {_row_text(old, 'en')} "
                f"⇒ {_row_text(new, 'en')}"
            )
            diff.lines_zh.append(
                f"第 {a_row} 行已修改（现为第 {b_row} 行）：{_row_text(old, 'zh')} "
                f"⇒ {_row_text(new, 'zh')}"
            )
        elif new is not None:
            diff.lines.append(f"row {b_row} added: {_row_text(new, 'en')}")
            diff.lines_zh.append(f"新增第 {b_row} 行：{_row_text(new, 'zh')}")
        elif old is not None:
            diff.lines.append(f"row {a_row} removed: {_row_text(old, 'en')}")
            diff.lines_zh.append(f"删除第 {a_row} 行：{_row_text(old, 'zh')}")
        diff.rows.append(entry)


def _steps(code: str, old: Segment, new: Segment, diff: Diff) -> list[dict[str, Any]]:
    changes = []
    for change, i, j in _paired(old.path, new.path, _key):
        before = old.path[i].describe() if i is not None else None
        after = new.path[j].describe() if j is not None else None
        changes.append({"change": change, "a": before, "b": after})
        if change == "added":
            diff.lines.append(f"segment {code}: step added: {after}")
            diff.lines_zh.append(f"分群 {code}：新增步骤 {after}")
        elif change == "removed":
            diff.lines.append(f"segment {code}: step removed: {before}")
            diff.lines_zh.append(f"分群 {code}：删除步骤 {before}")
        else:
            diff.lines.append(f"segment {code}: step changed: {before} ⇒ {after}")
            diff.lines_zh.append(f"分群 {code}：步骤修改 {before} ⇒ {after}")
    return changes


def _segments(a: Strategy, b: Strategy, diff: Diff) -> None:
    old = {s.code: s for s in a.segments}
    new = {s.code: s for s in b.segments}
    for code in [s.code for s in a.segments] + [c for c in new if c not in old]:
        if code not in new:
            diff.segments.append({"change": "removed", "code": code})
            diff.lines.append(f"segment {code} removed ({old[code].en})")
            diff.lines_zh.append(f"删除分群 {code}（{old[code].zh}）")
            continue
        if code not in old:
            seg = new[code]
            diff.segments.append(
                {"change": "added", "code": code, "steps": [s.describe() for s in seg.path]}
            )
            path = "; ".join(s.describe() for s in seg.path) or "no steps"
            diff.lines.append(f"segment {code} added ({seg.en}): {path}")
            diff.lines_zh.append(f"新增分群 {code}（{seg.zh}）：{path}")
            continue
        before, after = old[code], new[code]
        names = [n for n in ("zh", "en", "description") if getattr(before, n) != getattr(after, n)]
        for name in names:
            diff.lines.append(
                f"segment {code}: {name} {getattr(before, name)!r} ⇒ {getattr(after, name)!r}"
            )
            diff.lines_zh.append(
                f"分群 {code}：{name} {getattr(before, name)!r} ⇒ {getattr(after, name)!r}"
            )
        steps = _steps(code, before, after, diff)
        if names or steps:
            diff.segments.append(
                {"change": "changed", "code": code, "fields": names, "steps": steps}
            )


def diff_strategies(a: Strategy, b: Strategy) -> Diff:
    """Every difference from ``a`` to ``b``."""
    diff = Diff()
    for name in HEADER_FIELDS:
        before, after = getattr(a, name), getattr(b, name)
        if before != after:
            diff.header.append({"field": name, "a": before, "b": after})
            diff.lines.append(f"{name}: {before!r} ⇒ {after!r}")
            diff.lines_zh.append(f"{name}：{before!r} ⇒ {after!r}")
    _rows(a, b, diff)
    _segments(a, b, diff)
    return diff
