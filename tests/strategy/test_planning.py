"""The daily planning step on a real store (both stores): segments, the day's plan, the
compliance gate's word on every planned contact, caps, days in segment, events, re-runs."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal
from cuishou.cases.service import queue_heads
from cuishou.compliance.service import decide_contact, use_pack
from cuishou.engine.runner import run_daily_cycle
from cuishou.experiments.rules import in_challenger
from cuishou.experiments.service import start_experiment
from cuishou.kit.clock import CHINA_TZ
from cuishou.kit.errors import InvalidInput, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Account,
    Case,
    CaseSegment,
    Contact,
    ContactHold,
    ContactPoint,
    Event,
    ExperimentCase,
    PlannedAction,
    StrategyVersion,
)
from cuishou.strategy.definition import text_sha256
from cuishou.strategy.repository.planning import PLAN_KEEP_DAYS
from cuishou.strategy.service.planning import (
    NO_STRATEGY,
    dialer_list,
    plan_open_cases,
    task_list,
)
from tests.factories import make_account, make_creditor, make_debtor, make_placement
from tests.web.factories import make_contact_point, make_user

DAY = date(2026, 11, 2)
NOW = datetime(2026, 11, 1, 22, 0, tzinfo=UTC)  # 06:00 in Shanghai on DAY
STRATEGY = """
code: test
zh: 测试策略
en: Test strategy
hit_policy: first
segments:
  - code: EARLY
    zh: 早期
    en: Early
    path:
      - {day: 0, action: sms, template: SMS_REMINDER}
      - {from: 0, every: 1, action: call, priority: 2}
  - code: LATE
    zh: 晚期
    en: Late
    path:
      - {from: 0, every: 2, action: call, priority: 1}
      - {day: 1, action: visit, cap: 1}
      - {day: 0, action: legal}
  - code: REST
    zh: 其他
    en: Rest
    path:
      - {day: 0, action: hold}
rules:
  - segment: EARLY
    when: {dpd: {max: 30}}
  - segment: LATE
    when: {dpd: {min: 61}}
  - segment: REST
