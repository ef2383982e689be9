"""What ``cuishou strategy validate`` finds in a strategy, in plain language (策略校验).

Pure: the strategy, and what the store and the rule packs say, come in as plain data; the
problems come out, each with the 1-based row numbers of the decision table it is about and
a sentence in Chinese and in English. The kinds (docs/strategy.md "Validation"):

* ``overlap`` — under ``hit_policy: unique``, two rows whose conditions can hold for the
  same case (each condition intersected: lists, ranges, labels; buckets through the
  bucket scheme's DPD bands), with an example of such a case and how many open cases of
  the store match both.
* ``shadowed`` — under ``hit_policy: first``, a row that can never decide a case because
  an earlier row holds for every case it holds for.
* ``unknown_value`` — a bucket or amount tier the cycle never gives, a creditor or product
  the store does not know: the condition matches no case.
* ``gap`` — open cases of the store that match no row (they would get no segment and no
  plan), counted by bucket, risk grade and amount tier.
* ``unknown_template`` / ``template_channel`` — a message step naming a template that is
  not active in the store, or one made for another channel or for third parties.
* ``never_allowed`` — a path the rule pack can never carry out: more calls (robot calls
  included) in some 7 days of the path than the pack's ``limits.calls_per_7_days``. A pack
  lists no forbidden channel (every channel is allowed inside its hours; a channel outside
  ``contact_hours.channels`` keeps no hours at all), its other limits depend on what
  happened on the call (connected or not) or on the case (a hold, an opt-out), so a
  cadence is the one thing a pack refuses whatever happens. The pack is that of each
  creditor whose cases the segment's rows can reach; without a store, the default pack.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cuishou.accounts.rules import DEFAULT_BUCKETS, TIER_NAMES, BucketScheme
from cuishou.compliance.pack import RulePack
from cuishou.strategy.definition import (
    CHANNEL_OF,
    MAX_DAY,
    UNGRADED,
    Range,
    Strategy,
    When,
)
from cuishou.strategy.rules import segment_cases

#: how many gap groups a message lists (the JSON has them all)
GAP_GROUPS_SHOWN = 8
#: what the days of a path are checked over, past its last start (periodic steps repeat)
_HORIZON = 400
_INF = 10**9


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a strategy: its kind, the rows (1-based) and segment it is
    about, a sentence in each language and the facts behind it."""

    kind: str
    zh: str
    en: str
    rows: tuple[int, ...] = ()
    segment: str | None = None
    data: Mapping[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rows": list(self.rows),
            "segment": self.segment,
            "zh": self.zh,
            "en": self.en,
            "data": dict(self.data),
        }


@dataclass(frozen=True, slots=True)
class RowCount:
    """How many open cases a row's conditions hold for, and how many it decides."""

    row: int
    segment: str
    matched: int
    decided: int


@dataclass(frozen=True, slots=True)
class TemplateFact:
    """An active template as the strategy sees it."""

    code: str
    channel: str
    audience: str


@dataclass(frozen=True, slots=True)
class StoreFacts:
    """What the store says about a strategy's world (``None``: no store was read).

    ``cases``: the open cases (:data:`cuishou.strategy.rules.CASE_SCHEMA`); ``templates``:
    the active message templates by code; ``packs``: each creditor's rule pack by creditor
    code; ``products``: the product codes the store knows.
    """

    cases: pl.DataFrame
    templates: Mapping[str, TemplateFact]
    packs: Mapping[str, RulePack]
    products: frozenset[str]


@dataclass(frozen=True, slots=True)
class Report:
    problems: tuple[Problem, ...]
    rows: tuple[RowCount, ...] = ()
    open_cases: int | None = None

    @property
    def clean(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "problems": [p.to_json() for p in self.problems],
            "rows": [
                {"row": r.row, "segment": r.segment, "matched": r.matched, "decided": r.decided}
                for r in self.rows
            ],
            "open_cases": self.open_cases,
        }


# --------------------------------------------------------------------------- words


def _join(values: Iterable[str], word: str) -> str:
    items = list(values)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" {word} {items[-1]}"


def _grade_words(values: Sequence[str], zh: bool) -> str:
    named = [("未评分" if zh else "ungraded") if v == UNGRADED else v for v in values]
    return "/".join(named) if zh else _join(named, "or")


