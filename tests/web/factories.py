"""Keyword-only factories for the web tests: teams, agencies, users, tokens, cases."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from cuishou.auth.passwords import hash_password
from cuishou.auth.service import issue_token
from cuishou.store.tables import Agency, Alert, Case, ContactPoint, Team, User
from tests.factories import NOW, make_account, make_creditor, make_debtor

_seq = itertools.count(1)

#: the pages' clock in tests: a Wednesday, 10:00 in Beijing — inside every contact window and
#: weeks from any date in the cn pack's holiday calendar — so no page or browser test depends
#: on the hour, the weekday or the date it runs (the wall clock is never read)
WORKDAY_MORNING = datetime(2026, 11, 4, 2, 0, tzinfo=UTC)


@dataclass
class Clock:
    """The app's clock in tests: set ``now`` to move time."""

    now: datetime = field(default=NOW)

    def __call__(self) -> datetime:
        return self.now


def make_agency(session: Session, *, code: str | None = None) -> Agency:
    agency = Agency(code=code or f"AG{next(_seq)}", name="外包机构", created_at=NOW)
    session.add(agency)
    session.flush()
    return agency


def make_team(session: Session, *, name: str | None = None, agency: Agency | None = None) -> Team:
    team = Team(
        name=name or f"team-{next(_seq)}", agency_id=agency.id if agency else None, created_at=NOW
    )
    session.add(team)
    session.flush()
    return team


def make_user(
    session: Session,
    *,
    role: str = "collector",
    username: str | None = None,
    team: Team | None = None,
    agency: Agency | None = None,
    password: str | None = None,
    active: bool = True,
) -> User:
    user = User(
        username=username or f"{role}-{next(_seq)}",
        display_name=username or role,
        role=role,
        team_id=team.id if team else None,
        agency_id=agency.id if agency else None,
        password_hash=hash_password(password) if password else None,
        active=active,
        created_at=NOW,
    )
    session.add(user)
    session.flush()
    return user


def token_for(
    session: Session, *, user: User, now: datetime = NOW, ttl: timedelta = timedelta(hours=8)
) -> str:
    return issue_token(
        session, user_id=user.id, username=user.username, now=now, ttl=ttl
    ).access_token


def make_contact_point(
    session: Session,
    *,
    debtor_id: int,
    kind: str = "mobile",
    value: str | None = None,
    owner: str = "debtor",
    owner_name: str = "",
    relation: str | None = None,
) -> ContactPoint:
    point = ContactPoint(
        debtor_id=debtor_id,
        kind=kind,
        value=value or f"139{next(_seq):08d}",
        label="",
        owner=owner,
        owner_name=owner_name,
        relation=relation,
        status="active",
        source="placement",
        created_at=NOW,
    )
    session.add(point)
    session.flush()
    return point


def make_case(
    session: Session,
    *,
    assigned: User | None = None,
    team: Team | None = None,
    agency: Agency | None = None,
    bucket: str = "M2",
    dpd: int = 45,
    due_fen: int = 1_234_567,
    amount_tier: str = "medium",
    status: str = "open",
    debtor_name: str = "张伟",
) -> Case:
    """An open case with one account, a debtor mobile and a third-party mobile."""
    creditor = make_creditor(session)
    debtor = make_debtor(session, name=debtor_name)
    case = Case(
        creditor_id=creditor.id,
        debtor_id=debtor.id,
        status=status,
        opened_on=date(2026, 10, 1),
        assigned_user_id=assigned.id if assigned else None,
        team_id=team.id if team else (assigned.team_id if assigned else None),
        agency_id=agency.id if agency else None,
        accounts=1,
        due_fen=due_fen,
        dpd=dpd,
        bucket=bucket,
        amount_tier=amount_tier,
        created_at=NOW,
        updated_at=NOW,
    )
    session.add(case)
    session.flush()
    account = make_account(session, creditor=creditor, debtor=debtor, principal_fen=due_fen)
    account.case_id = case.id
    account.dpd = dpd
    account.bucket = bucket
    make_contact_point(session, debtor_id=debtor.id, value="13812341234")
    make_contact_point(
        session,
        debtor_id=debtor.id,
        value="13900001111",
        owner="third_party",
        owner_name="李娜",
        relation="spouse",
    )
    session.flush()
    return case


def debtor_mobile(session: Session, case: Case) -> ContactPoint:
    query = select(ContactPoint).where(
        ContactPoint.debtor_id == case.debtor_id, ContactPoint.owner == "debtor"
    )
    point = session.scalars(query).first()
    assert point is not None
    return point


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make_alert(
    session: Session, *, case: Case, kind: str = "three_failed_contacts", status: str = "open"
) -> Alert:
    alert = Alert(
        case_id=case.id,
        kind=kind,
        raised_on=date(2026, 10, next(_seq) % 28 + 1),
        status=status,
        details={"kind": kind},
        created_at=NOW,
    )
    session.add(alert)
    session.flush()
    return alert
