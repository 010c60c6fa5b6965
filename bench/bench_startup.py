"""Start-to-ready guard (issue 12): from spawning the server to its tools/list answer.

personalization-engine (`serve --workspace DIR`) against mcp-server-git (`--repository DIR`), both
started by the same MCP client over stdio, on the same repository. Each sample spawns a fresh process
and stops the clock when tools/list is answered (shutting down is not timed). Rounds alternate between
the two so both see the same machine noise.

Goal: at most 1.5x. Run: pip install -e '.[bench]' && python bench/bench_startup.py
(BENCH_ROUNDS=15 by default)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from servers import all_tools, new_repo, ours, reference

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "15"))
GOAL = 1.5


async def start_to_ready(params: StdioServerParameters) -> float:
    start = time.perf_counter()
    async with Client(params) as client:
        await all_tools(client)
        return time.perf_counter() - start


async def measure(repo: Path) -> dict[str, list[float]]:
    samples: dict[str, list[float]] = {"personalization-engine": [], "mcp-server-git": []}
    for _ in range(ROUNDS):
        samples["personalization-engine"].append(await start_to_ready(ours(repo)))
        samples["mcp-server-git"].append(await start_to_ready(reference(repo)))
    return samples


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        samples = anyio.run(measure, new_repo(Path(scratch) / "repo"))
    medians = {name: statistics.median(values) * 1000 for name, values in samples.items()}
    print(f"median of {ROUNDS} interleaved starts; load average {os.getloadavg()[0]:.1f}\n")
    print("| server | start to tools/list answered, median ms | fastest ms |")
    print("|---|---:|---:|")
    for name, values in samples.items():
        print(f"| {name} | {medians[name]:.0f} | {min(values) * 1000:.0f} |")
    ratio = medians["personalization-engine"] / medians["mcp-server-git"]
    verdict = "met" if ratio <= GOAL else f"MISSED by {ratio - GOAL:.2f}x"
    print(f"\nratio {ratio:.2f}x; goal at most {GOAL}x: {verdict}")


if __name__ == "__main__":
    main()
