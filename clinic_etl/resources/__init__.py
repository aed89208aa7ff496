"""Dagster resources: the I/O of clinic_etl. Each has a real class and a sandbox class (swapped by class)."""

from clinic_etl.resources.cliniko import ClinikoResource, SandboxClinikoResource
from clinic_etl.resources.mapping import MappingResource
from clinic_etl.resources.store import StateStoreResource
from clinic_etl.resources.xero import SandboxXeroResource, XeroResource

__all__ = [
    "ClinikoResource",
    "MappingResource",
    "SandboxClinikoResource",
    "SandboxXeroResource",
    "StateStoreResource",
    "XeroResource",
]
