"""The SQL scope filter agrees with its scalar twin on every combination, on both stores."""

from __future__ import annotations

import itertools

from sqlalchemy import Engine, select

from cuishou.auth.rules import CaseScope, case_in_scope
from cuishou.auth.scope import case_scope_clause
from cuishou.store.db import transaction
from cuishou.store.tables import Case
from tests.web.factories import make_agency, make_case, make_team, make_user


def test_sql_scope_matches_the_scalar_rule(engine: Engine) -> None:
    with transaction(engine) as session:
        teams = [None, make_team(session), make_team(session)]
        agencies = [None, make_agency(session), make_agency(session)]
        users = [None, make_user(session), make_user(session)]
        facts = {}
        for user, team, agency in itertools.product(users, teams, agencies):
            case = make_case(session, assigned=user, team=team, agency=agency)
            case.team_id = team.id if team else None  # unassigned and team-less cases too
            facts[case.id] = (case.assigned_user_id, case.team_id, case.agency_id)
        session.flush()
        scopes = [CaseScope("all"), CaseScope("nothing")]
        scopes += [CaseScope("user", u.id) for u in users if u]
        scopes += [CaseScope("team", t.id) for t in teams if t]
        scopes += [CaseScope("agency", a.id) for a in agencies if a]
        for scope in scopes:
            in_sql = set(session.scalars(select(Case.id).where(case_scope_clause(scope))))
            in_rule = {
                case_id
                for case_id, (assigned, team, agency) in facts.items()
                if case_in_scope(scope, assigned_user_id=assigned, team_id=team, agency_id=agency)
            }
            assert in_sql == in_rule, scope
