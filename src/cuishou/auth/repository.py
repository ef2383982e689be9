"""Auth queries: users, teams, agencies, tokens, login attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from cuishou.auth.rules import Principal, username_key
from cuishou.kit.errors import Conflict
from cuishou.store.tables import Agency, ApiToken, LoginAttempt, LoginThrottle, Team, User


def user_by_username(session: Session, username: str) -> User | None:
    """The user with this login name, whatever its (ASCII) case."""
    return session.scalar(select(User).where(func.lower(User.username) == username_key(username)))


def username_of(session: Session, user_id: int) -> str:
    return session.scalar(select(User.username).where(User.id == user_id)) or ""


def team_by_name(session: Session, name: str) -> Team | None:
    return session.scalar(select(Team).where(Team.name == name))


def agency_by_code(session: Session, code: str) -> Agency | None:
    return session.scalar(select(Agency).where(Agency.code == code))


def add_team(session: Session, *, name: str, agency_id: int | None, now: datetime) -> Team:
    team = Team(name=name, agency_id=agency_id, created_at=now)
    session.add(team)
    session.flush()
    return team


def add_agency(session: Session, *, code: str, now: datetime) -> Agency:
    agency = Agency(code=code, name=code, created_at=now)
    session.add(agency)
    session.flush()
    return agency


def add_user(
    session: Session,
    *,
    username: str,
    display_name: str,
    role: str,
    team_id: int | None,
    agency_id: int | None,
    password_hash: str | None,
    now: datetime,
) -> User:
    user = User(
        username=username,
        display_name=display_name,
        role=role,
        team_id=team_id,
        agency_id=agency_id,
        password_hash=password_hash,
        active=True,
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError as exc:  # created at the same moment by someone else
        raise Conflict(f"user {username!r} already exists", field="username") from exc
    return user


UserRow = tuple[User, str | None, str | None]


def _users_query() -> Select[User, str, str]:
    return (
        select(User, Team.name, Agency.code)
        .outerjoin(Team, Team.id == User.team_id)
        .outerjoin(Agency, Agency.id == User.agency_id)
        .order_by(User.username)
    )


def list_users(session: Session, *, team_id: int | None = None) -> list[UserRow]:
    query = _users_query()
    if team_id is not None:
        query = query.where(User.team_id == team_id)
    return [(u, t, a) for u, t, a in session.execute(query)]


def user_row(session: Session, user_id: int) -> UserRow:
    user, team, agency = session.execute(_users_query().where(User.id == user_id)).one()
    return user, team, agency


def lock_login_name(session: Session, *, key: str, now: datetime) -> None:
    """Hold the login name ``key`` until this transaction ends: a concurrent attempt on the
    same name waits here, then sees this one's outcome (登录限流 without a race).

    The name's row is created when missing, then locked (``FOR UPDATE`` on PostgreSQL;
    on SQLite the insert's write lock already serialises every writer).
    """
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(LoginThrottle)
        .values(username=key, created_at=now)
        .on_conflict_do_nothing(index_elements=["username"])
    )
    session.execute(
        select(LoginThrottle.username).where(LoginThrottle.username == key).with_for_update()
    )


def record_login_attempt(
    session: Session, *, key: str, at: datetime, succeeded: bool, remote: str
) -> None:
    session.add(LoginAttempt(username=key, at=at, succeeded=succeeded, remote=remote[:64]))
    session.flush()


def failures_since_last_success(session: Session, *, key: str, since: datetime) -> list[datetime]:
    """Failed attempt times on login name ``key`` after ``since`` and after its last
    success."""
    last_success = (
        select(func.max(LoginAttempt.at))
        .where(LoginAttempt.username == key, LoginAttempt.succeeded.is_(True))
        .scalar_subquery()
    )
    query = select(LoginAttempt.at).where(
        LoginAttempt.username == key,
        LoginAttempt.succeeded.is_(False),
        LoginAttempt.at > since,
        (last_success.is_(None)) | (LoginAttempt.at > last_success),
    )
    return list(session.scalars(query))


def add_token(
    session: Session, *, user_id: int, token_hash: str, now: datetime, expires_at: datetime
) -> None:
    session.add(
        ApiToken(user_id=user_id, token_hash=token_hash, created_at=now, expires_at=expires_at)
    )
    session.flush()


def principal_for_token(session: Session, *, token_hash: str, now: datetime) -> Principal | None:
    """The active user holding an unexpired, unrevoked token with this hash."""
    row = session.execute(
        select(User.id, User.username, User.role, User.team_id, User.agency_id)
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == token_hash,
            ApiToken.expires_at > now,
            ApiToken.revoked_at.is_(None),
            User.active.is_(True),
        )
    ).first()
    if row is None:
        return None
    return Principal(
        user_id=row.id,
        username=row.username,
        role=row.role,
        team_id=row.team_id,
        agency_id=row.agency_id,
    )


def revoke_token(session: Session, *, token_hash: str, now: datetime) -> int | None:
    """Revoke an unrevoked token; the id of its user, or ``None`` when there was none."""
    user_id = session.scalar(
        select(ApiToken.user_id).where(
            ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None)
        )
    )
    if user_id is None:
        return None
    session.execute(
        update(ApiToken)
        .where(ApiToken.token_hash == token_hash, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )
    return user_id


def team_rows(session: Session) -> list[tuple[Team, str | None, int, list[str]]]:
    """Every team with its agency code, member count and team leads."""
    teams = session.execute(
        select(Team, Agency.code).outerjoin(Agency, Agency.id == Team.agency_id).order_by(Team.name)
    ).all()
    members: dict[int | None, int] = {
        team_id: int(n)
        for team_id, n in session.execute(
            select(User.team_id, func.count())
            .where(User.team_id.is_not(None))
            .group_by(User.team_id)
        )
    }
    leads: dict[int | None, list[str]] = {}
    for team_id, username in session.execute(
        select(User.team_id, User.username)
        .where(User.role == "team_lead", User.team_id.is_not(None))
        .order_by(User.username)
    ):
        leads.setdefault(team_id, []).append(username)
    return [(team, code, members.get(team.id, 0), leads.get(team.id, [])) for team, code in teams]
