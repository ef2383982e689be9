"""compliance: contact holds, overrides, QA items, message templates, rule pack per creditor

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
JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


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
    op.create_table(
        "compliance_overrides",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=False),
        sa.Column("contact_point_id", ID, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("window_start", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("window_end", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("rules", JSON, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("approved_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_compliance_overrides_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["contact_point_id"],
            ["contact_points.id"],
            name=op.f("fk_compliance_overrides_contact_point_id_contact_points"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_compliance_overrides")),
    )
    with op.batch_alter_table("compliance_overrides", schema=None) as batch_op:
        batch_op.create_index(
            "ix_compliance_overrides_case", ["case_id", "window_start"], unique=False
        )
    op.create_table(
        "qa_items",
        sa.Column("id", ID, nullable=False),
        sa.Column("case_id", ID, nullable=True),
        sa.Column("contact_id", ID, nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("reviewed_by", sa.String(length=100), nullable=True),
        sa.Column("reviewed_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_qa_items_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name=op.f("fk_qa_items_contact_id_contacts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qa_items")),
    )
    with op.batch_alter_table("qa_items", schema=None) as batch_op:
        batch_op.create_index("ix_qa_items_status", ["status", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_qa_items_case_id"), ["case_id"], unique=False)
    op.create_table(
        "message_templates",
        sa.Column("id", ID, nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("findings", JSON, nullable=False),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("activated_by", sa.String(length=100), nullable=True),
        sa.Column("activated_at", cuishou.store.types.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_message_templates")),
        sa.UniqueConstraint("code", "version", name=op.f("uq_message_templates_code_version")),
    )
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.create_index(
            "uq_message_templates_active",
            ["code"],
            unique=True,
            sqlite_where=sa.text("status = 'active'"),
            postgresql_where=sa.text("status = 'active'"),
        )
    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.add_column(sa.Column("timezone", sa.String(length=64), nullable=True))
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("rule_pack", sa.String(length=64), server_default="cn", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("contact_points", schema=None) as batch_op:
        batch_op.drop_column("timezone")
    with op.batch_alter_table("message_templates", schema=None) as batch_op:
        batch_op.drop_index("uq_message_templates_active")
    op.drop_table("message_templates")
    with op.batch_alter_table("qa_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qa_items_case_id"))
        batch_op.drop_index("ix_qa_items_status")
    op.drop_table("qa_items")
    with op.batch_alter_table("compliance_overrides", schema=None) as batch_op:
        batch_op.drop_index("ix_compliance_overrides_case")
    op.drop_table("compliance_overrides")
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("rule_pack")
    with op.batch_alter_table("contact_holds", schema=None) as batch_op:
        batch_op.drop_index("ix_contact_holds_debtor")
    op.drop_table("contact_holds")
