"""Control characters never reach a plan: single-line text refuses them all, multi-line text keeps
only newline and tab; the error names the field and nothing is written."""

from __future__ import annotations

import pytest
from mcp import Client

from personalization_engine.core.engine import Engine
from personalization_engine.server import build_server

from .conftest import git

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def error_text(result) -> str:
    assert result.is_error
    return " ".join(getattr(part, "text", "") for part in result.content)


@pytest.mark.parametrize("bad", ["PLG\x00Onboarding", "line\nbreak", "bell\x07", "esc\x1b[31m", "sep\u2028x"])
async def test_an_initiative_with_a_control_character_is_refused_naming_the_field(
    engine: Engine, repo_dir, bad
):
    async with Client(build_server(engine)) as client:
        result = await client.call_tool("create_plan", {"initiative": bad, "channels": ["web"]})
    text = error_text(result)
    assert "initiative" in text and "control characters" in text
    assert not (repo_dir / ".claude" / "plans").exists() or not list(
        (repo_dir / ".claude" / "plans").glob("*.json")
    )


@pytest.mark.parametrize(
    ("tool", "arguments", "field"),
    [
        ("record_intake", {"expected_revision": 1, "notes": "a\x00b"}, "notes"),
        ("record_blocker", {"kind": "consent", "subject": "score\x00on web"}, "subject"),
        ("record_blocker", {"kind": "consent", "subject": "score", "detail": "tried\x1b"}, "detail"),
        (
            "record_approval",
            {"approver": "Grace\x00", "role": "Data Privacy Lead", "decision": "approved"},
            "approver",
        ),
        (
            "record_approval",
            {"approver": "Grace", "role": "Data Privacy Lead", "decision": "approved", "note": "ok\x00"},
            "note",
        ),
        ("write_plan", {"expected_revision": 1, "sections": {"timeline": "Q1\x002027"}}, "timeline"),
        (
            "plan_governance",
            {"expected_revision": 1, "owners": [{"area": "profiles", "owner": "Maya\x07"}]},
            "owner",
        ),
    ],
)
async def test_control_characters_in_any_text_are_refused_naming_it_and_nothing_is_written(
    engine: Engine, plan_id: str, repo_dir, tool, arguments, field
):
    before = git(repo_dir, "rev-parse", "HEAD")
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(tool, {"plan_id": plan_id, **arguments})
    text = error_text(result)
    assert field in text and "control characters" in text, text
    assert git(repo_dir, "rev-parse", "HEAD") == before
    assert git(repo_dir, "status", "--porcelain") == ""


async def test_multi_line_notes_keep_newlines_and_tabs(engine: Engine, plan_id: str):
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "record_intake", {"plan_id": plan_id, "expected_revision": 1, "notes": "first\n\tsecond"}
        )
    assert not result.is_error, result.content
    assert engine.read_plan(plan_id).intake.notes == "first\n\tsecond"


async def test_an_actor_with_a_newline_is_collapsed_onto_one_line_everywhere(
    engine: Engine, plan_id: str, repo_dir
):
    async with Client(build_server(engine)) as client:
        result = await client.call_tool(
            "record_blocker",
            {"plan_id": plan_id, "kind": "consent", "subject": "x", "actor": "ana\nActor: forged"},
        )
    assert not result.is_error, result.content
    plan = engine.read_plan(plan_id)
    assert plan.change_log[-1].actor == "ana Actor: forged"
    assert plan.blockers[-1].recorded_by == "ana Actor: forged"
    trailers = git(repo_dir, "log", "-1", "--format=%(trailers:key=Actor,valueonly)")
    assert trailers.strip() == "ana Actor: forged"


def test_the_cli_refuses_a_nul_in_an_initiative_naming_the_field(repo_dir, capsys):
    from personalization_engine.cli.main import main

    code = main(["plans", "new", "--workspace", str(repo_dir), "--initiative", "a\x01b", "--channels", "web"])
    _, err = capsys.readouterr()
    assert code != 0 and "initiative" in err and "control characters" in err
