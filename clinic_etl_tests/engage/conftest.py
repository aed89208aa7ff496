"""The outbound features run in-process against the embedded simulators (Cliniko, Xero, GoHighLevel, Mailchimp), each
test with its own state files; the simulators' call counters are the proof of what was sent."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any, ClassVar

import dagster as dg
import httpx
import pytest
import yaml

from clinic_etl.assets import follow_ups, onboarding, sync_assets
from clinic_etl.mapping import load_mapping
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import MappingResource, RunMemoryIOManager, StateStoreResource
from clinic_etl.sandbox.cliniko import build_practice
from clinic_etl.sandbox.cliniko import create_app as cliniko_app
from clinic_etl.sandbox.gohighlevel import SANDBOX_WORKFLOW_ID
from clinic_etl.sandbox.gohighlevel import create_app as ghl_app
from clinic_etl.sandbox.mailchimp import SANDBOX_JOURNEY_ID, SANDBOX_STEP_ID
from clinic_etl.sandbox.mailchimp import create_app as mailchimp_app
from clinic_etl.sandbox.resources import (
    SandboxClinikoResource,
    SandboxGoHighLevelResource,
    SandboxMailchimpResource,
    SandboxXeroResource,
)
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app
from clinic_etl.settings import Settings
from clinic_etl.store import StateStore
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient

PARTITIONS = daily_partitions(Settings.from_env({}))
SYNC_ASSETS = sync_assets(PARTITIONS)
ONBOARDING = onboarding.build(PARTITIONS)
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
GHL = {"workflow_id": SANDBOX_WORKFLOW_ID, "tags": ["new-patient", "cliniko"], "consent": "email_or_sms"}
MAILCHIMP = {
    "tag": "overdue-invoice",
    "journey": {"journey_id": SANDBOX_JOURNEY_ID, "step_id": SANDBOX_STEP_ID},
    "days_overdue": 7,
    "follow_up_every_days": 14,
    "alert_overdue_total": 5000,
}


class RoomyXero(SandboxXeroResource):
    """The Xero simulator with a roomier per-minute window: these tests run several syncs a minute apart, and what
    they prove is the outbound systems' behaviour, not Xero's limit (the sync's own tests cover that)."""

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(xero_app(self.state_path, calls_per_minute=10_000, region=self.region))


class EditableCliniko(SandboxClinikoResource):
    """The Cliniko simulator serving a practice the test edits between runs (swapped by class, not mocked)."""

    practices: ClassVar[dict[int, object]] = {}
    slot: int = 0

    def _transport(self) -> httpx.BaseTransport | None:
        return InProcessTransport(cliniko_app(self.practices[self.slot]))


class Outbound:
    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.xero_state = str(tmp_path / "xero.sqlite")
        self.ghl_state = str(tmp_path / "gohighlevel.sqlite")
        self.mailchimp_state = str(tmp_path / "mailchimp.sqlite")
        self.db_url = f"sqlite:///{tmp_path / 'state.db'}"
        self.instance = dg.DagsterInstance.ephemeral()
        self.practice = None  # set by `editable`: the practice the simulator serves
        self.slot = 0

    # ---- configuration and runs
    def mapping(self, gohighlevel: dict | None = GHL, mailchimp: dict | None = MAILCHIMP, **more: Any) -> str:
        body: dict[str, Any] = dict(more)
        if gohighlevel is not None:
            body["gohighlevel"] = gohighlevel
        if mailchimp is not None:
            body["mailchimp"] = mailchimp
        path = self.tmp / f"mapping-{len(list(self.tmp.glob('mapping-*')))}.yaml"
        path.write_text(yaml.safe_dump(body))
        return str(path)

    def resources(self, mapping: str, ghl_time_scale: float = 1.0) -> dict:
        source = EditableCliniko(slot=self.slot) if self.practice is not None else SandboxClinikoResource()
        return {
            "source": source,
            "xero": RoomyXero(state_path=self.xero_state),
            "gohighlevel": SandboxGoHighLevelResource(state_path=self.ghl_state, time_scale=ghl_time_scale),
            "mailchimp": SandboxMailchimpResource(state_path=self.mailchimp_state),
            "state_store": StateStoreResource(url=self.db_url),
            "mapping": MappingResource(path=mapping),
            "io_manager": RunMemoryIOManager(),
        }

    def run(
        self, assets: list, mapping: str, day: str, until: str | None = None, **kwargs: Any
    ) -> dg.ExecuteInProcessResult:
        window = {"tags": {RANGE_START: day, RANGE_END: until}} if until else {"partition_key": day}
        resources = self.resources(mapping, **kwargs)
        return dg.materialize(assets, resources=resources, instance=self.instance, raise_on_error=False, **window)

    def onboard(self, mapping: str, day: str, until: str | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
        """The GoHighLevel asset alone (it reads Cliniko, not the sync's frames)."""
        return self.run([ONBOARDING], mapping, day, until, **kwargs)

    def sync(self, mapping: str, day: str, until: str | None = None, **kwargs: Any) -> dg.ExecuteInProcessResult:
        """The whole sync with the outbound assets the mapping turns on."""
        loaded = load_mapping(mapping)
        extra = [ONBOARDING] if loaded.gohighlevel is not None else []
        if loaded.mailchimp is not None:
            extra.append(follow_ups.build(PARTITIONS, loaded.mailchimp))
        return self.run([*SYNC_ASSETS, *extra], mapping, day, until, **kwargs)

    # ---- the simulators, as a test sees them
    def ghl(self, method: str, path: str, **kwargs: Any) -> Any:
        with httpx.Client(transport=InProcessTransport(ghl_app(self.ghl_state)), base_url="http://ghl") as http:
            return http.request(method, path, **kwargs).json()

    def chimp(self, method: str, path: str, **kwargs: Any) -> Any:
        app = mailchimp_app(self.mailchimp_state)
        with httpx.Client(transport=InProcessTransport(app), base_url="http://us21.api.mailchimp.sandbox") as http:
            return http.request(method, path, **kwargs).json()

    def xero(self) -> XeroClient:
        transport = InProcessTransport(xero_app(self.xero_state, calls_per_minute=10_000))
        auth = XeroAuth("http://x", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store=None, transport=transport)
        return XeroClient("http://x", auth, transport=transport)

    def store(self) -> StateStore:
        return StateStore.open(self.db_url)


@pytest.fixture
def outbound(tmp_path, monkeypatch) -> Outbound:
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return Outbound(tmp_path)


@pytest.fixture
def editable(outbound):
    """`outbound` with a practice of its own that the test may edit between runs."""
    outbound.slot = id(outbound)
    outbound.practice = EditableCliniko.practices[outbound.slot] = copy.deepcopy(build_practice())
    yield outbound
    EditableCliniko.practices.pop(outbound.slot, None)


def writes(calls: dict[str, int]) -> dict[str, int]:
    """Calls that change something (anything but GET), from a simulator's counters."""
    return {call: n for call, n in calls.items() if not call.startswith("GET")}


def change(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {call: n - before.get(call, 0) for call, n in writes(after).items() if n != before.get(call, 0)}


def metadata(result: dg.ExecuteInProcessResult, asset: str, day: str | None = None) -> dict:
    events = result.asset_materializations_for_node(asset)
    if day is not None:
        events = [e for e in events if e.partition == day]
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def personal_data(practice) -> list[str]:
    """Every name, e-mail and phone number of the practice's patients, as they could appear in a text."""
    out = []
    for p in practice.patients:
        out += [p["email"]] if p["email"] else []
        out += [f"{p['first_name']} {p['last_name']}"]
        for phone in p["patient_phone_numbers"]:
            out += [phone["number"], phone["normalized_number"], "+" + phone["normalized_number"]]
    return out


def leaks(texts: list[str], practice) -> list[str]:
    """Personal data of the practice found in the texts (a list of strings), with the value masked."""
    blob = "\n".join(texts)
    found = [value for value in personal_data(practice) if value and re.search(re.escape(value), blob)]
    return [f"{v[:2]}..." for v in found]


def metadata_texts(result: dg.ExecuteInProcessResult) -> list[str]:
    texts = []
    for event in result.all_events:
        if event.is_step_materialization or event.event_type_value == "ASSET_CHECK_EVALUATION":
            texts.append(repr(event.event_specific_data))
        texts.append(str(event.message or ""))
    return texts
