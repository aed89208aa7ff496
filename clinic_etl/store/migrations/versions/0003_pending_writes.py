"""A parent key on sync map records (a payment's invoice) and the pending writes journal.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-04

``sync_map.parent_key``: the record a payment (or credit allocation) belongs to, so that a payment the source no
longer lists for its invoice can be found and taken off. Existing payment records (one per invoice, keyed
``<source>:payment:<id>`` with the invoice's id) get their invoice's key.

``pending_writes``: a create about to be sent to Xero, written before the request and removed in the transaction
that records its result. A row left behind means the process stopped between the two: the next run reads Xero back
for it before planning anything.

Written out rather than derived from ``tables.metadata`` so that this revision never changes once shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_map") as batch:
        batch.add_column(sa.Column("parent_key", sa.String(255)))
    op.create_index("ix_sync_map_tenant_id_entity_parent_key", "sync_map", ["tenant_id", "entity", "parent_key"])
    op.execute(
        "UPDATE sync_map SET parent_key = replace(source_key, ':payment:', ':invoice:') "
        "WHERE entity = 'payment' AND source_key LIKE '%:payment:%'"
    )
    op.create_table(
        "pending_writes",
        sa.Column("tenant_id", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("number", sa.String(255)),
        sa.Column("parent_key", sa.String(255)),
        sa.Column("partition_key", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("tenant_id", "entity", "source_key", name="pk_pending_writes"),
    )


def downgrade() -> None:
    op.drop_table("pending_writes")
    op.drop_index("ix_sync_map_tenant_id_entity_parent_key", table_name="sync_map")
    with op.batch_alter_table("sync_map") as batch:
        batch.drop_column("parent_key")
