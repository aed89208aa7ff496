"""The app's connections: which organisations of the catalogue (`catalogue.py`) the app is connected to.

Kept in the state file as a count: the app is connected to the first N organisations (1 unless a simulator was
created with more; a state file made before there were several has the first alone). Connecting more seeds each new
one (in the region of the first); nothing disconnects. `GET /connections` lists them as Xero does (one entry each,
under the one consent's authEventId), and an accounting call is for the connected organisation its
`xero-tenant-id` names, or refused (403, `auth.forbidden`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from .catalogue import FIRST, SANDBOX_AUTH_EVENT_ID, SANDBOX_ORGANISATIONS, SandboxOrganisation
from .org import seed_organisation
from .state import Tx

_CONNECTED = "connected_organisations"  # meta: how many of the catalogue, from the first, are connected


def connected(tx: Tx) -> tuple[SandboxOrganisation, ...]:
    """The connected organisations, in the catalogue's order."""
    return SANDBOX_ORGANISATIONS[: int(tx.meta_get(_CONNECTED) or "1")]


def connect(tx: Tx, count: int, now: float) -> None:
    """Connect the first `count` organisations of the catalogue (the ones new to the state file are seeded)."""
    if not 1 <= count <= len(SANDBOX_ORGANISATIONS):
        raise ValueError(f"the sandbox Xero has 1 to {len(SANDBOX_ORGANISATIONS)} organisations, not {count}")
    already = len(connected(tx))
    if count <= already:
        return
    ms = int(now * 1000)
    region = (tx.get("org", FIRST.tenant_id, FIRST.tenant_id) or {}).get("Version", "AU")
    for org in SANDBOX_ORGANISATIONS[already:count]:
        if tx.get("org", org.tenant_id, org.tenant_id) is None:
            seed_organisation(tx, org, region, ms)
        tx.meta_set(_connected_at(org), str(ms))
    tx.meta_set(_CONNECTED, str(count))


def tenant_of(tx: Tx, tenant_header: str) -> str | None:
    """The connected organisation a `xero-tenant-id` names, or None."""
    tenant = tenant_header.strip().lower()
    return tenant if any(org.tenant_id == tenant for org in connected(tx)) else None


def listing(tx: Tx, auth_event_filter: str | None) -> list[dict[str, str]]:
    """`GET /connections`: one entry per connected organisation (none for another authEventId)."""
    if auth_event_filter and auth_event_filter.lower() != SANDBOX_AUTH_EVENT_ID:
        return []
    return [_connection(tx, org) for org in connected(tx)]


def _connection(tx: Tx, org: SandboxOrganisation) -> dict[str, str]:
    connected_ms = int(tx.meta_get(_connected_at(org)) or tx.meta_get("created_ms") or "0")
    stamp = datetime.fromtimestamp(connected_ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f") + "0"
    record = tx.get("org", org.tenant_id, org.tenant_id) or {}
    return {
        "id": org.connection_id,
        "authEventId": SANDBOX_AUTH_EVENT_ID,
        "tenantId": org.tenant_id,
        "tenantType": "ORGANISATION",
        "tenantName": record.get("Name", org.name),
        "createdDateUtc": stamp,
        "updatedDateUtc": stamp,
    }


def _connected_at(org: SandboxOrganisation) -> str:
    return f"connected_ms:{org.tenant_id}"