"""


def _install(session: Session, body: str = STRATEGY, *, effective: date = DAY) -> int:
    version = StrategyVersion(
        code="test", version=1, zh="测试策略", en="Test strategy", body=body,
        sha256=text_sha256(body), status="active", note="", author="ann", created_at=NOW,
        approved_by="bob", approved_at=NOW, effective_from=effective, activated_by="bob",
        activated_at=NOW,
    )  # fmt: skip
    session.add(version)
    session.flush()
    return version.id


def _debtor(
    session: Session, creditor: Any, *, dpd: int, mobile: bool = True, address: bool = False
) -> int:
    placement = make_placement(
        session, creditor=creditor, batch_code=f"B{creditor.code}{dpd}", placed_on=date(2026, 10, 1)
    )
    debtor = make_debtor(session)
    make_account(
        session, creditor=creditor, placement=placement, debtor=debtor,
        overdue_since=DAY - timedelta(days=dpd), snapshot_date=DAY - timedelta(days=1),
    )  # fmt: skip
    if mobile:
        make_contact_point(session, debtor_id=debtor.id)
    if address:
        make_contact_point(session, debtor_id=debtor.id, kind="address", value="北京市朝阳区")
    return debtor.id


@pytest.fixture
def world(engine: Engine) -> dict[str, int]:
    """Six debtors of one creditor (cn pack), a cycle run for DAY, the strategy in force."""
    with transaction(engine) as session:
        creditor = make_creditor(session)
        ids = {
            "early": _debtor(session, creditor, dpd=15),
            "no_mobile": _debtor(session, creditor, dpd=16, mobile=False),
            "disputed": _debtor(session, creditor, dpd=17),
            "late_a": _debtor(session, creditor, dpd=100, address=True),
            "late_b": _debtor(session, creditor, dpd=120, address=True),
            "middle": _debtor(session, creditor, dpd=45),
        }
        session.add(
            ContactHold(
                debtor_id=ids["disputed"], case_id=None, kind="dispute", reason="金额有误",
                opened_at=NOW - timedelta(days=1), opened_by="ann",
            )
        )  # fmt: skip
    run_daily_cycle(engine, DAY, now=NOW, scoring=False, strategy=False)
    with transaction(engine) as session:
        ids["version"] = _install(session)
    return ids


def _plan(engine: Engine, day: date = DAY) -> dict[tuple[int, str], PlannedAction]:
    with transaction(engine) as session:
        rows = session.scalars(select(PlannedAction).where(PlannedAction.day == day)).all()
        debtor_of = {c: d for c, d in session.execute(select(Case.id, Case.debtor_id))}
        session.expunge_all()
    return {(debtor_of[r.case_id], r.action): r for r in rows}


def test_no_strategy_in_force_plans_nothing(engine: Engine) -> None:
    summary = plan_open_cases(engine, DAY, now=NOW)
    assert summary.note == NO_STRATEGY and summary.strategy is None


def test_segments_and_the_days_plan(engine: Engine, world: dict[str, int]) -> None:
    summary = plan_open_cases(engine, DAY, now=NOW)
    assert summary.strategy == "test@1"
    assert summary.segments == {"EARLY": 3, "LATE": 2, "REST": 1}
    assert summary.unsegmented == 0
    plan = _plan(engine)
    early = world["early"]
    assert plan[(early, "sms")].status == "planned"
    assert plan[(early, "sms")].template == "SMS_REMINDER"
    call = plan[(early, "call")]
    assert (call.status, call.priority, call.channel) == ("planned", 2, "call")
    # the cn pack's contact hours, 08:00–21:00 in the debtor's zone (Shanghai)
    assert call.window_start == datetime.combine(DAY, time(8), tzinfo=CHINA_TZ)
    assert call.window_end == datetime.combine(DAY, time(21), tzinfo=CHINA_TZ)
    assert call.rule_ids == []
    # nothing to contact on
    assert plan[(world["no_mobile"], "call")].status == "no_point"
    assert plan[(world["no_mobile"], "call")].window_start is None
    # a dispute suspends contact: the gate drops both, citing the rule
    for action in ("sms", "call"):
        dropped = plan[(world["disputed"], action)]
        assert dropped.status == "dropped"
        assert dropped.rule_ids == ["CN-X-SUSPEND"]
        assert dropped.window_start is None
    # day 0 of LATE: a call and a legal-referral candidate (no channel, no gate)
    assert plan[(world["late_a"], "call")].priority == 1
    legal = plan[(world["late_a"], "legal")]
    assert (legal.status, legal.channel, legal.window_start) == ("planned", None, None)
    assert (world["late_a"], "visit") not in plan  # the visit is on day 1
    assert plan[(world["middle"], "hold")].status == "hold"
    assert summary.statuses == {"dropped": 2, "hold": 1, "no_point": 2, "planned": 6}


def test_planned_windows_are_allowed_by_the_scalar_gate(
    engine: Engine, world: dict[str, int]
) -> None:
    """Every instant of a planned contact's window is one the gate itself allows."""
    plan_open_cases(engine, DAY, now=NOW)
    plan_open_cases(engine, DAY + timedelta(days=1), now=NOW + timedelta(days=1))
    checked = 0
    with transaction(engine) as session:
        rows = session.scalars(
            select(PlannedAction).where(PlannedAction.status.in_(["planned", "moved"]),
                                        PlannedAction.window_start.is_not(None))
        ).all()  # fmt: skip
        for row in rows:
            case = session.get(Case, row.case_id)
            point = session.get(ContactPoint, row.contact_point_id)
            assert case is not None and point is not None and row.channel is not None
            start, end = row.window_start, row.window_end
            assert start is not None and end is not None
            for at in (start, start + (end - start) / 2, end - timedelta(microseconds=1)):
                decision, _ = decide_contact(
                    session, case, point, channel=row.channel, at=at,
                    collectors=2 if row.channel == "visit" else 1,
                )  # fmt: skip
                assert decision.allowed, (row.action, at, decision.rule_ids)
                checked += 1
            # and the instant before the window is refused (the hours)
            before, _ = decide_contact(
                session, case, point, channel=row.channel, at=start - timedelta(minutes=1),
                collectors=2 if row.channel == "visit" else 1,
            )  # fmt: skip
            assert not before.allowed
    assert checked >= 18


