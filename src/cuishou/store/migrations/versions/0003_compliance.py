"""compliance: contact holds (disputes, complaints, cease, opt-outs), rule pack per creditor

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuishou.store.types

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "contact_holds",
        sa.Column("id", ID, nullable=False),
        sa.Column("debtor_id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("opened_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(length=100), nullable=False),
        sa.Column("lifted_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("lifted_by", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(
            ["debtor_id"], ["debtors.id"], name=op.f("fk_contact_holds_debtor_id_debtors")
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_contact_holds_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_contact_holds")),
    )
    with op.batch_alter_table("contact_holds", schema=None) as batch_op:
        batch_op.create_index("ix_contact_holds_debtor", ["debtor_id", "lifted_at"], unique=False)
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rule_pack", sa.String(length=64), server_default="cn", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("rule_pack")
    with op.batch_alter_table("contact_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_holds_debtor")
    op.drop_table("contact_holds")
