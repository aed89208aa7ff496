"""The mapping file as a resource: validated when a run starts, with an error that names the fix."""

from __future__ import annotations

import dagster as dg

from clinic_etl.mapping import Mapping, load_mapping


class MappingResource(dg.ConfigurableResource):
    """Path of the mapping YAML (CLINIC_ETL_CONFIG); empty means the built-in defaults."""

    path: str | None = None

    def load(self) -> Mapping:
        return load_mapping(self.path)