def test_day_in_segment_caps_and_events(engine: Engine, world: dict[str, int]) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    tomorrow = DAY + timedelta(days=1)
    run_daily_cycle(engine, tomorrow, now=NOW + timedelta(days=1), scoring=False, strategy=False)
    summary = plan_open_cases(engine, tomorrow, now=NOW + timedelta(days=1))
    plan = _plan(engine, tomorrow)
    early = world["early"]
    assert (early, "sms") not in plan  # day 0 only
    assert plan[(early, "call")].status == "planned"  # every day
    assert (world["late_a"], "call") not in plan  # every 2 days: day 0, 2, …
    # the visit's cap is one a day: the larger amount due goes first (same priority)
    visits = sorted(plan[(world[k], "visit")].status for k in ("late_a", "late_b"))
    assert visits == ["capped", "planned"]
    assert summary.segments_changed == 0
    with transaction(engine) as session:
        since = set(session.scalars(select(CaseSegment.since)))
        assert since == {DAY}
        events = session.scalars(select(Event).where(Event.type == "case.segment_changed")).all()
        assert len(events) == 6
        assert {e.payload["to"] for e in events} == {"EARLY", "LATE", "REST"}
        assert all(e.payload["from"] is None for e in events)


def test_a_rerun_gives_one_plan_and_no_new_events(engine: Engine, world: dict[str, int]) -> None:
    first = plan_open_cases(engine, DAY, now=NOW)
    again = plan_open_cases(engine, DAY, now=NOW + timedelta(hours=1))
    assert first.statuses == again.statuses
    assert again.segments_changed == 0
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(PlannedAction)) == sum(
            first.statuses.values()
        )
        assert session.scalar(select(func.count()).where(Event.type == "case.segment_changed")) == 6


def test_plans_are_kept_a_quarter(engine: Engine, world: dict[str, int]) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    kept = DAY + timedelta(days=PLAN_KEEP_DAYS)
    plan_open_cases(engine, kept, now=NOW + timedelta(days=PLAN_KEEP_DAYS))
    assert _plan(engine, DAY) and _plan(engine, kept)
    plan_open_cases(engine, kept + timedelta(days=1), now=NOW + timedelta(days=PLAN_KEEP_DAYS + 1))
    assert not _plan(engine, DAY)
    assert _plan(engine, kept) and _plan(engine, kept + timedelta(days=1))


def test_a_segment_change_is_an_event_and_restarts_the_path(
    engine: Engine, world: dict[str, int]
) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    # the middle case's debt is 45 days overdue; made 70, it moves from REST to LATE
    with transaction(engine) as session:
        case = session.scalars(select(Case).where(Case.debtor_id == world["middle"])).one()
        case.dpd = 70
    tomorrow = DAY + timedelta(days=1)
    summary = plan_open_cases(engine, tomorrow, now=NOW + timedelta(days=1))
    assert summary.segments_changed == 1
    plan = _plan(engine, tomorrow)
    assert plan[(world["middle"], "call")].status == "planned"  # LATE's day 0
    with transaction(engine) as session:
        event = session.scalars(
            select(Event)
            .where(Event.type == "case.segment_changed", Event.case_id == case.id)
            .order_by(Event.id.desc())
        ).first()
        assert event is not None
        assert (event.payload["from"], event.payload["to"]) == ("REST", "LATE")
        assert event.payload["row"] == 2
        segment = session.get(CaseSegment, case.id)
        assert segment is not None and segment.since == tomorrow


def test_a_quiet_period_moves_the_call_later_in_the_day(engine: Engine) -> None:
    """Under Reg F (us-regf): no call within 7 days of a conversation. A conversation 7 days
    ago at 15:00 moves today's call to 15:00; one 6 days ago drops it, citing US-02."""
    with transaction(engine) as session:
        creditor = make_creditor(session, code="USBANK")
        use_pack(session, creditor_code="USBANK", pack="us-regf", actor="ann", now=NOW)
        moved = _debtor(session, creditor, dpd=10)
        dropped = _debtor(session, creditor, dpd=11)
    run_daily_cycle(engine, DAY, now=NOW, scoring=False, strategy=False)
    with transaction(engine) as session:
        _install(session)
        user = make_user(session)
        for debtor_id, days in ((moved, 7), (dropped, 6)):
            case = session.scalars(select(Case).where(Case.debtor_id == debtor_id)).one()
            point = session.scalars(
                select(ContactPoint).where(ContactPoint.debtor_id == debtor_id)
            ).one()
            at = datetime.combine(DAY - timedelta(days=days), time(15), tzinfo=CHINA_TZ)
            session.add(
                Contact(
                    case_id=case.id, contact_point_id=point.id, user_id=user.id,
                    channel="call", party="debtor", outcome="connected_debtor", at=at,
                    created_at=at,
                )
            )  # fmt: skip
    plan_open_cases(engine, DAY, now=NOW)
    plan = _plan(engine)
    call = plan[(moved, "call")]
    assert call.status == "moved"
    assert call.window_start == datetime.combine(DAY, time(15), tzinfo=CHINA_TZ)
    assert call.rule_ids == ["US-02"]
    assert plan[(dropped, "call")].status == "dropped"
    assert plan[(dropped, "call")].rule_ids == ["US-02"]
    assert plan[(moved, "sms")].status == "planned"  # the quiet period is for calls


