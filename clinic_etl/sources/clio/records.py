"""What every Clio mapping step shares: record keys, the day a record is synced for, raw frames as text."""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.cliniko.schemas import instant, is_real_date
from clinic_etl.sources.clio.extract import KEEP
from clinic_etl.sources.raw import scalar_text

SOURCE = "clio"
TRUST = "trust"  # the rule that keeps trust money out of Xero (LedgerExcluded.rule)
REMOVED_BILL = "removed_bill"  # a live allocation on a void or deleted bill
REMOVED_CREDIT_MEMO = "removed_credit_memo"  # a live allocation of a voided credit memo


def key(entity: str, source_id: object) -> str:
    """`clio:bill:1870245001`: the ledger's key of a Clio record (and the quarantine's entity + id)."""
    return f"{SOURCE}:{entity}:{source_id}"


def day_of(date: object, changes: Iterable[object], window: SyncWindow) -> str:
    """The window's day a record is synced for: its own date when that is one of the window's days, else the firm's
    local day of its latest change, clamped to the window (the first day when neither can be read)."""
    if is_real_date(date) and window.clamp(date) == date:  # type: ignore[arg-type]
        return date  # type: ignore[return-value]
    changed = [window.local_date(c) for c in changes if instant(c) is not None]  # type: ignore[arg-type]
    return window.clamp(max(changed)) if changed else window.first.isoformat()


def in_window(date: object, changes: Iterable[object], window: SyncWindow) -> bool:
    """The record's date, or the local day of one of its changes, is one of the window's days."""
    days = set(window.days)
    return date in days or any(window.local_date(c) in days for c in changes if instant(c) is not None)  # type: ignore[arg-type]


def _cell(value: object) -> str | None:
    if value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and value != value):
        return None
    return scalar_text(value)


def raw_frame(raw: dict[str, pd.DataFrame], name: str) -> pd.DataFrame:
    """A raw frame with every extracted column, every cell text or None (a hand-built frame may hold numbers, NaN or
    lack an optional column), indexed 0..n-1."""
    frame = raw.get(name)
    if frame is None or (frame.empty and not len(frame.columns)):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in KEEP[name]})
    out = frame.reset_index(drop=True).astype(object)
    out = out.map(_cell) if len(out) else out
    missing = [c for c in KEEP[name] if c not in out.columns]
    return out.assign(**dict.fromkeys(missing)).astype({c: object for c in missing}) if missing else out


def column(frame: pd.DataFrame, name: str) -> list:
    return list(frame[name]) if name in frame.columns else [None] * len(frame)


def truthy(value: object) -> bool:
    """A boolean as the extract keeps it ("True"/"False"; None is False)."""
    return value == "True"
