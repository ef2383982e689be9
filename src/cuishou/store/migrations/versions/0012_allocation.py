"""allocation: allocation batches and the moves of each

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02

Issue 14 (案件分配). ``allocation_batches`` holds each applied run of the daily allocation;
``allocation_moves`` each case it moved (from, to, why), so a batch can be shown and undone.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "allocation_batches",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("summary", JsonType, nullable=False),
        sa.Column("undone_at", UTCDateTime(), nullable=True),
        sa.Column("undone_by", sa.String(100), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_allocation_batches"),
    )
    op.create_table(
        "allocation_moves",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("batch_id", IdType, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("from_user_id", sa.BigInteger(), nullable=True),
        sa.Column("from_team_id", sa.BigInteger(), nullable=True),
        sa.Column("to_user_id", sa.BigInteger(), nullable=False),
        sa.Column("reason", sa.String(32), nullable=False),
        sa.Column("bucket", sa.String(8), nullable=False),
        sa.Column("gain_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"], ["allocation_batches.id"],
            name="fk_allocation_moves_batch_id_allocation_batches",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_allocation_moves"),
    )  # fmt: skip
    op.create_index("ix_allocation_moves_batch_id", "allocation_moves", ["batch_id"])
    op.create_index("ix_allocation_moves_case_id", "allocation_moves", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_allocation_moves_case_id", table_name="allocation_moves")
    op.drop_index("ix_allocation_moves_batch_id", table_name="allocation_moves")
    op.drop_table("allocation_moves")
    op.drop_table("allocation_batches")
