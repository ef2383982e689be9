"""Roles, permissions, case scope and login throttling — pure decisions on plain data.

Who may do what is one table (:data:`PERMISSIONS`); which cases a user may see is one
function (:func:`case_scope_of`). The repository turns a :class:`CaseScope` into the SQL
filter every case query uses; :func:`case_in_scope` is its scalar twin.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

#: role -> (中文, English)
ROLES: dict[str, tuple[str, str]] = {
    "collector": ("催收员", "Collector"),
    "team_lead": ("组长", "Team lead"),
    "manager": ("主管/经理", "Manager"),
    "compliance": ("合规/质检", "Compliance / QA"),
    "legal": ("法务", "Legal"),
    "admin": ("管理员", "Administrator"),
    "auditor": ("审计", "Auditor"),
    "agency": ("委外机构", "Agency user"),
    "strategist": ("策略经理", "Strategy manager"),
}

ALL_ROLES = frozenset(ROLES)
#: roles that work cases: log contacts and take promises
WORKING_ROLES = frozenset({"collector", "team_lead", "manager", "agency"})

#: permission -> roles holding it. Scope (which cases) is separate: see case_scope_of.
PERMISSIONS: dict[str, frozenset[str]] = {
    "case.read": ALL_ROLES,
    "contact.create": WORKING_ROLES,
    "promise.create": WORKING_ROLES,
    "case.assign": frozenset({"team_lead", "manager", "admin"}),
    "alert.read": ALL_ROLES,
    "alert.handle": frozenset({"team_lead", "manager"}),
    "user.read": frozenset({"team_lead", "manager", "admin", "auditor"}),
    "user.create": frozenset({"admin"}),
    "pii.reveal": ALL_ROLES - {"collector", "agency"},
    "compliance.check": WORKING_ROLES | {"compliance"},
    # a collector records the dispute or cease request the debtor makes on a call;
    # lifting it is for those who verified it
    "compliance.hold.open": WORKING_ROLES | {"compliance", "legal"},
    "compliance.hold.lift": frozenset({"team_lead", "manager", "compliance"}),
    "compliance.override": frozenset({"team_lead", "manager", "compliance"}),
    "compliance.report": frozenset({"compliance", "manager", "auditor", "admin"}),
    "compliance.screen": WORKING_ROLES | {"compliance", "legal"},
    "qa.read": frozenset({"compliance", "manager", "auditor"}),
    "qa.review": frozenset({"compliance"}),
    "template.read": ALL_ROLES,
    "template.manage": frozenset({"compliance", "manager"}),
    "team.read": frozenset({"manager", "admin", "auditor"}),
    "team.create": frozenset({"admin"}),
    "workload.read": frozenset({"team_lead", "manager"}),
    "report.read": frozenset({"manager", "admin", "auditor"}),
    # KPIs (绩效): everyone who works cases or oversees them, each within their case scope
    "kpi.read": WORKING_ROLES | {"admin", "auditor", "compliance", "strategist"},
    # a system feeding payments (bank, payment gateway) through an integration user
    "payment.post": frozenset({"manager", "admin"}),
    # a person entering a payment the debtor proved (receipt), on a case in their scope
    "payment.manual": frozenset({"team_lead", "manager"}),
    "payment.reverse": frozenset({"manager"}),
    # a manual adjustment of an account's balances (手工调账), with a reason, in the ledger
    "ledger.adjust": frozenset({"manager"}),
    "promise.stats": frozenset({"team_lead", "manager", "auditor"}),
    # an agreement is negotiated by whoever works the case; the approval matrix then
    # says which level must approve it (agreements/approval_matrix.yaml)
    "agreement.request": frozenset({"collector", "team_lead", "manager"}),
    "agreement.approve": frozenset({"team_lead", "manager"}),
    # scoring (风险分级与意向预测): the strategy manager trains, promotes and monitors
    # models; managers and auditors read the model cards
    "model.read": frozenset({"strategist", "manager", "auditor"}),
    "model.train": frozenset({"strategist"}),
    "model.promote": frozenset({"strategist"}),
    # strategies (策略管理): the strategy manager drafts and submits; another strategy manager
    # or a manager approves (four eyes) and activates; team leads and compliance read them
    "strategy.read": frozenset({"strategist", "manager", "auditor", "team_lead", "compliance"}),
    "strategy.edit": frozenset({"strategist"}),
    "strategy.approve": frozenset({"strategist", "manager"}),
    "strategy.activate": frozenset({"strategist", "manager"}),
    # champion/challenger (策略效果评估): started and stopped by the strategy manager; a
    # winner is promoted on a second person's approval
    "experiment.read": frozenset({"strategist", "manager", "auditor"}),
    "experiment.manage": frozenset({"strategist"}),
    "experiment.approve": frozenset({"strategist", "manager"}),
    # agency placement (委外): a manager places, recalls and closes commission statements;
    # an agency user reads its own placements and statements (scope: its agency)
    "agency.manage": frozenset({"manager"}),
    "agency.read": frozenset({"manager", "agency", "auditor", "admin"}),
    # field visits (外访): a collector asks for one on a case they work; a team lead (or a
    # manager) schedules the team's visits and orders their route; the scheduled collectors
    # record the visit (走访记录表); its photos and documents are read by those collectors
    # and the roles that oversee or review visits — never by agencies
    "visit.request": frozenset({"collector", "team_lead", "manager"}),
    "visit.read": frozenset({"collector", "team_lead", "manager", "compliance", "auditor"}),
    "visit.schedule": frozenset({"team_lead", "manager"}),
    "visit.record": frozenset({"collector", "team_lead"}),
    "visit.file.read": frozenset({"collector", "team_lead", "manager", "compliance", "auditor"}),
}

#: roles that may receive case assignments
ASSIGNABLE_ROLES = frozenset({"collector"})

#: Login throttling: this many failures for one username within the window lock it.
LOGIN_FAILURE_LIMIT = 5
LOGIN_WINDOW = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 8
#: the longest login name and password accepted anywhere; longer ones are refused before
#: anything is written or hashed
MAX_USERNAME_LENGTH = 64
MAX_PASSWORD_LENGTH = 1024

_USERNAME_RE = re.compile(r"^[A-Za-z0-9_.\-]{2,64}$")
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


@dataclass(frozen=True, slots=True)
class Principal:
    """The logged-in user as every service sees it."""

    user_id: int
    username: str
    role: str
    team_id: int | None
    agency_id: int | None


@dataclass(frozen=True, slots=True)
class CaseScope:
    """Which cases a user sees: all, those assigned to a user, a team's, an agency's, none."""

    kind: Literal["all", "user", "team", "agency", "nothing"]
    id: int | None = None


def can(role: str, permission: str) -> bool:
    return role in PERMISSIONS[permission]


def case_scope_of(principal: Principal) -> CaseScope:
    """行级权限: a collector sees the cases assigned to them, a team lead their team's,
    an agency user the cases placed with their agency; the other roles see all cases.

    A team lead without a team or an agency user without an agency sees nothing.
    """
    role = principal.role
    if role == "collector":
        return CaseScope("user", principal.user_id)
    if role == "team_lead":
        return CaseScope("team", principal.team_id) if principal.team_id else CaseScope("nothing")
    if role == "agency":
        if principal.agency_id:
            return CaseScope("agency", principal.agency_id)
        return CaseScope("nothing")
    if role in ALL_ROLES:
        return CaseScope("all")
    return CaseScope("nothing")


def case_in_scope(
    scope: CaseScope, *, assigned_user_id: int | None, team_id: int | None, agency_id: int | None
) -> bool:
    """Scalar twin of the SQL scope filter (``cases.repository.case_scope_clause``)."""
    if scope.kind == "all":
        return True
    if scope.kind == "user":
        return assigned_user_id is not None and assigned_user_id == scope.id
    if scope.kind == "team":
        return team_id is not None and team_id == scope.id
    if scope.kind == "agency":
        return agency_id is not None and agency_id == scope.id
    return False


def username_key(username: str) -> str:
    """The key a login name is known by: ASCII letters lower-cased, nothing else changed.

    Usernames are unique by this key and looked up by it, so ``Col_A`` logs in as ``col_a``
    and failed attempts count against the same name whatever its case. Only ASCII is folded
    (usernames are ASCII): it is what SQLite's and PostgreSQL's ``lower()`` agree on.
    """
    return username.translate(_ASCII_LOWER)


@dataclass(frozen=True, slots=True)
class LoginProblem:
    """Why a login attempt is refused before anything is looked up, written or hashed."""

    field: Literal["username", "password"]
    kind: Literal["missing", "too_long"]
    message: str


def login_problem(*, username: str, password: str) -> LoginProblem | None:
    if not username:
        return LoginProblem("username", "missing", "give a username")
    if not password:
        return LoginProblem("password", "missing", "give a password")
    if len(username) > MAX_USERNAME_LENGTH:
        return LoginProblem(
            "username", "too_long", f"username must have at most {MAX_USERNAME_LENGTH} characters"
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        return LoginProblem(
            "password",
            "too_long",
            f"password must have at most {MAX_PASSWORD_LENGTH:,} characters",
        )
    return None


def throttled_until(
    failures: Iterable[datetime],
    *,
    now: datetime,
    limit: int = LOGIN_FAILURE_LIMIT,
    window: timedelta = LOGIN_WINDOW,
) -> datetime | None:
    """When a username may try again, or ``None`` if it is not locked.

    ``failures`` are the times of failed attempts since the last successful login. The
    username is locked while ``limit`` or more of them fall within ``window`` before ``now``.
    """
    recent = sorted(t for t in failures if now - window < t <= now)
    if len(recent) < limit:
        return None
    return recent[len(recent) - limit] + window


def user_problem(
    *, username: str, role: str, team: str | None, agency: str | None, password: str
) -> str | None:
    """Why a new user cannot be created as given, or ``None``."""
    if not _USERNAME_RE.match(username):
        return "username must be 2-64 letters, digits, '.', '_' or '-'"
    if role not in ROLES:
        return f"role must be one of {', '.join(ROLES)}; got {role!r}"
    if role == "team_lead" and not team:
        return "a team lead needs a team (--team)"
    if role == "agency" and not agency:
        return "an agency user needs an agency (--agency)"
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"password must have at most {MAX_PASSWORD_LENGTH:,} characters"
    return None
