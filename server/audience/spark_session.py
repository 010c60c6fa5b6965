"""One SparkSession per process and master, started so that it writes nothing where the user works.

A local session takes tens of seconds to start, so the session is kept for the life of the process
and shared by every sizing, lift readout and impact run that names the same master. It is built so
that:
- the JVM's working folder, the SQL warehouse and Derby's home (metastore_db, derby.log) are a
  temporary folder outside the workspace and the current folder;
- the JVM's stdout is our stderr: under MCP stdio fd 1 carries protocol alone, and the JVM would
  otherwise inherit it;
- the session time zone is UTC and ANSI mode is on (Spark 4's default, pinned here);
- the UI and the console progress bar are off.
A master is probed with a bounded TCP connect before Spark is asked to use it: Spark itself retries
an unreachable standalone master or Connect server for minutes.
"""

from __future__ import annotations

import re
import shutil
import socket
import tempfile
import threading
import warnings
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from ..errors import InputError

CONNECT_TIMEOUT = 10.0  # seconds for the reachability probe of a remote master
CONNECT_ANSWER_TIMEOUT = 60.0  # seconds for a Spark Connect server's first answer
DEFAULT_CONNECT_PORT = 15002
STDERR_FD = 2  # the file descriptor, not sys.stderr: that may be a stream without one (pytest)
_LOCAL = re.compile(r"local(\[(\*|\d+)(,\s*\d+)?\])?|local-cluster\[\d+,\s*\d+,\s*\d+\]")
_HOST_PORT = re.compile(r"\[?[A-Za-z0-9.:_-]+\]?:\d{1,5}")
_SETTINGS = {
    "spark.app.name": "personalization-engine",
    "spark.sql.session.timeZone": "UTC",
    "spark.sql.ansi.enabled": "true",
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
}
_lock = threading.Lock()
_sessions: dict[str, Any] = {}
_scratch: list[str] = []
_links: list[Path] = []


def check_master(master: str) -> str:
    """The master as given, or InputError naming what a master looks like."""
    text = master.strip() if isinstance(master, str) else ""
    if text != master or not text or any(ord(c) < 32 for c in text) or len(text) > 1000:
        raise _bad_master(master)
    if _LOCAL.fullmatch(text) or text == "yarn" or text.startswith("k8s://"):
        return text
    if text.startswith("spark://") and all(_HOST_PORT.fullmatch(p) for p in text[8:].split(",")):
        return text
    if text.startswith("sc://") and urlsplit(text).hostname:
        return text
    raise _bad_master(master)


def _bad_master(master: object) -> InputError:
    return InputError(
        f"{str(master)[:200]!r} is not a Spark master; use local[*] (the default), local[N], "
        "spark://host:7077, sc://host:15002 (Spark Connect), yarn or k8s://https://host:port",
        field="spark_master",
    )


def _endpoints(master: str) -> list[tuple[str, int]]:
    """The host and port a master must answer on; none for local, yarn (found from its config)."""
    if master.startswith("spark://"):
        return [_split_host_port(part) for part in master[8:].split(",")]
    if master.startswith(("sc://", "k8s://")):
        url = urlsplit(master.removeprefix("k8s://") if master.startswith("k8s://") else master)
        if not url.hostname:
            return []
        default = DEFAULT_CONNECT_PORT if master.startswith("sc://") else 443
        return [(url.hostname, url.port or default)]
    return []


def _split_host_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    return host.strip("[]"), int(port)


def probe(master: str, timeout: float = CONNECT_TIMEOUT) -> None:
    """InputError within `timeout` seconds when no endpoint of the master accepts a connection."""
    endpoints = _endpoints(master)
    if not endpoints:
        return
    reasons = []
    for host, port in endpoints:
        try:
            with socket.create_connection((host, port), timeout=timeout):
                return
        except OSError as exc:
            reasons.append(f"{host}:{port}: {exc.strerror or type(exc).__name__}")
    raise InputError(
        f"Spark master {master} cannot be reached ({'; '.join(reasons)}); check the URL and that the "
        "cluster or Spark Connect server is running. Nothing was sized or written",
        field="spark_master",
    )


def spark_session(master: str) -> Any:
    """The process's session for `master`, started on first use (see the module docstring)."""
    with _lock:
        session = _sessions.get(master)
        if session is not None and _alive(session):
            return session
        probe(master)
        _one_mode(master)
        _quiet_pandas_warning()
        if master.startswith("sc://"):
            session = _connect_session(master)
        else:
            for other in [m for m in _sessions if not m.startswith("sc://")]:
                _sessions.pop(other).stop()  # one SparkContext per process: a new master replaces it
            session = _started(master)
        _sessions[master] = session
        return session


