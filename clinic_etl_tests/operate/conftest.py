"""The production profile, started once for the tests that use it (PostgreSQL, Redis: required, never skipped)."""

import pytest

from .deployment import deployed


@pytest.fixture(scope="session")
def deployment(tmp_path_factory):
    with deployed(tmp_path_factory.mktemp("deploy")) as running:
        yield running
