"""The finalize gate over MCP: it refuses, listing every reason and writing nothing, or records the
reviewed revision as final in one revision and tags that commit (unsigned, hooks off)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest
from mcp import Client

from personalization_engine import demo_content as content
from personalization_engine.core.engine import Engine
from personalization_engine.model.final import is_final
from personalization_engine.server import build_server

from .conftest import git, json_text
from .finalize_helpers import build_ready_plan, confirm_approvals, error_codes

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


def text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def state(repo: Path) -> tuple[str, str, str]:
    """Every plan file's bytes, the git log and every ref: what a refused call must leave alone."""
    files = sorted((p.name, p.read_bytes().hex()) for p in (repo / ".claude" / "plans").glob("*.json"))
    return json.dumps(files), git(repo, "log", "--format=%H %s"), git(repo, "for-each-ref")


def tag_name(plan_id: str, revision: int) -> str:
    return f"personalization/{plan_id}/final-r{revision}"


async def finalize(client: Client, plan_id: str, revision: int):
    return await client.call_tool("finalize_plan", {"plan_id": plan_id, "expected_revision": revision})


def hostile_repository(repo: Path) -> None:
    """Signing forced on with a signing program that cannot run, and hooks that fail everything."""
    hooks = repo / "failing-hooks"
    hooks.mkdir()
    for name in ("reference-transaction", "post-commit", "pre-commit", "post-index-change"):
        for folder in (hooks, repo / ".git" / "hooks"):
            hook = folder / name
            hook.write_text("#!/bin/sh\nexit 1\n")
            hook.chmod(0o755)
    git(repo, "config", "core.hooksPath", str(hooks))
    git(repo, "config", "tag.gpgSign", "true")
    git(repo, "config", "tag.forceSignAnnotated", "true")
    git(repo, "config", "gpg.program", str(repo / "no-such-gpg"))


async def test_finalize_writes_one_revision_recording_the_reviewed_one_and_tags_it_unsigned_with_hooks_off(
    engine: Engine, repo_dir: Path
):
    hostile_repository(repo_dir)
    probe = subprocess.run(
        ["git", "tag", "-a", "-m", "probe", "probe"], cwd=repo_dir, capture_output=True, check=False
    )
    assert probe.returncode != 0  # git's own `tag -a` fails in this repository
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        reviewed = confirm_approvals(engine, plan_id)
        result = await finalize(c, plan_id, reviewed)
        assert not result.is_error, text(result)
        done = result.structured_content
        assert done["written"] is True
        assert done["revision"] == reviewed + 1
        assert done["final_revision"] == reviewed
        assert done["tag"] == tag_name(plan_id, reviewed)
        assert done["tag_error"] is None
        assert done["changes"] == ["changed final: final"]
        diff = (await c.call_tool("plan_diff", _diff(plan_id, reviewed))).structured_content
        assert [change["section"] for change in diff["changes"]] == ["final"]

    plan = engine.read_plan(plan_id)
    assert plan.final is not None and plan.final.revision == reviewed and is_final(plan)
    head = git(repo_dir, "rev-parse", "HEAD")
    assert "Final: r" + str(reviewed) in git(repo_dir, "log", "-1", "--format=%B")
    tag = done["tag"]
    assert git(repo_dir, "cat-file", "-t", tag) == "tag"  # annotated
    assert git(repo_dir, "rev-parse", f"{tag}^{{commit}}") == head
    body = git(repo_dir, "cat-file", "-p", tag)
    assert "tagger Test User <test@example.com> " in body
    assert f"{plan_id}: revision {reviewed} final" in body
    assert "SIGNATURE" not in body and "gpgsig" not in body


def _diff(plan_id: str, reviewed: int) -> dict:
    return {"plan_id": plan_id, "from_revision": reviewed, "to_revision": reviewed + 1}


async def test_finalizing_a_plan_that_is_already_final_with_the_same_content_commits_nothing(
    engine: Engine, repo_dir: Path
):
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        reviewed = confirm_approvals(engine, plan_id)
        assert not (await finalize(c, plan_id, reviewed)).is_error
        before = state(repo_dir)
        again = await finalize(c, plan_id, reviewed + 1)
    assert not again.is_error, text(again)
    done = again.structured_content
    assert done["written"] is False and done["commit"] is None
    assert done["summary"] == f"already final: revision {reviewed} was finalized, content unchanged"
    assert done["tag"] == tag_name(plan_id, reviewed)
    assert state(repo_dir) == before


