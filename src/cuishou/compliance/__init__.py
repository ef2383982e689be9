"""Compliance (合规): one gate for every contact, rule packs as data.

``pack`` loads and validates versioned YAML rule packs (``cn`` is the default);
``rules`` decides one contact attempt (scalar form) or a frame of candidate contacts
(Polars form for the engine) — the two are proven to agree by a property test.
``screening`` finds banned content (threats, insults, impersonation, exposure, extra fees,
new borrowing, over-promising, debt told to a third party) in templates, notes and
transcripts, with its lexicon as validated YAML data (``screening_lexicon``).
"""
