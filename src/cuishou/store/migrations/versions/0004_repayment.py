"""repayment: payment parts, sources and reversals, waterfall per creditor, promise judgement,
tasks, repayment agreements with their installments

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
JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
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
    op.create_table(
        "agreements",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("owed_fen", sa.BigInteger(), nullable=False),
        sa.Column("excess_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("agreed_fen", sa.BigInteger(), nullable=False),
        sa.Column("waived_fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("waived_penalty_fen", sa.BigInteger(), nullable=False),
        sa.Column("waived_interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("waived_principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("waiver_share_bp", sa.Integer(), nullable=False),
        sa.Column("required_level", sa.String(length=16), nullable=False),
        sa.Column("terms", JSON, nullable=False),
        sa.Column("requested_by", ID, nullable=False),
        sa.Column("requested_at", UTC, nullable=False),
        sa.Column("decided_by", ID, nullable=True),
        sa.Column("decided_at", UTC, nullable=True),
        sa.Column("decision_reason", sa.Text(), nullable=False),
        sa.Column("closed_on", sa.Date(), nullable=True),
        sa.Column("document_pdf", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_agreements_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["requested_by"], ["users.id"], name=op.f("fk_agreements_requested_by_users")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by"], ["users.id"], name=op.f("fk_agreements_decided_by_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreements")),
    )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.create_index("ix_agreements_status", ["status", "required_level"], unique=False)
        batch_op.create_index(batch_op.f("ix_agreements_case_id"), ["case_id"], unique=False)
    op.create_table(
        "agreement_installments",
        sa.Column("id", ID, nullable=False),
        sa.Column("agreement_id", ID, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("due_date", sa.Date(), nullable=False),
        sa.Column("amount_fen", sa.BigInteger(), nullable=False),
        sa.Column("paid_fen", sa.BigInteger(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(
            ["agreement_id"],
            ["agreements.id"],
            name=op.f("fk_agreement_installments_agreement_id_agreements"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_agreement_installments")),
        sa.UniqueConstraint(
            "agreement_id", "seq", name=op.f("uq_agreement_installments_agreement_id_seq")
        ),
    )


def downgrade() -> None:
    op.drop_table("agreement_installments")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_agreements_case_id"))
        batch_op.drop_index("ix_agreements_status")
    op.drop_table("agreements")
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
