"""`--engine spark` where people and clients use it: the CLI, the MCP tool over stdio, bad masters.

CLI tests run in-process and share the test run's one local session; the stdio test starts its own
server process (and so its own JVM) because that is where stdout must stay protocol only.
"""

from __future__ import annotations

import json
import os
import select
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from personalization_engine.audience.source import DEFAULT_SPARK_MASTER, data_request
from personalization_engine.audience.spark_session import probe
from personalization_engine.cli.main import main
from personalization_engine.core.engine import Engine
from personalization_engine.errors import InputError

from .conftest import snapshot

SERVE = [sys.executable, "-m", "personalization_engine.cli.main", "serve"]
UNREACHABLE = ("spark://127.0.0.1:1", "sc://127.0.0.1:1")


def size_args(plan_id: str, repo_dir: Path, *extra: str) -> list[str]:
    return ["plans", "size", plan_id, "--workspace", str(repo_dir), "--now", "2026-11-24T09:00:00Z",
            "--actor", "analyst", *extra]  # fmt: skip


def test_plans_size_engine_spark_prints_the_same_sizes_as_duckdb(
    demo_plan: str, users_parquet: Path, repo_dir: Path, spark_master: str, capsys
):
    assert main(size_args(demo_plan, repo_dir, "--data", str(users_parquet), "--json")) == 0
    duck = json.loads(capsys.readouterr().out)["run"]
    spark_args = ["--data", str(users_parquet), "--engine", "spark", "--spark-master", spark_master]
    assert main(size_args(demo_plan, repo_dir, *spark_args, "--json")) == 0
    spark = json.loads(capsys.readouterr().out)["run"]
    source = {"kind": "spark", "location": "data/users.parquet", "table": None, "spark_master": spark_master}
    assert spark["source"] == source
    assert spark["profiles"] == duck["profiles"] and spark["channels"] == duck["channels"]
    assert main(size_args(demo_plan, repo_dir, *spark_args)) == 0
    assert "size-3: 3000 rows of data/users.parquet, rules of revision 4" in capsys.readouterr().out


@pytest.mark.parametrize("master", UNREACHABLE)
def test_an_unreachable_master_is_refused_by_name_at_once_and_nothing_is_written(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, master: str, capsys
):
    before = snapshot(engine, demo_plan)
    args = ["--data", str(users_parquet), "--engine", "spark", "--spark-master", master]
    assert main(size_args(demo_plan, repo_dir, *args)) == 2
    err = capsys.readouterr().err
    assert f"error: spark_master: Spark master {master} cannot be reached (127.0.0.1:1: " in err
    assert "Nothing was sized or written" in err and "Traceback" not in err
    assert snapshot(engine, demo_plan) == before


def test_a_master_that_does_not_answer_is_refused_within_the_probe_timeout():
    # 192.0.2.0/24 is TEST-NET-1: nothing answers there, so the connect either fails or times out.
    with pytest.raises(InputError, match=r"Spark master spark://192\.0\.2\.1:7077 cannot be reached"):
        probe("spark://192.0.2.1:7077", timeout=0.5)


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        (
            {"spark_master": "mesos://x:1"},
            "spark_master",
            "'mesos://x:1' is not a Spark master; use local[*]",
        ),
        ({"spark_master": "local[*] "}, "spark_master", "is not a Spark master"),
        ({"spark_master": "spark://host"}, "spark_master", "is not a Spark master"),
        ({"spark_master": "local[2]", "engine": None}, "spark_master", "spark_master goes with engine spark"),
        ({"dsn": "postgresql://u@h/db", "table": "t"}, "dsn", "not a PostgreSQL dsn"),
        ({}, "data", "engine spark needs data (a Parquet or CSV file in the workspace) or table"),
        ({"data": "users.json"}, "data", "use .parquet or .csv (or a catalog table)"),
        ({"data": "missing.parquet"}, "data", "is not a file in the workspace"),
        ({"data": "../outside.parquet"}, "data", "outside"),
        ({"data": "x.parquet", "table": "t"}, "table", "give data or table to engine spark, not both"),
        ({"table": "a.b.c.d"}, "table", "is not a databricks table name"),
        ({"table": "t; DROP TABLE x"}, "table", "is not a databricks table name"),
    ],
)
def test_bad_spark_requests_are_refused_naming_the_field(tmp_path: Path, options, field, message):
    (tmp_path / "x.parquet").write_bytes(b"")
    (tmp_path / "users.json").write_text("{}")
    request = {"data": None, "dsn": None, "table": None, "engine": "spark", **options}
    with pytest.raises(InputError) as caught:
        data_request(tmp_path, **request)
    assert caught.value.field == field
    assert message in str(caught.value)


def test_the_default_master_is_local_and_any_spark_master_url_is_accepted(tmp_path: Path):
    (tmp_path / "u.parquet").write_bytes(b"")
    request = data_request(tmp_path, data="u.parquet", dsn=None, table=None, engine="spark")
    assert (request.spark_master, request.spark_format) == (DEFAULT_SPARK_MASTER, "parquet")
    for master in ("local", "local[4]", "local[4,2]", "spark://a:7077,b:7077", "sc://h:15002/;token=x",
                   "sc://h", "yarn", "k8s://https://h:6443"):  # fmt: skip
        assert data_request(tmp_path, data="u.parquet", dsn=None, table=None, engine="spark",
                            spark_master=master).spark_master == master  # fmt: skip