def _one_mode(master: str) -> None:
    """PySpark switches a whole process into Spark Connect mode once a Connect session exists, after
    which a local or cluster session no longer works (and the reverse): one mode per process."""
    connect = master.startswith("sc://")
    other = [m for m in _sessions if m.startswith("sc://") != connect]
    if other:
        raise InputError(
            f"this process already runs Spark through {other[0]}, and PySpark cannot mix a Spark Connect "
            f"session with a local or cluster one; use {other[0]} here, or run {master} from a new "
            "process (a new CLI command, or a restarted MCP server)",
            field="spark_master",
        )


def _started(master: str) -> Any:
    """A classic session, or InputError when Spark cannot start here (no Java, a bad configuration):
    retrying cannot help, and PySpark's own error is a page of JVM output."""
    folders = len(_scratch)
    try:
        return _classic_session(master)
    except Exception as exc:
        while len(_scratch) > folders:
            shutil.rmtree(_scratch.pop(), ignore_errors=True)
        reason = next((line.strip() for line in str(exc).splitlines() if line.strip()), type(exc).__name__)
        raise InputError(
            f"Spark could not start on master {master}: {reason[:300]}; a local or cluster session needs "
            "a Java runtime, 17 or newer (JAVA_HOME or java on PATH). Nothing was sized or written",
            field="spark_master",
        ) from None


def _alive(session: Any) -> bool:
    """Whether a cached classic session can still run queries: its JVM may have been stopped or
    killed since (a retry after a lost JVM then starts a new one). Connect sessions reconnect."""
    context = getattr(session, "_sc", None)
    if context is None:
        return True
    try:
        return context._jsc is not None and not context._jsc.sc().isStopped()
    except Exception:  # the JVM is gone
        return False


def _quiet_pandas_warning() -> None:
    """PySpark warns about pandas >= 3 whenever it checks pandas (Arrow, Connect); we use no
    pandas-on-Spark feature, so this one warning, and no other, is silenced."""
    warnings.filterwarnings(
        "ignore", message="PySpark does not yet fully support pandas", category=FutureWarning
    )


def _scratch_folder() -> str:
    """A private temporary folder for the JVM's working folder, warehouse and Derby home."""
    folder = tempfile.mkdtemp(prefix="personalization-engine-spark-")
    _scratch.append(folder)
    return folder


def links_folder() -> Path:
    """The process's folder for links to workspace files (see spark_source._location)."""
    with _lock:
        if not _links:
            _links.append(Path(_scratch_folder()))
        return _links[0]


def _classic_session(master: str) -> Any:
    from pyspark import SparkConf, SparkContext
    from pyspark.java_gateway import launch_gateway
    from pyspark.sql import SparkSession

    scratch = _scratch_folder()
    conf = SparkConf().setMaster(master)
    for key, value in _SETTINGS.items():
        conf.set(key, value)
    conf.set("spark.sql.warehouse.dir", str(Path(scratch) / "spark-warehouse"))
    conf.set("spark.driver.extraJavaOptions", f"-Dderby.system.home={scratch}")
    gateway = launch_gateway(conf, popen_kwargs={"stdout": STDERR_FD, "cwd": scratch})
    context = SparkContext(conf=conf, gateway=gateway)
    context.setLogLevel("ERROR")
    return SparkSession.builder.getOrCreate()


# The first answer is awaited in a child process: a client that talked to a port which never
# answers keeps retrying, in its threads and in PySpark's exit handler, for ten minutes, and would
# hold this process open that long after the refusal. A child that does not answer is killed.
_PROBE = (
    "import sys\n"
    "from pyspark.sql import SparkSession\n"
    "SparkSession.builder.remote(sys.argv[1]).getOrCreate().sql('SELECT 1').collect()\n"
)


def _connect_session(master: str) -> Any:
    """A Spark Connect session, once a child process has had a first answer from the server."""
    import subprocess
    import sys

    from pyspark.sql import SparkSession

    try:
        probe = subprocess.run(
            [sys.executable, "-c", _PROBE, master],
            capture_output=True,
            text=True,
            timeout=CONNECT_ANSWER_TIMEOUT,
            stdin=subprocess.DEVNULL,
            check=False,
        )
        failed = probe.returncode != 0
        reason = f"failed: {_last_line(probe.stderr)[:300]}" if failed else ""
    except subprocess.TimeoutExpired:
        failed, reason = True, f"did not answer within {CONNECT_ANSWER_TIMEOUT:.0f} s"
    if failed:
        raise InputError(
            f"Spark master {master} accepts connections but its Spark Connect handshake {reason}; check "
            "that the URL names a Spark Connect server (sc://host:15002). Nothing was sized or written",
            field="spark_master",
        )
    session = SparkSession.builder.remote(master).getOrCreate()
    session.conf.set("spark.sql.session.timeZone", "UTC")
    session.conf.set("spark.sql.ansi.enabled", "true")
    return session


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "no message"


def stop_all() -> None:
    """Stop every session and remove the scratch folders (tests and the benchmark call this)."""
    with _lock:
        while _sessions:
            _sessions.popitem()[1].stop()
        _links.clear()
        while _scratch:
            shutil.rmtree(_scratch.pop(), ignore_errors=True)
