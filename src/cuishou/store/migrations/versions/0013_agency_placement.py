"""agency placement: placements, placed cases, commission statements and lines

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02

Issue 14 (委外). ``agency_placements`` holds each batch of cases placed with an agency for a
placement period; ``agency_placement_cases`` each case in it, when it was placed and recalled
(退案) and why; ``commission_statements`` and ``commission_lines`` the closed monthly
commission statements and the ledger entries on them (ADR 0028).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "agency_placements",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("agency_id", IdType, nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("selection", sa.String(200), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("ended_on", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_agency_placements_agency_id_agencies"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agency_placements"),
    )
    op.create_index("ix_agency_placements_agency_id", "agency_placements", ["agency_id"])
    op.create_table(
        "agency_placement_cases",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("placement_id", IdType, nullable=False),
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.Column("bucket", sa.String(8), nullable=False),
        sa.Column("amount_tier", sa.String(8), nullable=False),
        sa.Column("due_fen", sa.BigInteger(), nullable=False),
        sa.Column("recalled_on", sa.Date(), nullable=True),
        sa.Column("recall_reason", sa.String(32), nullable=True),
        sa.Column("recall_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["placement_id"], ["agency_placements.id"],
            name="fk_agency_placement_cases_placement_id_agency_placements",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_agency_placement_cases_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_agency_placement_cases"),
        sa.UniqueConstraint(
            "placement_id", "case_id", name="uq_agency_placement_cases_placement_id_case_id"
        ),
    )  # fmt: skip
    op.create_index(
        "ix_agency_placement_cases_case", "agency_placement_cases", ["case_id", "placed_on"]
    )
    op.create_table(
        "commission_statements",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("agency_id", IdType, nullable=False),
        sa.Column("month", sa.String(7), nullable=False),
        sa.Column("collected_fen", sa.BigInteger(), nullable=False),
        sa.Column("commission_fen", sa.BigInteger(), nullable=False),
        sa.Column("clawback_fen", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.Integer(), nullable=False),
        sa.Column("closed_by", sa.String(100), nullable=False),
        sa.Column("closed_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["agency_id"], ["agencies.id"], name="fk_commission_statements_agency_id_agencies"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_commission_statements"),
        sa.UniqueConstraint(
            "agency_id", "month", name="uq_commission_statements_agency_id_month"
        ),
    )  # fmt: skip
    op.create_table(
        "commission_lines",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("statement_id", IdType, nullable=False),
        sa.Column("ledger_entry_id", IdType, nullable=False),
        sa.Column("placement_case_id", IdType, nullable=False),
        sa.Column("case_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("reference", sa.String(100), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("cash_fen", sa.BigInteger(), nullable=False),
        sa.Column("rate", sa.Numeric(6, 4), nullable=False),
        sa.Column("commission_fen", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["statement_id"], ["commission_statements.id"],
            name="fk_commission_lines_statement_id_commission_statements",
        ),
        sa.ForeignKeyConstraint(
            ["ledger_entry_id"], ["ledger_entries.id"],
            name="fk_commission_lines_ledger_entry_id_ledger_entries",
        ),
        sa.ForeignKeyConstraint(
            ["placement_case_id"], ["agency_placement_cases.id"],
            name="fk_commission_lines_placement_case_id_agency_placement_cases",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_commission_lines"),
        sa.UniqueConstraint("ledger_entry_id", name="uq_commission_lines_ledger_entry_id"),
    )  # fmt: skip
    op.create_index("ix_commission_lines_statement", "commission_lines", ["statement_id"])


def downgrade() -> None:
    op.drop_index("ix_commission_lines_statement", table_name="commission_lines")
    op.drop_table("commission_lines")
    op.drop_table("commission_statements")
    op.drop_index("ix_agency_placement_cases_case", table_name="agency_placement_cases")
    op.drop_table("agency_placement_cases")
    op.drop_index("ix_agency_placements_agency_id", table_name="agency_placements")
    op.drop_table("agency_placements")