def _range_words(bounds: Range, zh: bool) -> str:
    if bounds.max is None:
        return f"≥{bounds.min}"
    if bounds.min is None or bounds.min == 0:
        return f"≤{bounds.max}"
    return f"{bounds.min}–{bounds.max}"


def condition_words(name: str, value: Any, language: str) -> str:
    """One condition of a row in words (``账龄 M2/M3``, ``DPD 31–60``)."""
    zh = language == "zh"
    if isinstance(value, Range):
        span = _range_words(value, zh)
        return {
            "dpd": f"逾期 {span} 天" if zh else f"DPD {span}",
            "days_since_placement": f"委案 {span} 天" if zh else f"{span} days since placement",
            "days_in_bucket": f"本账龄 {span} 天" if zh else f"{span} days in the bucket",
        }[name]
    values = list(value)
    slash = "/".join(values)
    if name == "risk_grade":
        return f"风险等级 {_grade_words(values, zh)}" if zh else f"grade {_grade_words(values, zh)}"
    if zh:
        return {
            "bucket": f"账龄 {slash}",
            "labels_any": f"标签含 {slash} 之一" if len(values) > 1 else f"标签含 {slash}",
            "labels_all": f"标签含全部 {slash}",
            "labels_none": f"标签不含 {slash}",
            "amount_tier": f"金额分层 {slash}",
            "product": f"产品 {slash}",
            "creditor": f"委托方 {slash}",
        }[name]
    return {
        "bucket": f"bucket {_join(values, 'or')}",
        "labels_any": f"labelled {_join(values, 'or')}",
        "labels_all": f"labelled {_join(values, 'and')}",
        "labels_none": f"not labelled {_join(values, 'or')}",
        "amount_tier": f"amount tier {_join(values, 'or')}",
        "product": f"product {_join(values, 'or')}",
        "creditor": f"creditor {_join(values, 'or')}",
    }[name]


def when_words(when: When, language: str) -> str:
    """A row's conditions in words; a row without conditions holds for every case."""
    parts = [condition_words(name, value, language) for name, value in when.conditions()]
    if not parts:
        return "所有案件" if language == "zh" else "every case"
    return "，".join(parts) if language == "zh" else "; ".join(parts)


# --------------------------------------------------------------------------- conditions


@dataclass(frozen=True, slots=True)
class _Box:
    """What two rows' conditions leave for a case: the intersection of both."""

    sets: dict[str, frozenset[str]]
    ranges: dict[str, tuple[int, int]]
    labels_all: frozenset[str]
    labels_none: frozenset[str]
    label_groups: tuple[frozenset[str], ...]
    product_groups: tuple[frozenset[str], ...]


_SETS = ("bucket", "risk_grade", "amount_tier", "creditor")
_RANGES = ("dpd", "days_since_placement", "days_in_bucket")


def _span(bounds: Range | None) -> tuple[int, int]:
    if bounds is None:
        return (0, _INF)
    return (bounds.min or 0, _INF if bounds.max is None else bounds.max)


def _box(when: When) -> _Box:
    return _Box(
        sets={n: frozenset(getattr(when, n)) for n in _SETS if getattr(when, n) is not None},
        ranges={n: _span(getattr(when, n)) for n in _RANGES},
        labels_all=frozenset(when.labels_all or ()),
        labels_none=frozenset(when.labels_none or ()),
        label_groups=(frozenset(when.labels_any),) if when.labels_any else (),
        product_groups=(frozenset(when.product),) if when.product else (),
    )


def _bucket_span(scheme: BucketScheme, name: str) -> tuple[int, int] | None:
    for bucket in scheme.buckets:
        if bucket.name == name:
            return (bucket.min_dpd, _INF if bucket.max_dpd is None else bucket.max_dpd)
    return None


