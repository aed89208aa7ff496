"""What the loader did to each record: every write recorded in the state store as it succeeds (the audit, with the
sync map record it leaves), and in memory the outcome of every record (the UI metadata, the quarantine of
failures)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from clinic_etl.store import WRITE_ACTIONS, StateStore, SyncRecord
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
    ) -> None:
        """Right after Xero accepted a write (``action``, one of WRITES): record the sync map record it leaves
        and the write in one transaction, and note the outcome. A write on record already (Xero replayed it to a
        concurrent run, or an earlier attempt of this step recorded it) is noted "unchanged": this run changed
        nothing."""
        day = day or self.default_day
        record = SyncRecord(self.tenant_id, entity, key, xero_id, number, content_hash, status, day, None)
        new = self.store.record_write(record, action, self.run_id)
        self.note(entity, key, action if new else "unchanged", xero_id, day=day)

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
