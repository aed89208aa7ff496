"""The SQL state store as a resource (migrated automatically and safely on first use in a process)."""

from __future__ import annotations

from functools import cache

import dagster as dg

from clinic_etl.store import StateStore


@cache
def _open(url: str) -> StateStore:
    return StateStore.open(url)


class StateStoreResource(dg.ConfigurableResource):
    """SQLAlchemy URL: sqlite:///... (default) or postgresql+psycopg://... in production."""

    url: str

    def store(self) -> StateStore:
        return _open(self.url)
