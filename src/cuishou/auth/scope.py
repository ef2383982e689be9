"""Row-level scope as SQL: the one filter every repository puts on cases (数据权限).

The scalar twin is :func:`cuishou.auth.rules.case_in_scope`. Repositories of every domain
that read cases for a person import this filter; it is a query building block of the auth
domain, not another domain's repository.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, false, true

from cuishou.auth.rules import CaseScope
from cuishou.store.tables import Case


def case_scope_clause(scope: CaseScope) -> ColumnElement[bool]:
    """The one SQL filter for row-level scope (scalar twin: ``auth.rules.case_in_scope``)."""
    if scope.kind == "all":
        return true()
    if scope.kind == "user" and scope.id is not None:
        return Case.assigned_user_id == scope.id
    if scope.kind == "team" and scope.id is not None:
        return Case.team_id == scope.id
    if scope.kind == "agency" and scope.id is not None:
        return Case.agency_id == scope.id
    return false()
