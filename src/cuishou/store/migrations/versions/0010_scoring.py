"""scoring: the model registry, case scores and grades, customer labels, drift; model alerts

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-01

Issue 12 (风险分级与意向预测). ``model_versions`` is the registry (one champion per target,
a partial unique index); ``case_scores`` holds each open case's latest score per target and
its reasons; ``cases.risk_grade`` the A–D grade from the ``pay_30d`` champion;
``case_labels`` the customer labels (客户画像) a case carries now, with their facts;
``model_drift`` the daily PSI of each champion's score and features. An alert may now be
about no case (a model's drift or age): ``alerts.case_id`` becomes nullable and
``alerts.subject`` names what it is about.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from cuishou.store.types import IdType, UTCDateTime

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JsonType = sa.JSON().with_variant(sa.JSON(none_as_null=True), "postgresql")
CHAMPION = "status = 'champion'"


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("train_from", sa.Date(), nullable=False),
        sa.Column("train_to", sa.Date(), nullable=False),
        sa.Column("validation_from", sa.Date(), nullable=False),
        sa.Column("validation_to", sa.Date(), nullable=False),
        sa.Column("train_rows", sa.Integer(), nullable=False),
        sa.Column("validation_rows", sa.Integer(), nullable=False),
        sa.Column("features", JsonType, nullable=False),
        sa.Column("metrics", JsonType, nullable=False),
        sa.Column("reference", JsonType, nullable=False),
        sa.Column("artefact", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("trained_by", sa.String(100), nullable=False),
        sa.Column("trained_at", UTCDateTime(), nullable=False),
        sa.Column("promoted_by", sa.String(100), nullable=True),
        sa.Column("promoted_at", UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_model_versions"),
        sa.UniqueConstraint("version", name="uq_model_versions_version"),
    )
    op.create_index(
        "uq_model_versions_champion",
        "model_versions",
        ["target"],
        unique=True,
        sqlite_where=sa.text(CHAMPION),
        postgresql_where=sa.text(CHAMPION),
    )
    op.create_table(
        "case_scores",
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("target", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("score", sa.Integer(), nullable=False),
        sa.Column("reasons", JsonType, nullable=False),
        sa.Column("scored_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_scores_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", "target", name="pk_case_scores"),
    )
    op.create_table(
        "case_labels",
        sa.Column("case_id", IdType, nullable=False),
        sa.Column("code", sa.String(32), nullable=False),
        sa.Column("facts", JsonType, nullable=False),
        sa.Column("since", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_case_labels_case_id_cases"),
        sa.PrimaryKeyConstraint("case_id", "code", name="pk_case_labels"),
    )
    op.create_index("ix_case_labels_code", "case_labels", ["code"])
    op.create_table(
        "model_drift",
        sa.Column("id", IdType, primary_key=True),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("subject", sa.String(64), nullable=False),
        sa.Column("psi", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_model_drift"),
        sa.UniqueConstraint("version", "day", "subject", name="uq_model_drift_version_day_subject"),
    )
    with op.batch_alter_table("cases", schema=None) as batch_op:
        batch_op.add_column(sa.Column("risk_grade", sa.String(1), nullable=True))
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.alter_column("case_id", existing_type=IdType, nullable=True)
        batch_op.add_column(sa.Column("subject", sa.String(64), nullable=True))


def downgrade() -> None:
    op.execute("DELETE FROM alerts WHERE case_id IS NULL")
    with op.batch_alter_table("alerts", schema=None) as batch_op:
        batch_op.drop_column("subject")
        batch_op.alter_column("case_id", existing_type=IdType, nullable=False)
    # a plain DROP COLUMN (SQLite ≥ 3.35): a batch copy of ``cases`` would drop the table
    # every account, contact and promise refers to
    op.execute("ALTER TABLE cases DROP COLUMN risk_grade")
    op.drop_table("model_drift")
    op.drop_index("ix_case_labels_code", table_name="case_labels")
    op.drop_table("case_labels")
    op.drop_table("case_scores")
    op.drop_index("uq_model_versions_champion", table_name="model_versions")
    op.drop_table("model_versions")
