"""visits: field visits (外访), their collectors and the record's files

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-02

Issue 15, field visits. ``visits`` holds each visit from its request (the strategy's
``visit`` step or a collector) through scheduling (a day, a window, the route position) to
its record (走访记录表), which is also a contact (``contact_id``); ``visit_collectors`` the
two or more collectors who go (CN-14); ``visit_files`` the record's photos and documents,
stored on disk by SHA-256 (ADR 0032).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "visits",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("contact_point_id", IdType, nullable=False),
        sa.Column("team_id", IdType, nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("plan_day", sa.Date(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("window_end", UTCDateTime(), nullable=True),
        sa.Column("scheduled_by", sa.String(100), nullable=True),
        sa.Column("scheduled_at", UTCDateTime(), nullable=True),
        sa.Column("district_code", sa.String(6), nullable=True),
        sa.Column("route_position", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(100), nullable=True),
        sa.Column("visited_at", UTCDateTime(), nullable=True),
        sa.Column("check_in_lat", sa.Float(), nullable=True),
        sa.Column("check_in_lon", sa.Float(), nullable=True),
        sa.Column("outcome", sa.String(32), nullable=True),
        sa.Column("persons_met", JSON, nullable=False),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("contact_id", IdType, nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_visits_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["contact_point_id"], ["contact_points.id"],
            name="fk_visits_contact_point_id_contact_points",
        ),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_visits_team_id_teams"),
        sa.ForeignKeyConstraint(
            ["contact_id"], ["contacts.id"], name="fk_visits_contact_id_contacts"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_visits"),
    )  # fmt: skip
    op.create_index("ix_visits_day_team", "visits", ["day", "team_id", "status"])
    op.create_index("ix_visits_case_status", "visits", ["case_id", "status"])
    op.create_index("uq_visits_plan", "visits", ["case_id", "plan_day", "source"], unique=True)
    op.create_table(
        "visit_collectors",
        sa.Column("visit_id", IdType, nullable=False),
        sa.Column("user_id", IdType, nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name="fk_visit_collectors_visit_id_visits"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_visit_collectors_user_id_users"
        ),
        sa.PrimaryKeyConstraint("visit_id", "user_id", name="pk_visit_collectors"),
    )  # fmt: skip
    op.create_index("ix_visit_collectors_user", "visit_collectors", ["user_id"])
    op.create_table(
        "visit_files",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("visit_id", IdType, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(200), nullable=False),
        sa.Column("content_type", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("uploaded_by", sa.String(100), nullable=False),
        sa.Column("uploaded_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["visit_id"], ["visits.id"], name="fk_visit_files_visit_id_visits"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_visit_files"),
    )  # fmt: skip
    op.create_index("ix_visit_files_visit", "visit_files", ["visit_id"])


def downgrade() -> None:
    op.drop_index("ix_visit_files_visit", table_name="visit_files")
    op.drop_table("visit_files")
    op.drop_index("ix_visit_collectors_user", table_name="visit_collectors")
    op.drop_table("visit_collectors")
    op.drop_index("uq_visits_plan", table_name="visits")
    op.drop_index("ix_visits_case_status", table_name="visits")
    op.drop_index("ix_visits_day_team", table_name="visits")
    op.drop_table("visits")