def _read_reply(proc: subprocess.Popen, wanted: int, deadline: float, seen: list[dict]) -> dict:
    """Read stdout lines until the reply to request `wanted`; every line must be JSON-RPC."""
    assert proc.stdout is not None
    while True:
        ready, _, _ = select.select([proc.stdout], [], [], max(0.0, deadline - time.monotonic()))
        assert ready, f"no reply to request {wanted} in time"
        line = proc.stdout.readline()
        assert line, "the server closed stdout"
        message = json.loads(line)  # a stray line from the JVM or log4j would fail here
        assert message.get("jsonrpc") == "2.0", line
        seen.append(message)
        if message.get("id") == wanted:
            return message


@pytest.mark.slow
def test_stdout_carries_only_protocol_while_the_mcp_server_sizes_with_spark(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path
):
    from tests.spark_helpers import require_spark

    require_spark()
    call = {"plan_id": demo_plan, "data": "data/users.parquet", "engine": "spark", "spark_master": "local[1]"}
    messages = [
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                    "clientInfo": {"name": "raw", "version": "1"}}},
        {"jsonrpc": "2.0", "method": "notifications/initialized"},
        {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
         "params": {"name": "size_audiences", "arguments": call, "_meta": {"progressToken": "p"}}},
    ]  # fmt: skip
    proc = subprocess.Popen(
        [*SERVE, "--workspace", str(repo_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=repo_dir,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    seen: list[dict] = []
    deadline = time.monotonic() + 900  # a JVM starting on a busy machine; no timing is asserted
    try:
        assert proc.stdin is not None
        for message in messages:
            proc.stdin.write(json.dumps(message) + "\n")
            proc.stdin.flush()
            if "id" in message:
                _read_reply(proc, message["id"], deadline, seen)
    finally:
        if proc.stdin:
            proc.stdin.close()
        proc.wait(timeout=120)
        rest = proc.stdout.read() if proc.stdout else ""
        errors = proc.stderr.read() if proc.stderr else ""
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()
    assert rest.strip() == "", rest[:2000]
    reply = seen[-1]["result"]
    assert reply["isError"] is False, reply
    run = reply["structuredContent"]["run"]
    assert run["source"]["kind"] == "spark" and run["row_count"] == 3000
    assert any(m.get("method") == "notifications/progress" for m in seen)
    assert "Spark" in errors or "spark" in errors  # the JVM's logs went to stderr
    assert not [p for p in repo_dir.rglob("*") if p.name in ("spark-warehouse", "metastore_db", "derby.log")]
    assert engine.read_plan(demo_plan).sizing_runs[-1].source.spark_master == "local[1]"


HANDSHAKE = """
import socket, sys
from personalization_engine.audience import spark_session as sessions
from personalization_engine.errors import InputError
sessions.CONNECT_ANSWER_TIMEOUT = 5.0
with socket.socket() as listener:  # accepts TCP connections, never speaks gRPC
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    master = f"sc://127.0.0.1:{listener.getsockname()[1]}"
    try:
        sessions.spark_session(master)
    except InputError as exc:
        import os
        print(master, exc.field, "CONNECT-MODE" if "SPARK_CONNECT_MODE_ENABLED" in os.environ else "-")
        print(exc)
"""


def test_a_port_that_is_not_spark_connect_is_refused_within_the_handshake_timeout(tmp_path: Path):
    """In a process of its own: PySpark marks a process that asked for Connect as Connect-only."""
    from tests.spark_helpers import require_spark

    require_spark()
    done = subprocess.run([sys.executable, "-c", HANDSHAKE], capture_output=True, text=True, timeout=600,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    first, message = done.stdout.splitlines()[:2]
    master, field, mode = first.split()
    assert (field, mode) == ("spark_master", "-")  # the failed attempt left the process as it was
    assert message.startswith(
        f"spark_master: Spark master {master} accepts connections but its Spark Connect"
    )
    assert "did not answer within 5 s" in message and "Nothing was sized or written" in message


def test_one_process_does_not_mix_spark_connect_with_a_local_session(spark_master: str):
    from personalization_engine.audience.spark_session import spark_session

    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        master = f"sc://127.0.0.1:{listener.getsockname()[1]}"
        with pytest.raises(InputError) as caught:
            spark_session(master)
    assert caught.value.field == "spark_master"
    assert f"this process already runs Spark through {spark_master}" in str(caught.value)
    assert f"use {spark_master} here, or run {master} from a new process" in str(caught.value)
    assert "SPARK_CONNECT_MODE_ENABLED" not in os.environ


def test_without_a_java_runtime_spark_is_refused_in_one_line_and_nothing_is_written(
    engine: Engine, demo_plan: str, users_parquet: Path, repo_dir: Path, tmp_path: Path
):
    from tests.spark_helpers import require_spark

    require_spark()
    before = snapshot(engine, demo_plan)
    elsewhere = tmp_path / "cwd"
    elsewhere.mkdir()
    args = size_args(demo_plan, repo_dir, "--data", str(users_parquet), "--engine", "spark")
    done = subprocess.run(
        [sys.executable, "-m", "personalization_engine.cli.main", *args],
        env={**os.environ, "JAVA_HOME": str(tmp_path / "no-java")},  # spark-submit runs $JAVA_HOME/bin/java
        cwd=elsewhere,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 2, done.stderr[-2000:]
    error = done.stderr.strip().splitlines()[-1]
    assert error.startswith("error: spark_master: Spark could not start on master local[*]: "), error
    assert "needs a Java runtime, 17 or newer" in error and "Traceback" not in done.stderr
    assert snapshot(engine, demo_plan) == before and list(elsewhere.iterdir()) == []
