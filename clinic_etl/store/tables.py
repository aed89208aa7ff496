"""SQLAlchemy Core tables of the state store: the single source of the schema.

The Alembic migrations under ``migrations/versions`` create exactly these (a test compares them).
Every timestamp is a :class:`UTCDateTime`: written as UTC, read back tz-aware in UTC on every backend.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    DateTime,
    Dialect,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
)

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: Alembic's version table for this store; not ``alembic_version``, so that the store can share a
#: schema with other Alembic users (Dagster's own PostgreSQL storage among them).
VERSION_TABLE = "clinic_etl_store_version"


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware timestamp stored as UTC (``timestamptz`` on PostgreSQL, UTC text on SQLite)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the state store; pass a tz-aware one")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


metadata = MetaData(naming_convention=NAMING_CONVENTION)

sync_map = Table(
    "sync_map",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("source_key", String(255), nullable=False),
    Column("xero_id", String(64)),
    Column("xero_number", String(255)),
    Column("content_hash", String(128)),
    Column("xero_status", String(32)),
    Column("partition_key", String(64)),
    Column("synced_at", UTCDateTime(), nullable=False),
    Column("parent_key", String(255)),  # the record it belongs to: a payment's invoice
    PrimaryKeyConstraint("tenant_id", "entity", "source_key"),
    Index(None, "partition_key"),
    Index(None, "tenant_id", "entity", "parent_key"),
)

#: creates sent to Xero whose result is not recorded yet (see ``pending.py``)
pending_writes = Table(
    "pending_writes",
    metadata,
    Column("tenant_id", String(64), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("source_key", String(255), nullable=False),
    Column("number", String(255)),  # what finds it in Xero: InvoiceNumber, ContactNumber, a payment's Reference
    Column("parent_key", String(255)),
    Column("partition_key", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("tenant_id", "entity", "source_key"),
)

quarantine = Table(
    "quarantine",
    metadata,
    Column("source", String(32), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("source_id", String(255), nullable=False),
    Column("partition_key", String(64), nullable=False),
    Column("reason", Text(), nullable=False),
    Column("first_seen", UTCDateTime(), nullable=False),
    Column("last_seen", UTCDateTime(), nullable=False),
    Column("resolved_at", UTCDateTime()),
    PrimaryKeyConstraint("source", "entity", "source_id"),
    Index(None, "partition_key", "resolved_at"),
)

credentials = Table(
    "credentials",
    metadata,
    Column("name", String(255), nullable=False),
    Column("value", Text(), nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("name"),
)

#: the actions a row of ``xero_writes`` records (what Xero received, or a mapping adopted after a lost reply)
WRITE_ACTIONS = ("created", "updated", "adopted", "voided", "deleted", "reversed", "sent", "archived")

xero_writes = Table(
    "xero_writes",
    metadata,
    # BigInteger on PostgreSQL, INTEGER (the rowid alias, so autoincrementing) on SQLite.
    Column("id", BigInteger().with_variant(Integer(), "sqlite"), autoincrement=True, nullable=False),
    Column("tenant_id", String(64), nullable=False),
    Column("entity", String(32), nullable=False),
    Column("source_key", String(255), nullable=False),
    Column("action", String(32), nullable=False),
    Column("xero_id", String(64), nullable=False),
    # '' for no hash, never NULL: NULLs are distinct in a unique constraint, so a repeated write would not collide
    Column("from_hash", String(128), nullable=False),
    Column("to_hash", String(128), nullable=False),
    Column("partition_key", String(64), nullable=False),
    Column("run_id", String(64), nullable=False),
    Column("recorded_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("id"),
    # one row per write, however often it is reported (a replay to a concurrent run, a retried step)
    UniqueConstraint(
        "tenant_id", "entity", "source_key", "action", "xero_id", "from_hash", "to_hash", name="uq_xero_writes_write"
    ),
    Index(None, "run_id"),
    Index(None, "partition_key"),
)

#: Outbound systems beyond Xero (``clinic_etl.engage``). A source record's contact in a marketing system (a new
#: patient's GoHighLevel contact): the remote id, a hash of what was sent, salted hashes of the e-mail and phone (to
#: keep two patients who share one apart, never merged), and the onboarding steps applied (tags, workflow: each once).
engage_contacts = Table(
    "engage_contacts",
    metadata,
    Column("service", String(32), nullable=False),  # "gohighlevel"
    Column("account", String(64), nullable=False),  # the GHL location (sub-account) id
    Column("source_key", String(255), nullable=False),  # cliniko:patient:123
    Column("remote_id", String(64)),  # the GHL contact id
    Column("status", String(32), nullable=False),  # contact | onboarded | declined | skipped
    Column("content_hash", String(128)),
    Column("email_hash", String(64)),
    Column("phone_hash", String(64)),
    Column("steps", Text()),  # JSON {"plan": {...}, "done": {...}}: tags and workflow to apply, and applied
    Column("reason", Text()),  # why declined or skipped (never personal data)
    Column("partition_key", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("service", "account", "source_key"),
    Index(None, "service", "account", "email_hash"),
    Index(None, "service", "account", "phone_hash"),
    Index(None, "partition_key"),
)

#: An invoice's follow-up through a marketing system (an overdue Xero invoice's debtor tagged in a Mailchimp audience):
#: the member it went to (Mailchimp's subscriber hash), how many follow-ups and when the last one was (the practice's
#: day), and whether it is still overdue, settled (untagged) or skipped with the reason.
engage_follow_ups = Table(
    "engage_follow_ups",
    metadata,
    Column("service", String(32), nullable=False),  # "mailchimp"
    Column("account", String(64), nullable=False),  # the audience (list) id
    Column("invoice_key", String(255), nullable=False),  # the source invoice key the sync map knows
    Column("xero_id", String(64), nullable=False),
    Column("invoice_number", String(255)),
    Column("member_id", String(64)),  # subscriber hash: MD5 of the lowercase e-mail
    Column("status", String(32), nullable=False),  # overdue | settled | skipped
    Column("follow_ups", Integer(), nullable=False),
    Column("last_follow_up", String(10)),  # YYYY-MM-DD, the practice's day
    Column("reason", Text()),
    Column("partition_key", String(64)),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("service", "account", "invoice_key"),
    Index(None, "service", "account", "status"),
    Index(None, "service", "account", "member_id"),
)

__all__ = [
    "VERSION_TABLE",
    "UTCDateTime",
    "WRITE_ACTIONS",
    "credentials",
    "engage_contacts",
    "engage_follow_ups",
    "metadata",
    "pending_writes",
    "quarantine",
    "sync_map",
    "utcnow",
    "xero_writes",
]
