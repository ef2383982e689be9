"""interest cap settings: a cap per creditor (default none) and per product of a creditor

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuishou.store.types

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = cuishou.store.types.UTCDateTime(timezone=True)


def upgrade() -> None:
    # existing creditors get ``none``: licensed lenders are not bound by the private-lending
    # cap; a private lender is set with ``cuishou compliance interest-cap`` (ADR 0014)
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("interest_cap", sa.String(length=32), server_default="none", nullable=False)
        )
    op.create_table(
        "creditor_products",
        sa.Column("creditor_id", ID, nullable=False),
        sa.Column("product_code", sa.String(length=32), nullable=False),
        sa.Column("interest_cap", sa.String(length=32), nullable=True),
        sa.Column("updated_at", UTC, nullable=False),
        sa.ForeignKeyConstraint(
            ["creditor_id"],
            ["creditors.id"],
            name=op.f("fk_creditor_products_creditor_id_creditors"),
        ),
        sa.ForeignKeyConstraint(
            ["product_code"],
            ["products.code"],
            name=op.f("fk_creditor_products_product_code_products"),
        ),
        sa.PrimaryKeyConstraint("creditor_id", "product_code", name=op.f("pk_creditor_products")),
    )


def downgrade() -> None:
    op.drop_table("creditor_products")
    with op.batch_alter_table("creditors", schema=None) as batch_op:
        batch_op.drop_column("interest_cap")
