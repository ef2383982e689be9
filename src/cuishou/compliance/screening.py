"""Content screening (话术/内容筛查): banned content in templates, notes and transcripts.

:func:`screen` reads one text — an SMS or letter template, a collector's free-text note,
a call transcript — in Chinese or English and returns a :class:`Finding` for each piece of
banned content: threats (威胁恐吓), insults (侮辱谩骂), false identity (冒充公检法/律师),
exposure (曝光、通知单位家人), extra fees or a non-designated account (额外收费、个人账户),
pushing new borrowing (以贷养贷), over-promising (过度承诺), debt details told to a third
party, and — under ``us-regf`` for a time-barred debt — a threat of suit.

How: the lexicon (``lexicon/screening.yaml``, data) holds regular expressions matched over
the text after full-width folding (offsets are unchanged, so every span points into the
original text). A match is dropped when a negation cue governs it: the text around the
match is segmented with jieba (结巴分词) and a cue *token* (不会, 不是, 请勿, 禁止, not, never
…) within a few tokens before the match, in the same clause, with no scope breaker (就,
否则, 但是 …) in between, turns “我们**不会**通知您的单位” into a denial. Tokens, not
characters, are what make 不良/不断/不过 not count as negations. A cue directly followed by
a repayment verb is a condition, not a denial (“如果**不还**就…”).

Pure: plain text and flags in, findings out; no clock, no store. The lexicon and jieba's
dictionary (shipped inside the jieba package) load once per process.
"""

from __future__ import annotations

import bisect
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Literal

import jieba
import polars as pl

from cuishou.compliance.screening_lexicon import (
    CONDUCT,
    DEFAULT_LEXICON,
    Category,
    Lexicon,
    Pattern,
    Perspective,
    fold,
    load_lexicon,
)
from cuishou.kit.errors import InvalidInput

Audience = Literal["debtor", "third_party"]
AUDIENCES: tuple[Audience, ...] = ("debtor", "third_party")
DEFAULT_PERSPECTIVE = "cn"

#: clause boundaries (after folding): sentence and clause punctuation, line breaks; a comma
#: or full stop between digits (1,000.50) is part of a number, not a boundary
_CLAUSE_END = re.compile(r"[。!?;\n…]|[,.](?!\d)|(?<!\d)[,.]")
#: how far before a match jieba looks for a cue (characters; long enough for the window)
_LOOKBACK_CHARS = 80
_CONTRACTION_TAILS = frozenset({"t", "s", "re", "ll", "ve", "d", "m"})


