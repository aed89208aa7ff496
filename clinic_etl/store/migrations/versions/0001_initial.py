"""Initial state store: sync_map, quarantine, credentials, run_audit.

Revision ID: 0001
Revises:
Create Date: 2025-01-01

Written out rather than derived from ``tables.metadata`` so that this revision never changes once
shipped; ``clinic_etl_tests/store`` checks that the migrated schema equals the metadata.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: BIGSERIAL on PostgreSQL; INTEGER (SQLite's autoincrementing rowid alias) on SQLite
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "sync_map",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("xero_id", sa.String(64)),
        sa.Column("xero_number", sa.String(255)),
        sa.Column("content_hash", sa.String(128)),
        sa.Column("xero_status", sa.String(32)),
        sa.Column("partition_key", sa.String(64)),
        _ts("synced_at"),
        sa.PrimaryKeyConstraint("tenant_id", "entity", "source_key", name="pk_sync_map"),
    )
    op.create_index("ix_sync_map_partition_key", "sync_map", ["partition_key"])

    op.create_table(
        "quarantine",
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("source_id", sa.String(255), nullable=False),
        sa.Column("partition_key", sa.String(64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("first_seen"),
        _ts("last_seen"),
        _ts("resolved_at", nullable=True),
        sa.PrimaryKeyConstraint("source", "entity", "source_id", name="pk_quarantine"),
    )
    op.create_index("ix_quarantine_partition_key_resolved_at", "quarantine", ["partition_key", "resolved_at"])

    op.create_table(
        "credentials",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", name="pk_credentials"),
    )

    op.create_table(
        "run_audit",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("partition_key", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("detail", sa.Text()),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_run_audit"),
    )
    op.create_index("ix_run_audit_partition_key", "run_audit", ["partition_key"])
    op.create_index("ix_run_audit_run_id", "run_audit", ["run_id"])


def downgrade() -> None:
    op.drop_table("run_audit")
    op.drop_table("credentials")
    op.drop_table("quarantine")
    op.drop_table("sync_map")
