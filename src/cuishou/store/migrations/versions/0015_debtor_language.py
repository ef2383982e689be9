"""debtor language: the language or dialect a debtor speaks (语言/方言)

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-02

Issue 14, allocation by language. ``debtors.language`` is the debtor's language or dialect
as the creditor's file gives it (``语言``/``方言`` column, e.g. 粤语, 闽南语); null means
not given (Mandarin is assumed). Allocation sends a debtor with a language other than
Mandarin only to a collector whose skills list it (docs/allocation.md).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # a plain ALTER TABLE on both stores: a batch (copy-and-move) of ``debtors`` would drop
    # a table other tables point at, which SQLite refuses with its foreign keys on
    op.add_column("debtors", sa.Column("language", sa.String(16), nullable=True))


def downgrade() -> None:
    op.drop_column("debtors", "language")
