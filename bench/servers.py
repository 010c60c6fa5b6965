"""The two MCP servers the benchmarks compare, started the way a client starts them: over stdio.

Ours is `personalization-engine serve --workspace DIR`; the reference is mcp-server-git
(`pip install -e '.[bench]'` installs it). Both are the console scripts next to this Python.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from mcp import Client, StdioServerParameters
from mcp.types import CallToolResult, Tool

BIN = Path(sys.executable).parent


def new_repo(path: Path) -> Path:
    """An empty git repository with an identity, as a user's project would have."""
    path.mkdir(parents=True)
    for args in (["init", "-q"], ["config", "user.name", "Bench"], ["config", "user.email", "b@example.com"]):
        subprocess.run(["git", *args], cwd=path, check=True, stdin=subprocess.DEVNULL)
    return path


def ours(workspace: Path) -> StdioServerParameters:
    return StdioServerParameters(
        command=str(BIN / "personalization-engine"), args=["serve", "--workspace", str(workspace)]
    )


def reference(repo: Path) -> StdioServerParameters:
    return StdioServerParameters(command=str(BIN / "mcp-server-git"), args=["--repository", str(repo)])


async def call(client: Client, tool: str, arguments: dict[str, Any]) -> CallToolResult:
    """Call a tool; a benchmark that times a failed call would time the wrong thing, so fail loudly."""
    result = await client.call_tool(tool, arguments)
    if result.is_error:
        text = " ".join(getattr(block, "text", "") for block in result.content)
        raise RuntimeError(f"{tool} failed: {text[:2000]}")
    return result


async def all_tools(client: Client) -> list[Tool]:
    """Every page of tools/list, fetched from the server (never the client's cache)."""
    tools: list[Tool] = []
    cursor: str | None = None
    while True:
        page = await client.list_tools(cursor=cursor, cache_mode="bypass")
        tools += page.tools
        cursor = page.next_cursor
        if cursor is None:
            return tools


def json_size(value: Any) -> int:
    """Bytes of `json.dumps(value)` for a Tool or part of one: the measure issue 12 used for its
    figures (142 KB for ours, 6.5 KB for mcp-server-git). The compact wire form is about 7% smaller."""
    if isinstance(value, Tool):
        value = value.model_dump(mode="json", by_alias=True, exclude_none=True)
    return len(json.dumps(value).encode())
