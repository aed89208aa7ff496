"""The outbound systems beyond Xero: GoHighLevel contacts of new patients, Mailchimp follow-ups of overdue invoices.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05

``engage_contacts``: a source record's contact in a marketing system (service, account, source key -> remote id,
content hash, salted hashes of the e-mail and phone, the onboarding steps planned and applied, or why it was
declined or skipped), so that a re-run sends nothing and a later change of e-mail or phone updates the contact.

``engage_follow_ups``: an overdue invoice's follow-up (service, account, invoice key -> Xero id and number, the
member it went to, how many follow-ups and the day of the last, overdue / settled / skipped with the reason).

Written out rather than derived from ``tables.metadata`` so that this revision never changes once shipped.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "engage_contacts",
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("source_key", sa.String(255), nullable=False),
        sa.Column("remote_id", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("content_hash", sa.String(128)),
        sa.Column("email_hash", sa.String(64)),
        sa.Column("phone_hash", sa.String(64)),
        sa.Column("steps", sa.Text()),
        sa.Column("reason", sa.Text()),
        sa.Column("partition_key", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", "account", "source_key", name="pk_engage_contacts"),
    )
    op.create_index(
        "ix_engage_contacts_service_account_email_hash", "engage_contacts", ["service", "account", "email_hash"]
    )
    op.create_index(
        "ix_engage_contacts_service_account_phone_hash", "engage_contacts", ["service", "account", "phone_hash"]
    )
    op.create_index("ix_engage_contacts_partition_key", "engage_contacts", ["partition_key"])
    op.create_table(
        "engage_follow_ups",
        sa.Column("service", sa.String(32), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("invoice_key", sa.String(255), nullable=False),
        sa.Column("xero_id", sa.String(64), nullable=False),
        sa.Column("invoice_number", sa.String(255)),
        sa.Column("member_id", sa.String(64)),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("follow_ups", sa.Integer(), nullable=False),
        sa.Column("last_follow_up", sa.String(10)),
        sa.Column("reason", sa.Text()),
        sa.Column("partition_key", sa.String(64)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("service", "account", "invoice_key", name="pk_engage_follow_ups"),
    )
    op.create_index(
        "ix_engage_follow_ups_service_account_status", "engage_follow_ups", ["service", "account", "status"]
    )
    op.create_index(
        "ix_engage_follow_ups_service_account_member_id", "engage_follow_ups", ["service", "account", "member_id"]
    )


def downgrade() -> None:
    op.drop_table("engage_follow_ups")
    op.drop_table("engage_contacts")
