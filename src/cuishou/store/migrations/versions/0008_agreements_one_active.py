"""agreements: one active agreement per case, and a masked copy of the document

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03

A case has at most one pending request (``requested``) and at most one running plan
(``approved``) — ``uq_agreements_one_active``, a partial unique index on both stores; a new
plan while one runs is an amendment (the service). The approved document gets a copy with
the debtor's name and ID number masked (``document_masked_pdf``); documents approved
before this revision have none and are masked when first asked for.

A store may hold more than one active agreement on a case from before. Nothing about money
changes in this upgrade: of several pending requests on a case the newest stays and the
older ones are withdrawn; of several running plans the newest runs on and the older ones are
marked superseded by it, their waivers left standing as they are (nothing reinstated). Each
is recorded as an event (actor ``system:migration-0008``) so the case's timeline says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from alembic import op

import cuishou.store.types

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTOR = "system:migration-0008"
ACTIVE = "status IN ('requested', 'approved')"

_agreements = sa.table(
    "agreements",
    sa.column("id", sa.BigInteger()),
    sa.column("case_id", sa.BigInteger()),
    sa.column("status", sa.String()),
    sa.column("requested_at", cuishou.store.types.UTCDateTime(timezone=True)),
    sa.column("decided_at", cuishou.store.types.UTCDateTime(timezone=True)),
    sa.column("decision_reason", sa.Text()),
    sa.column("closed_on", sa.Date()),
    sa.column("amends_id", sa.BigInteger()),
)
_events = sa.table(
    "events",
    sa.column("at", cuishou.store.types.UTCDateTime(timezone=True)),
    sa.column("actor", sa.String()),
    sa.column("type", sa.String()),
    sa.column("entity_type", sa.String()),
    sa.column("entity_id", sa.BigInteger()),
    sa.column("case_id", sa.BigInteger()),
    sa.column("payload", sa.JSON()),
)


def _resolve_duplicates(bind: sa.Connection, status: str, now: datetime) -> None:
    """Of several ``status`` agreements on one case, the newest stays; the older ones are
    withdrawn (requests) or superseded by the newest (running plans), with an event."""
    rows = bind.execute(
        sa.select(_agreements.c.id, _agreements.c.case_id)
        .where(_agreements.c.status == status)
        .order_by(_agreements.c.case_id, _agreements.c.requested_at.desc(), _agreements.c.id.desc())
    ).all()
    newest: dict[int, int] = {}
    for agreement_id, case_id in rows:
        if case_id not in newest:
            newest[case_id] = agreement_id
            continue
        kept = newest[case_id]
        if status == "requested":
            new_status, event = "withdrawn", "agreement.withdrawn"
            reason = f"one pending request per case: request {kept} is newer and stays"
            payload: dict[str, Any] = {"reason": reason}
        else:
            new_status, event = "superseded", "agreement.superseded"
            reason = f"one running plan per case: plan {kept} is newer and runs on"
            payload = {"by": kept, "reason": reason, "reinstated": "0.00"}
        bind.execute(
            sa.update(_agreements)
            .where(_agreements.c.id == agreement_id)
            .values(status=new_status, closed_on=now.date(), decision_reason=reason)
        )
        bind.execute(
            sa.insert(_events).values(
                at=now, actor=ACTOR, type=event, entity_type="agreement",
                entity_id=agreement_id, case_id=case_id, payload=payload,
            )
        )  # fmt: skip


def upgrade() -> None:
    bind = op.get_bind()
    now = datetime.now(UTC)
    _resolve_duplicates(bind, "requested", now)
    _resolve_duplicates(bind, "approved", now)
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("document_masked_pdf", sa.LargeBinary(), nullable=True))
    op.create_index(
        "uq_agreements_one_active",
        "agreements",
        ["case_id", "status"],
        unique=True,
        sqlite_where=sa.text(ACTIVE),
        postgresql_where=sa.text(ACTIVE),
    )


def downgrade() -> None:
    op.drop_index("uq_agreements_one_active", table_name="agreements")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("document_masked_pdf")