async def test_ledger_writes_keep_a_plan_final_and_a_content_change_needs_a_new_finalize(
    engine: Engine, repo_dir: Path
):
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        reviewed = confirm_approvals(engine, plan_id)
        revision = (await finalize(c, plan_id, reviewed)).structured_content["revision"]
        blocker = await c.call_tool("record_blocker", {"plan_id": plan_id, **content.BLOCKER})
        assert not blocker.is_error
        assert is_final(engine.read_plan(plan_id))
        report = json_text(await c.call_tool("validate_plan", {"plan_id": plan_id}))
        assert "plan.changed_since_final" not in [f["code"] for f in report["findings"]]

        edit = await c.call_tool(
            "write_plan",
            {"plan_id": plan_id, "expected_revision": revision + 1, "sections": {"timeline": "Q3"}},
        )
        assert not edit.is_error, text(edit)
        new = edit.structured_content["new_findings"]
        changed = [f for f in new if f["code"] == "plan.changed_since_final"]
        assert changed == [
            {
                "code": "plan.changed_since_final",
                "severity": "warning",
                "pointer": "/final",
                "message": f"revision {reviewed} was finalized (tag {tag_name(plan_id, reviewed)}), but "
                f"the content changed since, so revision {revision + 2} is a draft; review it and run "
                f"finalize_plan (or 'personalization-engine plans finalize {plan_id}') again",
                "stage": "plan",
            }
        ]
        assert not is_final(engine.read_plan(plan_id))

        second = confirm_approvals(engine, plan_id)
        again = await finalize(c, plan_id, second)
        assert not again.is_error, text(again)
    assert again.structured_content["tag"] == tag_name(plan_id, second)
    tags = git(repo_dir, "tag", "--list", f"personalization/{plan_id}/*").splitlines()
    assert sorted(tags) == sorted([tag_name(plan_id, reviewed), tag_name(plan_id, second)])
    assert is_final(engine.read_plan(plan_id))


# --- refusals: one per kind of blocker, each listing its reason and writing nothing ---------------
Setup = Callable[[Client, Engine, str], Awaitable[None]]


async def _open_error(c: Client, engine: Engine, plan_id: str) -> None:
    # Undo the demo's consent fix: the web activation uses an attribute without its purpose.
    original = next(a for a in content.ATTRIBUTES if a["name"] == "feature_adoption_score")
    await _write(c, engine, plan_id, "inventory_attributes", {"attributes": [original]})
    assert "consent.purpose_not_granted" in error_codes(engine, plan_id)
    confirm_approvals(engine, plan_id)


async def _approvals_missing(c: Client, engine: Engine, plan_id: str) -> None:
    pass  # the ready plan has no approval yet


async def _approvals_reported(c: Client, engine: Engine, plan_id: str) -> None:
    for approval in content.APPROVALS:
        await _write(c, engine, plan_id, "record_approval", approval, revision=False)


async def _approvals_stale(c: Client, engine: Engine, plan_id: str) -> None:
    confirm_approvals(engine, plan_id)
    await _write(c, engine, plan_id, "write_plan", {"sections": {"timeline": "Q3"}})


async def _changes_requested(c: Client, engine: Engine, plan_id: str) -> None:
    confirm_approvals(engine, plan_id)
    decision = {**content.APPROVALS[2], "decision": "changes_requested", "note": "Shorter pilot"}
    await _write(c, engine, plan_id, "record_approval", decision, revision=False)


async def _stage_without_owner(c: Client, engine: Engine, plan_id: str) -> None:
    await _write(c, engine, plan_id, "plan_governance", {"remove_owners": ["program"]})
    graph = engine.read_plan(plan_id).dependencies.model_dump(mode="json", by_alias=True)
    graph["nodes"].append({"id": "qa-review", "kind": "stage"})
    graph["edges"].append({"from": "activation", "to": "qa-review"})
    await _write(c, engine, plan_id, "write_plan", {"sections": {"dependencies": graph}})
    confirm_approvals(engine, plan_id)


async def _scenario_fails(c: Client, engine: Engine, plan_id: str) -> None:
    plan = engine.read_plan(plan_id)
    scenario = plan.scenarios[0].model_dump(mode="json", by_alias=True, exclude_none=True)
    expected = scenario.get("expected_profile")
    scenario["expected_profile"] = next(p.id for p in plan.profiles if p.id != expected)
    await _write(c, engine, plan_id, "define_profiles", {"scenarios": [scenario]})
    confirm_approvals(engine, plan_id)


async def _sensitive_grant_unconfirmed(c: Client, engine: Engine, plan_id: str) -> None:
    attribute = {
        "name": "precise_location",
        "type": "string",
        "source_id": content.DATA_SOURCES[0]["id"],
        "refresh_cadence": "daily",
        "freshness_sla": "1d",
        "pii_class": "sensitive",
        "consent": [{"purpose": "analytics", "lawful_basis": "consent"}],
    }
    await _write(c, engine, plan_id, "inventory_attributes", {"attributes": [attribute]})
    confirm_approvals(engine, plan_id)


