"""contacts: where a contact was logged (source), the dialer's call id, the talk time

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-05

A contact logged on the workbench or through the API has source ``workbench`` (every
contact stored before this revision too); a call imported from a dialer's result file
(``cuishou contacts import``) has the source name of that dialer and its call id
(``external_id``). ``uq_contacts_source_external_id`` makes a repeated call id of one
source an already-imported call, whoever imports it (NULL ids never collide).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("source", sa.String(length=32), server_default="workbench", nullable=False)
        )
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column("duration_seconds", sa.Integer(), nullable=True))
    op.create_index(
        "uq_contacts_source_external_id", "contacts", ["source", "external_id"], unique=True
    )


def downgrade() -> None:
    op.drop_index("uq_contacts_source_external_id", table_name="contacts")
    with op.batch_alter_table("contacts", schema=None) as batch_op:
        batch_op.drop_column("duration_seconds")
        batch_op.drop_column("external_id")
        batch_op.drop_column("source")