@dataclass(frozen=True, slots=True)
class Span:
    """Where a finding is: ``text == original[start:end]`` (character offsets)."""

    start: int
    end: int
    text: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One piece of banned content: its category, where it is, the rule it breaks."""

    category: Category
    span: Span
    rule_id: str
    #: the lexicon entry that matched (explains the finding; see lexicon/screening.yaml)
    pattern_id: str


@dataclass(frozen=True, slots=True)
class _Token:
    word: str
    start: int
    end: int


class Screener:
    """A lexicon compiled for screening; :func:`screen` uses the shipped one."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._patterns: tuple[tuple[Pattern, re.Pattern[str]], ...] = tuple(
            (entry, entry.compiled()) for entry in lexicon.patterns
        )
        self._negation = lexicon.negation
        self._tokenizer: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    @property
    def version(self) -> str:
        return self.lexicon.version

    def perspective(self, pack: str) -> Perspective:
        try:
            return self.lexicon.perspectives[pack]
        except KeyError:
            known = ", ".join(sorted(self.lexicon.perspectives))
            raise InvalidInput(
                f"no screening perspective for rule pack {pack!r}; known: {known}", field="pack"
            ) from None

    def screen(
        self,
        text: str,
        *,
        audience: Audience,
        pack: str = DEFAULT_PERSPECTIVE,
        time_barred: bool = False,
    ) -> tuple[Finding, ...]:
        """The findings in ``text``, ordered by position (see :func:`screen`)."""
        if audience not in AUDIENCES:
            raise InvalidInput(
                f"audience must be one of {', '.join(AUDIENCES)}, not {audience!r}",
                field="audience",
            )
        view = self.perspective(pack)
        if not text or text.isspace():
            return ()
        active = set(CONDUCT)
        if audience == "third_party":
            active.add("debt_to_third_party")
        if time_barred and view.screens_time_barred_suits():
            active.add("time_barred_suit")
        folded = fold(text)
        bounds = [m.end() for m in _CLAUSE_END.finditer(folded)]
        kept: list[tuple[int, int, Pattern]] = []
        for entry, regex in self._patterns:
            if entry.category not in active:
                continue
            for match in regex.finditer(folded):
                start, end = match.span()
                if end == start:
                    continue
                if entry.negatable and self._negated(folded, bounds, start, end):
                    continue
                kept.append((start, end, entry))
        return tuple(
            Finding(
                category=entry.category,
                span=Span(start, end, text[start:end]),
                rule_id=view.rule_ids[entry.category],
                pattern_id=entry.id,
            )
            for start, end, entry in _leftmost_longest(kept)
        )

    # -- negation ---------------------------------------------------------------------

    def _negated(self, folded: str, bounds: Sequence[int], start: int, end: int) -> bool:
        """Whether a cue token governs the match ``folded[start:end]``."""
        before = bisect.bisect_right(bounds, start)  # boundaries ending at or before start
        clause_start = bounds[before - 1] if before else 0
        origin = max(clause_start, start - _LOOKBACK_CHARS)
        if origin == start:
            return False
        tokens = self._tokens(folded[origin:end], origin)
        rule = self._negation
        first = next((i for i, t in enumerate(tokens) if t.end > start), len(tokens))
        if first < len(tokens) and tokens[first].start < start:
            # a cue that reaches into the match: 不是|法院的 → 不是 overlaps 是法院的
            return tokens[first].word in rule.cues
        counted = 0
        for index in range(first - 1, -1, -1):
            word = tokens[index].word
            if word in rule.breakers:
                return False
            if word in rule.reported:
                return True
            if word in rule.cues:
                after = tokens[index + 1] if index + 1 < len(tokens) else None
                if after is not None and after.start < start and after.word in rule.conditions:
                    continue  # 你不还… / if you don't pay…: a condition, not a denial
                if any(t.word in rule.conditionals for t in tokens[:index]):
                    continue  # 如果您不希望我们联系您的单位… : still a condition
                return True
            counted += 1
            if counted >= rule.window_tokens:
                return False
        return False

    def _tokens(self, piece: str, offset: int) -> list[_Token]:
        """Word tokens of ``piece`` (lowercased, spaces and punctuation-only dropped)."""
        raw = [
            _Token(word.lower(), start + offset, end + offset)
            for word, start, end in self._jieba().tokenize(piece)
        ]
        merged: list[_Token] = []
        index = 0
        while index < len(raw):
            token = raw[index]
            if (
                token.word in {"'", "’"}
                and merged
                and merged[-1].word.isascii()
                and merged[-1].word.isalpha()
                and merged[-1].end == token.start
                and index + 1 < len(raw)
                and raw[index + 1].word in _CONTRACTION_TAILS
            ):
                tail = raw[index + 1]
                head = merged.pop()
                merged.append(_Token(f"{head.word}'{tail.word}", head.start, tail.end))
                index += 2
                continue
            merged.append(token)
            index += 1
        return [t for t in merged if any(ch.isalnum() for ch in t.word)]

    def _jieba(self) -> jieba.Tokenizer:
        with self._lock:
            if self._tokenizer is None:
                logging.getLogger("jieba").setLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                for word in (*self.lexicon.words, *self._negation.cues, *self._negation.reported):
                    if any("\u4e00" <= ch <= "\u9fff" for ch in word):
                        tokenizer.add_word(word)
                self._tokenizer = tokenizer
            return self._tokenizer