def test_a_version_effective_later_is_not_yet_in_force(engine: Engine) -> None:
    with transaction(engine) as session:
        creditor = make_creditor(session)
        _debtor(session, creditor, dpd=15)
    run_daily_cycle(engine, DAY, now=NOW, scoring=False, strategy=False)
    with transaction(engine) as session:
        _install(session, effective=DAY + timedelta(days=1))
    assert plan_open_cases(engine, DAY, now=NOW).note == NO_STRATEGY
    assert plan_open_cases(engine, DAY + timedelta(days=1), now=NOW).strategy == "test@1"


def test_the_daily_cycle_plans_after_scoring(engine: Engine, world: dict[str, int]) -> None:
    tomorrow = DAY + timedelta(days=1)
    result = run_daily_cycle(engine, tomorrow, now=NOW + timedelta(days=1), scoring=False)
    assert result.strategy is not None
    assert result.strategy["strategy"] == "test@1"
    assert result.to_json()["strategy"]["segments"] == {"EARLY": 3, "LATE": 2, "REST": 1}
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).select_from(Account)) == 6


def test_the_work_queue_puts_the_strategys_call_priority_first(
    engine: Engine, world: dict[str, int]
) -> None:
    """LATE's calls (priority 1) come before EARLY's (priority 2), then cases with no call
    planned today (the held case, the dropped ones), whatever their amounts."""
    plan_open_cases(engine, DAY, now=NOW)
    with transaction(engine) as session:
        collector = make_user(session)
        for case in session.scalars(select(Case)):
            case.assigned_user_id = collector.id
        principal = Principal(
            user_id=collector.id, username=collector.username, role="collector",
            team_id=None, agency_id=None,
        )  # fmt: skip
    with transaction(engine) as session:
        heads = queue_heads(session, [principal], now=NOW, depth=10)
        debtor_of = {c: d for c, d in session.execute(select(Case.id, Case.debtor_id))}
    order = [debtor_of[case_id] for _, _, case_id in heads]
    late = {world["late_a"], world["late_b"]}
    assert set(order[:2]) == late
    assert order[2] == world["early"]
    assert set(order[3:]) == {world["no_mobile"], world["disputed"], world["middle"]}


def test_the_dialer_list_is_masked_ordered_and_windowed(
    engine: Engine, world: dict[str, int]
) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    listed = dialer_list(engine, DAY, now=NOW)
    assert listed.columns[:6] == [
        "case_id", "contact_point_id", "number", "priority", "window_start", "window_end",
    ]  # fmt: skip
    # LATE's two calls (priority 1, the larger amount first), then EARLY's call (priority 2)
    assert listed["priority"].to_list() == [1, 1, 2]
    assert listed["number"].str.contains(r"^\d{3}\*{4}\d{4}$").all()
    assert set(listed["window_start"]) == {"2026-11-02T08:00:00+08:00"}
    assert set(listed["window_end"]) == {"2026-11-02T21:00:00+08:00"}
    with transaction(engine) as session:
        assert session.scalar(select(func.count()).where(Event.type == "pii.revealed")) == 0


