"""Strategy texts the strategy tests share: small tables whose rows are easy to count."""

from __future__ import annotations

from cuishou.strategy.definition import shipped_text

#: two segments, hit policy first, the last row catching every case
SIMPLE = """
code: simple
zh: 简单策略
en: Simple strategy
hit_policy: first
segments:
  - code: EARLY
    zh: 早期
    en: Early
    path:
      - {day: 0, action: sms, template: SMS_REMINDER}
      - {from: 1, every: 2, action: call, priority: 3}
  - code: LATE
    zh: 晚期
    en: Late
    path:
      - {from: 0, every: 1, action: call, priority: 1}
rules:
  - segment: EARLY
    when: {bucket: [M1, M2]}
  - segment: LATE
"""


def variant(text: str, *, zh: str) -> str:
    """The same strategy with another Chinese name (so another text, another sha256)."""
    return text.replace("zh: 简单策略", f"zh: {zh}", 1)


def default_text() -> str:
    return shipped_text()
