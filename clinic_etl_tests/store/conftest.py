"""Fixtures: every ``store`` test runs on SQLite (a file under tmp_path) and on PostgreSQL (a throw-away
schema, chosen through ``?options=-csearch_path=...`` in the URL, dropped afterwards).

PostgreSQL is required: the tests fail when it is unreachable, unless CLINIC_ETL_SKIP_POSTGRES=1.
The server is CLINIC_ETL_TEST_POSTGRES_URL (default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.engine import make_url

from clinic_etl.store import StateStore

PG_URL = os.environ.get("CLINIC_ETL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
#: a non-UTC session time zone, so that the tests prove timestamps come back in UTC regardless
PG_SESSION_TZ = "Australia/Sydney"
BACKENDS = ["sqlite", "postgresql"]


def _pg_admin_engine() -> Engine:
    if os.environ.get("CLINIC_ETL_SKIP_POSTGRES") == "1":
        pytest.skip("PostgreSQL tests skipped: CLINIC_ETL_SKIP_POSTGRES=1")
    engine = create_engine(PG_URL, isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to reach the server fails the test
        engine.dispose()
        pytest.fail(
            f"PostgreSQL unreachable at {make_url(PG_URL).render_as_string(hide_password=True)} "
            f"({type(exc).__name__}); start it or set CLINIC_ETL_SKIP_POSTGRES=1 to skip these tests",
            pytrace=False,
        )
    return engine


@pytest.fixture
def pg_schema_url() -> Iterator[tuple[str, str]]:
    """(URL selecting a fresh schema, schema name); the schema is dropped afterwards."""
    admin = _pg_admin_engine()
    schema = f"clinic_etl_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    options = f"-csearch_path={schema} -ctimezone={PG_SESSION_TZ}"
    url = make_url(PG_URL).update_query_dict({"options": options})
    try:
        yield url.render_as_string(hide_password=False), schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def store_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A URL for a store that does not exist yet (not migrated)."""
    if backend == "sqlite":
        return f"sqlite:///{tmp_path}/nested/dir/state.db"
    url, _schema = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture
def secret_key() -> str:
    """A fresh CLINIC_ETL_SECRET_KEY: the store encrypts credentials with it."""
    return Fernet.generate_key().decode()


@pytest.fixture
def store(store_url: str, secret_key: str) -> Iterator[StateStore]:
    s = StateStore.open(store_url, secret_key=secret_key)
    try:
        yield s
    finally:
        s.dispose()
