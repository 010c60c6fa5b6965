"""Spark for the tests: one local session per test run, shared by every Spark test in the process.

Outside CI a missing pyspark or Java skips the Spark tests; in CI (CI=true) it fails them, so Spark
can never silently drop out of CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest

SPARK_MASTER = "local[2]"  # every Spark test in the process shares this one session


def spark_unavailable_reason() -> str | None:
    """Why Spark cannot run here, or None: pyspark (the [spark] extra) and a Java runtime."""
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return "pyspark is not installed (pip install -e '.[spark]')"
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        return "no Java runtime (.ci/run installs openjdk-17-jre-headless)"
    return None


def require_spark() -> None:
    """Skip without Spark, except in CI, where a missing Spark fails: Spark runs in CI."""
    reason = spark_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"CI must run the Spark tests: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def spark_master() -> Iterator[str]:
    """The local master, its session started once and stopped when the test run ends."""
    require_spark()
    from personalization_engine.audience.spark_session import spark_session, stop_all

    spark_session(SPARK_MASTER)
    yield SPARK_MASTER
    stop_all()
