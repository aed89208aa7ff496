"""The mapping file as a resource: read and validated once when a run starts."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from clinic_etl.mapping import Mapping, load_mapping


class MappingResource(dg.ConfigurableResource):
    """Path of the mapping YAML (CLINIC_ETL_CONFIG); empty means the built-in defaults."""

    path: str | None = None
    _mapping: Mapping | None = PrivateAttr(None)

    def load(self) -> Mapping:
        if self._mapping is None:
            self._mapping = load_mapping(self.path)
        return self._mapping
