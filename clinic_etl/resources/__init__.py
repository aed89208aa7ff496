"""Dagster resources: the I/O of clinic_etl, each opened when a run starts and closed when it ends.

The simulators' subclasses live in `clinic_etl.sandbox.resources` (swapped by class).
"""

from clinic_etl.resources.cliniko import ClinikoResource
from clinic_etl.resources.clio import ClioResource
from clinic_etl.resources.mapping import MappingResource
from clinic_etl.resources.run_memory import RunMemoryIOManager
from clinic_etl.resources.store import StateStoreResource
from clinic_etl.resources.xero import XeroResource

__all__ = [
    "ClinikoResource",
    "ClioResource",
    "MappingResource",
    "RunMemoryIOManager",
    "StateStoreResource",
    "XeroResource",
]
