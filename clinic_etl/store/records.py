"""Plain records exchanged with the state store (no SQLAlchemy types leak out)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class SyncRecord:
    """One source object's mapping onto Xero: the durable idempotency record.

    Keyed by ``(tenant_id, entity, source_key)``; ``entity`` is e.g. ``"contact"``, ``"invoice"``,
    ``"payment"`` or ``"credit_note"`` and ``source_key`` e.g. ``"cliniko:invoice:123"``.
    ``synced_at`` is set by the store (UTC, tz-aware) when the record is written; any value passed in
    is ignored.
    """

    tenant_id: str
    entity: str
    source_key: str
    xero_id: str | None = None
    xero_number: str | None = None
    content_hash: str | None = None
    xero_status: str | None = None
    partition_key: str | None = None
    synced_at: datetime | None = None
    parent_key: str | None = None  # the record it belongs to: a payment's invoice key


@dataclass(frozen=True)
class PendingWrite:
    """A create sent (or about to be sent) to Xero whose result the state store has not recorded: left behind,
    it means the process stopped in between, and Xero must be read back for it. ``number`` is what finds it there
    (InvoiceNumber, ContactNumber, a payment's Reference); ``parent_key`` the record it belongs to."""

    tenant_id: str
    entity: str
    source_key: str
    number: str | None
    parent_key: str | None
    partition_key: str
    run_id: str


@dataclass(frozen=True)
class QuarantineRecord:
    """A rejected source row and why; keyed by ``(source, entity, source_id)``.

    The timestamps are maintained by the store: values passed to ``StateStore.quarantine`` are ignored.
    """

    source: str
    entity: str
    source_id: str
    partition_key: str
    reason: str
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    resolved_at: datetime | None = None


def check_text(record: object, fields: Iterable[str]) -> None:
    """Key fields must be ``str``: SQLite would quietly store an int (or numpy int) in a text column
    where PostgreSQL refuses it, so refuse it on both. The message names the field, never the value."""
    for name in fields:
        value = getattr(record, name)
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{type(record).__name__}.{name} must be str, not {type(value).__name__}")


def check_keys(keys: Iterable[object], what: str) -> list[str]:
    """Distinct keys, sorted; refuses a bare string (an iterable of characters) and non-str keys."""
    if isinstance(keys, str):
        raise TypeError(f"{what} must be an iterable of str, not one string")
    out = set()
    for key in keys:
        if not isinstance(key, str):
            raise TypeError(f"{what} must hold str, not {type(key).__name__}")
        out.add(key)
    return sorted(out)
