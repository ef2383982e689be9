"""Auth use cases: add a user, log in (throttled) for a token, resolve a token, list users.

Services never commit; the edge does. A failed login must still be recorded, so
:func:`login` returns the failure instead of raising it and the edge commits both ways.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from cuishou.audit.events import append_event
from cuishou.auth import repository as repo
from cuishou.auth.passwords import hash_password, new_token, token_hash, verify_password
from cuishou.auth.rules import (
    LOGIN_WINDOW,
    Principal,
    can,
    login_problem,
    throttled_until,
    user_problem,
    username_key,
)
from cuishou.auth.schemas import (
    TeamIn,
    TeamList,
    TeamOut,
    TokenOut,
    UserIn,
    UserList,
    UserOut,
)
from cuishou.kit.errors import (
    Conflict,
    CuishouError,
    InvalidInput,
    NotAuthenticated,
    PermissionDenied,
    TooManyAttempts,
)
from cuishou.kit.text import text_problem

DEFAULT_TOKEN_TTL = timedelta(hours=8)


def require(principal: Principal, permission: str) -> None:
    """Raise :class:`PermissionDenied` unless the principal's role holds ``permission``."""
    if not can(principal.role, permission):
        raise PermissionDenied(
            f"a {principal.role} may not do this ({permission})", permission=permission
        )


def _user_out(row: repo.UserRow) -> UserOut:
    user, team, agency = row
    return UserOut(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        team=team,
        agency=agency,
        active=user.active,
    )


def add_user(
    session: Session, data: UserIn, *, actor: str, now: datetime, login: bool = True
) -> UserOut:
    """Create a user; the team (by name) and agency (by code) are created when missing.

    ``login=False`` stores no password hash (nobody can log in as the user until a password
    is set): for people who only exist in a simulation (``cuishou simulate``)."""
    problem = user_problem(
        username=data.username,
        role=data.role,
        team=data.team,
        agency=data.agency,
        password=data.password,
    )
    if problem:
        raise InvalidInput(problem)
    existing = repo.user_by_username(session, data.username)
    if existing is not None:
        known_as = "" if existing.username == data.username else f" as {existing.username!r}"
        raise Conflict(
            f"user {data.username!r} already exists{known_as} (usernames ignore case)",
            field="username",
        )
    agency_id: int | None = None
    if data.agency:
        agency = repo.agency_by_code(session, data.agency) or repo.add_agency(
            session, code=data.agency, now=now
        )
        agency_id = agency.id
    team_id: int | None = None
    if data.team:
        team = repo.team_by_name(session, data.team) or repo.add_team(
            session, name=data.team, agency_id=agency_id, now=now
        )
        team_id = team.id
    user = repo.add_user(
        session,
        username=data.username,
        display_name=data.display_name or data.username,
        role=data.role,
        team_id=team_id,
        agency_id=agency_id,
        password_hash=hash_password(data.password) if login else None,
        now=now,
    )
    append_event(
        session,
        at=now,
        actor=actor,
        type="user.created",
        entity_type="user",
        entity_id=user.id,
        payload={
            "username": user.username,
            "role": user.role,
            "team": data.team,
            "agency": data.agency,
        },
    )
    return _user_out(repo.user_row(session, user.id))


@dataclass(frozen=True, slots=True)
class LoginResult:
    token: TokenOut | None
    error: CuishouError | None


def issue_token(
    session: Session, *, user_id: int, username: str, now: datetime, ttl: timedelta
) -> TokenOut:
    token = new_token()
    expires_at = now + ttl
    repo.add_token(
        session, user_id=user_id, token_hash=token_hash(token), now=now, expires_at=expires_at
    )
    append_event(
        session,
        at=now,
        actor=username,
        type="auth.token_issued",
        entity_type="user",
        entity_id=user_id,
        payload={"expires_at": expires_at.isoformat()},
    )
    return TokenOut(access_token=token, expires_at=expires_at)


