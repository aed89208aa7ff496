"""Helpers of the appointment-invoicing tests: the simulator serving a practice a test edits, through the resource."""

from __future__ import annotations

import copy
from datetime import date, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

import dagster as dg

from clinic_etl.partitions import SyncWindow
from clinic_etl.sandbox.cliniko import Practice, build_practice, create_app
from clinic_etl.sandbox.resources import SandboxClinikoResource
from clinic_etl.sandbox.transport import InProcessTransport

ZONE = ZoneInfo("Australia/Sydney")
DAY = "2026-10-14"
UNBILLED = "1098767"  # the ids of the simulator's appointments nobody invoiced in Cliniko


class PracticeCliniko(SandboxClinikoResource):
    """The simulator serving a practice the test edits (swapped by class, not mocked)."""

    practices: ClassVar[dict[int, Practice]] = {}
    slot: int = 0

    def _transport(self):
        return InProcessTransport(create_app(self.practices[self.slot], requests_per_minute=100_000))


_BUILT: list[Practice] = []


def fresh_practice() -> Practice:
    """A copy of the sandbox practice to edit (built once per process)."""
    if not _BUILT:
        _BUILT.append(build_practice())
    return copy.deepcopy(_BUILT[0])


def window(first: str, last: str | None = None) -> SyncWindow:
    return SyncWindow(date.fromisoformat(first), date.fromisoformat(last or first), ZONE)


def local_day(stamp: str) -> str:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).astimezone(ZONE).date().isoformat()


def through_resource(practice: Practice, w: SyncWindow, **fields) -> tuple[dict, object, dict]:
    """(ledger, rejects, raw frames) of a window, extracted and mapped by the resource as a run does."""
    slot = id(practice)
    PracticeCliniko.practices[slot] = practice
    resource = PracticeCliniko(slot=slot, **fields)
    resource.setup_for_execution(dg.build_init_resource_context())
    try:
        raw = resource.extract(w)
        ledger, rejected = resource.to_ledger(raw, w)
    finally:
        resource.teardown_after_execution(dg.build_init_resource_context())
        PracticeCliniko.practices.pop(slot, None)
    return ledger, rejected, raw


def appointment(practice: Practice, appointment_id: str) -> dict:
    return next(a for a in practice.individual_appointments if a["id"] == appointment_id)


def unbilled_on(practice: Practice, day: str) -> list[dict]:
    return [
        a
        for a in practice.individual_appointments
        if a["id"].startswith(UNBILLED) and local_day(a["ends_at"]) == day and a["patient_arrived"]
    ]
