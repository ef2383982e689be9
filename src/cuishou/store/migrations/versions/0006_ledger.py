"""ledger and bucket scheme: the account ledger (账务流水), balances that never go negative,
the bucket scheme version on bucket history

Revision ID: 0006
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

#: the version of the default M0–M7+ scheme (``DEFAULT_BUCKETS.version``): history written
#: before the scheme was recorded was written under it
DEFAULT_SCHEME_VERSION = "d315750fe69d"


def upgrade() -> None:
    with op.batch_alter_table("bucket_history", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scheme",
                sa.String(length=16),
                server_default=DEFAULT_SCHEME_VERSION,
                nullable=False,
            )
        )


def downgrade() -> None:
    with op.batch_alter_table("bucket_history", schema=None) as batch_op:
        batch_op.drop_column("scheme")
