"""Pure auth rules: scope, throttling, user validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from cuishou.auth.rules import (
    LOGIN_WINDOW,
    PERMISSIONS,
    ROLES,
    CaseScope,
    Principal,
    case_in_scope,
    case_scope_of,
    throttled_until,
    user_problem,
)

NOW = datetime(2026, 11, 1, 2, 0, tzinfo=UTC)
ids = st.one_of(st.none(), st.integers(min_value=1, max_value=5))


def _principal(
    role: str, *, user_id: int = 1, team: int | None = 2, agency: int | None = 3
) -> Principal:
    return Principal(user_id=user_id, username="u", role=role, team_id=team, agency_id=agency)


def test_scope_by_role() -> None:
    assert case_scope_of(_principal("collector", user_id=7)) == CaseScope("user", 7)
    assert case_scope_of(_principal("team_lead", team=4)) == CaseScope("team", 4)
    assert case_scope_of(_principal("agency", agency=9)) == CaseScope("agency", 9)
    for role in ("manager", "compliance", "legal", "admin", "auditor"):
        assert case_scope_of(_principal(role)) == CaseScope("all")
    assert case_scope_of(_principal("team_lead", team=None)) == CaseScope("nothing")
    assert case_scope_of(_principal("agency", agency=None)) == CaseScope("nothing")
    assert case_scope_of(_principal("intruder")) == CaseScope("nothing")


@given(
    role=st.sampled_from(sorted(ROLES)),
    user_id=st.integers(min_value=1, max_value=5),
    team=ids,
    agency=ids,
    assigned=ids,
    case_team=ids,
    case_agency=ids,
)
def test_a_collector_team_lead_or_agency_sees_only_what_is_theirs(
    role: str,
    user_id: int,
    team: int | None,
    agency: int | None,
    assigned: int | None,
    case_team: int | None,
    case_agency: int | None,
) -> None:
    scope = case_scope_of(_principal(role, user_id=user_id, team=team, agency=agency))
    visible = case_in_scope(
        scope, assigned_user_id=assigned, team_id=case_team, agency_id=case_agency
    )
    if role == "collector":
        assert visible == (assigned == user_id)
    elif role == "team_lead":
        assert visible == (team is not None and case_team == team)
    elif role == "agency":
        assert visible == (agency is not None and case_agency == agency)
    else:
        assert visible


def test_every_permission_names_known_roles_and_reveal_is_not_for_collectors() -> None:
    for roles in PERMISSIONS.values():
        assert roles <= set(ROLES)
    assert "collector" not in PERMISSIONS["pii.reveal"]
    assert "agency" not in PERMISSIONS["pii.reveal"]
    assert PERMISSIONS["user.create"] == {"admin"}


@given(st.lists(st.integers(min_value=-30 * 60, max_value=0), max_size=12))
def test_throttling_locks_exactly_when_five_failures_fall_in_the_window(offsets: list[int]) -> None:
    failures = [NOW + timedelta(seconds=s) for s in offsets]
    in_window = sorted(t for t in failures if t > NOW - LOGIN_WINDOW)
    until = throttled_until(failures, now=NOW)
    if len(in_window) < 5:
        assert until is None
    else:
        assert until is not None and NOW < until <= NOW + LOGIN_WINDOW
        # at `until` the oldest counted failure leaves the window and the lock lifts
        assert throttled_until(failures, now=until) is None or len(in_window) > 5


def test_throttling_examples() -> None:
    four = [NOW - timedelta(minutes=m) for m in range(4)]
    five = [*four, NOW - timedelta(minutes=10)]
    assert throttled_until(four, now=NOW) is None
    assert throttled_until(five, now=NOW) == NOW + timedelta(minutes=5)
    assert throttled_until(five, now=NOW + timedelta(minutes=5)) is None


def test_user_problems() -> None:
    ok = {"username": "li.na", "role": "collector", "team": None, "agency": None}
    assert user_problem(**ok, password="12345678") is None
    assert user_problem(**ok, password="1234567") is not None
    assert user_problem(**(ok | {"username": "有空格 的"}), password="12345678") is not None
    assert user_problem(**(ok | {"role": "team_lead"}), password="12345678") is not None
    assert user_problem(**(ok | {"role": "team_lead", "team": "一组"}), password="12345678") is None
