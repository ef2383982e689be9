"""Pure alert workflow."""

from __future__ import annotations

from cuishou.alerts.rules import alert_label, next_alert_status


def test_open_alerts_are_acknowledged_then_resolved() -> None:
    assert next_alert_status("open", "acknowledge") == "acknowledged"
    assert next_alert_status("acknowledged", "resolve") == "resolved"
    assert next_alert_status("open", "resolve") == "resolved"
    assert next_alert_status("acknowledged", "acknowledge") is None
    assert next_alert_status("resolved", "resolve") is None
    assert next_alert_status("resolved", "acknowledge") is None


def test_labels_cover_the_engine_alert_kinds() -> None:
    assert alert_label("three_failed_contacts")[0] == "连续三次无法联系"
    assert alert_label("entered_m4_plus")[0] == "入M4+"
    assert alert_label("legal_review_candidate")[0] == "移交法务评估"
    assert alert_label("something_new") == ("something_new", "something_new")
