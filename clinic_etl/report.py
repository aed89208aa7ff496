"""Plain-text reports for the terminal: ids, amounts and reasons only (no personal data)."""

from __future__ import annotations

from clinic_etl.settings import Settings
from clinic_etl.store import StateStore


def print_quarantine(settings: Settings) -> int:
    store = StateStore.open(settings.store_url)
    rows = store.open_quarantine()
    for row in rows:
        print(f"{row.partition_key}  {row.source}:{row.entity}:{row.source_id}  {row.reason}")
    print(f"{len(rows)} open quarantined record(s)")
    return 0
