"""Run the real sync graph in-process against the embedded simulators, each test with its own files."""

import copy
from decimal import Decimal
from typing import ClassVar

import dagster as dg
import httpx
import pytest

from clinic_etl.assets import sync_assets
from clinic_etl.partitions import daily_partitions
from clinic_etl.resources import MappingResource, RunMemoryIOManager, StateStoreResource
from clinic_etl.sandbox.cliniko import build_practice, create_app
from clinic_etl.sandbox.resources import SandboxClinikoResource, SandboxXeroResource
from clinic_etl.sandbox.transport import InProcessTransport
from clinic_etl.sandbox.xero import SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET
from clinic_etl.sandbox.xero import create_app as xero_app
from clinic_etl.settings import Settings
from clinic_etl.store import StateStore
from clinic_etl.xero.auth import XeroAuth
from clinic_etl.xero.client import XeroClient

DAY = "2026-10-14"
SYNC_ASSETS = sync_assets(daily_partitions(Settings.from_env({})))
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"


class Sandbox:
    def __init__(self, tmp_path):
        self.xero_state = str(tmp_path / "xero.sqlite")
        self.db_url = f"sqlite:///{tmp_path / 'state.db'}"
        self.instance = dg.DagsterInstance.ephemeral()

    def resources(
        self, mapping: str | None = None, cliniko=None, idempotency_ttl_s: float = 360.0, organisations: int = 1
    ) -> dict:
        xero = SandboxXeroResource(
            state_path=self.xero_state, idempotency_ttl_s=idempotency_ttl_s, organisations=organisations
        )
        return {
            "source": cliniko or SandboxClinikoResource(),
            "xero": xero,
            "state_store": StateStoreResource(url=self.db_url),
            "mapping": MappingResource(path=mapping),
            "io_manager": RunMemoryIOManager(),
        }

    def sync(self, day: str = DAY, until: str | None = None, **kwargs) -> dg.ExecuteInProcessResult:
        """One run of the sync graph: one day, or the days `day`..`until` as a single-run backfill."""
        window = {"tags": {RANGE_START: day, RANGE_END: until}} if until else {"partition_key": day}
        return dg.materialize(
            SYNC_ASSETS, resources=self.resources(**kwargs), instance=self.instance, raise_on_error=False, **window
        )

    def xero(self, tenant_id: str | None = None) -> XeroClient:
        """A client of the simulated Xero: of organisation `tenant_id` (None: the app's first connection)."""
        transport = InProcessTransport(xero_app(self.xero_state))
        auth = XeroAuth(
            "http://xero.sandbox", SANDBOX_CLIENT_ID, SANDBOX_CLIENT_SECRET, store=None, transport=transport
        )
        return XeroClient("http://xero.sandbox", auth, tenant_id, transport=transport)

    def store(self) -> StateStore:
        return StateStore.open(self.db_url)

    def admin(self, method: str, path: str, **kwargs):
        transport = InProcessTransport(xero_app(self.xero_state))
        with httpx.Client(transport=transport, base_url="http://xero.sandbox") as http:
            return http.request(method, path, **kwargs)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return Sandbox(tmp_path)


@pytest.fixture(scope="session")
def practice():
    return build_practice()


def metadata(result: dg.ExecuteInProcessResult, asset: str, day: str | None = None) -> dict:
    """The metadata of an asset's materialization (of `day`, or the run's last one)."""
    events = result.asset_materializations_for_node(asset)
    if day is not None:
        events = [e for e in events if e.partition == day]
    return {k: getattr(v, "value", v) for k, v in events[-1].metadata.items()}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def held_back(result: dg.ExecuteInProcessResult) -> bool:
    """The run wrote the day and failed only on its blocking quarantine check: money held back is never a pass."""
    failed = [e for e in result.all_events if e.is_step_failure]
    messages = [e.step_failure_data.error.message for e in failed]
    return (
        not result.success
        and [e.step_key for e in failed] == ["xero_reconciliation"]
        and checks(result).get("nothing_quarantined") is False
        and all("nothing_quarantined" in m and "xero_matches_source" not in m for m in messages)
    )


def money(value) -> Decimal:
    return Decimal(str(value))


class EditableCliniko(SandboxClinikoResource):
    """The simulator serving a practice the test edits between runs (swapped by class, not mocked)."""

    practices: ClassVar[dict[int, object]] = {}
    slot: int = 0

    def _transport(self):
        return InProcessTransport(create_app(self.practices[self.slot]))


@pytest.fixture
def editable(sandbox, request):
    slot = id(request)
    EditableCliniko.practices[slot] = copy.deepcopy(build_practice())
    yield slot, EditableCliniko.practices[slot]
    EditableCliniko.practices.pop(slot, None)


@pytest.fixture
def handmade(sandbox):
    """(run, client, store): `run(ledger)` loads a hand-made ledger (`handmade.ledger`) into the simulated Xero."""
    from clinic_etl_tests.pipeline.handmade import loader

    run, client, store = loader(sandbox)
    yield run, client, store
    client.close()
    store.dispose()
