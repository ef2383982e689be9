"""ledger and bucket scheme: the account ledger (账务流水) with an opening entry for every
stored account, balances that never go negative, the bucket scheme version on history

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01

An existing store's accounts get one ``placement`` entry each holding their balances as they
stand, so the ledger sums to them from the start (the history before the ledger is in the
``payments`` table and the event log). A component that had gone negative (a payment dated
after a newer snapshot could do that before the ledger) is moved to the account's credit by
an ``adjustment`` entry first, so the new constraint holds.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import cuishou.store.types

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
UTC = cuishou.store.types.UTCDateTime(timezone=True)
#: the version of the default M0–M7+ scheme (``DEFAULT_BUCKETS.version``): history written
#: before the scheme was recorded was written under it
DEFAULT_SCHEME_VERSION = "d315750fe69d"
COMPONENTS = ("fee_fen", "penalty_fen", "interest_fen", "principal_fen")
NOT_NEGATIVE = " AND ".join(f"{c} >= 0" for c in (*COMPONENTS, "credit_fen"))
NEGATIVE = " OR ".join(f"NEW.{c} < 0" for c in (*COMPONENTS, "credit_fen"))


def upgrade() -> None:
    with op.batch_alter_table("bucket_history", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "scheme",
                sa.String(length=16),
                server_default=DEFAULT_SCHEME_VERSION,
                nullable=False,
            )
        )
    op.create_table(
        "ledger_entries",
        sa.Column("id", ID, nullable=False),
        sa.Column("account_id", ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("fee_fen", sa.BigInteger(), nullable=False),
        sa.Column("penalty_fen", sa.BigInteger(), nullable=False),
        sa.Column("interest_fen", sa.BigInteger(), nullable=False),
        sa.Column("principal_fen", sa.BigInteger(), nullable=False),
        sa.Column("credit_fen", sa.BigInteger(), nullable=False),
        sa.Column("effective_on", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.BigInteger(), nullable=True),
        sa.Column("reference", sa.String(length=100), nullable=True),
        sa.Column("actor", sa.String(length=100), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("at", UTC, nullable=False),
        sa.CheckConstraint(
            "kind IN ('placement', 'refresh', 'payment', 'reversal', 'waiver', "
            "'reinstatement', 'write_off', 'adjustment')",
            name=op.f("ck_ledger_entries_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_ledger_entries_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ledger_entries")),
    )
    op.create_index("ix_ledger_entries_account", "ledger_entries", ["account_id", "id"])
    op.create_index("ix_ledger_entries_effective_on", "ledger_entries", ["effective_on"])
    op.create_index("ix_ledger_entries_source", "ledger_entries", ["source", "source_id"])

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("break_after_days", sa.Integer(), server_default="30", nullable=False)
        )
        batch_op.add_column(
            sa.Column(
                "reinstate_on_break", sa.Boolean(), server_default=sa.text("true"), nullable=False
            )
        )
        batch_op.add_column(sa.Column("amends_id", ID, nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_agreements_amends_id_agreements"), "agreements", ["amends_id"], ["id"]
        )
    bind = op.get_bind()
    # the break terms were kept in the terms document; the daily cycle reads them as columns
    if bind.dialect.name == "postgresql":
        op.execute(
            """UPDATE agreements SET
                break_after_days = COALESCE((terms->>'break_after_days')::int, 30),
                reinstate_on_break = COALESCE((terms->>'reinstate_on_break')::boolean, true)"""
        )
    else:
        op.execute(
            """UPDATE agreements SET
                break_after_days = COALESCE(json_extract(terms, '$.break_after_days'), 30),
                reinstate_on_break = COALESCE(json_extract(terms, '$.reinstate_on_break'), 1)"""
        )
    # negative components (possible before the ledger) become credit, with a trace
    negative = " OR ".join(f"{c} < 0" for c in COMPONENTS)
    moved = " + ".join(f"CASE WHEN {c} < 0 THEN -{c} ELSE 0 END" for c in COMPONENTS)
    adjust_columns = ", ".join(f"CASE WHEN {c} < 0 THEN -{c} ELSE 0 END" for c in COMPONENTS)
    stamp = (
        "CURRENT_TIMESTAMP"
        if bind.dialect.name == "postgresql"
        else "strftime('%Y-%m-%d %H:%M:%f000', 'now')"
    )
    op.execute(
        f"""INSERT INTO ledger_entries (account_id, kind, fee_fen, penalty_fen, interest_fen,
            principal_fen, credit_fen, effective_on, source, source_id, reference, actor,
            reason, at)
        SELECT id, 'adjustment', {adjust_columns}, {moved}, snapshot_date, 'migration',
            NULL, NULL, 'system:migration-0006',
            'a negative balance from before the ledger moved to credit', {stamp}
        FROM accounts WHERE {negative}"""  # noqa: S608 - fixed column names
    )
    sets = ", ".join(f"{c} = CASE WHEN {c} < 0 THEN 0 ELSE {c} END" for c in COMPONENTS)
    op.execute(
        f"UPDATE accounts SET credit_fen = credit_fen + ({moved}), {sets} WHERE {negative}"  # noqa: S608 - fixed column names
    )
    # the opening entry: the balances as they stand, less the adjustment just made
    op.execute(
        f"""INSERT INTO ledger_entries (account_id, kind, fee_fen, penalty_fen, interest_fen,
            principal_fen, credit_fen, effective_on, source, source_id, reference, actor,
            reason, at)
        SELECT a.id, 'placement', a.fee_fen - COALESCE(j.fee_fen, 0),
            a.penalty_fen - COALESCE(j.penalty_fen, 0),
            a.interest_fen - COALESCE(j.interest_fen, 0),
            a.principal_fen - COALESCE(j.principal_fen, 0),
            a.credit_fen - COALESCE(j.credit_fen, 0), a.snapshot_date, 'migration', NULL, NULL,
            'system:migration-0006', 'balances as they stood when the ledger was introduced',
            {stamp}
        FROM accounts a LEFT JOIN ledger_entries j ON j.account_id = a.id"""  # noqa: S608 - fixed column names
    )
    # a case's amount due is what its accounts owe (file payments did not move it before)
    op.execute(
        """UPDATE cases SET due_fen = COALESCE((SELECT SUM(a.fee_fen + a.penalty_fen
            + a.interest_fen + a.principal_fen) FROM accounts a WHERE a.case_id = cases.id), 0)"""
    )
    if bind.dialect.name == "postgresql":
        op.create_check_constraint("ck_accounts_balances_not_negative", "accounts", NOT_NEGATIVE)
    else:
        for event in ("INSERT", "UPDATE"):
            op.execute(
                f"""CREATE TRIGGER accounts_balances_not_negative_{event.lower()}
                BEFORE {event} ON accounts WHEN {NEGATIVE}
                BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: balances_not_negative'); END"""
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.drop_constraint("ck_accounts_balances_not_negative", "accounts", type_="check")
    else:
        op.execute("DROP TRIGGER IF EXISTS accounts_balances_not_negative_insert")
        op.execute("DROP TRIGGER IF EXISTS accounts_balances_not_negative_update")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_constraint("fk_agreements_amends_id_agreements", type_="foreignkey")
        batch_op.drop_column("amends_id")
        batch_op.drop_column("reinstate_on_break")
        batch_op.drop_column("break_after_days")
    op.drop_index("ix_ledger_entries_source", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_effective_on", table_name="ledger_entries")
    op.drop_index("ix_ledger_entries_account", table_name="ledger_entries")
    op.drop_table("ledger_entries")
    with op.batch_alter_table("bucket_history", schema=None) as batch_op:
        batch_op.drop_column("scheme")