def test_revealing_the_dialer_list_needs_the_permission_and_is_audited(
    engine: Engine, world: dict[str, int]
) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    with transaction(engine) as session:
        collector = make_user(session)
        lead = make_user(session, role="team_lead")
        as_collector = Principal(collector.id, collector.username, "collector", None, None)
        as_lead = Principal(lead.id, lead.username, "team_lead", None, None)
    with pytest.raises(PermissionDenied):
        dialer_list(engine, DAY, revealer=as_collector, now=NOW)
    listed = dialer_list(engine, DAY, revealer=as_lead, now=NOW)
    assert listed["number"].str.contains(r"^\d{11}$").all()
    with transaction(engine) as session:
        events = session.scalars(select(Event).where(Event.type == "pii.revealed")).all()
        assert sorted(e.case_id for e in events) == sorted(listed["case_id"].to_list())
        assert {e.actor for e in events} == {lead.username}


def test_the_task_lists_carry_the_gates_decision(engine: Engine, world: dict[str, int]) -> None:
    plan_open_cases(engine, DAY, now=NOW)
    tasks = task_list(engine, DAY)
    by_action = {a: g for (a,), g in tasks.group_by("action")}
    assert sorted(by_action) == ["legal", "sms"]
    assert sorted(by_action["sms"]["status"].to_list()) == ["dropped", "no_point", "planned"]
    assert by_action["legal"].height == 2
    assert by_action["legal"]["window_start"].is_null().all()
    dropped = by_action["sms"].filter(pl.col("status") == "dropped")
    assert dropped["rule_ids"].to_list() == ['["CN-X-SUSPEND"]']
    with pytest.raises(InvalidInput):
        task_list(engine, DAY, actions=("fax",))


CHALLENGER_BODY = STRATEGY.replace("template: SMS_REMINDER", "template: SMS_BROKEN_PROMISE")


def test_an_experiment_plans_its_challenger_arm_by_the_challenger(
    engine: Engine, world: dict[str, int]
) -> None:
    """Half the EARLY cases (by the arm hash) are planned by version 2, the rest and every
    other case by version 1; the arms are recorded once and kept the next day."""
    with transaction(engine) as session:
        challenger = StrategyVersion(
            code="test", version=2, zh="挑战者", en="Challenger", body=CHALLENGER_BODY,
            sha256=text_sha256(CHALLENGER_BODY), status="approved", note="", author="ann",
            created_at=NOW, approved_by="bob", approved_at=NOW,
        )  # fmt: skip
        session.add(challenger)
        session.flush()
        experiment = start_experiment(
            session, None, name="tone", champion="test@1", challenger="test@2",
            share_pct=50, segments=("EARLY",), actor="ann", day=DAY, now=NOW,
        )  # fmt: skip
        experiment_id, salt, challenger_id = experiment.id, experiment.salt, challenger.id
    summary = plan_open_cases(engine, DAY, now=NOW)
    with transaction(engine) as session:
        arms = dict(
            session.execute(
                select(ExperimentCase.case_id, ExperimentCase.arm).where(
                    ExperimentCase.experiment_id == experiment_id
                )
            ).all()
        )
        early = session.scalars(
            select(Case.id).where(
                Case.debtor_id.in_([world[k] for k in ("early", "no_mobile", "disputed")])
            )
        ).all()
        plans = session.scalars(select(PlannedAction).where(PlannedAction.day == DAY)).all()
    # only EARLY's three cases take part, each in the arm its hash gives
    assert sorted(arms) == sorted(early)
    hashed = in_challenger(sorted(early), salt=salt, share_pct=50)
    expected = {
        c: "challenger" if h else "champion" for c, h in zip(sorted(early), hashed, strict=True)
    }
    assert arms == expected
    assert set(expected.values()) == {"champion", "challenger"}  # both arms are exercised
    assert summary.arms == {arm: n for arm, n in Counter(expected.values()).items()}
    for row in plans:
        if row.case_id in arms:
            assert row.arm == arms[row.case_id]
            challenged = arms[row.case_id] == "challenger"
            assert row.version_id == (challenger_id if challenged else world["version"])
            if row.action == "sms":
                assert row.template == ("SMS_BROKEN_PROMISE" if challenged else "SMS_REMINDER")
        else:
            assert row.arm is None and row.version_id == world["version"]
    # the next day: the same arms, nothing joins again
    again = plan_open_cases(engine, DAY + timedelta(days=1), now=NOW + timedelta(days=1))
    assert again.arms == summary.arms
    with transaction(engine) as session:
        joined = session.scalars(select(Event).where(Event.type == "experiment.cases_joined")).all()
        assert len(joined) == 1
