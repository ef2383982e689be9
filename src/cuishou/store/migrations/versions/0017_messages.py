"""messages: the outbound message outbox and its send jobs (多渠道触达)

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-02

Issue 15, outbound messages. ``messages`` is one row per message with its idempotency
key (case, template, business day), status and gateway id; ``message_jobs`` one row per
send run with its counts (docs/messages.md, ADR 0031).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "messages",
        sa.Column("id", IdType, nullable=False),
        sa.Column("key", sa.String(length=160), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("contact_point_id", IdType, nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("template_code", sa.String(length=64), nullable=False),
        sa.Column("template_version", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("params", JsonType, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", UTCDateTime(), nullable=True),
        sa.Column("provider_id", sa.String(length=100), nullable=True),
        sa.Column("rule_ids", JsonType, nullable=False),
        sa.Column("next_allowed_at", UTCDateTime(), nullable=True),
        sa.Column("error", sa.Text(), server_default="", nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("contact_id", IdType, nullable=True),
        sa.Column("created_by", sa.String(length=100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("sent_at", UTCDateTime(), nullable=True),
        sa.Column("delivered_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_messages_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["contact_point_id"],
            ["contact_points.id"],
            name="fk_messages_contact_point_id_contact_points",
        ),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_messages_contact_id_contacts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_messages"),
        sa.UniqueConstraint("key", name="uq_messages_key"),
    )
    op.create_index("ix_messages_day_channel_status", "messages", ["day", "channel", "status"])
    op.create_index("ix_messages_case_id", "messages", ["case_id", "day"])
    op.create_index("ix_messages_provider_id", "messages", ["provider_id"])
    op.create_table(
        "message_jobs",
        sa.Column("id", IdType, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("counts", JsonType, nullable=False),
        sa.Column("started_by", sa.String(length=100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("finished_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_message_jobs"),
    )
    op.create_index("ix_message_jobs_day", "message_jobs", ["day", "started_at"])


def downgrade() -> None:
    op.drop_index("ix_message_jobs_day", table_name="message_jobs")
    op.drop_table("message_jobs")
    op.drop_index("ix_messages_provider_id", table_name="messages")
    op.drop_index("ix_messages_case_id", table_name="messages")
    op.drop_index("ix_messages_day_channel_status", table_name="messages")
    op.drop_table("messages")
