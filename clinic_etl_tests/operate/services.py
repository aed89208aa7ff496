"""The local services the operating tests need, reached or failed loudly (never skipped): PostgreSQL, Redis,
RabbitMQ. .ci/run starts them when they are not running."""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

PG_URL = os.environ.get("CLINIC_ETL_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("CLINIC_ETL_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
RABBITMQ_URL = os.environ.get("CLINIC_ETL_TEST_RABBITMQ_URL", "pyamqp://guest:guest@127.0.0.1:5672//")


def require(name: str, host: str, port: int) -> None:
    try:
        socket.create_connection((host, port), timeout=5).close()
    except OSError as error:
        pytest.fail(f"{name} is unreachable at {host}:{port} ({error}): start it (.ci/run does)", pytrace=False)


def require_postgres() -> None:
    url = make_url(PG_URL)
    require("PostgreSQL", url.host or "127.0.0.1", url.port or 5432)


def require_redis() -> None:
    parts = REDIS_URL.split("//", 1)[1].split("/", 1)[0].rsplit(":", 1)
    require("Redis", parts[0], int(parts[1]) if len(parts) > 1 else 6379)


def require_rabbitmq() -> None:
    require("RabbitMQ", "127.0.0.1", 5672)


@contextmanager
def pg_schema(prefix: str) -> Iterator[tuple[str, str]]:
    """(URL whose search_path is a fresh schema, the schema's name); dropped afterwards."""
    require_postgres()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False), schema
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@contextmanager
def pg_database(prefix: str) -> Iterator[str]:
    """The name of a fresh database on the test server; dropped afterwards (its connections ended first)."""
    require_postgres()
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield name
    finally:
        with admin.connect() as conn:
            conn.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()
