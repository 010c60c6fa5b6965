"""tools/list leaves out the titles pydantic generates from argument and function names (the tool-list
budget, docs/performance.md), and nothing else: names, descriptions, types and constraints are the
SDK's own."""

from __future__ import annotations

import anyio
from mcp.server.mcpserver import MCPServer

from personalization_engine.server import CompactServer, register_tools, without_generated_titles


def _tools():
    server = CompactServer(name="t")
    register_tools(server)

    async def both():
        return await server.list_tools(), await MCPServer.list_tools(server)

    return anyio.run(both)


def _keys(value, found=None):
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, child in value.items():
            found.add(key)
            _keys(child, found)
    elif isinstance(value, list):
        for child in value:
            _keys(child, found)
    return found


def test_no_tool_schema_carries_a_title_keyword():
    compact, _ = _tools()
    for tool in compact:
        assert "title" not in _keys(tool.input_schema), tool.name
        assert "title" not in _keys(tool.output_schema or {}), tool.name
        assert tool.title, f"{tool.name} keeps its own display title"


def test_the_schemas_are_the_sdks_without_titles_and_smaller():
    compact, original = _tools()
    assert [t.name for t in compact] == [t.name for t in original]
    for mine, theirs in zip(compact, original, strict=True):
        assert mine.input_schema == without_generated_titles(theirs.input_schema)
        assert mine.description == theirs.description and mine.annotations == theirs.annotations
    # A property literally named "title" would be kept: only string-valued title keywords go.
    assert without_generated_titles({"properties": {"title": {"type": "string", "title": "Title"}}}) == {
        "properties": {"title": {"type": "string"}}
    }