def _leftmost_longest(
    matches: Iterable[tuple[int, int, Pattern]],
) -> list[tuple[int, int, Pattern]]:
    """Per category, overlapping matches collapse to the leftmost (then longest) one."""
    ordered = sorted(matches, key=lambda m: (m[2].category, m[0], -(m[1] - m[0]), m[2].id))
    kept: list[tuple[int, int, Pattern]] = []
    reach: dict[str, int] = {}
    for start, end, entry in ordered:
        if start < reach.get(entry.category, -1):
            continue
        kept.append((start, end, entry))
        reach[entry.category] = end
    return sorted(kept, key=lambda m: (m[0], m[1], m[2].category))


# --------------------------------------------------------------------------- bulk form


def prefilter_pattern(pattern: str) -> str:
    """``pattern`` without its lookahead and lookbehind groups and its word-boundary
    assertions (``\\b``, ``\\B``): it matches wherever ``pattern`` matches (and maybe more),
    and Rust's regex engine (Polars) runs it fast — a Unicode ``\\b`` would keep it off its
    DFA."""
    out: list[str] = []
    i, n, in_class = 0, len(pattern), False
    while i < n:
        ch = pattern[i]
        if ch == "\\":
            if in_class or pattern[i + 1 : i + 2] not in ("b", "B"):
                out.append(pattern[i : i + 2])
            i += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif pattern.startswith(("(?=", "(?!", "(?<=", "(?<!"), i):
            i = _group_end(pattern, i) + 1
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _group_end(pattern: str, start: int) -> int:
    """The index of the ``)`` closing the group opened at ``start``."""
    depth, j, in_class = 0, start, False
    while j < len(pattern):
        ch = pattern[j]
        if ch == "\\":
            j += 2
            continue
        if in_class:
            in_class = ch != "]"
        elif ch == "[":
            in_class = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return j
        j += 1
    return len(pattern)


def may_have_findings(
    texts: Sequence[str],
    *,
    audience: Audience,
    time_barred: bool = False,
    screener: Screener | None = None,
) -> list[bool]:
    """The bulk prefilter of :func:`screen` (批量预筛): for each text, ``False`` only when
    :func:`screen` is sure to find nothing in it, whatever the pack; ``True`` means "screen
    it". The active patterns, loosened by :func:`prefilter_pattern` (a superset), run as
    one alternation over all the folded texts in Polars; the few texts it may match are
    then screened one by one. If the Rust engine cannot compile it, every text is marked."""
    screener = screener or shipped_screener()
    active = set(CONDUCT)
    if audience == "third_party":
        active.add("debt_to_third_party")
    if time_barred:
        active.add("time_barred_suit")
    patterns = [
        prefilter_pattern(entry.regex)
        for entry, _ in screener._patterns
        if entry.category in active
    ]
    if not texts or not patterns:
        return [False] * len(texts)
    folded = pl.Series("text", [fold(text) for text in texts], dtype=pl.String)
    try:
        hits = folded.str.contains("(?i)(?:" + ")|(?:".join(patterns) + ")")
    except pl.exceptions.ComputeError:
        return [True] * len(texts)
    return [bool(flag) for flag in hits.fill_null(value=False)]


@cache
def shipped_screener(name: str = DEFAULT_LEXICON) -> Screener:
    """The screener of a shipped lexicon (or a lexicon file by path), built once."""
    return Screener(load_lexicon(name))


def screen(
    text: str,
    *,
    audience: Audience,
    pack: str = DEFAULT_PERSPECTIVE,
    time_barred: bool = False,
) -> tuple[Finding, ...]:
    """Screen one text for banned content (内容合规筛查).

    ``audience`` is who will read or hear it: ``"third_party"`` (a relative, employer,
    emergency contact …) adds ``debt_to_third_party`` — any amount, debt word or account
    number told to them. ``pack`` chooses the rule ids cited (``cn`` or ``us-regf``);
    ``time_barred`` (the debt is past the limitation period) adds ``time_barred_suit``
    under ``us-regf``. Empty or whitespace-only text has no findings.
    """
    return shipped_screener().screen(text, audience=audience, pack=pack, time_barred=time_barred)


def categories_of(findings: Iterable[Finding]) -> frozenset[str]:
    return frozenset(f.category for f in findings)
