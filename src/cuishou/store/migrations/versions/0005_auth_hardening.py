"""auth hardening: usernames unique without regard to case, login attempts keyed by the
lower-cased name, a lock row per login name for race-free throttling

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuishou.store.types
from cuishou.kit.errors import StoreNotReady

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UTC = cuishou.store.types.UTCDateTime(timezone=True)


def _ascii_lower(name: str) -> str:
    # what SQLite's and PostgreSQL's lower() agree on for the ASCII names users have
    return name.translate(str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz"))


def _refuse_case_duplicates() -> None:
    """Stop, naming them, when existing users differ only in case: which of two logins
    is the real one is for an administrator to decide, not a migration."""
    names = op.get_bind().execute(sa.text("SELECT username FROM users")).scalars()
    groups: dict[str, list[str]] = defaultdict(list)
    for name in names:
        groups[_ascii_lower(name)].append(name)
    clashes = sorted(sorted(group) for group in groups.values() if len(group) > 1)
    if clashes:
        listed = "; ".join(" / ".join(repr(n) for n in group) for group in clashes)
        raise StoreNotReady(
            "usernames are now unique without regard to case, but these users differ only "
            f"in case: {listed}. Nothing was changed. Rename all but one of each (column "
            "users.username, with a database tool) and run `cuishou init` again."
        )


def upgrade() -> None:
    _refuse_case_duplicates()
    op.create_index("uq_users_username_lower", "users", [sa.text("lower(username)")], unique=True)
    op.execute("UPDATE login_attempts SET username = lower(username)")
    op.create_table(
        "login_throttles",
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_login_throttles")),
    )


def downgrade() -> None:
    op.drop_table("login_throttles")
    op.drop_index("uq_users_username_lower", table_name="users")
