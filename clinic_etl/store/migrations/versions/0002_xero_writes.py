"""xero_writes (one row per write Xero received, recorded with its sync map row) replaces run_audit.

Revision ID: 0002
Revises: 0001
Create Date: 2025-06-01

run_audit held per-run counts written after a step succeeded, so a failed attempt's writes were never in it;
its rows cannot become per-write rows and are dropped. The downgrade restores run_audit with the counts of
xero_writes per (partition, run, entity, action).

Written out rather than derived from ``tables.metadata`` so that this revision never changes once shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


#: BIGSERIAL on PostgreSQL; INTEGER (SQLite's autoincrementing rowid alias) on SQLite
_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _ts(name: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    op.create_table(
        "xero_writes",
        sa.Column("id", _ID, autoincrement=True, nullable=False),
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("xero_id", sa.String(64), nullable=False),
        sa.Column("from_hash", sa.String(128), nullable=False),
        sa.Column("to_hash", sa.String(128), nullable=False),
        sa.Column("partition_key", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        _ts("recorded_at"),
        sa.PrimaryKeyConstraint("id", name="pk_xero_writes"),
        sa.UniqueConstraint(
            "tenant_id",
            "entity",
            "source_key",
            "action",
            "xero_id",
            "from_hash",
            "to_hash",
            name="uq_xero_writes_write",
        ),
    )
    op.create_index("ix_xero_writes_run_id", "xero_writes", ["run_id"])
    op.create_index("ix_xero_writes_partition_key", "xero_writes", ["partition_key"])
    op.drop_index("ix_run_audit_run_id", table_name="run_audit")
    op.drop_index("ix_run_audit_partition_key", table_name="run_audit")
    op.drop_table("run_audit")


def downgrade() -> None:
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
    op.execute(
        "INSERT INTO run_audit (partition_key, run_id, entity, action, count, recorded_at) "
        "SELECT partition_key, run_id, entity, action, count(*), max(recorded_at) FROM xero_writes "
        "GROUP BY partition_key, run_id, entity, action ORDER BY min(id)"
    )
    op.drop_index("ix_xero_writes_partition_key", table_name="xero_writes")
    op.drop_index("ix_xero_writes_run_id", table_name="xero_writes")
    op.drop_table("xero_writes")
