"""The sandbox's organisations: every Xero organisation (tenant) the simulated app can be connected to, in order.

The first is the organisation the sandbox always had (same tenant id, name and chart); the others are further
organisations of the same practice, each with its own tenant id, books and limits. Which of them the app is
connected to is part of the state (`connections.py`).
"""

from __future__ import annotations

from dataclasses import dataclass

SANDBOX_TENANT_ID = "3f0a8f7c-6b1e-4c2d-9a5e-5a1d0c0e7a11"
SANDBOX_SECOND_TENANT_ID = "7c2e4b91-5d3a-4f6e-8b1c-2a9d0e4f6b22"
SANDBOX_AUTH_EVENT_ID = "c0ffee00-1234-4abc-9def-00000000a11e"  # the one consent that connected them all


@dataclass(frozen=True)
class SandboxOrganisation:
    """One organisation: its tenant id (its OrganisationID), the id of the app's connection to it, its names (as an
    Australian clinic's books; as a US law firm's, when the state file is the law firm's) and its short code."""

    tenant_id: str
    connection_id: str
    name: str
    law_firm_name: str
    short_code: str


SANDBOX_ORGANISATIONS: tuple[SandboxOrganisation, ...] = (
    SandboxOrganisation(
        SANDBOX_TENANT_ID,
        "9b1d2c3e-4f50-4a6b-8c7d-0e1f2a3b4c5d",
        "Sandbox Allied Health Pty Ltd",
        "Sandbox Law Firm LLC",
        "!SbxAH",
    ),
    SandboxOrganisation(
        SANDBOX_SECOND_TENANT_ID,
        "4e8a1f2b-3c5d-4e6f-9a7b-8c9d0e1f2a3b",
        "Sandbox Allied Health Melbourne Pty Ltd",
        "Sandbox Law Firm Brooklyn LLC",
        "!SbxMB",
    ),
)
SANDBOX_TENANTS: tuple[str, ...] = tuple(org.tenant_id for org in SANDBOX_ORGANISATIONS)
FIRST = SANDBOX_ORGANISATIONS[0]


def scoped(tenant: str, *parts: str) -> str:
    """A name made of `parts` ("account/200") that is the organisation's own, for its seeded ids and its counters:
    another's has its tenant id appended; the first keeps the plain name it had before there were several (so state
    files made then read the same)."""
    return "/".join(parts if tenant == FIRST.tenant_id else (*parts, tenant))
