"""strategy: versioned strategies, case segments, planned actions, experiments

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02

Issue 13 (策略设计, 催收时间表, 策略效果评估). ``strategy_versions`` holds each strategy
document and its lifecycle (draft → approved → active → retired); ``case_segments`` the
segment each open case is in and since when; ``planned_actions`` each day's plan per case
with the compliance gate's decision; ``experiments`` and ``experiment_cases`` the
champion/challenger experiments and each case's arm.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")


def upgrade() -> None:
    op.create_table(
        "strategy_versions",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("zh", sa.String(100), nullable=False),
        sa.Column("en", sa.String(100), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=True),
        sa.Column("approved_at", UTCDateTime(), nullable=True),
        sa.Column("effective_from", sa.Date(), nullable=True),
        sa.Column("activated_by", sa.String(100), nullable=True),
        sa.Column("activated_at", UTCDateTime(), nullable=True),
        sa.Column("retired_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_strategy_versions"),
        sa.UniqueConstraint("code", "version", name="uq_strategy_versions_code_version"),
    )
    op.create_table(
        "case_segments",
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("version_id", IdType, nullable=False),
        sa.Column("segment", sa.String(32), nullable=False),
        sa.Column("rule_no", sa.Integer(), nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.Column("updated_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_segments_case_id_cases"),
        sa.ForeignKeyConstraint(
            ["version_id"], ["strategy_versions.id"],
            name="fk_case_segments_version_id_strategy_versions",
        ),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_segments"),
    )  # fmt: skip
    op.create_table(
        "planned_actions",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("version_id", IdType, nullable=False),
        sa.Column("segment", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("channel", sa.String(16), nullable=True),
        sa.Column("template", sa.String(64), nullable=True),
        sa.Column("priority", sa.Integer(), nullable=True),
        sa.Column("contact_point_id", IdType, nullable=True),
        sa.Column("window_start", UTCDateTime(), nullable=True),
        sa.Column("window_end", UTCDateTime(), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("rule_ids", JsonType, nullable=False),
        sa.Column("arm", sa.String(16), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_planned_actions_case_id_cases"
        ),
        sa.ForeignKeyConstraint(
            ["version_id"], ["strategy_versions.id"],
            name="fk_planned_actions_version_id_strategy_versions",
        ),
        sa.ForeignKeyConstraint(
            ["contact_point_id"], ["contact_points.id"],
            name="fk_planned_actions_contact_point_id_contact_points",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_planned_actions"),
        sa.UniqueConstraint(
            "day", "case_id", "version_id", "step",
            name="uq_planned_actions_day_case_id_version_id_step",
        ),
    )  # fmt: skip
    op.create_index("ix_planned_actions_day_action", "planned_actions", ["day", "action", "status"])
    op.create_index("ix_planned_actions_case_id", "planned_actions", ["case_id", "day"])
    op.create_table(
        "experiments",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(64), nullable=False),
        sa.Column("champion_id", IdType, nullable=False),
        sa.Column("challenger_id", IdType, nullable=False),
        sa.Column("share_pct", sa.Float(), nullable=False),
        sa.Column("segments", JsonType, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("guardrails", JsonType, nullable=False),
        sa.Column("started_on", sa.Date(), nullable=False),
        sa.Column("started_by", sa.String(100), nullable=False),
        sa.Column("started_at", UTCDateTime(), nullable=False),
        sa.Column("stopped_on", sa.Date(), nullable=True),
        sa.Column("stopped_by", sa.String(100), nullable=True),
        sa.Column("stop_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["champion_id"], ["strategy_versions.id"],
            name="fk_experiments_champion_id_strategy_versions",
        ),
        sa.ForeignKeyConstraint(
            ["challenger_id"], ["strategy_versions.id"],
            name="fk_experiments_challenger_id_strategy_versions",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_experiments"),
        sa.UniqueConstraint("name", name="uq_experiments_name"),
    )  # fmt: skip
    op.create_table(
        "experiment_cases",
        sa.Column("experiment_id", IdType, nullable=False),
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("arm", sa.String(16), nullable=False),
        sa.Column("joined_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(
            ["experiment_id"], ["experiments.id"],
            name="fk_experiment_cases_experiment_id_experiments",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_experiment_cases_case_id_cases"
        ),
        sa.PrimaryKeyConstraint("experiment_id", "case_id", name="pk_experiment_cases"),
    )  # fmt: skip
    op.create_index("ix_experiment_cases_case_id", "experiment_cases", ["case_id"])


def downgrade() -> None:
    op.drop_index("ix_experiment_cases_case_id", table_name="experiment_cases")
    op.drop_table("experiment_cases")
    op.drop_table("experiments")
    op.drop_index("ix_planned_actions_case_id", table_name="planned_actions")
    op.drop_index("ix_planned_actions_day_action", table_name="planned_actions")
    op.drop_table("planned_actions")
    op.drop_table("case_segments")
    op.drop_table("strategy_versions")