def _meet(a: _Box, b: _Box, scheme: BucketScheme) -> _Box | None:
    """Both rows' conditions at once, or ``None`` when no case can meet them."""
    sets: dict[str, frozenset[str]] = {}
    for name in _SETS:
        if name in a.sets and name in b.sets:
            sets[name] = a.sets[name] & b.sets[name]
            if not sets[name]:
                return None
        elif name in a.sets or name in b.sets:
            sets[name] = a.sets.get(name) or b.sets[name]
    ranges: dict[str, tuple[int, int]] = {}
    for name in _RANGES:
        low = max(a.ranges[name][0], b.ranges[name][0])
        high = min(a.ranges[name][1], b.ranges[name][1])
        if low > high:
            return None
        ranges[name] = (low, high)
    if "bucket" in sets:  # a bucket is a band of DPD: both must fit
        low, high = ranges["dpd"]
        fitting = set()
        spans = []
        for name in sets["bucket"]:
            span = _bucket_span(scheme, name)
            if span is None or (span[0] <= high and low <= span[1]):
                fitting.add(name)
                if span is not None:
                    spans.append(span)
        if not fitting:
            return None
        sets["bucket"] = frozenset(fitting)
        if spans and len(spans) == len(fitting):
            ranges["dpd"] = (
                max(low, min(s[0] for s in spans)),
                min(high, max(s[1] for s in spans)),
            )
    must = a.labels_all | b.labels_all
    never = a.labels_none | b.labels_none
    if must & never:
        return None
    groups = a.label_groups + b.label_groups
    if any(not (group - never) for group in groups):
        return None
    return _Box(sets, ranges, must, never, groups, a.product_groups + b.product_groups)


def _covers(earlier: When, later: When) -> bool:
    """Does ``earlier`` hold for every case ``later`` holds for (so ``later`` never wins
    under ``first``)? Checked condition by condition (sufficient, not necessary)."""
    for name in _SETS:
        wide, narrow = getattr(earlier, name), getattr(later, name)
        if wide is not None and (narrow is None or not set(narrow) <= set(wide)):
            return False
    for name in _RANGES:
        wide_low, wide_high = _span(getattr(earlier, name))
        low, high = _span(getattr(later, name))
        if low < wide_low or high > wide_high:
            return False
    if earlier.labels_all and not set(earlier.labels_all) <= set(later.labels_all or ()):
        return False
    if earlier.labels_none and not set(earlier.labels_none) <= set(later.labels_none or ()):
        return False
    if earlier.labels_any:
        wide = set(earlier.labels_any)
        narrow_any = set(later.labels_any or ())
        if not (set(later.labels_all or ()) & wide or (narrow_any and narrow_any <= wide)):
            return False
    return not earlier.product or bool(later.product and set(later.product) <= set(earlier.product))


def _example(box: _Box, language: str) -> str:
    """A case both rows hold for, in words."""
    zh = language == "zh"
    parts: list[str] = []
    for name in _SETS:
        if name in box.sets:
            parts.append(condition_words(name, sorted(box.sets[name])[:1], language))
    for name in _RANGES:
        low, high = box.ranges[name]
        if (low, high) != (0, _INF):
            parts.append(
                condition_words(name, Range(min=low, max=None if high >= _INF else high), language)
            )
    labels = set(box.labels_all)
    for group in box.label_groups:
        if not labels & group:
            labels.add(sorted(group - box.labels_none)[0])
    if labels:
        parts.append(condition_words("labels_all", sorted(labels), language))
    if box.labels_none:
        parts.append(condition_words("labels_none", sorted(box.labels_none), language))
    products: set[str] = set()
    for group in box.product_groups:
        if not products & group:
            products.add(sorted(group)[0])
    if products:
        parts.append(
            ("产品 " + "+".join(sorted(products)))
            if zh
            else "products " + _join(sorted(products), "and")
        )
    if not parts:
        return "任何案件" if zh else "any case"
    return ("案件：" + "，".join(parts)) if zh else "a case with " + "; ".join(parts)


# --------------------------------------------------------------------------- the checks


def _row_hits(strategy: Strategy, cases: pl.DataFrame) -> pl.DataFrame:
    """``case_id`` and a boolean ``r<N>`` per row: do the row's conditions hold?"""
    hits = cases.select("case_id")
    for number, rule in enumerate(strategy.rules, start=1):
        one = strategy.model_copy(update={"rules": (rule,), "hit_policy": "first"})
        decided = segment_cases(one, cases)
        hits = hits.with_columns(decided.get_column("rule_no").is_not_null().alias(f"r{number}"))
    return hits


