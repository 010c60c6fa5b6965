"""Plan-core and server benchmarks (issues 2 and 3), measured side by side in one run.

Run: python bench/bench_core.py   (prints a Markdown table; figures go in docs/performance.md)
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

import anyio

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plans import fill

from personalization_engine.core.engine import Engine
from personalization_engine.store.plans import serialize
from personalization_engine.model.issues import model_issues
from personalization_engine.store.workspace import Workspace

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "30"))


def git(cwd: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, stdin=subprocess.DEVNULL)


def new_repo(root: Path) -> Path:
    root.mkdir(parents=True)
    git(root, "init", "-q")
    git(root, "config", "user.name", "Bench")
    git(root, "config", "user.email", "bench@example.com")
    return root


# Our writes fsync the plan file; git does not fsync what it writes. Without a flush between the two
# sides, our fsync also writes out the baseline's dirty pages (about 3.5 ms per call here), so each
# side's writes are flushed, untimed, before the other side runs. SETTLE=0 measures without it.
SETTLE = os.environ.get("SETTLE", "1") != "0"


def settle() -> None:
    if SETTLE:
        os.sync()


def timed(fn: Callable[[], object], rounds: int = ROUNDS) -> list[float]:
    samples = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def p50(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 11, 24, 9, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        self.now += timedelta(seconds=1)
        return self.now


def setup_engine(root: Path) -> tuple[Engine, str]:
    engine = Engine(Workspace(root=new_repo(root), source="option"), clock=Clock())
    plan_id = engine.create_plan(initiative="Bench", channels=["web", "email"], actor="bench").plan_id
    engine.apply(plan_id, "attributes", fill, expected_revision=1, actor="bench")
    return engine, plan_id


def bench_write_vs_git(tmp: Path) -> dict[str, float]:
    engine, plan_id = setup_engine(tmp / "engine")
    counter = iter(range(10**6))

    def write() -> None:
        n = next(counter)

        def touch(plan):
            # Replace the item, as the stage tools do: items are shared between revisions.
            index = n % len(plan.attributes)
            plan.attributes[index] = plan.attributes[index].model_copy(update={"description": f"edited {n}"})
            return plan

        engine.apply(plan_id, "attributes", touch, expected_revision=None, actor="bench")

    # Baseline: the same file content committed by the git CLI in another repository.
    base = new_repo(tmp / "git")
    content = json.loads(serialize(engine.read_plan(plan_id)))
    target = base / "plan.json"
    target.write_text(json.dumps(content, indent=2))
    git(base, "add", "plan.json")
    git(base, "commit", "-q", "-m", "seed")

    # The baseline commits the same bytes our write produces, prepared outside the timed region.
    versions = []
    for n in range(ROUNDS + 1):
        content["attributes"][n % len(content["attributes"])]["description"] = f"edited {n}"
        versions.append(json.dumps(content, indent=2).encode())
    version = iter(versions)

    def git_commit() -> None:
        target.write_bytes(next(version))
        git(base, "add", "plan.json")
        git(base, "commit", "-q", "-m", "edit")

    ours, theirs = [], []
    for _ in range(ROUNDS):  # interleaved so both see the same machine noise
        ours += timed(write, 1)
        settle()
        theirs += timed(git_commit, 1)
        settle()
    plan = engine.read_plan(plan_id)
    document = json.loads(serialize(plan))
    validate = timed(lambda: model_issues(document))
    return {
        "write_p50_ms": p50(ours),
        "git_p50_ms": p50(theirs),
        "validate_p50_ms": p50(validate),
        "ratio": p50(ours) / p50(theirs),
    }


async def _stdio_calls(
    root: Path, plan_id: str, rounds: int, baseline: Callable[[], None]
) -> dict[str, list[float]]:
    from mcp import Client, StdioServerParameters

    params = StdioServerParameters(
        command=sys.executable,
        env=dict(os.environ),
        args=["-m", "personalization_engine.cli.main", "serve", "--workspace", str(root)],
    )
    results: dict[str, list[float]] = {
        "stage": [],
        "read_plan": [],
        "list_plans": [],
        "validate_plan": [],
        "plan_history": [],
        "git": [],
    }
    async with Client(params) as c:
        # read_plan answers with the plan's JSON as text (no structured content).
        plan = json.loads((await c.call_tool("read_plan", {"plan_id": plan_id})).content[0].text)
        revision = plan["revision"]
        for n in range(rounds):
            start = time.perf_counter()
            r = await c.call_tool(
                "inventory_attributes",
                {
                    "plan_id": plan_id,
                    "expected_revision": revision,
                    "attributes": [
                        {"name": "attr_00007", "type": "integer", "description": f"stage edit {n}"}
                    ],
                },
            )
            results["stage"].append(time.perf_counter() - start)
            revision = r.structured_content["revision"]
            settle()
            # The baseline runs between the calls, so both see the same machine noise.
            results["git"] += timed(baseline, 1)
            settle()
            for tool, args in (
                ("read_plan", {"plan_id": plan_id}),
                ("list_plans", {}),
                ("validate_plan", {"plan_id": plan_id}),
                ("plan_history", {"plan_id": plan_id}),
            ):
                start = time.perf_counter()
                await c.call_tool(tool, args)
                results[tool].append(time.perf_counter() - start)
    return results


def bench_tools(tmp: Path) -> dict[str, float]:
    engine, plan_id = setup_engine(tmp / "tools")
    base = new_repo(tmp / "git-tools")
    target = base / "plan.json"
    content = engine.store.read_bytes(plan_id)
    counter = iter(range(10**6))

    def git_commit() -> None:
        target.write_bytes(content + f"\n{next(counter)}".encode())
        git(base, "add", "plan.json")
        git(base, "commit", "-q", "-m", "edit")

    calls = anyio.run(_stdio_calls, engine.ws.root, plan_id, ROUNDS, git_commit)
    return {
        **{f"{k}_p50_ms": p50(v) for k, v in calls.items()},
        "stage_ratio": p50(calls["stage"]) / p50(calls["git"]),
    }


def main() -> None:
    with tempfile.TemporaryDirectory() as scratch:
        tmp = Path(scratch)
        core = bench_write_vs_git(tmp)
        tools = bench_tools(tmp)
    print("## Plan core and server (bench/bench_core.py)\n")
    print(f"Plan: 1,000 attributes and 100 profiles; {ROUNDS} rounds, p50, measured in one run.\n")
    print("| measurement | p50 (ms) | goal |")
    print("|---|---|---|")
    print(
        f"| engine write (validate, checks, atomic write, commit) | {core['write_p50_ms']:.1f} | "
        f"≤ 1.5x git: **{core['ratio']:.2f}x** |"
    )
    print(f"| git CLI `add` + `commit` of the same file | {core['git_p50_ms']:.1f} | baseline |")
    print(f"| validate the plan (model) | {core['validate_p50_ms']:.1f} | < 100 ms |")
    print(
        f"| stage tool over stdio (`inventory_attributes`) | {tools['stage_p50_ms']:.1f} | "
        f"≤ 1.5x git: **{tools['stage_ratio']:.2f}x** |"
    )
    print(f"| git CLI `add` + `commit` (same machine, same run) | {tools['git_p50_ms']:.1f} | baseline |")
    for tool in ("read_plan", "list_plans", "validate_plan", "plan_history"):
        print(f"| `{tool}` over stdio | {tools[f'{tool}_p50_ms']:.1f} | < 10 ms |")


if __name__ == "__main__":
    main()
