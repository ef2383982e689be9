"""Pure alert workflow."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from cuishou.alerts.rules import (
    ExistingAlert,
    alert_label,
    may_raise,
    next_alert_status,
    raisable,
)


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


# --- when an alert may be raised: one rule, scalar and Polars ----------------------------

TODAY = date(2026, 11, 2)
existing_alerts = st.lists(
    st.tuples(
        st.integers(1, 4),  # case
        st.sampled_from(["refusal", "broken_promise", "entered_m4_plus"]),
        st.sampled_from(["open", "acknowledged", "resolved"]),
        st.sampled_from([date(2026, 10, 30), date(2026, 11, 1), TODAY]),
    ),
    max_size=12,
)
candidate_alerts = st.lists(
    st.tuples(st.integers(1, 4), st.sampled_from(["refusal", "broken_promise", "entered_m4_plus"])),
    max_size=12,
)


@settings(deadline=None)  # Polars per example: slow on a busy machine
@given(existing_alerts, candidate_alerts)
def test_the_scalar_and_polars_raising_rules_agree(
    existing: list[tuple[int, str, str, date]], candidates: list[tuple[int, str]]
) -> None:
    stored = pl.DataFrame(
        existing,
        schema={"case": pl.Int64, "kind": pl.String, "status": pl.String, "raised_on": pl.Date},
        orient="row",
    )
    proposed = pl.DataFrame(candidates, schema={"case": pl.Int64, "kind": pl.String}, orient="row")
    got = {tuple(r) for r in raisable(proposed, stored, TODAY, key=["case"]).iter_rows()}
    expected = {
        (case, kind)
        for case, kind in candidates
        if may_raise(kind, [ExistingAlert(k, s, d) for c, k, s, d in existing if c == case], TODAY)
    }
    assert got == expected
    # a candidate repeated in one batch is raised once
    assert raisable(proposed, stored, TODAY, key=["case"]).height == len(got)


def test_an_unresolved_alert_blocks_and_a_resolved_one_blocks_only_on_its_day() -> None:
    assert not may_raise("refusal", [ExistingAlert("refusal", "open", date(2026, 10, 1))], TODAY)
    assert not may_raise(
        "refusal", [ExistingAlert("refusal", "acknowledged", date(2026, 10, 1))], TODAY
    )
    assert not may_raise("refusal", [ExistingAlert("refusal", "resolved", TODAY)], TODAY)
    assert may_raise("refusal", [ExistingAlert("refusal", "resolved", date(2026, 11, 1))], TODAY)
    assert may_raise("refusal", [ExistingAlert("broken_promise", "open", TODAY)], TODAY)


def test_only_the_alerts_domain_writes_alerts() -> None:
    # one concept, one home: no other module creates Alert rows or inserts into alerts
    src = Path(__file__).parents[2] / "src" / "cuishou"
    writers = sorted(
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        if re.search(r"INSERT INTO alerts|\bAlert\(", path.read_text(encoding="utf-8"))
    )
    assert writers == ["alerts/repository.py", "store/tables.py"]
