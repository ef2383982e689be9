"""A small organisation for scope and permission tests.

Team A (lead ``lead_a``, collector ``col_a``) and team B (lead ``lead_b``, collector
``col_b``); agencies X (user ``agency_x``) and Y (user ``agency_y``); one user for each
other role. ``case_for_a`` makes a case assigned to ``col_a`` in team A, placed with
agency X: inside the scope of col_a, lead_a, agency_x and every all-seeing role.
``case_for_b`` is its mirror for col_b / team B / agency Y.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from cuishou.store.db import transaction
from cuishou.store.tables import Agency, Case, Team, User
from tests.web.factories import make_agency, make_case, make_team, make_user, token_for

#: the user acting for each role in the matrix
ROLE_ACTORS = {
    "collector": "col_a",
    "team_lead": "lead_a",
    "manager": "manager",
    "compliance": "compliance",
    "legal": "legal",
    "admin": "admin",
    "auditor": "auditor",
    "agency": "agency_x",
    "strategist": "strategist",
}


@dataclass
class World:
    team_a: Team
    team_b: Team
    agency_x: Agency
    agency_y: Agency
    users: dict[str, User]
    tokens: dict[str, str]

    def case_for_a(self, session: Session, **kwargs: object) -> Case:
        return make_case(
            session,
            assigned=self.users["col_a"],
            team=self.team_a,
            agency=self.agency_x,
            **kwargs,
        )

    def case_for_b(self, session: Session, **kwargs: object) -> Case:
        return make_case(
            session,
            assigned=self.users["col_b"],
            team=self.team_b,
            agency=self.agency_y,
            **kwargs,
        )


def build_world(engine: Engine) -> World:
    with transaction(engine) as session:
        agency_x = make_agency(session, code="AGX")
        agency_y = make_agency(session, code="AGY")
        team_a = make_team(session, name="一组")
        team_b = make_team(session, name="二组")
        users = {
            "col_a": make_user(session, username="col_a", team=team_a),
            "col_a2": make_user(session, username="col_a2", team=team_a),
            "col_b": make_user(session, username="col_b", team=team_b),
            "lead_a": make_user(session, username="lead_a", role="team_lead", team=team_a),
            "lead_b": make_user(session, username="lead_b", role="team_lead", team=team_b),
            "agency_x": make_user(session, username="agency_x", role="agency", agency=agency_x),
            "agency_y": make_user(session, username="agency_y", role="agency", agency=agency_y),
        }
        for role in ("manager", "compliance", "legal", "admin", "auditor", "strategist"):
            users[role] = make_user(session, username=role, role=role)
        tokens = {name: token_for(session, user=user) for name, user in users.items()}
    return World(team_a, team_b, agency_x, agency_y, users, tokens)