def _overlaps(strategy: Strategy, hits: pl.DataFrame | None, scheme: BucketScheme) -> list[Problem]:
    problems: list[Problem] = []
    boxes = [_box(rule.when) for rule in strategy.rules]
    for i, first in enumerate(strategy.rules, start=1):
        for j in range(i + 1, len(strategy.rules) + 1):
            second = strategy.rules[j - 1]
            met = _meet(boxes[i - 1], boxes[j - 1], scheme)
            if met is None:
                continue
            both = (
                int(hits.filter(pl.col(f"r{i}") & pl.col(f"r{j}")).height)
                if hits is not None
                else None
            )
            counted_zh = f"；库中有 {both} 个在催案件同时符合" if both is not None else ""
            counted_en = f"; {both} open cases in the store match both" if both is not None else ""
            problems.append(
                Problem(
                    kind="overlap",
                    rows=(i, j),
                    zh=(
                        f"第 {i} 行（{first.segment}）与第 {j} 行（{second.segment}）可能同时命中"
                        f"同一案件，违反 unique 命中策略。例如{_example(met, 'zh')}{counted_zh}。"
                    ),
                    en=(
                        f"rows {i} ({first.segment}) and {j} ({second.segment}) can both match "
                        f"the same case, which breaks hit policy unique: for example "
                        f"{_example(met, 'en')}{counted_en}."
                    ),
                    data={"cases": both},
                )
            )
    return problems


def _shadowed(strategy: Strategy) -> list[Problem]:
    problems = []
    for j, later in enumerate(strategy.rules, start=1):
        for i in range(1, j):
            earlier = strategy.rules[i - 1]
            if _covers(earlier.when, later.when):
                problems.append(
                    Problem(
                        kind="shadowed",
                        rows=(i, j),
                        segment=later.segment,
                        zh=(
                            f"第 {j} 行（{later.segment}）永远不会命中：第 {i} 行"
                            f"（{earlier.segment}）在它之前，且覆盖它的全部案件（first 命中策略）。"
                        ),
                        en=(
                            f"row {j} ({later.segment}) can never decide a case: row {i} "
                            f"({earlier.segment}) comes first and holds for every case it holds "
                            "for (hit policy first)."
                        ),
                    )
                )
                break
    return problems


def _unknown_values(
    strategy: Strategy,
    scheme: BucketScheme,
    store: StoreFacts | None,
    labels: frozenset[str] | None,
) -> list[Problem]:
    problems = []
    known: dict[str, tuple[frozenset[str], str, str]] = {
        "bucket": (frozenset(scheme.names), "账龄", "bucket"),
        "amount_tier": (frozenset(TIER_NAMES), "金额分层", "amount tier"),
    }
    if labels is not None:
        for name in ("labels_any", "labels_all", "labels_none"):
            known[name] = (labels, "标签", "label")
    if store is not None:
        creditors = frozenset(store.packs)
        known["creditor"] = (creditors, "委托方", "creditor")
        known["product"] = (store.products, "产品", "product")
    for number, rule in enumerate(strategy.rules, start=1):
        for name, (values, zh_name, en_name) in known.items():
            named = getattr(rule.when, name)
            unknown = sorted(set(named or ()) - values)
            if not unknown:
                continue
            listed = ", ".join(unknown)
            problems.append(
                Problem(
                    kind="unknown_value",
                    rows=(number,),
                    segment=rule.segment,
                    zh=(
                        f"第 {number} 行的{zh_name} {listed} 不存在"
                        f"（已有：{', '.join(sorted(values)) or '无'}），"
                        f"此条件不会{'排除' if name == 'labels_none' else '命中'}任何案件。"
                    ),
                    en=(
                        f"row {number} names {en_name} {listed}, which "
                        f"{'does' if len(unknown) == 1 else 'do'} not exist (known: "
                        f"{', '.join(sorted(values)) or 'none'}); that condition "
                        f"{'excludes' if name == 'labels_none' else 'matches'} no case."
                    ),
                    data={"field": name, "values": unknown},
                )
            )
    return problems


