"""The sync graph's IO manager: outputs live in the run's memory only, never on disk.

The frames passed between the sync assets hold patients' names and e-mails. Dagster's default IO manager
would pickle them under $DAGSTER_HOME/storage with no expiry; this one keeps them in the memory of the run
(the sync job runs in one process) and drops them when the run ends. Retention: the length of one run.
A step executed without its upstream in the same run (a subset, or a re-execution from a failed step) stops
with a clear error naming what to select instead: re-extracting is cheap, storing personal data is not.
"""

from __future__ import annotations

from typing import Any

import dagster as dg
from pydantic import PrivateAttr


class RunMemoryIOManager(dg.ConfigurableIOManager):
    _values: dict[tuple[str, ...], Any] = PrivateAttr(default_factory=dict)

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self._values = {}

    def teardown_after_execution(self, context: dg.InitResourceContext) -> None:
        self._values.clear()

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        if obj is not None:
            self._values[tuple(context.asset_key.path)] = obj

    def load_input(self, context: dg.InputContext) -> Any:
        key = tuple(context.asset_key.path)
        if key not in self._values:
            name = context.asset_key.to_user_string()
            raise dg.Failure(
                description=(
                    f"{name} is not in this run's memory: the sync graph never writes its frames to disk (they "
                    "hold personal data), so run a stage together with the stages before it: select `*` (the "
                    "whole sync) or `*<asset>`, rather than one step on its own or a re-execution from failure"
                ),
                allow_retries=False,
            )
        return self._values[key]
