"""repayment: payment parts, sources and reversals, waterfall per creditor, promise judgement, tasks

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuishou.store.types

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = cuishou.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "waterfall",
                sa.String(length=64),
                server_default="fee,penalty,interest,principal",
                nullable=False,
            )
        )
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.add_column(sa.Column("part", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("entered_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reversed_by", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("reversal_reason", sa.Text(), nullable=True))
        batch_op.drop_constraint("uq_payments_creditor_id_reference", type_="unique")
        batch_op.create_unique_constraint(
            "uq_payments_creditor_id_reference_part", ["creditor_id", "reference", "part"]
        )
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("paid_fen", sa.BigInteger(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("judged_on", sa.Date(), nullable=True))
    op.create_table(
        "tasks",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("promise_id", ID, nullable=True),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("assigned_user_id", ID, nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_tasks_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["promise_id"], ["promises.id"], name=op.f("fk_tasks_promise_id_promises")
        ),
        sa.ForeignKeyConstraint(
            ["assigned_user_id"], ["users.id"], name=op.f("fk_tasks_assigned_user_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("kind", "promise_id", name=op.f("uq_tasks_kind_promise_id")),
    )
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.create_index("ix_tasks_due_on", ["due_on", "status"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_tasks_due_on")
    op.drop_table("tasks")
    with op.batch_alter_table("promises", schema=None) as batch_op:
        batch_op.drop_column("judged_on")
        batch_op.drop_column("paid_fen")
    with op.batch_alter_table("payments", schema=None) as batch_op:
        batch_op.drop_constraint("uq_payments_creditor_id_reference_part", type_="unique")
        batch_op.create_unique_constraint(
            "uq_payments_creditor_id_reference", ["creditor_id", "reference"]
        )
        batch_op.drop_column("reversal_reason")
        batch_op.drop_column("reversed_by")
        batch_op.drop_column("entered_by")
        batch_op.drop_column("part")
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("waterfall")
