"""Real engines for the rules tests: a PostgreSQL server and Node with json-logic-js.

Outside CI a missing engine skips the tests that need it; in CI (CI=true) it fails them, so the
comparison can never silently shrink to fewer targets.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.spark_helpers import spark_master  # noqa: F401  (the shared Spark fixture)

PG_DSN_ENV = "PERSONALIZATION_ENGINE_TEST_PG_DSN"
JS_DIR = Path(__file__).resolve().parent / "js"


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def unavailable(reason: str) -> None:
    if in_ci():
        pytest.fail(f"CI must run this test: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def pg_connection() -> Iterator[object]:
    """An autocommit psycopg connection whose tables live in a schema of their own, dropped at the end,
    so that test runs sharing the server never see each other's tables."""
    dsn = os.environ.get(PG_DSN_ENV)
    if not dsn:
        unavailable(f"${PG_DSN_ENV} is not set (CI starts a PostgreSQL server and sets it)")
    import psycopg

    schema = f"pe_rules_{uuid.uuid4().hex[:12]}"
    connection = psycopg.connect(dsn, autocommit=True)
    try:
        connection.execute(f"CREATE SCHEMA {schema}")
        connection.execute(f"SET search_path TO {schema}")
        yield connection
    finally:
        connection.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        connection.close()


@pytest.fixture(scope="session")
def node_jsonlogic() -> str:
    """The path of the Node runner, with json-logic-js installed by `npm ci --prefix tests/rules/js`."""
    node = shutil.which("node")
    if node is None:
        unavailable("node is not on PATH")
    if not (JS_DIR / "node_modules" / "json-logic-js").is_dir():
        unavailable("json-logic-js is not installed: run npm ci --prefix tests/rules/js")
    return str(JS_DIR / "evaluate.js")