def _gaps(strategy: Strategy, decided: pl.DataFrame) -> list[Problem]:
    left = decided.filter(pl.col("rule_no").is_null() & ~pl.col("conflict"))
    if left.height == 0:
        return []
    groups = (
        left.group_by("bucket", "risk_grade", "amount_tier")
        .agg(pl.len().alias("cases"))
        .sort(
            ["cases", "bucket", "risk_grade", "amount_tier"], descending=[True, False, False, False]
        )
    )
    listed = groups.to_dicts()

    def words(group: Mapping[str, Any], zh: bool) -> str:
        grade = group["risk_grade"]
        shown = ("未评分" if zh else "ungraded") if grade == UNGRADED else grade
        if zh:
            return (
                f"账龄 {group['bucket']}·等级 {shown}·{group['amount_tier']}：{group['cases']} 件"
            )
        return (
            f"bucket {group['bucket']} · grade {shown} · {group['amount_tier']}: {group['cases']}"
        )

    more = len(listed) - GAP_GROUPS_SHOWN
    zh_list = "；".join(words(g, True) for g in listed[:GAP_GROUPS_SHOWN])
    en_list = "; ".join(words(g, False) for g in listed[:GAP_GROUPS_SHOWN])
    if more > 0:
        zh_list += f"；另有 {more} 组"
        en_list += f"; {more} more groups"
    return [
        Problem(
            kind="gap",
            zh=f"{left.height} 个在催案件不符合任何一行，将没有分群和计划（{zh_list}）。",
            en=(
                f"{left.height} open cases match no row and would get no segment and no plan "
                f"({en_list})."
            ),
            data={"cases": left.height, "groups": listed},
        )
    ]


def _rows_of(strategy: Strategy, segment: str) -> tuple[int, ...]:
    return tuple(n for n, rule in enumerate(strategy.rules, start=1) if rule.segment == segment)


def _templates(strategy: Strategy, templates: Mapping[str, TemplateFact]) -> list[Problem]:
    problems: list[Problem] = []
    for segment in strategy.segments:
        rows = _rows_of(strategy, segment.code)
        for step in segment.path:
            if step.template is None:
                continue
            found = templates.get(step.template)
            if found is None:
                none_zh = "（库中没有任何启用的模板）" if not templates else ""
                none_en = (
                    " (the store has no active message templates at all)" if not templates else ""
                )
                problems.append(
                    Problem(
                        kind="unknown_template",
                        rows=rows,
                        segment=segment.code,
                        zh=(
                            f"分群 {segment.code} 的步骤“{step.describe()}”使用模板 "
                            f"{step.template}，该模板未启用或不存在{none_zh}。"
                        ),
                        en=(
                            f"segment {segment.code}, step “{step.describe()}”: template "
                            f"{step.template} is not an active template{none_en}."
                        ),
                        data={"template": step.template},
                    )
                )
            elif found.channel != step.channel or found.audience != "debtor":
                problems.append(
                    Problem(
                        kind="template_channel",
                        rows=rows,
                        segment=segment.code,
                        zh=(
                            f"分群 {segment.code} 的步骤“{step.describe()}”使用模板 "
                            f"{step.template}，但它是发给{found.audience}的 {found.channel} 模板。"
                        ),
                        en=(
                            f"segment {segment.code}, step “{step.describe()}”: template "
                            f"{step.template} is a {found.channel} template for "
                            f"{found.audience}, not a {step.channel} message to the debtor."
                        ),
                        data={"template": step.template, "channel": found.channel,
                              "audience": found.audience},
                    )
                )  # fmt: skip
    return problems


def _calls_by_day(strategy: Strategy, segment: str) -> list[int]:
    path = strategy.segment(segment).path
    calls = [step for step in path if CHANNEL_OF.get(step.action) == "call"]
    if not calls:
        return []
    horizon = min(max(step.first for step in calls) + _HORIZON, MAX_DAY)
    return [sum(1 for step in calls if step.runs_on(day)) for day in range(horizon + 1)]


def _packs_for(
    strategy: Strategy, segment: str, packs: Mapping[str, RulePack], default: RulePack
) -> dict[str, list[str]]:
    """pack id → the creditors whose cases the segment's rows can reach under it."""
    reach: set[str] = set()
    anyone = False
    for rule in strategy.rules:
        if rule.segment != segment:
            continue
        if rule.when.creditor is None:
            anyone = True
        else:
            reach.update(c for c in rule.when.creditor if c in packs)
    creditors = sorted(packs) if anyone else sorted(reach)
    found: dict[str, list[str]] = {}
    for creditor in creditors:
        found.setdefault(packs[creditor].id, []).append(creditor)
    if not packs:
        found[default.id] = []
    return found


