"""Alert rules (预警): kinds with labels and the handling workflow. Pure."""

from __future__ import annotations

#: kind -> (中文, English)
ALERT_KINDS: dict[str, tuple[str, str]] = {
    "three_failed_contacts": ("连续三次无法联系", "three failed contact attempts in a row"),
    "refusal": ("明确拒绝还款", "debtor refused to pay"),
    "broken_promise": ("承诺跳票", "broken promise to pay"),
    "entered_m4_plus": ("入M4+", "case entered the alert bucket"),
    "legal_review_candidate": ("移交法务评估", "legal review candidate"),
    "compliance_violation": ("违规联系", "contact the compliance gate would have refused"),
}

#: (current status, action) -> next status. open → acknowledged → resolved; open → resolved.
TRANSITIONS: dict[tuple[str, str], str] = {
    ("open", "acknowledge"): "acknowledged",
    ("open", "resolve"): "resolved",
    ("acknowledged", "resolve"): "resolved",
}


def next_alert_status(status: str, action: str) -> str | None:
    """The status after ``action``, or ``None`` when the action does not apply."""
    return TRANSITIONS.get((status, action))


def alert_label(kind: str) -> tuple[str, str]:
    return ALERT_KINDS.get(kind, (kind, kind))
