"""The state store of a dry run: it reads what the store holds, and keeps what a run would record (sync map
records, writes, quarantine) in memory only. Credentials are the exception: a refresh token that Xero rotated
during the dry run is stored, or the organisation would be disconnected."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from .records import QuarantineRecord, SyncRecord
from .store import StateStore
from .tables import utcnow


class DryRunStore:
    def __init__(self, store: StateStore) -> None:
        self._store = store
        self._records: dict[tuple[str, str, str], SyncRecord] = {}
        self._writes: list[dict[str, Any]] = []
        self.quarantined: list[QuarantineRecord] = []

    # ---- reads (with what this run would have recorded)
    def get_records(self, tenant_id: str, entity: str, source_keys: Iterable[str] | None = None) -> dict:
        keys = None if source_keys is None else list(source_keys)
        found = self._store.get_records(tenant_id, entity, keys)
        for (tenant, kind, key), record in self._records.items():
            if tenant == tenant_id and kind == entity and (keys is None or key in keys):
                found[key] = record
        return found

    def get_records_by_number(self, tenant_id: str, entity: str, numbers: Iterable[str]) -> dict:
        return self._store.get_records_by_number(tenant_id, entity, numbers)

    def get_records_by_parent(self, tenant_id: str, entity: str, parent_keys: Iterable[str]) -> dict:
        parents = set(parent_keys)
        found = self._store.get_records_by_parent(tenant_id, entity, parents)
        for (tenant, kind, key), record in self._records.items():
            if tenant == tenant_id and kind == entity and record.parent_key in parents:
                found[key] = record
        return found

    def pending(self, tenant_id: str, entity: str | None = None) -> list:
        return self._store.pending(tenant_id, entity)

    def note_pending(self, writes: Iterable[Any]) -> None:
        """Nothing is sent, so nothing is pending."""

    def clear_pending(self, tenant_id: str, entity: str, source_keys: Iterable[str]) -> None:
        """The notes stay for the next real run to read back."""

    def open_quarantine(self, partition_key: str | None = None) -> list[QuarantineRecord]:
        return self._store.open_quarantine(partition_key)

    def writes(self, run_id: str | None = None, partition_key: str | None = None) -> list[dict[str, Any]]:
        return [
            w
            for w in self._writes
            if (run_id is None or w["run_id"] == run_id)
            and (partition_key is None or w["partition_key"] == partition_key)
        ]

    # ---- writes, kept in memory
    def record(self, records: Iterable[SyncRecord]) -> None:
        for record in records:
            self._records[(record.tenant_id, record.entity, record.source_key)] = record

    def record_write(self, record: SyncRecord, action: str, run_id: str) -> bool:
        self.record([record])
        self._writes.append(
            {
                "tenant_id": record.tenant_id,
                "entity": record.entity,
                "source_key": record.source_key,
                "action": action,
                "xero_id": record.xero_id,
                "partition_key": record.partition_key,
                "run_id": run_id,
                "recorded_at": utcnow(),
            }
        )
        return True

    def quarantine(self, rows: Iterable[QuarantineRecord]) -> None:
        self.quarantined += list(rows)

    def resolve_quarantine(self, source: str, entity: str, source_ids: Iterable[str]) -> int:
        return 0

    # ---- credentials: stored for real
    def get_credential(self, name: str) -> str | None:
        return self._store.get_credential(name)

    def put_credential(self, name: str, value: str, *, expected: str | None = None) -> bool:
        return self._store.put_credential(name, value, expected=expected)

    def credential_lock(self, name: str) -> AbstractContextManager[None]:
        return self._store.credential_lock(name)