def _never_allowed(
    strategy: Strategy, packs: Mapping[str, RulePack], default: RulePack
) -> list[Problem]:
    by_id = {p.id: p for p in packs.values()} | {default.id: default}
    problems: list[Problem] = []
    for segment in strategy.segments:
        if not _rows_of(strategy, segment.code):
            continue
        per_day = _calls_by_day(strategy, segment.code)
        if not per_day:
            continue
        for pack_id, creditors in _packs_for(strategy, segment.code, packs, default).items():
            pack = by_id[pack_id]
            limit = pack.limits.calls_per_7_days
            if limit is None:
                continue
            start = max(
                range(max(1, len(per_day) - 6)), key=lambda d: (sum(per_day[d : d + 7]), -d)
            )
            worst = sum(per_day[start : start + 7])
            if worst <= limit:
                continue
            rule_id = pack.rule_ids.get("calls_7_days", "")
            whose_zh = f"（委托方 {', '.join(creditors)}）" if creditors else ""
            whose_en = f" (creditors {', '.join(creditors)})" if creditors else ""
            problems.append(
                Problem(
                    kind="never_allowed",
                    rows=_rows_of(strategy, segment.code),
                    segment=segment.code,
                    zh=(
                        f"分群 {segment.code} 的路径在第 {start}–{start + 6} 天安排了 {worst} "
                        f"次电话（含机器人外呼），规则包 {pack.id}{whose_zh}每 7 天最多允许 "
                        f"{limit} 次（{rule_id}），其中 {worst - limit} 次永远不会被允许。"
                    ),
                    en=(
                        f"segment {segment.code} plans {worst} calls (robot calls included) on "
                        f"days {start}–{start + 6} of its path; rule pack {pack.id}{whose_en} "
                        f"allows {limit} in 7 days ({rule_id}), so {worst - limit} of them can "
                        "never be made."
                    ),
                    data={"pack": pack.id, "rule_id": rule_id, "calls": worst, "limit": limit,
                          "days": [start, start + 6]},
                )
            )  # fmt: skip
    return problems


def row_counts(
    strategy: Strategy, hits: pl.DataFrame, decided: pl.DataFrame
) -> tuple[RowCount, ...]:
    wins = dict(
        decided.filter(pl.col("rule_no").is_not_null())
        .group_by("rule_no")
        .agg(pl.len())
        .iter_rows()
    )
    return tuple(
        RowCount(
            row=number,
            segment=rule.segment,
            matched=int(hits.get_column(f"r{number}").sum()),
            decided=int(wins.get(number, 0)),
        )
        for number, rule in enumerate(strategy.rules, start=1)
    )


def validate(
    strategy: Strategy,
    *,
    store: StoreFacts | None,
    default_pack: RulePack,
    scheme: BucketScheme = DEFAULT_BUCKETS,
    labels: frozenset[str] | None = None,
) -> Report:
    """Every problem of ``strategy`` against ``store`` (``None``: the checks that need
    the store's cases and templates are left out; packs fall back to ``default_pack``)
    and against the label pack's codes ``labels`` (``None``: label names are not checked)."""
    problems: list[Problem] = []
    hits = decided = None
    if store is not None:
        hits = _row_hits(strategy, store.cases)
        decided = segment_cases(strategy, store.cases)
    if strategy.hit_policy == "unique":
        problems += _overlaps(strategy, hits, scheme)
    else:
        problems += _shadowed(strategy)
    problems += _unknown_values(strategy, scheme, store, labels)
    if store is not None and decided is not None:
        problems += _gaps(strategy, decided)
        problems += _templates(strategy, store.templates)
    problems += _never_allowed(strategy, store.packs if store else {}, default_pack)
    counts = row_counts(strategy, hits, decided) if hits is not None and decided is not None else ()
    return Report(
        problems=tuple(problems),
        rows=counts,
        open_cases=store.cases.height if store is not None else None,
    )


def document_problem(message: str) -> Report:
    """A document that does not parse: one problem, nothing else can be checked."""
    return Report(problems=(Problem(kind="document", zh=message, en=message),))
