"""Fixtures for the audience tests: the demo plan in a real repo, sample data files, and a real
PostgreSQL server (the one .ci/postgres.sh started, or one started here as the postgres user)."""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path

import pytest

from personalization_engine.audience import write_sample_data
from personalization_engine.core.engine import Engine
from personalization_engine.demo_content import ACTIVATIONS, ATTRIBUTES, DATA_SOURCES, PROFILES
from personalization_engine.model import Activation, Attribute, DataSource, Plan, Profile
from tests.spark_helpers import spark_master  # noqa: F401  (the shared Spark fixture)

NOW = datetime(2026, 11, 24, 9, 0, 0, tzinfo=timezone.utc)
PG_DSN_ENV = "PERSONALIZATION_ENGINE_TEST_PG_DSN"


def with_demo_content(plan: Plan) -> Plan:
    return plan.model_copy(
        update={
            "data_sources": tuple(DataSource.model_validate(d) for d in DATA_SOURCES),
            "attributes": tuple(Attribute.model_validate(a) for a in ATTRIBUTES),
            "profiles": tuple(Profile.model_validate(p) for p in PROFILES),
            "activations": tuple(Activation.model_validate(a) for a in ACTIVATIONS),
        }
    )


@pytest.fixture
def demo_plan(engine: Engine, plan_id: str) -> str:
    engine.apply(plan_id, "profiles", with_demo_content, expected_revision=1, actor="test")
    return plan_id


@pytest.fixture(scope="session")
def sample_parquet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_sample_data(tmp_path_factory.mktemp("samples") / "users.parquet", 3000, reference=NOW)


@pytest.fixture
def users_parquet(repo_dir: Path, sample_parquet: Path) -> Path:
    target = repo_dir / "data" / "users.parquet"
    target.parent.mkdir(exist_ok=True)
    shutil.copyfile(sample_parquet, target)
    return target


def snapshot(engine: Engine, plan_id: str) -> tuple[int, bytes, str]:
    """Revision, plan bytes and git HEAD: equal before and after means nothing was written."""
    head = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=engine.ws.root, capture_output=True, text=True, check=True
    ).stdout
    return engine.read_plan(plan_id).revision, engine.store.plan_path(plan_id).read_bytes(), head


# --- PostgreSQL -------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(args: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else args


@pytest.fixture(scope="session")
def pg_dsn() -> Iterator[str]:
    given = os.environ.get(PG_DSN_ENV)
    if given:
        yield given
        return
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if not found:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the PostgreSQL tests: no pg_ctl found and ${PG_DSN_ENV} is unset")
        pytest.skip("no PostgreSQL server binary (/usr/lib/postgresql/*/bin) and no " + PG_DSN_ENV)
    bin_dir = found[-1].parent
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    folder = Path(tempfile.mkdtemp(prefix="pe-test-pg-"))
    if os.geteuid() == 0:
        record = pwd.getpwnam("postgres")
        os.chown(folder, record.pw_uid, record.pw_gid)
    password = uuid.uuid4().hex
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o644)
    data = folder / "data"
    port = _free_port()
    run = {"check": True, "capture_output": True, "stdin": subprocess.DEVNULL}
    subprocess.run(
        _as_postgres(
            [str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", f"--pwfile={pwfile}",
             "--auth-local=trust", "--auth-host=scram-sha-256", "--no-sync", "-E", "UTF8"]
        ),
        **run,
    )  # fmt: skip
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off"
    start = ["-w", "-o", options, "start"]
    subprocess.run(
        _as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), *start]),
        **run,
    )  # fmt: skip
    try:
        yield f"postgresql://postgres:{password}@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(_as_postgres([str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "fast", "stop"]), **run)
        shutil.rmtree(folder, ignore_errors=True)
