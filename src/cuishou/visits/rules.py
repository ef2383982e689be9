"""Field-visit rules (外访): who may be scheduled, what a window is, who may record and see.

Pure: plain data in, plain data out; ``today`` and ``now`` are arguments. The contact rules
themselves (two collectors — CN-14 —, 08:00–20:00 in the debtor's zone, holidays, holds …)
are the compliance gate's: the service asks the gate at both ends of the window, so they are
judged in one place (``compliance.rules``); these rules only shape the request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: status -> (中文, English)
STATUSES: dict[str, tuple[str, str]] = {
    "requested": ("待排期", "Requested"),
    "scheduled": ("已排期", "Scheduled"),
    "done": ("已走访", "Visited"),
    "cancelled": ("已取消", "Cancelled"),
}
#: where a request came from
SOURCES: dict[str, tuple[str, str]] = {
    "strategy": ("策略", "Strategy"),
    "collector": ("催收员申请", "Collector"),
}
#: the outcomes a visit may have (contact outcome codes, with their visit wording)
OUTCOMES: dict[str, tuple[str, str]] = {
    "connected_debtor": ("见到本人", "Met the debtor"),
    "connected_third_party": ("见到他人", "Met someone else"),
    "no_answer": ("无人在家", "Nobody at home"),
    "promise": ("承诺还款", "Promised to pay"),
    "negotiating": ("协商中", "Negotiating"),
    "refused": ("拒绝还款", "Refused to pay"),
    "complaint": ("投诉", "Complained"),
    "lost_contact": ("查无此人（已搬离）", "Not living there (moved away)"),
}
#: how a person met on a visit relates to the debtor (与债务人关系)
RELATIONS: dict[str, tuple[str, str]] = {
    "self": ("本人", "The debtor"),
    "spouse": ("配偶", "Spouse"),
    "parent": ("父母", "Parent"),
    "child": ("子女", "Child"),
    "sibling": ("兄弟姐妹", "Sibling"),
    "relative": ("其他亲属", "Other relative"),
    "colleague": ("同事", "Colleague"),
    "neighbour": ("邻居", "Neighbour"),
    "property": ("物业/保安", "Property management"),
    "other": ("其他", "Other"),
}
#: a window is at most one working day and at least a quarter of an hour
MIN_WINDOW = timedelta(minutes=15)
#: clocks drift: a record may be stamped this far in the future
CLOCK_SKEW = timedelta(minutes=5)
#: the roles that see every visit in their case scope (the others: the visits they go on)
OVERSEEING_ROLES = frozenset({"team_lead", "manager", "compliance", "auditor"})


@dataclass(frozen=True, slots=True)
class Collector:
    """A user named to go on a visit, as the store knows them."""

    username: str
    user_id: int | None  # None: no such user
    role: str = ""
    team_id: int | None = None
    active: bool = False


def window_of(day: date, start: time, end: time, zone: str) -> tuple[datetime, datetime]:
    """The window ``[start, end)`` of ``day`` in the debtor's zone, as aware datetimes."""
    tz = ZoneInfo(zone)
    return datetime.combine(day, start, tzinfo=tz), datetime.combine(day, end, tzinfo=tz)


def gate_moments(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The two moments the gate judges a window at: its first and its last minute (the
    gate's windows are ``[start, end)``: a visit ending at 20:00 is inside 08:00–20:00)."""
    return start, max(start, end - timedelta(minutes=1))


def schedule_problem(
    *,
    status: str,
    case_team_id: int | None,
    day: date,
    today: date,
    start: time,
    end: time,
    collectors: Sequence[Collector],
) -> str | None:
    """Why this visit cannot be scheduled as asked, or ``None`` (the gate judges the rest)."""
    if status not in ("requested", "scheduled"):
        return f"a {status} visit cannot be scheduled"
    if case_team_id is None:
        return "the case has no team: assign it to a team before scheduling a visit"
    if day < today:
        return f"day: {day} is in the past"
    begin = datetime.combine(day, start)
    if datetime.combine(day, end) - begin < MIN_WINDOW:
        return "end: the window must end at least 15 minutes after it starts"
    names = [c.username for c in collectors]
    if len(set(names)) != len(names):
        return "collectors: a collector is named twice"
    for person in collectors:
        if person.user_id is None or not person.active:
            return f"collectors: no active user {person.username!r}"
        if person.role != "collector":
            return f"collectors: {person.username} is a {person.role}, not a collector"
        if person.team_id != case_team_id:
            return f"collectors: {person.username} is not in the case's team"
    return None


def record_problem(
    *, status: str, collector_ids: Sequence[int], recorder_id: int, visited_at: datetime,
    now: datetime, window_start: datetime | None,
) -> str | None:  # fmt: skip
    """Why this person cannot record this visit now, or ``None``."""
    if status == "done":
        return "the visit is already recorded"
    if status != "scheduled":
        return f"a {status} visit cannot be recorded: schedule it first"
    if recorder_id not in collector_ids:
        return "only a collector scheduled on the visit may record it"
    if visited_at > now + CLOCK_SKEW:
        return "visited_at: the visit cannot be in the future"
    if window_start is not None and visited_at < window_start - timedelta(hours=12):
        return "visited_at: before the scheduled day"
    return None


def may_see(*, role: str, user_id: int, collector_ids: Sequence[int], case_in_scope: bool) -> bool:
    """A visit is seen by its collectors, and by the overseeing roles within their scope; a
    collector sees the visits of their own cases too (the ones they asked for)."""
    if user_id in collector_ids:
        return True
    return case_in_scope and (role in OVERSEEING_ROLES or role == "collector")


def may_reveal_address(
    *, may_reveal: bool, user_id: int, collector_ids: Sequence[int], status: str
) -> bool:
    """Who may see a visit's address unmasked (查看外访地址): whoever may unmask personal
    data (``pii.reveal``), and a collector scheduled on the visit while it is scheduled —
    the field team must find the door; once the visit is done or cancelled, they may not."""
    return may_reveal or (status == "scheduled" and user_id in collector_ids)
