"""Start-up to a ready tools/list: personalization-engine vs the reference git MCP server.

Both servers are started the same way (a fresh Python process speaking stdio) and timed from spawn
to the tools/list reply, interleaved so both see the same machine noise.
Run: pip install mcp-server-git && python bench/bench_startup.py
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
MESSAGES = [
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "bench", "version": "1"},
        },
    },
    {"jsonrpc": "2.0", "method": "notifications/initialized"},
    {"jsonrpc": "2.0", "id": 2, "method": "tools/list"},
]


def time_to_tools_list(command: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(
        command, cwd=cwd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdin and proc.stdout
    for message in MESSAGES:
        proc.stdin.write(json.dumps(message) + "\n")
    proc.stdin.flush()
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{command[2]} exited before answering tools/list")
        reply = json.loads(line)
        if reply.get("id") == 2:
            assert reply["result"]["tools"], reply
            break
    elapsed = time.perf_counter() - start
    proc.stdin.close()
    proc.wait(timeout=30)
    proc.stdout.close()
    return elapsed


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        repo = Path(scratch) / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        ours = [sys.executable, "-m", "personalization_engine.cli.main", "serve", "--workspace", str(repo)]
        reference = [sys.executable, "-m", "mcp_server_git", "--repository", str(repo)]
        samples: dict[str, list[float]] = {"personalization-engine": [], "mcp-server-git": []}
        for _ in range(ROUNDS):
            samples["personalization-engine"].append(time_to_tools_list(ours, repo))
            samples["mcp-server-git"].append(time_to_tools_list(reference, repo))
    p50 = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print("| server | start to tools/list, p50 (ms) |")
    print("|---|---|")
    for name, value in p50.items():
        print(f"| {name} | {value:.0f} |")
    ratio = p50["personalization-engine"] / p50["mcp-server-git"]
    print(f"\nratio personalization-engine / mcp-server-git: {ratio:.2f} (goal: at most 1.00)")


if __name__ == "__main__":
    main()
