"""ORM tables: the system of record.

Conventions: money columns end in ``_fen`` (integer fen); times are aware UTC
(:class:`UTCDateTime`); dates are plain ``date`` (a business date in the creditor's
zone). Relationships are not declared: repositories join explicitly.
Every state change also appends a row to :class:`Event`.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from cuishou.store.types import IdType, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JsonType = JSON().with_variant(JSON(none_as_null=True), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class Creditor(Base):
    """委托方/债权方 — the institution whose debts are collected."""

    __tablename__ = "creditors"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    #: the compliance rule pack its contacts are judged by (``cuishou.compliance.packs``)
    rule_pack: Mapped[str] = mapped_column(String(64), default="cn", server_default="cn")
    #: the allocation waterfall (还款冲账顺序), components in order, comma-separated
    waterfall: Mapped[str] = mapped_column(
        String(64),
        default="fee,penalty,interest,principal",
        server_default="fee,penalty,interest,principal",
    )
    #: the interest cap its accounts are judged against (利率上限, ADR 0014):
    #: ``private_lending_4x_lpr``, ``fixed:<rate>%`` or ``none`` (``compliance.interest_cap``)
    interest_cap: Mapped[str] = mapped_column(String(32), default="none", server_default="none")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Product(Base):
    """A credit product a creditor places (信用卡, 消费贷, 小微经营贷 …)."""

    __tablename__ = "products"
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64))


class CreditorProduct(Base):
    """One creditor's settings for one product; ``interest_cap`` overrides the creditor's
    (null: the creditor's applies). Products are shared by creditors, so a bank's consumer
    loan and a private lender's can be judged by different caps (ADR 0014)."""

    __tablename__ = "creditor_products"
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"), primary_key=True)
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"), primary_key=True)
    interest_cap: Mapped[str | None] = mapped_column(String(32), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Placement(Base):
    """委案批次 — a batch of accounts handed over for collection."""

    __tablename__ = "placements"
    __table_args__ = (UniqueConstraint("creditor_id", "batch_code"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"))
    batch_code: Mapped[str] = mapped_column(String(64))
    placed_on: Mapped[date] = mapped_column(Date)
    return_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImportFile(Base):
    """One imported file that changed the store, with its counts."""

    __tablename__ = "import_files"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"))
    kind: Mapped[str] = mapped_column(String(16))  # accounts | payments
    file_name: Mapped[str] = mapped_column(String(500))
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    rows: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    quarantined: Mapped[int] = mapped_column(Integer)
    created: Mapped[int] = mapped_column(Integer)
    updated: Mapped[int] = mapped_column(Integer)
    unchanged: Mapped[int] = mapped_column(Integer)
    imported_at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))


class Debtor(Base):
    """债务人 — a person, identified by the 18-digit resident ID number."""

    __tablename__ = "debtors"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    id_number: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    gender: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    province: Mapped[str | None] = mapped_column(String(32), nullable=True)
    city: Mapped[str | None] = mapped_column(String(64), nullable=True)
    #: the language or dialect the debtor speaks (语言/方言, e.g. 粤语); null: not given
    language: Mapped[str | None] = mapped_column(String(16), nullable=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactPoint(Base):
    """A phone, address or e-mail, owned by the debtor or by a named third party.

    ``owner`` is ``debtor`` or ``third_party``; a third party has a name and their
    ``relation`` to the debtor (spouse 配偶, parent 父母, sibling 兄弟姐妹, friend 朋友,
    colleague 同事 …) as the creditor recorded it.
    """

    __tablename__ = "contact_points"
    __table_args__ = (UniqueConstraint("debtor_id", "kind", "value", "owner_name"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # mobile | phone | address | email | wechat
    value: Mapped[str] = mapped_column(String(300))
    label: Mapped[str] = mapped_column(String(32), default="")  # home | work | ""
    owner: Mapped[str] = mapped_column(String(16))  # debtor | third_party
    owner_name: Mapped[str] = mapped_column(String(100), default="")
    relation: Mapped[str | None] = mapped_column(String(32), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | invalid
    #: placement | debtor | third_party | public_record | repair_vendor (skip tracing)
    source: Mapped[str] = mapped_column(String(32), default="placement")
    #: where this number or address is, when known and not the debtor's home zone (e.g. a US
    #: area code in another state): the gate keeps the hours in every such zone
    timezone: Mapped[str | None] = mapped_column(String(64), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the skip-trace review (失联修复): new | verified | invalid; an invalid review makes
    #: ``status`` invalid, a verified one active (docs/skiptrace.md); history in events
    verification: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Agency(Base):
    """委外机构 — an outside collection agency."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Team(Base):
    """A collection team (组) led by a team lead."""

    __tablename__ = "teams"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class User(Base):
    """A person who logs in: collector, team lead, manager, compliance, legal, admin …

    Usernames are unique without regard to (ASCII) case: ``Col_A`` and ``col_a`` are one
    login name, kept as first written (``auth.rules.username_key``).
    """

    __tablename__ = "users"
    __table_args__ = (Index("uq_users_username_lower", text("lower(username)"), unique=True),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(32))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Case(Base):
    """案件 — one debtor within one creditor, aggregating all their accounts (共债)."""

    __tablename__ = "cases"
    __table_args__ = (UniqueConstraint("creditor_id", "debtor_id"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"))
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | closed
    opened_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    assigned_user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id"), nullable=True, index=True
    )
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), nullable=True)
    accounts: Mapped[int] = mapped_column(Integer, default=0)
    due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    amount_tier: Mapped[str] = mapped_column(String(8), default="small")
    cycle_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    #: 风险等级 A–D from the ``pay_30d`` champion's score (``scoring``); null until scored
    risk_grade: Mapped[str | None] = mapped_column(String(1), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


#: balances never go negative (an overpayment is a credit): a CHECK on PostgreSQL, triggers
#: on SQLite (a CHECK cannot be added to an existing SQLite table) — migration 0006
BALANCES_NOT_NEGATIVE = (
    "fee_fen >= 0 AND penalty_fen >= 0 AND interest_fen >= 0 AND principal_fen >= 0 "
    "AND credit_fen >= 0"
)


class Account(Base):
    """借据/账户 — one loan or card placed for collection.

    The snapshot columns (``snapshot_date``, ``snapshot_due_fen``, ``overdue_since``,
    ``installment_fen``) are what the creditor's file said on its data date. The
    balance columns (``fee_fen`` … ``principal_fen`` and the credit ``credit_fen``) are
    the running sum of the account's :class:`LedgerEntry` rows, changed only by the
    ledger (:mod:`cuishou.ledger`) in the statement that appends the rows; they never go
    negative. The daily cycle writes ``dpd``, ``bucket``, ``amount_tier``, ``status`` and
    ``cycle_as_of``.
    """

    __tablename__ = "accounts"
    __table_args__ = (
        UniqueConstraint("creditor_id", "account_no"),
        CheckConstraint(BALANCES_NOT_NEGATIVE, name="balances_not_negative"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"))
    placement_id: Mapped[int] = mapped_column(ForeignKey("placements.id"), index=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    account_no: Mapped[str] = mapped_column(String(64))
    product_code: Mapped[str] = mapped_column(ForeignKey("products.code"))
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    loan_amount_fen: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    contract_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    annual_rate: Mapped[Decimal | None] = mapped_column(Numeric(9, 6), nullable=True)
    principal_fen: Mapped[int] = mapped_column(BigInteger)
    interest_fen: Mapped[int] = mapped_column(BigInteger)
    penalty_fen: Mapped[int] = mapped_column(BigInteger)
    fee_fen: Mapped[int] = mapped_column(BigInteger)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    snapshot_date: Mapped[date] = mapped_column(Date)
    snapshot_due_fen: Mapped[int] = mapped_column(BigInteger)
    overdue_since: Mapped[date | None] = mapped_column(Date, nullable=True)
    installment_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | settled
    dpd: Mapped[int] = mapped_column(Integer, default=0)
    bucket: Mapped[str] = mapped_column(String(8), default="M0")
    amount_tier: Mapped[str] = mapped_column(String(8), default="small")
    cycle_as_of: Mapped[date | None] = mapped_column(Date, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class BucketHistory(Base):
    """账龄迁徙 — an account's bucket as decided by a daily cycle, kept when it changes.

    A row is written on the first cycle that sees the account and whenever its
    bucket, amount tier or status changes; ``movement`` says how it moved versus the
    previous row (``new``, ``roll_forward`` 迁徙, ``roll_back``, ``cure`` 出催,
    ``settled``, ``reopen``, ``rescheme``, ``retier``). One row per account and date at most.
    """

    __tablename__ = "bucket_history"
    __table_args__ = (
        UniqueConstraint("account_id", "as_of"),
        Index("ix_bucket_history_as_of", "as_of"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    as_of: Mapped[date] = mapped_column(Date)
    dpd: Mapped[int] = mapped_column(Integer)
    bucket: Mapped[str] = mapped_column(String(8))
    prev_bucket: Mapped[str | None] = mapped_column(String(8), nullable=True)
    amount_tier: Mapped[str] = mapped_column(String(8))
    due_fen: Mapped[int] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16))
    movement: Mapped[str] = mapped_column(String(16))
    #: the bucket scheme's version (``BucketScheme.version``) the row was decided under
    scheme: Mapped[str] = mapped_column(String(16), server_default="d315750fe69d")


class Payment(Base):
    """A repayment received (还款), posted once by its external reference.

    A payment for one account is one row (``part`` 0). A payment for a case is spread
    over its accounts oldest first: one row per account it reached, ``part`` 0, 1, …,
    all with the same reference; the payment's id is that of part 0.
    """

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("creditor_id", "reference", "part"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    creditor_id: Mapped[int] = mapped_column(ForeignKey("creditors.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), index=True)
    reference: Mapped[str] = mapped_column(String(100))
    part: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(UTCDateTime())
    channel: Mapped[str | None] = mapped_column(String(32), nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # file | api | manual
    import_file_id: Mapped[int | None] = mapped_column(ForeignKey("import_files.id"), nullable=True)
    to_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    to_credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reversed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: who entered it (API user or the person entering a manual payment); null for files
    entered_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reversed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reversal_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


LEDGER_KINDS = (
    "placement", "refresh", "payment", "reversal", "waiver", "reinstatement", "write_off",
    "adjustment",
)  # fmt: skip


class LedgerEntry(Base):
    """账务流水 — one change to one account's balances, signed, by component, in fen.

    ``kind``: ``placement`` (the opening balance from the creditor's file), ``refresh`` (a
    newer snapshot of the creditor's figures), ``payment`` (还款), ``reversal`` (冲正),
    ``waiver`` (减免), ``reinstatement`` (恢复减免), ``write_off`` (核销) or ``adjustment``
    (手工调账). ``effective_on`` is the business date from which the change counts (the
    snapshot date, the day paid, the day approved); ``source``/``source_id`` say what made
    it (``import`` and the import file, ``api``/``manual`` and the payment, ``agreement``
    and the agreement, ``cycle``, ``cli``); ``actor`` who, ``reason`` why. An account's
    balances are the sum of its entries; nothing updates or deletes an entry.
    """

    __tablename__ = "ledger_entries"
    __table_args__ = (
        Index("ix_ledger_entries_account", "account_id", "id"),
        Index("ix_ledger_entries_effective_on", "effective_on"),
        Index("ix_ledger_entries_source", "source", "source_id"),
        CheckConstraint(
            "kind IN ('placement', 'refresh', 'payment', 'reversal', 'waiver', "
            "'reinstatement', 'write_off', 'adjustment')",
            name="kind",
        ),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    kind: Mapped[str] = mapped_column(String(16))
    fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    credit_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    effective_on: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    reference: Mapped[str | None] = mapped_column(String(100), nullable=True)
    actor: Mapped[str] = mapped_column(String(100))
    reason: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """预警 — a condition a team lead (or, for a model, the strategy manager) must handle."""

    __tablename__ = "alerts"
    __table_args__ = (UniqueConstraint("case_id", "kind", "raised_on"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    #: null for an alert about no case: a model's (``subject`` names it)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True, nullable=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"), nullable=True)
    subject: Mapped[str | None] = mapped_column(String(64), nullable=True)
    kind: Mapped[str] = mapped_column(String(32))
    raised_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    details: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)


class CycleRun(Base):
    """One completed daily cycle for a business date (re-running replaces its counts)."""

    __tablename__ = "cycle_runs"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date, unique=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime())
    accounts: Mapped[int] = mapped_column(Integer)
    cases: Mapped[int] = mapped_column(Integer)
    summary: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Event(Base):
    """The append-only event log: every state change, who did it, when, with what.

    Audit trails, case timelines and KPIs read this table; nothing updates or
    deletes its rows.
    """

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_entity", "entity_type", "entity_id"),
        Index("ix_events_case_at", "case_id", "at"),
        Index("ix_events_type_at", "type", "at"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    actor: Mapped[str] = mapped_column(String(100))
    type: Mapped[str] = mapped_column(String(64))
    entity_type: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    case_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)


class Contact(Base):
    """催记 — one contact attempt or conversation on a channel, with party and outcome code.

    ``at`` is when it happened (a dialer log may record past calls); ``party`` is who was
    reached (``debtor`` 本人, ``third_party`` 他人, ``none`` nobody); ``outcome`` is one of
    the codes in :mod:`cuishou.contact.rules`. A ``callback_at`` schedules a callback (预约回呼)
    that stays due until a later contact is logged on the case.
    """

    __tablename__ = "contacts"
    __table_args__ = (
        Index("ix_contacts_case_at", "case_id", "at"),
        Index("uq_contacts_source_external_id", "source", "external_id", unique=True),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_point_id: Mapped[int] = mapped_column(ForeignKey("contact_points.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[str] = mapped_column(String(16))
    party: Mapped[str] = mapped_column(String(16))
    outcome: Mapped[str] = mapped_column(String(32))
    notes: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    callback_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: where it was logged: ``workbench`` (pages and API) or a dialer's source name, whose
    #: own call id is ``external_id`` (unique per source: a call is imported once)
    source: Mapped[str] = mapped_column(String(32), default="workbench", server_default="workbench")
    external_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    #: talk time in seconds, when a dialer reported it
    duration_seconds: Mapped[int | None] = mapped_column(Integer, nullable=True)


class Promise(Base):
    """承诺还款 (PTP) — an amount the debtor promised to pay by a date.

    ``status`` is ``open`` until it is judged ``kept``, ``partly_kept`` or ``broken`` (跳票).
    """

    __tablename__ = "promises"
    __table_args__ = (Index("ix_promises_case_status", "case_id", "status"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    due_date: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="open")
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: what the case paid towards it, as of the day it was judged (``judged_on``)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    judged_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class Task(Base):
    """A to-do for the case's collector on a date, e.g. a reminder the day before a
    promise falls due (``promise_reminder``, 承诺到期提醒). Delivery comes later."""

    __tablename__ = "tasks"
    __table_args__ = (
        UniqueConstraint("kind", "promise_id"),
        Index("ix_tasks_due_on", "due_on", "status"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    kind: Mapped[str] = mapped_column(String(32))
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promises.id"), nullable=True)
    due_on: Mapped[date] = mapped_column(Date)
    assigned_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | done
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ApiToken(Base):
    """A bearer token for the API; only its SHA-256 is stored, it expires and can be revoked."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class LoginAttempt(Base):
    """One password login attempt, kept for throttling (登录限流) and audit.

    ``username`` is the login name's key (lower-cased), so changing case does not
    start a fresh count.
    """

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_username_at", "username", "at"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    username: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    succeeded: Mapped[bool] = mapped_column(Boolean)
    remote: Mapped[str] = mapped_column(String(64), default="")


class LoginThrottle(Base):
    """One row per login name ever tried (its key, lower-cased): locked while an attempt
    on that name is judged, so concurrent attempts are counted one at a time and no more
    than the limit of passwords is ever checked (``auth.repository.lock_login_name``).
    """

    __tablename__ = "login_throttles"
    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ContactHold(Base):
    """A standing reason not to contact a debtor (暂停催收): a dispute (异议), a complaint
    under investigation (投诉调查中), a cease-contact request (要求停止联系), or an opt-out
    of one electronic channel (退订). It applies from ``opened_at`` until ``lifted_at``;
    ``case_id`` null means every case of the debtor.
    """

    __tablename__ = "contact_holds"
    __table_args__ = (Index("ix_contact_holds_debtor", "debtor_id", "lifted_at"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    debtor_id: Mapped[int] = mapped_column(ForeignKey("debtors.id"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(16))  # dispute | complaint | cease | opt_out
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)  # for opt_out
    reason: Mapped[str] = mapped_column(Text, default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime())
    opened_by: Mapped[str] = mapped_column(String(100))
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    lifted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class ComplianceOverride(Base):
    """A recorded exception to an overridable rule (合规例外审批), e.g. a call at 21:30 the
    debtor asked for (CN-01: time agreed with the debtor). It covers contacts on that
    contact point and channel within ``[window_start, window_end)`` and only ``rules``.
    """

    __tablename__ = "compliance_overrides"
    __table_args__ = (Index("ix_compliance_overrides_case", "case_id", "window_start"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_point_id: Mapped[int] = mapped_column(ForeignKey("contact_points.id"))
    channel: Mapped[str] = mapped_column(String(16))
    window_start: Mapped[datetime] = mapped_column(UTCDateTime())
    window_end: Mapped[datetime] = mapped_column(UTCDateTime())
    rules: Mapped[list[str]] = mapped_column(JsonType, default=list)
    reason: Mapped[str] = mapped_column(Text)
    approved_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class QaItem(Base):
    """质检事项 — something for compliance/QA to review: a note or transcript in which
    content screening found banned content (or a sampled contact). ``findings`` holds the
    screening findings; the reviewer confirms or dismisses it with a note."""

    __tablename__ = "qa_items"
    __table_args__ = (Index("ix_qa_items_status", "status", "created_at"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), nullable=True, index=True)
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    source: Mapped[str] = mapped_column(String(16))  # note | transcript
    subject: Mapped[str] = mapped_column(String(100))  # who wrote or said it (username)
    text: Mapped[str] = mapped_column(Text)
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open|confirmed|dismissed
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reviewed_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    review_note: Mapped[str] = mapped_column(Text, default="")


class MessageTemplate(Base):
    """短信/信函模板 — a message template. Screened when saved; one with findings cannot be
    activated. ``audience`` is who receives it (debtor or third_party)."""

    __tablename__ = "message_templates"
    __table_args__ = (
        UniqueConstraint("code", "version"),
        # at most one active version per code, whatever runs at the same time
        Index(
            "uq_message_templates_active",
            "code",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(64))
    version: Mapped[int] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))  # sms | letter | email | wechat
    audience: Mapped[str] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="draft")  # draft|active|retired
    findings: Mapped[list[dict[str, Any]]] = mapped_column(JsonType, default=list)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    activated_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class Agreement(Base):
    """还款协议 — a repayment agreement on a case: installments (分期), deferral (延期),
    waiver (减免) or settlement in full at a discount (一次性结清).

    ``status``: ``requested`` → ``approved``, ``rejected`` or ``withdrawn`` (by its
    requester or an approver); an approved plan becomes ``completed`` when every
    installment is paid (what remains owed is written off), or ``broken`` when one is missed
    for more than ``break_after_days`` (the waiver is reinstated when
    ``reinstate_on_break``), or ``superseded`` by an approved amendment (``amends_id`` on the
    new one; its waiver is reinstated). The daily cycle decides completion and breaks. A
    waiver is taken off the balances by ``waiver`` ledger entries when the plan is approved.

    A case has one active agreement: at most one ``requested`` and at most one ``approved``
    (``uq_agreements_one_active``); a request while a plan runs must amend it (the service).
    ``document_pdf`` is the approved document as issued (full names); ``document_masked_pdf``
    the same document with the debtor's name and ID number masked.
    """

    __tablename__ = "agreements"
    __table_args__ = (
        Index("ix_agreements_status", "status", "required_level"),
        # one pending request and one running plan per case, whatever runs at the same time
        Index(
            "uq_agreements_one_active",
            "case_id",
            "status",
            unique=True,
            sqlite_where=text("status IN ('requested', 'approved')"),
            postgresql_where=text("status IN ('requested', 'approved')"),
        ),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16), default="requested")
    owed_fen: Mapped[int] = mapped_column(BigInteger)
    excess_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    agreed_fen: Mapped[int] = mapped_column(BigInteger)
    waived_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_penalty_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_interest_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waived_principal_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    waiver_share_bp: Mapped[int] = mapped_column(Integer, default=0)
    required_level: Mapped[str] = mapped_column(String(16))
    terms: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    requested_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    decision_reason: Mapped[str] = mapped_column(Text, default="")
    closed_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    document_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    document_masked_pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    #: the plan breaks when an installment is unpaid this many days after it fell due
    break_after_days: Mapped[int] = mapped_column(Integer, default=30, server_default="30")
    #: on a break, the waiver is put back on the balances (恢复减免)
    reinstate_on_break: Mapped[bool] = mapped_column(
        Boolean, default=True, server_default=text("true")
    )
    #: the agreement this one amends (a case has one active agreement at a time)
    amends_id: Mapped[int | None] = mapped_column(ForeignKey("agreements.id"), nullable=True)


class AgreementInstallment(Base):
    """One installment of an agreement's schedule (还款计划), in fen."""

    __tablename__ = "agreement_installments"
    __table_args__ = (UniqueConstraint("agreement_id", "seq"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id"))
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[date] = mapped_column(Date)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(16), default="due")  # due | paid | missed


class ModelVersion(Base):
    """A trained model in the registry (模型库): what it predicts (``target``), its kind
    (``scorecard`` | ``gbm``), the windows it was trained and validated on, its features,
    metrics and PSI reference, and the artefact itself with its SHA-256. One version per
    target is the ``champion`` the daily cycle scores with.
    """

    __tablename__ = "model_versions"
    __table_args__ = (
        Index(
            "uq_model_versions_champion",
            "target",
            unique=True,
            sqlite_where=text("status = 'champion'"),
            postgresql_where=text("status = 'champion'"),
        ),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    version: Mapped[str] = mapped_column(String(64), unique=True)
    target: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16))  # scorecard | gbm
    status: Mapped[str] = mapped_column(String(16), default="candidate")  # | champion | retired
    train_from: Mapped[date] = mapped_column(Date)
    train_to: Mapped[date] = mapped_column(Date)
    validation_from: Mapped[date] = mapped_column(Date)
    validation_to: Mapped[date] = mapped_column(Date)
    train_rows: Mapped[int] = mapped_column(Integer)
    validation_rows: Mapped[int] = mapped_column(Integer)
    features: Mapped[list[str]] = mapped_column(JsonType, default=list)
    metrics: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    #: the training population's distributions the daily PSI compares against
    reference: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    artefact: Mapped[bytes] = mapped_column(LargeBinary)
    sha256: Mapped[str] = mapped_column(String(64))
    trained_by: Mapped[str] = mapped_column(String(100))
    trained_at: Mapped[datetime] = mapped_column(UTCDateTime())
    promoted_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    promoted_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CaseScore(Base):
    """A case's latest score for one target by that target's champion (``scored_on`` the
    business date of the cycle that gave it this score — a day that scores it the same
    leaves the row alone), with the top reasons (feature codes)."""

    __tablename__ = "case_scores"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    target: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    probability: Mapped[float] = mapped_column(Float)
    score: Mapped[int] = mapped_column(Integer)
    reasons: Mapped[list[str]] = mapped_column(JsonType, default=list)
    scored_on: Mapped[date] = mapped_column(Date)


class CaseLabel(Base):
    """A customer label (客户画像) a case carries now, given ``since`` a business date, with
    the facts that made its rule true. Given and removed labels are events."""

    __tablename__ = "case_labels"
    __table_args__ = (Index("ix_case_labels_code", "code"),)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    code: Mapped[str] = mapped_column(String(32), primary_key=True)
    facts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    since: Mapped[date] = mapped_column(Date)


class ModelDrift(Base):
    """One day's population stability index (PSI) of a model's score or one of its features
    against the training population."""

    __tablename__ = "model_drift"
    __table_args__ = (UniqueConstraint("version", "day", "subject"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    version: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(64))  # "score" or a feature code
    psi: Mapped[float] = mapped_column(Float)


class StrategyVersion(Base):
    """A version of a strategy (催收策略): its YAML document and where it stands.

    ``draft`` → ``approved`` (by someone other than the author: four eyes) → ``active`` from
    ``effective_from``; a later active version supersedes it (``retired``), a rollback
    retires it and brings the one before back. ``rejected`` drafts are kept. Each step is
    an event.
    """

    __tablename__ = "strategy_versions"
    __table_args__ = (UniqueConstraint("code", "version"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    code: Mapped[str] = mapped_column(String(32))
    version: Mapped[int] = mapped_column(Integer)
    zh: Mapped[str] = mapped_column(String(100))
    en: Mapped[str] = mapped_column(String(100))
    body: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    # draft | approved | active | retired | rejected
    status: Mapped[str] = mapped_column(String(16), default="draft")
    note: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    approved_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    approved_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    effective_from: Mapped[date | None] = mapped_column(Date, nullable=True)
    activated_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    activated_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class CaseSegment(Base):
    """The segment (客群) an open case is in under the strategy version that plans for it,
    ``since`` the business date it entered it (day 0 of its treatment path)."""

    __tablename__ = "case_segments"
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("strategy_versions.id"))
    segment: Mapped[str] = mapped_column(String(32))
    rule_no: Mapped[int] = mapped_column(Integer)
    since: Mapped[date] = mapped_column(Date)
    updated_on: Mapped[date] = mapped_column(Date)


class PlannedAction(Base):
    """One action a case's treatment path plans for a business date (催收时间表), with the
    compliance gate's word on it: ``planned`` (allowed in ``window_start``–``window_end``),
    ``moved`` (allowed later in the day than planned), ``dropped`` (denied: ``rule_ids``),
    ``capped`` (beyond the step's daily cap), ``no_point`` (nothing to contact it on) or
    ``hold`` (the path holds the case). One row per case, strategy step and day."""

    __tablename__ = "planned_actions"
    __table_args__ = (
        UniqueConstraint("day", "case_id", "version_id", "step"),
        Index("ix_planned_actions_day_action", "day", "action", "status"),
        Index("ix_planned_actions_case_id", "case_id", "day"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    version_id: Mapped[int] = mapped_column(ForeignKey("strategy_versions.id"))
    segment: Mapped[str] = mapped_column(String(32))
    step: Mapped[int] = mapped_column(Integer)
    action: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    template: Mapped[str | None] = mapped_column(String(64), nullable=True)
    priority: Mapped[int | None] = mapped_column(Integer, nullable=True)
    contact_point_id: Mapped[int | None] = mapped_column(
        ForeignKey("contact_points.id"), nullable=True
    )
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(String(16))
    rule_ids: Mapped[list[str]] = mapped_column(JsonType, default=list)
    arm: Mapped[str | None] = mapped_column(String(16), nullable=True)


class Experiment(Base):
    """A champion/challenger experiment (策略效果评估): a share of eligible cases is planned
    by the challenger version, the rest by the champion; a case keeps its arm."""

    __tablename__ = "experiments"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    salt: Mapped[str] = mapped_column(String(64))
    champion_id: Mapped[int] = mapped_column(ForeignKey("strategy_versions.id"))
    challenger_id: Mapped[int] = mapped_column(ForeignKey("strategy_versions.id"))
    share_pct: Mapped[float] = mapped_column(Float)
    #: the champion's segments whose cases take part (empty: every case)
    segments: Mapped[list[str]] = mapped_column(JsonType, default=list)
    # running | stopped | promoted | ended
    status: Mapped[str] = mapped_column(String(16), default="running")
    guardrails: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    started_on: Mapped[date] = mapped_column(Date)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    stopped_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    stopped_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    stop_reason: Mapped[str | None] = mapped_column(Text, nullable=True)


class ExperimentCase(Base):
    """A case's arm in an experiment, fixed the day it joined."""

    __tablename__ = "experiment_cases"
    __table_args__ = (Index("ix_experiment_cases_case_id", "case_id"),)
    experiment_id: Mapped[int] = mapped_column(ForeignKey("experiments.id"), primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    arm: Mapped[str] = mapped_column(String(16))  # champion | challenger
    joined_on: Mapped[date] = mapped_column(Date)


class AllocationBatch(Base):
    """One run of the daily allocation (案件分配批次) that was applied: when, by whom, for
    which business date, its totals (``summary``), and whether it was undone."""

    __tablename__ = "allocation_batches"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    as_of: Mapped[date] = mapped_column(Date)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="applied")  # applied | undone
    summary: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    undone_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    undone_by: Mapped[str | None] = mapped_column(String(100), nullable=True)


class AllocationMove(Base):
    """One case an allocation batch moved: from whom (and which team) to whom, why (the
    rule that fired) and the expected recovery it was given for (``gain_fen``). Undo puts
    ``from_user_id``/``from_team_id`` back."""

    __tablename__ = "allocation_moves"
    __table_args__ = (
        Index("ix_allocation_moves_batch_id", "batch_id"),
        Index("ix_allocation_moves_case_id", "case_id"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("allocation_batches.id"))
    case_id: Mapped[int] = mapped_column(BigInteger)
    from_user_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    from_team_id: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    to_user_id: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(32))
    bucket: Mapped[str] = mapped_column(String(8))
    gain_fen: Mapped[int] = mapped_column(BigInteger)


class AgencyPlacement(Base):
    """委外批次 — cases placed with an outside agency for a placement period (委案期):
    ``placed_on`` to ``ends_on`` inclusive. ``active`` until every case is recalled (退案),
    then ``ended``. ``selection`` says how the cases were chosen (a rule file, the strategy)."""

    __tablename__ = "agency_placements"
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"), index=True)
    placed_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | ended
    selection: Mapped[str] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    ended_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class AgencyPlacementCase(Base):
    """One case in an agency placement: with the agency from ``placed_on`` until the day
    before ``recalled_on`` (退案日; null: still placed), with the bucket, amount tier and
    amount due it had when placed (what its commission rate and recovery rate are judged by)."""

    __tablename__ = "agency_placement_cases"
    __table_args__ = (
        UniqueConstraint("placement_id", "case_id"),
        Index("ix_agency_placement_cases_case", "case_id", "placed_on"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    placement_id: Mapped[int] = mapped_column(ForeignKey("agency_placements.id"))
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    placed_on: Mapped[date] = mapped_column(Date)
    bucket: Mapped[str] = mapped_column(String(8))
    amount_tier: Mapped[str] = mapped_column(String(8))
    due_fen: Mapped[int] = mapped_column(BigInteger)
    recalled_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    # period_end | compliance_violation | complaint | performance | manual
    recall_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    recall_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class CommissionStatement(Base):
    """佣金结算单 — an agency's closed commission statement for a month. Once closed its
    lines never change; what moves later (a reversal, a late payment) goes on the next one
    (ADR 0028)."""

    __tablename__ = "commission_statements"
    __table_args__ = (UniqueConstraint("agency_id", "month"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    collected_fen: Mapped[int] = mapped_column(BigInteger)
    commission_fen: Mapped[int] = mapped_column(BigInteger)
    clawback_fen: Mapped[int] = mapped_column(BigInteger)
    lines: Mapped[int] = mapped_column(Integer)
    closed_by: Mapped[str] = mapped_column(String(100))
    closed_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CommissionLine(Base):
    """One ledger entry on a closed statement: a ``payment``, a ``reversal`` of a payment on
    the same statement, or a ``clawback`` (追回) of one on an earlier statement; ``cash_fen``
    signed, ``commission_fen`` = cash × ``rate``. A ledger entry is on one statement at most."""

    __tablename__ = "commission_lines"
    __table_args__ = (
        UniqueConstraint("ledger_entry_id"),
        Index("ix_commission_lines_statement", "statement_id"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("commission_statements.id"))
    ledger_entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"))
    placement_case_id: Mapped[int] = mapped_column(ForeignKey("agency_placement_cases.id"))
    case_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(16))  # payment | reversal | clawback
    reference: Mapped[str] = mapped_column(String(100))
    effective_on: Mapped[date] = mapped_column(Date)
    cash_fen: Mapped[int] = mapped_column(BigInteger)
    rate: Mapped[Decimal] = mapped_column(Numeric(6, 4))
    commission_fen: Mapped[int] = mapped_column(BigInteger)


# --- field visits (外访): visits slice, issue 15 -------------------------------------------


class Visit(Base):
    """外访 — a field visit to a debtor's address: requested (by the strategy's ``visit`` step
    or a collector), scheduled by a team lead (a day, a window in the debtor's zone, two or
    more of the team's collectors, judged by the compliance gate), ordered in the team's
    route of the day, and recorded (走访记录表) — the record is also a contact (``contact_id``).
    ``status``: requested | scheduled | done | cancelled."""

    __tablename__ = "visits"
    __table_args__ = (
        Index("ix_visits_day_team", "day", "team_id", "status"),
        Index("ix_visits_case_status", "case_id", "status"),
        Index("uq_visits_plan", "case_id", "plan_day", "source", unique=True),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_point_id: Mapped[int] = mapped_column(ForeignKey("contact_points.id"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id"), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="requested")
    #: strategy | collector; ``plan_day``: the strategy's planning day (one request per day)
    source: Mapped[str] = mapped_column(String(16))
    plan_day: Mapped[date | None] = mapped_column(Date, nullable=True)
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_by: Mapped[str] = mapped_column(String(100))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime())
    #: the visit's day and window (aware UTC; local in the debtor's home zone on pages)
    day: Mapped[date | None] = mapped_column(Date, nullable=True)
    window_start: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    window_end: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    scheduled_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    scheduled_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    #: where the address was located (区县代码 of the centroid table) and the route position
    district_code: Mapped[str | None] = mapped_column(String(6), nullable=True)
    route_position: Mapped[int | None] = mapped_column(Integer, nullable=True)
    #: the record (走访记录表)
    recorded_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    visited_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    check_in_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    check_in_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    outcome: Mapped[str | None] = mapped_column(String(32), nullable=True)
    persons_met: Mapped[list[dict[str, str]]] = mapped_column(JsonType, default=list)
    notes: Mapped[str] = mapped_column(Text, default="")
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class VisitCollector(Base):
    """A collector scheduled on a visit (两人同行: two or more per visit, CN-14)."""

    __tablename__ = "visit_collectors"
    __table_args__ = (Index("ix_visit_collectors_user", "user_id"),)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)


class VisitFile(Base):
    """A photo or document of a visit record, stored on disk by its SHA-256 (content hash)
    under the data dir; served only to the roles ``visit.file.read`` names."""

    __tablename__ = "visit_files"
    __table_args__ = (Index("ix_visit_files_visit", "visit_id"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    visit_id: Mapped[int] = mapped_column(ForeignKey("visits.id"))
    sha256: Mapped[str] = mapped_column(String(64))
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by: Mapped[str] = mapped_column(String(100))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime())


# --- messages (issue 15: outbound messages through real gateways, 多渠道触达) ---------------


class Message(Base):
    """短信/邮件/微信/信函 — one outbound message, its own outbox row (docs/messages.md).

    ``key`` is the idempotency key: case, template (the action) and business day, so a
    crash and a re-run never make a second message. ``status``: queued → sending → sent →
    delivered | failed (retried with backoff) → dead (the dead-letter list); ``blocked`` by
    the gate (``rule_ids``, ``next_allowed_at``); ``unknown`` when a run died between the
    gateway call and its record (never resent blindly; a receipt settles it).
    """

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("key"),
        Index("ix_messages_day_channel_status", "day", "channel", "status"),
        Index("ix_messages_case_id", "case_id", "day"),
        Index("ix_messages_provider_id", "provider_id"),
    )
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    key: Mapped[str] = mapped_column(String(160))
    day: Mapped[date] = mapped_column(Date)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"))
    contact_point_id: Mapped[int] = mapped_column(ForeignKey("contact_points.id"))
    channel: Mapped[str] = mapped_column(String(16))  # sms | email | wechat | letter
    template_code: Mapped[str] = mapped_column(String(64))
    template_version: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text)
    #: the template's variables as rendered (masked name, amount in yuan, dates, link)
    params: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    provider_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    rule_ids: Mapped[list[str]] = mapped_column(JsonType, default=list)
    next_allowed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    error: Mapped[str] = mapped_column(Text, default="", server_default="")
    source: Mapped[str] = mapped_column(String(16))  # strategy | manual | api
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


class MessageJob(Base):
    """One run of ``cuishou messages send`` (发送批次): its counts as it goes (the job page)."""

    __tablename__ = "message_jobs"
    __table_args__ = (Index("ix_message_jobs_day", "day", "started_at"),)
    id: Mapped[int] = mapped_column(IdType, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(16), nullable=True)
    status: Mapped[str] = mapped_column(String(16))  # running | done | crashed
    total: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JsonType, default=dict)
    started_by: Mapped[str] = mapped_column(String(100))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), nullable=True)


__all__ = [
    "Account",
    "Agency",
    "AgencyPlacement",
    "AgencyPlacementCase",
    "Agreement",
    "AgreementInstallment",
    "Alert",
    "AllocationBatch",
    "AllocationMove",
    "ApiToken",
    "Base",
    "BucketHistory",
    "Case",
    "CaseLabel",
    "CaseScore",
    "CaseSegment",
    "CommissionLine",
    "CommissionStatement",
    "ComplianceOverride",
    "Contact",
    "ContactHold",
    "ContactPoint",
    "Creditor",
    "CreditorProduct",
    "CycleRun",
    "Debtor",
    "Event",
    "Experiment",
    "ExperimentCase",
    "ImportFile",
    "LedgerEntry",
    "LoginAttempt",
    "Message",
    "MessageJob",
    "MessageTemplate",
    "ModelDrift",
    "ModelVersion",
    "Payment",
    "Placement",
    "PlannedAction",
    "Product",
    "Promise",
    "QaItem",
    "StrategyVersion",
    "Task",
    "Team",
    "User",
    "Visit",
    "VisitCollector",
    "VisitFile",
]
