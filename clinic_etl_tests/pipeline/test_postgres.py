"""The production shape: the state store on PostgreSQL. The day syncs and a re-run writes nothing."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from .conftest import DAY, checks, metadata

PG_URL = os.environ.get("CLINIC_ETL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture
def pg_url():
    if os.environ.get("CLINIC_ETL_SKIP_POSTGRES") == "1":
        pytest.skip("CLINIC_ETL_SKIP_POSTGRES=1")
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"clinic_etl_sync_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def test_sync_with_a_postgresql_state_store(sandbox, pg_url):
    sandbox.db_url = pg_url
    first = sandbox.sync(DAY)
    assert checks(first)["xero_matches_source"] and metadata(first, "xero_sync")["writes"] > 0
    second = sandbox.sync(DAY)
    assert checks(second)["xero_matches_source"] and metadata(second, "xero_sync")["writes"] == 0
