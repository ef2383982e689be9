"""Template rules beyond content screening: what a message must carry.

Pure: text and settings in, problems out.
"""

from __future__ import annotations

import re

ELECTRONIC = frozenset({"sms", "email", "wechat"})
#: a clear, free way to opt out (12 CFR 1006.6(e)): "Reply STOP", "unsubscribe", 回复TD退订 …
OPT_OUT = re.compile(
    r"reply\s+stop|text\s+stop|unsubscribe|opt[\s-]?out|退订|回复\s*T\s*D", re.IGNORECASE
)
MISSING_OPT_OUT = "missing_opt_out"


def missing_parts(body: str, *, channel: str, pack: str) -> list[str]:
    """What the template must carry but does not (US-04: electronic messages carry an
    opt-out under ``us-regf``)."""
    if pack == "us-regf" and channel in ELECTRONIC and not OPT_OUT.search(body):
        return [MISSING_OPT_OUT]
    return []
