"""The SQL state store as a resource: its engine opened (and migrated) when a run starts, disposed when it ends."""

from __future__ import annotations

import dagster as dg
from pydantic import PrivateAttr

from clinic_etl.resources.dry_run import tagged_dry_run
from clinic_etl.store import StateStore
from clinic_etl.store.dry_run import DryRunStore


class StateStoreResource(dg.ConfigurableResource):
    """SQLAlchemy URL: sqlite:///... (default) or postgresql+psycopg://... in production."""

    url: str
    secret_key: str | None = None  # CLINIC_ETL_SECRET_KEY (through EnvVar): encrypts stored credentials
    key_file: str | None = None  # the sandbox's generated key, when no secret_key is set
    dry_run: bool = False  # what a run would record stays in memory (credentials excepted)
    _store: StateStore | None = PrivateAttr(None)
    _view: StateStore | DryRunStore | None = PrivateAttr(None)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._store = StateStore.open(self.url, secret_key=self.secret_key, key_file=self.key_file)
        dry = self.dry_run or tagged_dry_run(context)
        self._view = DryRunStore(self._store) if dry else self._store

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        if self._store is not None:
            self._store.dispose()
        self._store = self._view = None

    def store(self) -> StateStore:
        if self._view is None:
            raise RuntimeError("the state store is opened when a run starts: use it inside an asset")
        return self._view  # type: ignore[return-value]  # a DryRunStore offers what the assets use