def login(
    session: Session,
    *,
    username: str,
    password: str,
    now: datetime,
    remote: str = "",
    ttl: timedelta = DEFAULT_TOKEN_TTL,
) -> LoginResult:
    """Password login (登录): throttled per login name; unknown users and wrong passwords
    get the same answer.

    A name over the length limits is refused before anything is written or hashed. Then
    the name is locked for this transaction (:func:`repo.lock_login_name`), so concurrent
    attempts on it are judged one after another: with any number of them at once, at most
    ``LOGIN_FAILURE_LIMIT`` passwords are checked before the name is throttled. Names are
    matched and counted without regard to case (``username_key``).
    """
    problem = login_problem(username=username, password=password)
    if problem is not None:
        return LoginResult(None, InvalidInput(problem.message, field=problem.field))
    for name, value in (("username", username), ("password", password)):
        if why := text_problem(value):
            return LoginResult(None, InvalidInput(f"{name} {why}", field=name))
    key = username_key(username)
    repo.lock_login_name(session, key=key, now=now)
    failures = repo.failures_since_last_success(session, key=key, since=now - LOGIN_WINDOW)
    locked_until = throttled_until(failures, now=now)
    if locked_until is not None:
        wait = max(1, int((locked_until - now).total_seconds()))
        minutes = (wait + 59) // 60
        return LoginResult(
            None,
            TooManyAttempts(
                f"too many failed logins for {username!r}; try again in {minutes} minutes",
                retry_after=wait,
            ),
        )
    user = repo.user_by_username(session, username)
    ok = verify_password(user.password_hash if user else None, password)
    if user is None or not ok or not user.active:
        repo.record_login_attempt(session, key=key, at=now, succeeded=False, remote=remote)
        return LoginResult(None, NotAuthenticated("wrong username or password"))
    repo.record_login_attempt(session, key=key, at=now, succeeded=True, remote=remote)
    return LoginResult(
        issue_token(session, user_id=user.id, username=user.username, now=now, ttl=ttl), None
    )


def authenticate(session: Session, *, token: str | None, now: datetime) -> Principal:
    if not token:
        raise NotAuthenticated("log in first: send 'Authorization: Bearer <token>'")
    principal = repo.principal_for_token(session, token_hash=token_hash(token), now=now)
    if principal is None:
        raise NotAuthenticated("the token is unknown or has expired; log in again")
    return principal


def end_session(session: Session, *, token: str, now: datetime) -> None:
    """Log out (退出登录): revoke the token at once and record it."""
    user_id = repo.revoke_token(session, token_hash=token_hash(token), now=now)
    if user_id is None:
        return
    username = repo.username_of(session, user_id)
    append_event(
        session,
        at=now,
        actor=username,
        type="auth.logged_out",
        entity_type="user",
        entity_id=user_id,
        payload={},
    )


def list_users(session: Session, principal: Principal) -> UserList:
    """Admins, managers and auditors see every user; a team lead sees their team."""
    require(principal, "user.read")
    team_id = None
    if principal.role == "team_lead":
        team_id = principal.team_id if principal.team_id is not None else -1
    return UserList(items=[_user_out(row) for row in repo.list_users(session, team_id=team_id)])


def create_user(session: Session, principal: Principal, data: UserIn, *, now: datetime) -> UserOut:
    require(principal, "user.create")
    return add_user(session, data, actor=principal.username, now=now)


def list_teams(session: Session, principal: Principal) -> TeamList:
    """Teams with their agency, member count and leads (admin, manager, auditor)."""
    require(principal, "team.read")
    return TeamList(
        items=[
            TeamOut(id=team.id, name=team.name, agency=code, members=members, leads=leads)
            for team, code, members, leads in repo.team_rows(session)
        ]
    )


def create_team(session: Session, principal: Principal, data: TeamIn, *, now: datetime) -> TeamOut:
    """New team (新建团队), optionally of an agency (created when missing)."""
    require(principal, "team.create")
    name = data.name.strip()
    if not name:
        raise InvalidInput("a team needs a name", field="name")
    if repo.team_by_name(session, name) is not None:
        raise Conflict(f"team {name!r} already exists", field="name")
    agency_id: int | None = None
    if data.agency:
        agency = repo.agency_by_code(session, data.agency) or repo.add_agency(
            session, code=data.agency, now=now
        )
        agency_id = agency.id
    team = repo.add_team(session, name=name, agency_id=agency_id, now=now)
    append_event(
        session,
        at=now,
        actor=principal.username,
        type="team.created",
        entity_type="team",
        entity_id=team.id,
        payload={"name": name, "agency": data.agency},
    )
    return TeamOut(id=team.id, name=name, agency=data.agency, members=0, leads=[])


def principal_named(session: Session, username: str) -> Principal:
    """The active user ``username`` as a principal: who a command line acts as (``--as``)."""
    user = repo.user_by_username(session, username)
    if user is None or not user.active:
        raise InvalidInput(f"--as: no active user {username!r}", field="as")
    return Principal(
        user_id=user.id,
        username=user.username,
        role=user.role,
        team_id=user.team_id,
        agency_id=user.agency_id,
    )
