"""Stage-write guard (issue 12): one stage write through MCP against the user's alternative.

Ours: `inventory_attributes` re-sending one changed attribute, on a plan with 200 attributes and 20
profiles, over stdio. The alternative, in another repository over the same kind of client: write the
same plan file (the bytes our write just stored), then mcp-server-git's `git_add` and `git_commit`.
Rounds alternate between the two so both see the same machine noise; both clients list their tools
once first, as a client does when a session starts.

Our write fsyncs the plan file and git does not, so an fsync would also flush the other side's dirty
pages. Each side's writes are flushed with an untimed `sync` before the other side runs.

Goal: at most 1.5x. Run: pip install -e '.[bench]' && python bench/bench_mcp_write.py
(BENCH_ROUNDS=30 by default)
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

import anyio
from mcp import Client
from plan_documents import CHANNELS, DATA_SOURCE, attribute, profile
from servers import all_tools, call, new_repo, ours, reference

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))
ATTRIBUTES, PROFILES = 200, 20
GOAL = 1.5


async def seed(client: Client) -> tuple[str, int]:
    """A plan with 200 attributes and 20 profiles, built through the stage tools; (plan_id, revision)."""
    created = await call(client, "create_plan", {"initiative": "Bench", "channels": CHANNELS})
    plan_id = created.structured_content["plan_id"]
    stages = [
        ("inventory_attributes", {"data_sources": [DATA_SOURCE],
                                  "attributes": [attribute(i) for i in range(ATTRIBUTES)]}),
        ("define_profiles", {"profiles": [profile(i, ATTRIBUTES) for i in range(PROFILES)]}),
    ]  # fmt: skip
    revision = created.structured_content["revision"]
    for tool, arguments in stages:
        result = await call(client, tool, {"plan_id": plan_id, "expected_revision": revision, **arguments})
        revision = result.structured_content["revision"]
    return plan_id, revision


async def measure(scratch: Path) -> tuple[list[float], list[float]]:
    workspace, repo = new_repo(scratch / "ours"), new_repo(scratch / "git")
    ours_times: list[float] = []
    git_times: list[float] = []
    async with Client(ours(workspace)) as engine, Client(reference(repo)) as git:
        await all_tools(engine)
        await all_tools(git)
        plan_id, revision = await seed(engine)
        stored = workspace / ".claude" / "plans" / f"{plan_id}.json"
        target = repo / "plan.json"
        for n in range(ROUNDS):
            edit = attribute(7) | {"description": f"edited in round {n}"}
            start = time.perf_counter()
            result = await call(
                engine,
                "inventory_attributes",
                {"plan_id": plan_id, "expected_revision": revision, "attributes": [edit]},
            )
            ours_times.append(time.perf_counter() - start)
            if not result.structured_content["written"]:
                raise RuntimeError(f"round {n} wrote nothing: {result.structured_content['summary']}")
            revision = result.structured_content["revision"]
            content = stored.read_bytes()
            os.sync()

            start = time.perf_counter()
            target.write_bytes(content)
            await call(git, "git_add", {"repo_path": str(repo), "files": ["plan.json"]})
            await call(git, "git_commit", {"repo_path": str(repo), "message": f"Edit attr_00007 ({n})"})
            git_times.append(time.perf_counter() - start)
            os.sync()
    return ours_times, git_times


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        ours_times, git_times = anyio.run(measure, Path(scratch))
    ours_ms, git_ms = (statistics.median(t) * 1000 for t in (ours_times, git_times))
    ratio = ours_ms / git_ms
    print(f"{ATTRIBUTES} attributes, {PROFILES} profiles; median of {ROUNDS} interleaved rounds; "
          f"load average {os.getloadavg()[0]:.1f}\n")  # fmt: skip
    print("| measurement | median ms |")
    print("|---|---:|")
    print(f"| `inventory_attributes`, one attribute re-sent (personalization-engine) | {ours_ms:.1f} |")
    print(f"| write the same file, `git_add` + `git_commit` (mcp-server-git) | {git_ms:.1f} |")
    verdict = "met" if ratio <= GOAL else f"MISSED by {ratio - GOAL:.2f}x"
    print(f"\nratio {ratio:.2f}x; goal at most {GOAL}x: {verdict}")


if __name__ == "__main__":
    main()
