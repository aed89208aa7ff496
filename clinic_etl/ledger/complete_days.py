"""Summary mode needs whole days: a summary is rebuilt from every invoice issued on its day and business. When a run's
ledger touches an earlier issue day (an invoice edited, paid or deleted after its day was summarised), that day is
read again from the source, whole, and merged in (the run's own records win), so its summary is re-issued from all of
its invoices, never from the one that changed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from zoneinfo import ZoneInfo

import pandas as pd

from clinic_etl.ledger.models import LEDGER_MODELS
from clinic_etl.partitions import SyncWindow

KEYS = {
    "contacts": ["contact_key"],
    "invoices": ["invoice_key"],
    "lines": ["invoice_key", "line_no"],
    "payments": ["payment_key"],
    "credit_notes": ["credit_note_key"],
    "credit_allocations": ["allocation_key"],
    "refunds": ["refund_key"],
    "excluded": ["record_key", "rule"],
}


def ranges(days: list[str], zone: ZoneInfo) -> list[SyncWindow]:
    """Consecutive days as one window each (a week of late payments is one extract, not seven)."""
    out: list[SyncWindow] = []
    for day in sorted(date.fromisoformat(d) for d in days):
        if out and out[-1].last + timedelta(days=1) == day:
            out[-1] = SyncWindow(out[-1].first, day, zone)
        else:
            out.append(SyncWindow(day, day, zone))
    return out


def merged(first: dict[str, pd.DataFrame], more: list[dict[str, pd.DataFrame]]) -> dict[str, pd.DataFrame]:
    """`first`'s records, then those of `more` that `first` lacks, frame by frame."""
    if not more:
        return first
    out = {}
    for name in LEDGER_MODELS:
        frames = [f[name] for f in (first, *more) if name in f and len(f[name])]
        if not frames:
            out[name] = first[name]
            continue
        both = pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
        out[name] = both.drop_duplicates(KEYS[name], keep="first").reset_index(drop=True)
    return out


def issued_in(ledger: dict[str, pd.DataFrame], window: SyncWindow) -> dict[str, pd.DataFrame]:
    """Only the documents issued on the window's days (a read also brings documents of other days that changed in
    it: those days would be partial), with what hangs off them."""
    days = set(window.days)
    invoices = ledger["invoices"][ledger["invoices"]["issue_date"].isin(days)]
    notes = ledger["credit_notes"][ledger["credit_notes"]["issue_date"].isin(days)]
    keys, note_keys = set(invoices["invoice_key"]), set(notes["credit_note_key"])
    return {
        **ledger,
        "invoices": invoices,
        "lines": ledger["lines"][ledger["lines"]["invoice_key"].isin(keys)],
        "payments": ledger["payments"][ledger["payments"]["invoice_key"].isin(keys)],
        "credit_notes": notes,
        "credit_allocations": ledger["credit_allocations"][
            ledger["credit_allocations"]["credit_note_key"].isin(note_keys)
        ],
        "refunds": ledger["refunds"][ledger["refunds"]["credit_note_key"].isin(note_keys)],
        "excluded": ledger["excluded"][ledger["excluded"]["day"].isin(days)],
    }


def complete_days(
    ledger: dict[str, pd.DataFrame],
    window: SyncWindow,
    read: Callable[[SyncWindow], tuple[dict[str, pd.DataFrame], pd.DataFrame]],
) -> tuple[dict[str, pd.DataFrame], list[pd.DataFrame]]:
    """The ledger with every issue day it touches outside `window` read whole by `read` (window -> ledger, rejects),
    and the rejects of those reads."""
    inside = set(window.days)
    outside = sorted(set(ledger["invoices"]["issue_date"]) - inside)
    if not outside:
        return ledger, []
    windows = ranges(outside, window.zone)
    reads = [read(w) for w in windows]
    whole = [issued_in(r[0], w) for r, w in zip(reads, windows, strict=True)]
    return merged(ledger, whole), [r[1] for r in reads]
