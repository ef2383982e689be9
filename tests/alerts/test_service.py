"""Alerts are raised by the alerts domain only, on the creditor's business day."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cuishou.alerts.service import handle_alert, list_alerts, raise_alert, raise_model_alert
from cuishou.auth.rules import Principal
from cuishou.contact.schemas import ContactIn
from cuishou.contact.service import log_contact
from cuishou.kit.errors import PermissionDenied
from cuishou.store.db import transaction
from cuishou.store.tables import Alert, Case, ContactPoint, Creditor, Event, User
from tests.web.factories import make_case, make_user

#: 03:00 UTC: still 1 November in New York, already 2 November in Shanghai
LATE_EVENING_IN_NEW_YORK = datetime(2026, 11, 2, 3, 0, tzinfo=UTC)


def _new_york_case(session: Session) -> tuple[Case, User]:
    collector = make_user(session, username="col_ny")
    case = make_case(session, assigned=collector)
    creditor = session.get(Creditor, case.creditor_id)
    creditor.timezone = "America/New_York"
    session.flush()
    return case, collector


def test_an_alert_is_raised_on_the_creditors_business_day(engine: Engine) -> None:
    with transaction(engine) as session:
        case, _ = _new_york_case(session)
        alert = raise_alert(
            session,
            case_id=case.id,
            creditor_id=case.creditor_id,
            kind="refusal",
            details={"kind": "refusal"},
            actor="tester",
            now=LATE_EVENING_IN_NEW_YORK,
        )
        assert alert is not None and alert.raised_on == date(2026, 11, 1)
        # and a second one of the kind is not raised while the first is open
        again = raise_alert(
            session,
            case_id=case.id,
            creditor_id=case.creditor_id,
            kind="refusal",
            details={"kind": "refusal"},
            actor="tester",
            now=LATE_EVENING_IN_NEW_YORK,
        )
        assert again is None
        events = session.scalars(select(Event.type).where(Event.case_id == case.id)).all()
        assert events.count("alert.raised") == 1


def test_a_logged_refusal_raises_its_alert_through_the_alerts_domain(engine: Engine) -> None:
    with transaction(engine) as session:
        case, collector = _new_york_case(session)
        point = session.scalars(
            select(ContactPoint).where(
                ContactPoint.debtor_id == case.debtor_id, ContactPoint.owner == "debtor"
            )
        ).first()
        assert point is not None
        principal = Principal(
            collector.id, collector.username, "collector", collector.team_id, None
        )
        logged = log_contact(
            session,
            principal,
            case.id,
            ContactIn(contact_point_id=point.id, channel="call", outcome="refused"),
            now=LATE_EVENING_IN_NEW_YORK,
        )
        assert "refusal" in logged.alerts_raised
        raised = session.execute(
            select(Alert.kind, Alert.raised_on).where(Alert.case_id == case.id)
        ).all()
        assert ("refusal", date(2026, 11, 1)) in raised


def _principal(user: User) -> Principal:
    return Principal(user.id, user.username, user.role, user.team_id, user.agency_id)


def test_a_model_alert_is_about_no_case_and_only_model_readers_see_it(engine: Engine) -> None:
    """模型漂移: an alert about a model version is raised once while unresolved, listed for
    the strategist, manager and auditor, hidden from those who work cases, and handled by
    the strategist (who handles no case alerts)."""
    with transaction(engine) as session:
        case, collector = _new_york_case(session)
        raise_alert(
            session, case_id=case.id, creditor_id=case.creditor_id, kind="refusal",
            details={}, actor="tester", now=LATE_EVENING_IN_NEW_YORK,
        )  # fmt: skip
        first = raise_model_alert(
            session, subject="pay_30d-gbm-1", kind="model_drift", today=date(2026, 11, 1),
            details={"psi": 0.31}, actor="system:scoring", now=LATE_EVENING_IN_NEW_YORK,
        )  # fmt: skip
        again = raise_model_alert(
            session, subject="pay_30d-gbm-1", kind="model_drift", today=date(2026, 11, 2),
            details={"psi": 0.4}, actor="system:scoring", now=LATE_EVENING_IN_NEW_YORK,
        )  # fmt: skip
        other = raise_model_alert(
            session, subject="pay_30d-gbm-2", kind="model_drift", today=date(2026, 11, 2),
            details={"psi": 0.4}, actor="system:scoring", now=LATE_EVENING_IN_NEW_YORK,
        )  # fmt: skip
        assert first is not None and first.case_id is None and again is None
        assert other is not None
        with pytest.raises(ValueError, match="not an alert about a model"):
            raise_model_alert(
                session, subject="x", kind="refusal", today=date(2026, 11, 2), details={},
                actor="t", now=LATE_EVENING_IN_NEW_YORK,
            )  # fmt: skip
        strategist = _principal(make_user(session, role="strategist"))
        manager = _principal(make_user(session, role="manager"))
        lead = _principal(make_user(session, role="team_lead"))
        seen = {
            who.role: {
                (a.kind, a.subject)
                for a in list_alerts(session, who, status=None, kind=None, limit=50, offset=0).items
            }
            for who in (strategist, manager, lead, _principal(collector))
        }
        models = {("model_drift", "pay_30d-gbm-1"), ("model_drift", "pay_30d-gbm-2")}
        assert seen["strategist"] >= models and seen["manager"] >= models
        assert ("refusal", None) in seen["manager"]
        assert not seen["collector"] & models and not seen["team_lead"] & models
        handled = handle_alert(
            session, strategist, first.id, action="resolve", note="retrained",
            now=LATE_EVENING_IN_NEW_YORK,
        )  # fmt: skip
        assert handled.status == "resolved" and handled.subject == "pay_30d-gbm-1"
        refusal = session.scalar(select(Alert).where(Alert.kind == "refusal"))
        assert refusal is not None
        with pytest.raises(PermissionDenied):
            handle_alert(
                session, strategist, refusal.id, action="resolve", note="",
                now=LATE_EVENING_IN_NEW_YORK,
            )  # fmt: skip
