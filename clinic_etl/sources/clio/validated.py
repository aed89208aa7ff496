"""The Clio extract validated against its raw schemas: the valid records by id, the rejects with their reasons, each
record's day (for the ledger and for the rejects' partitions), and the links the rejected rows still name (a
rejected line item's bill, a rejected allocation's bill and parent, a rejected refund's client); plus `Problems`,
the rule-based reasons found while mapping."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from clinic_etl.ledger.quarantine import record_name, rejects, source_id_of, validate_rows
from clinic_etl.partitions import SyncWindow
from clinic_etl.sources.clio.records import SOURCE, column, day_of, raw_frame
from clinic_etl.sources.clio.schemas import MODELS, PRIVATE

ENTITIES = {
    "bills": "bill",
    "line_items": "line_item",
    "allocations": "allocation",
    "credit_memos": "credit_memo",
    "refunds": "refund",
    "bank_accounts": "bank_account",
    "contacts": "contact",
}


class Problems:
    """Rule-based reasons by (entity, id), each reason once, in the order found."""

    def __init__(self) -> None:
        self.reasons: dict[tuple[str, str], list[str]] = {}

    def add(self, entity: str, record_id: str, reason: str) -> None:
        found = self.reasons.setdefault((entity, record_id), [])
        if reason not in found:
            found.append(reason)

    def ids(self, entity: str) -> set[str]:
        return {i for e, i in self.reasons if e == entity}

    def text(self, entity: str, record_id: str) -> str:
        return f"{record_name(entity, record_id, 0)}: {'; '.join(self.reasons[(entity, record_id)])}"

    def frame(self) -> pd.DataFrame:
        frames = [
            rejects(SOURCE, entity, [(i, self.text(entity, i))])
            for entity, i in sorted(self.reasons, key=lambda k: (k[0], len(k[1]), k[1]))
        ]
        return pd.concat(frames, ignore_index=True) if frames else rejects(SOURCE, "bill", [])


@dataclass
class Extract:
    """The extract's valid records by id, what the schemas rejected, and each record's day."""

    window: SyncWindow
    records: dict[str, dict[str, dict]]
    schema_rejects: pd.DataFrame
    days: dict[str, dict[str, str]]
    item_bill: dict[str, str] = field(default_factory=dict)  # raw line item id -> raw bill id
    allocation_parent: dict[str, tuple[str | None, str | None, str | None]] = field(default_factory=dict)
    refund_client: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def read(cls, raw: dict[str, pd.DataFrame], window: SyncWindow) -> Extract:
        frames = {name: raw_frame(raw, name) for name in MODELS}
        records, bad = {}, []
        for name, model in MODELS.items():
            valid, rejected = validate_rows(frames[name], model, SOURCE, ENTITIES[name], private=PRIVATE)
            records[name] = {r["id"]: r for r in valid.to_dict("records")}
            bad.append(rejected)
        dates = {"bills": "issued_at", "allocations": "date", "credit_memos": "date", "refunds": "date"}
        changes = {
            "bills": ("updated_at", "created_at"),
            "allocations": ("updated_at", "voided_at"),
            "credit_memos": ("updated_at", "voided_at"),
            "refunds": ("updated_at",),
        }
        days: dict[str, dict[str, str]] = {}
        for name, date in dates.items():
            frame = frames[name]
            ids = [source_id_of(v, n) for n, v in enumerate(column(frame, "id"), start=1)]
            stamps = list(zip(*(column(frame, c) for c in changes[name]), strict=True)) or [()] * len(frame)
            days[ENTITIES[name]] = {
                i: day_of(d, s, window) for i, d, s in zip(ids, column(frame, date), stamps, strict=True)
            }
        out = cls(window, records, pd.concat(bad, ignore_index=True), days)
        out.item_bill = _by_position(frames["line_items"], "bill_id")
        parents = zip(*(column(frames["allocations"], c) for c in ("bill_id", "parent_type", "parent_id")), strict=True)
        out.allocation_parent = {
            source_id_of(i, n): p
            for n, (i, p) in enumerate(zip(column(frames["allocations"], "id"), parents, strict=True), 1)
        }
        out.refund_client = _by_position(frames["refunds"], "client_id")
        days["line_item"] = {i: days["bill"].get(b or "", "") for i, b in out.item_bill.items()}
        days["contact"] = _contact_days(frames, days)
        return out

    def ids(self, name: str) -> dict[str, dict]:
        return self.records[name]

    def schema_rejected(self, entity: str) -> dict[str, str]:
        bad = self.schema_rejects[self.schema_rejects["entity"] == entity]
        return dict(zip(bad["source_id"], bad["reason"], strict=True))


def _by_position(frame: pd.DataFrame, name: str) -> dict[str, str]:
    return {
        source_id_of(i, n): v
        for n, (i, v) in enumerate(zip(column(frame, "id"), column(frame, name), strict=True), start=1)
    }


def _contact_days(frames: dict[str, pd.DataFrame], days: dict[str, dict[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for name, link in (("bills", "client_id"), ("credit_memos", "contact_id")):
        frame, entity = frames[name], ENTITIES[name]
        for n, (i, contact) in enumerate(zip(column(frame, "id"), column(frame, link), strict=True), start=1):
            if isinstance(contact, str):
                out.setdefault(contact, days[entity].get(source_id_of(i, n), ""))
    return out
