"""Start, stop and promote an experiment on both stores: the checks, four eyes, the events;
the arms the planning step records (stable, once); the guard rail that stops a challenger."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.alerts.service import list_alerts
from cuishou.auth.rules import Principal
from cuishou.experiments.rules import in_challenger
from cuishou.experiments.service import (
    approve_promotion,
    check_guardrails,
    get_experiment,
    record_arms,
    reject_promotion,
    request_promotion,
    running_experiments,
    start_experiment,
    stop_experiment,
)
from cuishou.kit.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import (
    Alert,
    Case,
    Event,
    Experiment,
    ExperimentCase,
    StrategyVersion,
    User,
)
from tests.experiments.world import START, contact, local, make_users, make_version
from tests.web.factories import make_case

NOW = local(2, 9)


def principal(user: object) -> Principal:
    return Principal(
        user_id=user.id, username=user.username, role=user.role,  # type: ignore[attr-defined]
        team_id=None, agency_id=None,
    )  # fmt: skip


def events(session: Session, experiment_id: int) -> list[tuple[str, str]]:
    rows = session.scalars(
        select(Event)
        .where(Event.entity_type == "experiment", Event.entity_id == experiment_id)
        .order_by(Event.id)
    )
    return [(e.type, e.actor) for e in rows]


@pytest.fixture
def setup(engine: Engine) -> dict[str, Principal]:
    with transaction(engine) as session:
        users = make_users(session)
        make_version(session, version=1)
        make_version(session, version=2, status="approved")
        make_version(session, version=3, status="draft")
        return {name: principal(user) for name, user in users.items()}


def start(session: Session, who: Principal | None = None, **values: object) -> Experiment:
    args: dict[str, object] = {
        "name": "tone", "champion": "default@1", "challenger": "default@2",
        "actor": "cli:test", "day": START, "now": NOW,
    }  # fmt: skip
    args.update(values)
    return start_experiment(session, who, **args)  # type: ignore[arg-type]


def test_start_records_the_experiment_and_an_event(
    engine: Engine, setup: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        experiment = start(session, setup["strat_a"], segments=("A_REMIND", "B_CALL"))
        out = get_experiment(session, setup["auditor"], experiment.id)
        assert (out.status, out.champion, out.challenger) == ("running", "default@1", "default@2")
        assert out.share_pct == 20  # the configured default
        assert out.segments == ["A_REMIND", "B_CALL"]
        assert out.guardrails == {
            "complaints_per_1000": 5.0, "violations_per_1000": 5.0, "min_cases": 200,
        }  # fmt: skip
        assert out.started_by == "strat_a" and out.cases == {"champion": 0, "challenger": 0}
        assert events(session, experiment.id) == [("experiment.started", "strat_a")]
        plans = running_experiments(session, START)
        assert [(p.name, p.segments, p.salt) for p in plans] == [
            ("tone", ("A_REMIND", "B_CALL"), experiment.salt)
        ]
        assert running_experiments(session, date(2026, 11, 1)) == []  # not started yet


@pytest.mark.parametrize(
    ("values", "error", "field"),
    [
        ({"name": "bad name!"}, InvalidInput, "name"),
        ({"champion": "default@2"}, InvalidInput, "champion"),  # not in force
        ({"champion": "nope"}, InvalidInput, "champion"),
        ({"challenger": "default@9"}, InvalidInput, "challenger"),
        ({"challenger": "default@3"}, InvalidInput, "challenger"),  # a draft
        ({"challenger": "default@1"}, InvalidInput, "challenger"),  # the champion itself
        ({"share_pct": 100}, InvalidInput, "share"),
        ({"segments": ("NOPE",)}, InvalidInput, "segment"),
        ({"guardrails": {"min_cases": 0}}, InvalidInput, "guardrail"),
        ({"guardrails": {"colour": 1}}, InvalidInput, "guardrail"),
    ],
)
def test_start_refuses_what_cannot_run_naming_the_field(
    engine: Engine,
    setup: dict[str, Principal],
    values: dict,
    error: type,
    field: str,  # type: ignore[type-arg]
) -> None:
    with transaction(engine) as session, pytest.raises(error) as raised:
        start(session, **values)
    assert raised.value.details.get("field") == field  # type: ignore[attr-defined]


def test_only_disjoint_segments_run_side_by_side(
    engine: Engine, setup: dict[str, Principal]
) -> None:
    with transaction(engine) as session:
        start(session, segments=("A_REMIND",))
        with pytest.raises(Conflict):
            start(session, name="again")  # every segment overlaps
        with pytest.raises(Conflict):
            start(session, name="again", segments=("A_REMIND", "B_CALL"))
        start(session, name="other", segments=("B_CALL",))
        with pytest.raises(Conflict):
            start(session, name="other")  # the name is taken
        assert [p.name for p in running_experiments(session, START)] == ["tone", "other"]


def test_who_may_start_and_stop(engine: Engine, setup: dict[str, Principal]) -> None:
    with transaction(engine) as session:
        for who in ("manager", "auditor", "col"):
            with pytest.raises(PermissionDenied):
                start(session, setup[who])
        experiment = start(session, setup["strat_a"])
        with pytest.raises(PermissionDenied):
            stop_experiment(session, setup["manager"], experiment.id, reason="", actor="",
                            day=START, now=NOW)  # fmt: skip
        stopped = stop_experiment(
            session, setup["strat_b"], experiment.id, reason="", actor="", day=START, now=NOW
        )
        assert (stopped.status, stopped.stopped_by, stopped.stop_reason) == (
            "stopped", "strat_b", "stopped by hand",
        )  # fmt: skip
        with pytest.raises(Conflict):
            stop_experiment(session, None, experiment.id, reason="", actor="x", day=START, now=NOW)
        assert running_experiments(session, START) == []
        assert events(session, experiment.id)[-1] == ("experiment.stopped", "strat_b")
        with pytest.raises(NotFound):
            stop_experiment(session, None, 999, reason="", actor="x", day=START, now=NOW)


def test_promotion_needs_a_second_person(engine: Engine, setup: dict[str, Principal]) -> None:
    with transaction(engine) as session:
        experiment = start(session, setup["strat_a"])
        with pytest.raises(Conflict):  # nothing asked yet
            approve_promotion(session, setup["manager"], experiment.id, actor="", day=START,
                              now=NOW)  # fmt: skip
        with pytest.raises(PermissionDenied):  # a manager approves, does not ask
            request_promotion(session, setup["manager"], experiment.id, actor="", now=NOW)
        request_promotion(session, setup["strat_a"], experiment.id, note="B wins", actor="",
                          now=NOW)  # fmt: skip
        assert get_experiment(session, None, experiment.id).promotion_requested_by == "strat_a"
        with pytest.raises(Conflict):  # asked already
            request_promotion(session, setup["strat_b"], experiment.id, actor="", now=NOW)
        with pytest.raises(PermissionDenied):  # four eyes
            approve_promotion(session, setup["strat_a"], experiment.id, actor="", day=START,
                              now=NOW)  # fmt: skip
        with pytest.raises(PermissionDenied):  # an auditor only reads
            approve_promotion(session, setup["auditor"], experiment.id, actor="", day=START,
                              now=NOW)  # fmt: skip
        reject_promotion(session, setup["strat_b"], experiment.id, note="too early", actor="",
                         now=NOW)  # fmt: skip
        assert get_experiment(session, None, experiment.id).promotion_requested_by is None
        request_promotion(session, setup["strat_b"], experiment.id, actor="", now=NOW)
        promoted = approve_promotion(session, setup["manager"], experiment.id, actor="",
                                     day=START, now=NOW)  # fmt: skip
        assert (promoted.status, promoted.stopped_by) == ("promoted", "manager")
        assert "asked by strat_b, approved by manager" in (promoted.stop_reason or "")
        assert events(session, experiment.id) == [
            ("experiment.started", "strat_a"),
            ("experiment.promotion_requested", "strat_a"),
            ("experiment.promotion_rejected", "strat_b"),
            ("experiment.promotion_requested", "strat_b"),
            ("experiment.promoted", "manager"),
        ]
        # the approved challenger is now the strategy in force, the champion retired
        challenger = session.get(StrategyVersion, experiment.challenger_id)
        champion = session.get(StrategyVersion, experiment.champion_id)
        assert challenger is not None and champion is not None
        assert (challenger.status, challenger.activated_by) == ("active", "manager")
        assert champion.status == "retired"
        with pytest.raises(Conflict):  # over
            request_promotion(session, setup["strat_a"], experiment.id, actor="", now=NOW)


def test_arms_are_recorded_once_and_kept(engine: Engine, setup: dict[str, Principal]) -> None:
    with transaction(engine) as session:
        experiment = start(session, share_pct=50)
        user = session.scalars(select(User).where(User.username == "col")).one()
        ids = [make_case(session, assigned=user).id for _ in range(40)]
        hashed = in_challenger(ids, salt=experiment.salt, share_pct=50)
        arms = pl.DataFrame(
            {"case_id": ids, "arm": ["challenger" if h else "champion" for h in hashed]}
        )
        assert record_arms(session, experiment.id, arms, START) == 40
        # the next day: the same cases (some with the other arm, as if the hash changed) and
        # a new one; only the new one joins, the others keep their arm and day
        new = make_case(session, assigned=user).id
        flipped = arms.with_columns(
            pl.when(pl.col("arm") == "champion").then(pl.lit("challenger"))
            .otherwise(pl.lit("champion")).alias("arm")
        ).vstack(pl.DataFrame({"case_id": [new], "arm": ["champion"]}))  # fmt: skip
        assert record_arms(session, experiment.id, flipped, date(2026, 11, 3)) == 1
        rows = session.execute(
            select(ExperimentCase.case_id, ExperimentCase.arm, ExperimentCase.joined_on).where(
                ExperimentCase.experiment_id == experiment.id
            )
        ).all()
        stored = {r.case_id: (r.arm, r.joined_on) for r in rows}
        assert len(stored) == 41
        for case_id, arm in arms.iter_rows():
            assert stored[case_id] == (arm, START)
        assert stored[new] == ("champion", date(2026, 11, 3))
        assert 5 < sum(1 for a, _ in stored.values() if a == "challenger") < 35
        assert [t for t, _ in events(session, experiment.id)].count("experiment.cases_joined") == 2
        with pytest.raises(InvalidInput):
            record_arms(session, experiment.id, pl.DataFrame({"case_id": [new], "arm": ["x"]}),
                        START)  # fmt: skip
        stop_experiment(session, None, experiment.id, reason="", actor="x", day=START, now=NOW)
        with pytest.raises(Conflict):
            record_arms(session, experiment.id, arms, START)


def test_a_challenger_with_too_many_complaints_is_stopped_with_an_alert(
    engine: Engine, setup: dict[str, Principal]
) -> None:
    from cuishou.store.tables import User

    with transaction(engine) as session:
        limits = {"min_cases": 4, "complaints_per_1000": 100}
        experiment = start(session, share_pct=50, guardrails=limits)
        col = session.scalars(select(User).where(User.username == "col")).one()
        cases = [make_case(session, assigned=col) for _ in range(8)]
        arms = pl.DataFrame(
            {"case_id": [c.id for c in cases], "arm": ["champion"] * 4 + ["challenger"] * 4}
        )
        record_arms(session, experiment.id, arms, START)
        # the challenger: 1 complaint in 4 cases = 250 per 1,000 vs 0: within 100? no
        case: Case = cases[5]
        contact(session, case, col, local(3, 10), "complaint", "debtor")
        # not yet: the day before the complaint nothing is breached
        assert check_guardrails(session, START, NOW) == []
        stops = check_guardrails(session, date(2026, 11, 3), local(3, 20))
        assert [(s.name, len(s.reasons)) for s in stops] == [("tone", 1)]
        assert "complaints_per_1000: challenger 250.00 vs champion 0.00" in stops[0].reasons[0]
        stopped = get_experiment(session, None, experiment.id)
        assert (stopped.status, stopped.stopped_by) == ("stopped", "system")
        assert (stopped.stop_reason or "").startswith("guard rail: complaints_per_1000")
        assert events(session, experiment.id)[-1] == ("experiment.stopped", "system")
        alert = session.scalars(select(Alert).where(Alert.kind == "experiment_guardrail")).one()
        assert (alert.subject, alert.case_id, alert.raised_on) == (
            "experiment:tone", None, date(2026, 11, 3),
        )  # fmt: skip
        # the strategist sees it among the alerts; running again stops nothing more
        page = list_alerts(session, setup["strat_a"], status=None, kind="experiment_guardrail",
                           limit=10, offset=0)  # fmt: skip
        assert page.total == 1
        assert check_guardrails(session, date(2026, 11, 4), local(4, 20)) == []


def test_a_guard_rail_waits_for_enough_cases(engine: Engine, setup: dict[str, Principal]) -> None:
    from cuishou.store.tables import User

    with transaction(engine) as session:
        experiment = start(session, share_pct=50)  # the default: 200 cases per arm
        col = session.scalars(select(User).where(User.username == "col")).one()
        cases = [make_case(session, assigned=col) for _ in range(2)]
        arms = {"case_id": [c.id for c in cases], "arm": ["champion", "challenger"]}
        record_arms(session, experiment.id, pl.DataFrame(arms), START)
        contact(session, cases[1], col, local(3, 10), "complaint", "debtor")
        assert check_guardrails(session, date(2026, 11, 3), local(3, 20)) == []
        assert get_experiment(session, None, experiment.id).status == "running"
