"""Run the real sync graph in-process against the embedded simulators, each test with its own files."""

import copy
from decimal import Decimal
from typing import ClassVar

import dagster as dg
import pytest

from clinic_etl.definitions import SYNC_ASSETS
from clinic_etl.resources import MappingResource, SandboxClinikoResource, SandboxXeroResource, StateStoreResource
from clinic_etl.resources.xero import _sandbox_transport
from clinic_etl.sandbox.cliniko import build_practice, create_app
from clinic_etl.sandbox.transport import InProcessTransport

DAY = "2026-10-14"


class Sandbox:
    def __init__(self, tmp_path):
        self.xero_state = str(tmp_path / "xero.sqlite")
        self.db_url = f"sqlite:///{tmp_path / 'state.db'}"
        self.instance = dg.DagsterInstance.ephemeral()

    def resources(self, mapping: str | None = None, cliniko=None, idempotency_ttl_s: float = 360.0) -> dict:
        xero = SandboxXeroResource(state_path=self.xero_state, idempotency_ttl_s=idempotency_ttl_s)
        return {
            "cliniko": cliniko or SandboxClinikoResource(),
            "xero": xero,
            "state_store": StateStoreResource(url=self.db_url),
            "mapping": MappingResource(path=mapping),
        }

    def sync(self, day: str = DAY, **kwargs) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            SYNC_ASSETS,
            partition_key=day,
            resources=self.resources(**kwargs),
            instance=self.instance,
            raise_on_error=False,
        )

    def xero(self):
        from clinic_etl.store import StateStore

        return SandboxXeroResource(state_path=self.xero_state).client(StateStore.open(self.db_url))

    def admin(self, method: str, path: str, **kwargs):
        import httpx

        with httpx.Client(transport=_sandbox_transport(self.xero_state), base_url="http://xero.sandbox") as http:
            return http.request(method, path, **kwargs)


@pytest.fixture
def sandbox(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path))
    return Sandbox(tmp_path)


@pytest.fixture(scope="session")
def practice():
    return build_practice()


def metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    return {k: getattr(v, "value", v) for k, v in result.asset_materializations_for_node(asset)[-1].metadata.items()}


def checks(result: dg.ExecuteInProcessResult) -> dict[str, bool]:
    return {e.check_name: e.passed for e in result.get_asset_check_evaluations()}


def money(value) -> Decimal:
    return Decimal(str(value))


class EditableCliniko(SandboxClinikoResource):
    """The simulator serving a practice the test edits between runs (swapped by class, not mocked)."""

    transports: ClassVar[dict[int, object]] = {}
    practices: ClassVar[dict[int, object]] = {}
    slot: int = 0

    def _transport(self):
        if self.slot not in self.transports:
            self.transports[self.slot] = InProcessTransport(create_app(self.practices[self.slot]))
        return self.transports[self.slot]


@pytest.fixture
def editable(sandbox, request):
    slot = id(request)
    EditableCliniko.practices[slot] = copy.deepcopy(build_practice())
    yield slot, EditableCliniko.practices[slot]
    EditableCliniko.practices.pop(slot, None)
    EditableCliniko.transports.pop(slot, None)
