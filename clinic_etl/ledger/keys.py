"""Source keys (`cliniko:invoice:123`): the ledger's identity of every record, carrying its source."""

from __future__ import annotations

from collections.abc import Iterable


def source_of(key: str) -> str:
    return key.split(":", 1)[0]


def ids_by_source_entity(keys: Iterable[str]) -> dict[tuple[str, str], list[str]]:
    """`cliniko:invoice:1`, `clio:bill:2` -> {("cliniko", "invoice"): ["1"], ("clio", "bill"): ["2"]}: how the
    quarantine files a source record."""
    out: dict[tuple[str, str], list[str]] = {}
    for key in keys:
        source, entity, source_id = key.split(":", 2)
        out.setdefault((source, entity), []).append(source_id)
    return out
