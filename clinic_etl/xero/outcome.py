"""What the loader did to each record: every write recorded in the state store as it succeeds (the audit, with the
sync map record it leaves), and in memory the outcome of every record (the UI metadata, the quarantine of
failures)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from clinic_etl.store import WRITE_ACTIONS, PendingWrite, StateStore, SyncRecord
from clinic_etl.xero.client import XeroClient

OUTCOME_COLUMNS = ["entity", "key", "day", "action", "xero_id", "reason"]
WRITES = set(WRITE_ACTIONS)


@dataclass
class LoadContext:
    client: XeroClient
    store: StateStore
    tenant_id: str
    default_day: str  # for records of no particular day of the window (its first day)
    run_id: str  # the Dagster run: every write is recorded under it
    outcomes: list[dict] = field(default_factory=list)
    payments_frozen: bool = False  # rules.sync_payments: false: no payment is written or taken off

    def note(
        self,
        entity: str,
        key: str,
        action: str,
        xero_id: str | None = None,
        reason: str = "",
        *,
        day: str | None = None,
    ) -> None:
        self.outcomes.append(
            {
                "entity": entity,
                "key": key,
                "day": day or self.default_day,
                "action": action,
                "xero_id": xero_id,
                "reason": reason,
            }
        )

    def records(self, entity: str, keys: list[str]) -> dict[str, SyncRecord]:
        return self.store.get_records(self.tenant_id, entity, keys)

    def save(
        self,
        entity: str,
        key: str,
        xero_id: str,
        *,
        action: str,
        content_hash: str | None,
        status: str | None,
        number: str | None = None,
        day: str | None = None,
        parent: str | None = None,
    ) -> None:
        """Right after Xero accepted a write (``action``, one of WRITES): record the sync map record it leaves
        and the write in one transaction, and note the outcome. A write on record already (Xero replayed it to a
        concurrent run, or an earlier attempt of this step recorded it) is noted "unchanged": this run changed
        nothing."""
        day = day or self.default_day
        record = SyncRecord(self.tenant_id, entity, key, xero_id, number, content_hash, status, day, None, parent)
        new = self.store.record_write(record, action, self.run_id)
        self.note(entity, key, action if new else "unchanged", xero_id, day=day)

    def intend(self, entity: str, creates: list[tuple[str, str | None, str | None, str]]) -> None:
        """Before a batch of creates is sent: note each (key, number that finds it in Xero, parent key, day) in the
        pending writes journal. `save` clears a note; `settle` clears those Xero refused."""
        self.store.note_pending(
            PendingWrite(self.tenant_id, entity, key, number, parent, day or self.default_day, self.run_id)
            for key, number, parent, day in creates
        )

    def settle(self, entity: str, keys: list[str]) -> None:
        """Xero answered for these creates without writing them (refused): their notes go."""
        if keys:
            self.store.clear_pending(self.tenant_id, entity, keys)

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.outcomes, columns=OUTCOME_COLUMNS)


def errors_of(element: dict) -> list[str]:
    return [e.get("Message", "") for e in element.get("ValidationErrors") or [] if e.get("Message")]


def redact(message: str, *private: object) -> str:
    """Xero echoes names in some messages ("The contact name X is already assigned"): keep them out."""
    for value in private:
        if isinstance(value, str) and value.strip():
            message = message.replace(value, "<name>")
    return message
