"""skiptrace: a contact point's verification status (失联修复)

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02

Issue 15, skip tracing. ``contact_points.verification`` is the skip-trace review of a
point: ``new`` → ``verified`` | ``invalid`` (its history is the point's events);
``verified_at`` the time of the last review. The operational ``status`` (active | invalid)
keeps its meaning for the gate and the dialer: an invalid review sets it invalid, a
verified one active (docs/skiptrace.md). Points already invalid are backfilled as
``invalid``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import UTCDateTime

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("verification", sa.String(length=16), server_default="new", nullable=False)
        )
        batch_op.add_column(sa.Column("verified_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE contact_points SET verification = 'invalid' WHERE status = 'invalid'")


def downgrade() -> None:
    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.drop_column("verified_at")
        batch_op.drop_column("verification")
