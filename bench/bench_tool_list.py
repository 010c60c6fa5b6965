"""The tool list's size guard (issue 12): what every session pays in context before the first call.

Starts our server and mcp-server-git over stdio, asks each for tools/list, and prints the size of the
JSON of the `tools` array (`json.dumps` with its default separators, as issue 12 measured), in all
and per tool, side by side. For our tools it also splits each figure into description, input schema
and output schema.

Exits 1 when ours is over 32 KB in all or any one tool is over 6 KB, so CI can run it as a guard.
Run: pip install -e '.[bench]' && python bench/bench_tool_list.py
"""

from __future__ import annotations

import sys
import tempfile
from itertools import zip_longest
from pathlib import Path

import anyio
from mcp import Client, StdioServerParameters
from mcp.types import Tool
from servers import all_tools, json_size, new_repo, ours, reference

TOTAL_BUDGET = 32_000  # bytes: issue 12 counts 1 KB as 1,000 bytes
TOOL_BUDGET = 6_000


async def listed(params: StdioServerParameters) -> list[Tool]:
    async with Client(params) as client:
        return await all_tools(client)


def total(tools: list[Tool]) -> int:
    return json_size([tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in tools])


def kb(size: int) -> str:
    return f"{size / 1000:.1f}"


def report(mine: list[Tool], theirs: list[Tool]) -> list[str]:
    """Print both lists, largest tool first, and return what breaks the budget."""
    mine = sorted(mine, key=json_size, reverse=True)
    theirs = sorted(theirs, key=json_size, reverse=True)
    print("| personalization-engine tool | KB | description | input schema | output schema "
          "| mcp-server-git tool | KB |")  # fmt: skip
    print("|---|---:|---:|---:|---:|---|---:|")
    for tool, other in zip_longest(mine, theirs):
        left = "| | | | |"
        if tool is not None:
            parts = (tool.description or "", tool.input_schema, tool.output_schema or {})
            left = f"| {tool.name} | {kb(json_size(tool))} | " + " | ".join(kb(json_size(p)) for p in parts)
        right = f"| {other.name} | {kb(json_size(other))} |" if other is not None else "| | |"
        print(f"{left} {right}")
    print(f"| **all {len(mine)} tools** | **{kb(total(mine))}** | | | "
          f"| **all {len(theirs)} tools** | **{kb(total(theirs))}** |")  # fmt: skip
    over = [f"{t.name} is {kb(json_size(t))} KB" for t in mine if json_size(t) > TOOL_BUDGET]
    if total(mine) > TOTAL_BUDGET:
        over.insert(0, f"the tool list is {kb(total(mine))} KB")
    return over


async def main() -> int:
    with tempfile.TemporaryDirectory() as scratch:
        repo = new_repo(Path(scratch) / "repo")
        mine, theirs = await listed(ours(repo)), await listed(reference(repo))
    over = report(mine, theirs)
    print(f"\nbudget: {kb(TOTAL_BUDGET)} KB in all, {kb(TOOL_BUDGET)} KB per tool (1 KB = 1,000 bytes)")
    if over:
        print("OVER BUDGET: " + "; ".join(over))
        return 1
    print("within budget")
    return 0


if __name__ == "__main__":
    sys.exit(anyio.run(main))
