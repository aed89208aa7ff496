"""The outbound systems' records (``clinic_etl.engage``): contacts made in a marketing system for source records, and
follow-ups of overdue invoices. Never deleted: a record's status says where it stands. Reasons never hold personal
data; e-mails and phones are kept only as salted hashes (to keep two patients sharing one apart)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import Engine, select

from .engine import chunked, upsert, write_transaction
from .records import check_keys, check_text
from .tables import engage_contacts, engage_follow_ups, utcnow

IN_CHUNK = 500
CONTACT_STATUSES = ("contact", "onboarded", "declined", "skipped")
FOLLOW_UP_STATUSES = ("overdue", "settled", "skipped")


def personal_hash(kind: str, value: str | None) -> str | None:
    """A salted digest of an e-mail or phone, to find two records sharing one without keeping the value."""
    if not value:
        return None
    return hashlib.sha256(f"clinic_etl.engage:{kind}:{value.strip().lower()}".encode()).hexdigest()[:32]


@dataclass(frozen=True)
class EngageContact:
    service: str
    account: str
    source_key: str
    status: (
        str  # CONTACT_STATUSES: in the system (contact: steps pending; onboarded), or never sent (declined, skipped)
    )
    remote_id: str | None = None
    content_hash: str | None = None
    email_hash: str | None = None
    phone_hash: str | None = None
    steps: str | None = None  # JSON
    reason: str | None = None
    partition_key: str | None = None
    updated_at: datetime | None = None  # set by the store

    @property
    def in_system(self) -> bool:
        return self.status in ("contact", "onboarded") and bool(self.remote_id)


@dataclass(frozen=True)
class FollowUp:
    service: str
    account: str
    invoice_key: str
    xero_id: str
    status: str  # FOLLOW_UP_STATUSES
    invoice_number: str | None = None
    member_id: str | None = None
    follow_ups: int = 0
    last_follow_up: str | None = None
    reason: str | None = None
    partition_key: str | None = None
    updated_at: datetime | None = None  # set by the store


_CONTACT_TEXT = ("service", "account", "source_key", "status", "remote_id", "content_hash", "email_hash", "phone_hash")
_CONTACT_TEXT += ("steps", "reason", "partition_key")
_FOLLOW_UP_TEXT = ("service", "account", "invoice_key", "xero_id", "status", "invoice_number", "member_id")
_FOLLOW_UP_TEXT += ("last_follow_up", "reason", "partition_key")


def _row(record: Any, text: tuple[str, ...], now: datetime) -> dict[str, Any]:
    check_text(record, text)
    return {**{f.name: getattr(record, f.name) for f in fields(record)}, "updated_at": now}


# ---- contacts -----------------------------------------------------------------------------------------------------
def get_contacts(
    engine: Engine, service: str, account: str, source_keys: Iterable[str] | None = None
) -> dict[str, EngageContact]:
    t = engage_contacts.c
    base = select(engage_contacts).where(t.service == service, t.account == account)
    out: dict[str, EngageContact] = {}
    with engine.connect() as conn:
        if source_keys is None:
            rows = list(conn.execute(base))
        else:
            rows = []
            for chunk in chunked(check_keys(source_keys, "source_keys"), IN_CHUNK):
                rows += conn.execute(base.where(t.source_key.in_(chunk))).all()
    for row in rows:
        out[row.source_key] = EngageContact(**{f.name: getattr(row, f.name) for f in fields(EngageContact)})
    return out


def contacts_sharing(
    engine: Engine, service: str, account: str, email_hashes: Iterable[str], phone_hashes: Iterable[str]
) -> list[EngageContact]:
    """Records in the system whose e-mail or phone hash is one of these (another patient using the same one)."""
    t = engage_contacts.c
    emails, phones = check_keys(email_hashes, "email_hashes"), check_keys(phone_hashes, "phone_hashes")
    found: dict[str, EngageContact] = {}
    base = select(engage_contacts).where(
        t.service == service, t.account == account, t.status.in_(("contact", "onboarded"))
    )
    with engine.connect() as conn:
        for column, hashes in ((t.email_hash, emails), (t.phone_hash, phones)):
            for chunk in chunked(hashes, IN_CHUNK):
                for row in conn.execute(base.where(column.in_(chunk))):
                    found[row.source_key] = EngageContact(
                        **{f.name: getattr(row, f.name) for f in fields(EngageContact)}
                    )
    return list(found.values())


def put_contacts(engine: Engine, records: Iterable[EngageContact]) -> None:
    now = utcnow()
    rows = {(r.service, r.account, r.source_key): _row(r, _CONTACT_TEXT, now) for r in records}
    for row in rows.values():
        if row["status"] not in CONTACT_STATUSES:
            raise ValueError(f"engage contact status must be one of {CONTACT_STATUSES}")
    if rows:
        values = [n for n in rows[next(iter(rows))] if n not in ("service", "account", "source_key")]
        with write_transaction(engine) as conn:
            upsert(conn, engage_contacts, list(rows.values()), keys=("service", "account", "source_key"), update=values)


# ---- follow-ups ---------------------------------------------------------------------------------------------------
def get_follow_ups(
    engine: Engine,
    service: str,
    account: str,
    invoice_keys: Iterable[str] | None = None,
    status: str | None = None,
) -> dict[str, FollowUp]:
    t = engage_follow_ups.c
    base = select(engage_follow_ups).where(t.service == service, t.account == account)
    if status is not None:
        base = base.where(t.status == status)
    with engine.connect() as conn:
        if invoice_keys is None:
            rows = list(conn.execute(base))
        else:
            rows = []
            for chunk in chunked(check_keys(invoice_keys, "invoice_keys"), IN_CHUNK):
                rows += conn.execute(base.where(t.invoice_key.in_(chunk))).all()
    return {row.invoice_key: FollowUp(**{f.name: getattr(row, f.name) for f in fields(FollowUp)}) for row in rows}


def put_follow_ups(engine: Engine, records: Iterable[FollowUp]) -> None:
    now = utcnow()
    rows = {(r.service, r.account, r.invoice_key): _row(r, _FOLLOW_UP_TEXT, now) for r in records}
    for row in rows.values():
        if row["status"] not in FOLLOW_UP_STATUSES:
            raise ValueError(f"follow-up status must be one of {FOLLOW_UP_STATUSES}")
    if rows:
        values = [n for n in rows[next(iter(rows))] if n not in ("service", "account", "invoice_key")]
        with write_transaction(engine) as conn:
            upsert(
                conn, engage_follow_ups, list(rows.values()), keys=("service", "account", "invoice_key"), update=values
            )
