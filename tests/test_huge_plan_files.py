"""Reads are bounded: a huge junk plan file, a huge FILE to validate, or a folder named like a plan
file never makes a read slow, memory-hungry or broken.

Huge files are sparse (no disk used). The CLI runs in a child process that reports its own peak
memory and the bytes it read (/proc/self/io), so the bound is checked without timing anything.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.server import build_server
from personalization_engine.store.plans import MAX_PLAN_BYTES

GIB = 1024**3
JUNK_ID = "plan-20261124T100000Z"
FOLDER_ID = "plan-20261124T110000Z"
# Runs the CLI, then prints one JSON line with the exit code, peak memory and bytes read. The peak
# is VmHWM, this program's own: ru_maxrss also counts the RSS the forking test process had (Linux
# carries it across exec), and pytest grows past the limit once Spark and dbt have been imported.
MEASURED = """
import json, sys
from personalization_engine.cli.main import main
code = main(sys.argv[1:])
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
status = dict(line.split(":", 1) for line in open("/proc/self/status").read().splitlines())
peak = int(status["VmHWM"].split()[0]) * 1024
print(json.dumps({"code": code, "rss": peak, "read": int(io["rchar"])}), file=sys.stderr)
"""


def measured_cli(cwd: Path, *argv: str) -> tuple[str, str, dict[str, int]]:
    done = subprocess.run(
        [sys.executable, "-c", MEASURED, *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=300,
    )
    *messages, stats = done.stderr.splitlines()
    return done.stdout, "\n".join(messages), json.loads(stats)


def sparse(path: Path, size: int) -> Path:
    with path.open("wb") as handle:
        handle.truncate(size)
    return path


def assert_bounded(stats: dict[str, int]) -> None:
    # The huge file is refused from its size: far less than the plan size bound is read, and memory
    # stays at what the program itself needs (generous: imports take about 80 MB).
    assert stats["read"] < MAX_PLAN_BYTES, stats
    assert stats["rss"] < 400 * 1024**2, stats


@pytest.fixture
def odd_files(engine, plan_id, repo_dir: Path) -> Path:
    plans = repo_dir / ".claude" / "plans"
    sparse(plans / f"{JUNK_ID}.json", GIB)
    (plans / f"{FOLDER_ID}.json").mkdir()
    return plans


def test_plans_list_skips_a_1_gib_junk_plan_with_a_warning_naming_it_and_a_folder_named_like_a_plan(
    plan_id, repo_dir, odd_files
):
    out, err, stats = measured_cli(repo_dir, "plans", "list", "--json", "--workspace", str(repo_dir))
    assert stats["code"] == 0, err
    assert [row["plan_id"] for row in json.loads(out)] == [plan_id]
    junk = odd_files / f"{JUNK_ID}.json"
    assert f"skipping unreadable plan: {str(junk)!r} is larger than 64 MiB; it is not a plan file" in err
    assert FOLDER_ID not in err and "Traceback" not in err
    assert_bounded(stats)


def test_plans_validate_refuses_a_3_gib_file_without_reading_it(repo_dir):
    sparse(repo_dir / "big.json", 3 * GIB)
    out, err, stats = measured_cli(repo_dir, "plans", "validate", "big.json", "--workspace", str(repo_dir))
    assert stats["code"] == 1 and out == ""
    big = repo_dir / "big.json"
    assert err == f"error: {str(big.resolve())!r} is larger than 64 MiB; it is not a plan file"
    assert_bounded(stats)


def test_plans_validate_refuses_a_folder(repo_dir, capsys, monkeypatch):
    from personalization_engine.cli.main import main

    (repo_dir / "folder.json").mkdir()
    monkeypatch.chdir(repo_dir)
    assert main(["plans", "validate", "folder.json", "--workspace", str(repo_dir)]) != 0
    assert "FILE: 'folder.json' is a folder, not a plan file" in capsys.readouterr().err


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.mark.anyio
async def test_list_plans_over_mcp_lists_the_real_plans_past_junk_and_folders(engine, plan_id, odd_files):
    async with Client(build_server(engine), client_info=Implementation(name="t", version="1")) as client:
        result = await client.call_tool("list_plans", {})
    assert not result.is_error, result.content
    assert [p["plan_id"] for p in result.structured_content["plans"]] == [plan_id]
    assert (odd_files / f"{JUNK_ID}.json").stat().st_size == GIB  # untouched