async def _write(c: Client, engine: Engine, plan_id: str, tool: str, arguments: dict, revision=True) -> None:
    current = {"expected_revision": engine.read_plan(plan_id).revision} if revision else {}
    result = await c.call_tool(tool, {"plan_id": plan_id, **current, **arguments})
    assert not result.is_error, (tool, text(result))


def _attribute_index(engine: Engine, plan_id: str, name: str) -> int:
    return next(i for i, a in enumerate(engine.read_plan(plan_id).attributes) if a.name == name)


@pytest.mark.parametrize(
    ("setup", "expected"),
    [
        (_open_error, ["- [error] /activations/", "consent.purpose_not_granted: "]),
        (_approvals_missing, ["- [approval] /error_handling/escalation_ladder/0: no approval from"]),
        (_approvals_reported, ["- [approval] /approvals/0: the approval of 'Personalization Architect' by "
                               "Maya Chen is only reported", "plans approve PLAN --role 'Exec sponsor'"]),
        (_approvals_stale, ["- [approval] /approvals/2: approval apr-3 by Dana Whitfield (Exec sponsor) "
                            "was given on revision"]),
        (_changes_requested, ["- [approval] /approvals/3: Dana Whitfield (Exec sponsor) decided "
                              "'changes_requested' on revision"]),
        (_stage_without_owner, ["- [owner] /dependencies/nodes/8: stage 'qa-review' of the dependency graph "
                                "has no owner; add a governance owner with area 'qa-review'"]),
        (_scenario_fails, ["- [scenario] /scenarios/0"]),
        (_sensitive_grant_unconfirmed, ["consent/0/evidence: the grant of sensitive attribute "
                                        "'precise_location', purpose 'analytics' has no evidence",
                                        "consent/0/confirmed_by: no person confirmed the grant",
                                        "plans confirm-consent PLAN --attribute precise_location "
                                        "--purpose analytics"]),
    ],
)  # fmt: skip
async def test_finalize_refuses_each_kind_of_blocker_listing_it_and_writes_nothing(
    engine: Engine, repo_dir: Path, setup: Setup, expected: list[str]
):
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        await setup(c, engine, plan_id)
        revision = engine.read_plan(plan_id).revision
        before = state(repo_dir)
        result = await finalize(c, plan_id, revision)
    assert result.is_error
    message = text(result).replace(plan_id, "PLAN")
    assert f"plan PLAN revision {revision} cannot be finalized; nothing was written." in message
    for part in expected:
        assert part in message, message
    assert state(repo_dir) == before
    assert engine.read_plan(plan_id).final is None


async def test_a_refusal_lists_every_reason_at_once(engine: Engine, repo_dir: Path):
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        await _open_error(c, engine, plan_id)
        await _sensitive_grant_unconfirmed(c, engine, plan_id)
        await _write(c, engine, plan_id, "write_plan", {"sections": {"timeline": "Q3"}})
        result = await finalize(c, plan_id, engine.read_plan(plan_id).revision)
    message = text(result)
    index = _attribute_index(engine, plan_id, "precise_location")
    for part in ("[error] /activations/", "[approval] /approvals/", f"[consent] /attributes/{index}/consent"):
        assert part in message, message
    # One error, the top rung's approval (the timeline is in no other rung's covers) and the
    # sensitive grant's evidence and confirmation.
    assert "cannot be finalized; nothing was written. 4 reason(s):" in message


async def test_finalize_of_a_stale_revision_is_a_conflict_that_writes_nothing(engine: Engine, repo_dir: Path):
    async with Client(build_server(engine)) as c:
        plan_id = await build_ready_plan(c)
        reviewed = confirm_approvals(engine, plan_id)
        before = state(repo_dir)
        result = await finalize(c, plan_id, reviewed - 1)
    assert result.is_error
    assert f"is at revision {reviewed}, not expected_revision {reviewed - 1}" in text(result)
    assert state(repo_dir) == before


async def test_the_finalize_tool_is_small_and_annotated_as_an_additive_write(engine: Engine):
    async with Client(build_server(engine)) as c:
        tool = next(t for t in (await c.list_tools()).tools if t.name == "finalize_plan")
    assert sorted(tool.input_schema["properties"]) == ["actor", "expected_revision", "plan_id"]
    assert tool.input_schema["required"] == ["plan_id", "expected_revision"]
    hints = tool.annotations
    assert (hints.read_only_hint, hints.destructive_hint, hints.idempotent_hint) == (False, False, False)
    assert len(json.dumps(tool.model_dump(mode="json", exclude_none=True))) < 1400
