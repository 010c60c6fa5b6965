"""Every MCP tool through the in-memory client: happy paths, bad inputs, and nothing written on errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from mcp import Client
from mcp.types import Implementation

from personalization_engine.core.engine import Engine
from personalization_engine.demo_content import ATTRIBUTES, DATA_SOURCES, PROFILES
from personalization_engine.server import build_server, full_tool_name

from .conftest import git, json_text

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend():
    return "asyncio"


@pytest.fixture
def server(engine: Engine):
    return build_server(engine)


def client(server) -> Client:
    return Client(server, client_info=Implementation(name="test-client", version="1.0"))


async def call(c: Client, tool: str, **args):
    return await c.call_tool(tool, args)


def text(result) -> str:
    return " ".join(getattr(part, "text", "") for part in result.content)


def snapshot(repo: Path) -> tuple[str, dict[str, bytes]]:
    head = (
        git(repo, "rev-parse", "HEAD") if (repo / ".git").exists() and git(repo, "rev-list", "--all") else ""
    )
    plans = repo / ".claude" / "plans"
    files = {p.name: p.read_bytes() for p in plans.glob("*.json")} if plans.exists() else {}
    return head, files


async def new_plan(c: Client) -> dict:
    result = await call(c, "create_plan", initiative="PLG Onboarding", channels=["web", "in-app", "email"])
    assert not result.is_error, text(result)
    return result.structured_content


EXPECTED_TOOLS = {
    "create_plan",
    "list_plans",
    "read_plan",
    "write_plan",
    "validate_plan",
    "plan_history",
    "plan_diff",
    "record_intake",
    "inventory_attributes",
    "define_profiles",
    "map_activation",
    "plan_governance",
}


TEXT_TOOLS = {"read_plan", "validate_plan"}


async def test_every_tool_has_a_description_title_annotations_and_a_short_full_name(server):
    async with client(server) as c:
        tools = (await c.list_tools()).tools
    assert {t.name for t in tools} >= EXPECTED_TOOLS
    for t in tools:
        assert len(full_tool_name(t.name)) <= 64, t.name
        assert t.description and "Example" in t.description, t.name
        assert t.title and t.annotations is not None, t.name
        # The two big reads answer with JSON text only; everything else publishes its result shape.
        assert (t.output_schema is None) == (t.name in TEXT_TOOLS), t.name
        hints = t.annotations
        if hints.read_only_hint:
            assert hints.destructive_hint is False, t.name
        else:
            assert hints.destructive_hint is not None, t.name
    by_name = {t.name: t for t in tools}
    assert by_name["read_plan"].annotations.read_only_hint is True
    assert by_name["write_plan"].annotations.destructive_hint is True
    assert by_name["create_plan"].annotations.destructive_hint is False


async def test_stage_tools_publish_their_item_models_as_json_schema(server):
    # Item models live once, in the schema://plan resource; the stage tools name their $defs there.
    async with client(server) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        published = json.loads((await c.read_resource("schema://plan")).contents[0].text)["$defs"]
    schema = json.dumps(tools["inventory_attributes"].input_schema)
    assert "schema://plan" in schema and "$defs/Attribute" in schema and "$defs/DataSource" in schema
    for field in ("freshness_sla", "refresh_cadence", "pii_class", "source_id", "consent"):
        assert field in published["Attribute"]["properties"]
    assert "lawful_basis" in published["ConsentGrant"]["properties"]
    assert "eligibility" in json.dumps(tools["define_profiles"].input_schema)


async def test_a_plan_goes_through_every_stage_and_each_write_is_a_revision(server, repo_dir):
    async with client(server) as c:
        created = await new_plan(c)
        pid = created["plan_id"]
        steps = [
            ("record_intake", {"goals": [{"id": "activate", "statement": "Activate trials"}]}),
            ("inventory_attributes", {"data_sources": DATA_SOURCES, "attributes": ATTRIBUTES}),
            ("define_profiles", {"profiles": PROFILES[:2]}),
            (
                "map_activation",
                {
                    "activations": [
                        {"profile_id": "stalled-trial", "channel": "email", "destination": "Braze"}
                    ]
                },
            ),
            ("plan_governance", {"owners": [{"area": "program", "owner": "Dana", "backup": "Maya"}]}),
        ]
        revision = 1
        for tool, args in steps:
            result = await call(c, tool, plan_id=pid, expected_revision=revision, **args)
            assert not result.is_error, (tool, text(result))
            data = result.structured_content
            assert data["revision"] == revision + 1 and data["written"] is True
            assert data["commit"] == git(repo_dir, "rev-parse", "HEAD")
            assert data["changes"], tool
            revision = data["revision"]
        plan = json_text(await call(c, "read_plan", plan_id=pid))
        assert plan["revision"] == 6
        assert [e["actor"] for e in plan["change_log"]] == ["test-client"] * 6
    assert "Actor: test-client" in git(repo_dir, "log", "-1", "--format=%B")


async def test_keyed_edits_add_replace_and_remove_items_without_resending_everything(server):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        r = await call(
            c,
            "inventory_attributes",
            plan_id=pid,
            expected_revision=1,
            attributes=[{"name": "a", "type": "string"}, {"name": "b", "type": "integer"}],
        )
        r = await call(
            c,
            "inventory_attributes",
            plan_id=pid,
            expected_revision=2,
            attributes=[{"name": "b", "type": "number"}],
            remove_attributes=["a"],
        )
        assert r.structured_content["changes"] == ["changed attribute b: type", "removed attribute a"]
        r = await call(
            c,
            "inventory_attributes",
            plan_id=pid,
            expected_revision=3,
            mode="replace",
            attributes=[{"name": "c", "type": "boolean"}],
        )
        plan = json_text(await call(c, "read_plan", plan_id=pid))
        assert [a["name"] for a in plan["attributes"]] == ["c"]
        same = await call(
            c,
            "inventory_attributes",
            plan_id=pid,
            expected_revision=4,
            attributes=[{"name": "c", "type": "boolean"}],
        )
        assert same.structured_content["written"] is False
        assert same.structured_content["revision"] == 4


async def test_each_stage_keys_its_items_data_sources_profiles_activations_and_owners(server):
    """Replace and remove by the issue's keys: data sources and profiles by id, activations by
    (profile_id, channel), owners by area; everything else in the section stays as it was."""
    from personalization_engine import demo_content as content

    async with client(server) as c:
        created = (await call(c, "create_plan", **content.CREATE)).structured_content
        pid, rev = created["plan_id"], created["revision"]
        for tool, args in (
            (
                "inventory_attributes",
                {"data_sources": content.DATA_SOURCES, "attributes": content.ATTRIBUTES},
            ),
            ("define_profiles", {"profiles": content.PROFILES, "scenarios": content.SCENARIOS}),
            ("map_activation", {"activations": content.ACTIVATIONS}),
            ("plan_governance", content.GOVERNANCE),
        ):
            rev = (await call(c, tool, plan_id=pid, expected_revision=rev, **args)).structured_content[
                "revision"
            ]
        before = json_text(await call(c, "read_plan", plan_id=pid))

        source, gone_source = content.DATA_SOURCES[0], content.DATA_SOURCES[-1]["id"]
        # Removing a profile others still name is allowed; the checks report the dangling references.
        profile, gone_profile = content.PROFILES[0], content.PROFILES[-1]["id"]
        activation, gone_activation = content.ACTIVATIONS[0], content.ACTIVATIONS[-1]
        owner, gone_area = content.GOVERNANCE["owners"][0], content.GOVERNANCE["owners"][-1]["area"]
        edits = (
            (
                "inventory_attributes",
                {"data_sources": [{**source, "owner": "Platform"}], "remove_data_sources": [gone_source]},
            ),
            (
                "define_profiles",
                {"profiles": [{**profile, "priority": 99}], "remove_profiles": [gone_profile]},
            ),
            (
                "map_activation",
                {
                    "activations": [{**activation, "destination": "Braze"}],
                    "remove_activations": [
                        {"profile_id": gone_activation["profile_id"], "channel": gone_activation["channel"]}
                    ],
                },
            ),
            ("plan_governance", {"owners": [{**owner, "owner": "Sam Ortiz"}], "remove_owners": [gone_area]}),
        )
        for tool, args in edits:
            r = await call(c, tool, plan_id=pid, expected_revision=rev, **args)
            assert not r.is_error, text(r)
            rev = r.structured_content["revision"]
        after = json_text(await call(c, "read_plan", plan_id=pid))

    def expected(items, key, replaced, removed):
        return [replaced if key(item) == key(replaced) else item for item in items if key(item) != removed]

    by_id = lambda item: item["id"]  # noqa: E731
    pair = lambda item: (item["profile_id"], item["channel"])  # noqa: E731
    area = lambda item: item["area"]  # noqa: E731
    assert after["data_sources"] == expected(
        before["data_sources"], by_id, {**before["data_sources"][0], "owner": "Platform"}, gone_source
    )
    assert [p["id"] for p in after["profiles"]] == [
        p["id"] for p in before["profiles"] if p["id"] != gone_profile
    ]
    assert after["profiles"][0]["priority"] == 99
    assert after["activations"] == expected(
        before["activations"],
        pair,
        {**before["activations"][0], "destination": "Braze"},
        pair(gone_activation),
    )
    owners = before["governance"]["owners"]
    assert after["governance"]["owners"] == expected(
        owners, area, {**owners[0], "owner": "Sam Ortiz"}, gone_area
    )


async def test_removing_an_unknown_key_is_refused_naming_it_and_nothing_is_written(server, repo_dir):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        before = snapshot(repo_dir)
        r = await call(
            c, "inventory_attributes", plan_id=pid, expected_revision=1, remove_attributes=["ghost"]
        )
        assert r.is_error
        assert "remove_attributes: cannot remove unknown key 'ghost'; existing keys: none" in text(r)
        r = await call(
            c,
            "map_activation",
            plan_id=pid,
            expected_revision=1,
            remove_activations=[{"profile_id": "x", "channel": "web"}],
        )
        assert r.is_error and "unknown key 'x/web'" in text(r)
    assert snapshot(repo_dir) == before


@pytest.mark.parametrize(
    ("tool", "args", "expected"),
    [
        ("create_plan", {"initiative": "X"}, "channels"),
        ("create_plan", {"initiative": "X", "channels": ["fax"]}, "channels.0"),
        ("create_plan", {"initiative": "x" * 201, "channels": ["web"]}, "initiative"),
        ("create_plan", {"initiative": "X", "channels": ["web", "web"]}, "listed twice"),
        ("inventory_attributes", {"expected_revision": "one"}, "expected_revision"),
        (
            "inventory_attributes",
            {"expected_revision": 1, "attributes": [{"name": "Bad Name"}]},
            "/attributes/0/name",
        ),
        (
            "define_profiles",
            {
                "expected_revision": 1,
                "profiles": [
                    {"id": "p", "name": "P", "eligibility": {"op": "like", "attr": "x", "value": 1}}
                ],
            },
            "eligibility",
        ),
        ("write_plan", {"expected_revision": 1, "sections": {"revision": 9}}, "revision is server-owned"),
        (
            "write_plan",
            {"expected_revision": 1, "sections": {"change_log": []}},
            "change_log is server-owned",
        ),
        (
            "write_plan",
            {"expected_revision": 1, "sections": {"escalations": []}},
            "escalations is server-owned",
        ),
        ("write_plan", {"expected_revision": 1, "sections": {"approvals": []}}, "approvals is server-owned"),
        (
            "write_plan",
            {"expected_revision": 1, "sections": {"sizing_runs": []}},
            "sizing_runs is server-owned",
        ),
        (
            "write_plan",
            {
                "expected_revision": 1,
                "sections": {"success_metrics": {"consent_integrity_pct": {"target": 90, "actual": 100}}},
            },
            "actual is server-owned",
        ),
        ("write_plan", {"expected_revision": 1, "sections": {"timeline": "t" * 10_000_000}}, "timeline"),
        ("record_intake", {"expected_revision": 7}, "is at revision 1, not expected_revision 7"),
    ],
)
async def test_bad_input_is_an_error_naming_the_field_and_nothing_is_written(
    server, repo_dir, tool, args, expected
):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        before = snapshot(repo_dir)
        if tool != "create_plan":
            args = {"plan_id": pid, **args}
        result = await call(c, tool, **args)
        assert result.is_error
        assert expected in text(result)
        assert len(text(result)) < 2000
    assert snapshot(repo_dir) == before


async def test_an_unknown_plan_is_an_error_that_lists_known_plans(server):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        r = await call(c, "read_plan", plan_id="plan-20990101T000000Z")
        assert r.is_error and f"unknown plan 'plan-20990101T000000Z'; known plans: {pid}" in text(r)
        r = await call(c, "read_plan", plan_id="../../etc/passwd")
        assert r.is_error and "is not a plan id" in text(r)


async def test_history_diff_list_validate_and_older_revisions(server):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        await call(
            c,
            "inventory_attributes",
            plan_id=pid,
            expected_revision=1,
            attributes=[{"name": "plan_tier", "type": "string"}],
        )
        await call(
            c,
            "write_plan",
            plan_id=pid,
            expected_revision=2,
            sections={"timeline": "Q1", "attributes": [{"name": "plan_tier", "type": "integer"}]},
        )
        history = (await call(c, "plan_history", plan_id=pid)).structured_content["revisions"]
        assert [(h["revision"], h["stage"]) for h in history] == [
            (3, "plan"),
            (2, "attributes"),
            (1, "create"),
        ]
        diff = (await call(c, "plan_diff", plan_id=pid, from_revision=1, to_revision=3)).structured_content
        assert diff["summary"] == ["changed timeline: timeline", "added attribute plan_tier"]
        old = json_text(await call(c, "read_plan", plan_id=pid, revision=2))
        assert old["revision"] == 2 and old["attributes"][0]["type"] == "string"
        listed = (await call(c, "list_plans")).structured_content["plans"]
        assert [(p["plan_id"], p["revision"], p["attributes"]) for p in listed] == [(pid, 3, 1)]
        report = json_text(await call(c, "validate_plan", plan_id=pid))
        assert report["revision"] == 3 and isinstance(report["findings"], list)


async def test_read_plan_answers_with_the_plan_and_validate_plan_with_the_report_as_json_text(
    server, repo_dir
):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        result = await call(c, "read_plan", plan_id=pid)
        assert result.structured_content is None and len(result.content) == 1
        stored = (repo_dir / ".claude" / "plans" / f"{pid}.json").read_text("utf-8")
        # The file's document, compact: the same JSON without the file's indentation.
        compact = json.dumps(json.loads(stored), separators=(",", ":"), ensure_ascii=False)
        assert result.content[0].text == compact
        report = json_text(await call(c, "validate_plan", plan_id=pid))
        assert set(report) == {"plan_id", "revision", "valid", "counts", "findings"}
        assert report["plan_id"] == pid and report["revision"] == 1
        assert report["counts"]["error"] == sum(f["severity"] == "error" for f in report["findings"])
        assert report["valid"] is (report["counts"]["error"] == 0)
        assert all(set(f) == {"code", "severity", "pointer", "message", "stage"} for f in report["findings"])
        await call(c, "record_intake", plan_id=pid, expected_revision=1, notes="changed")
        assert json_text(await call(c, "read_plan", plan_id=pid))["intake"]["notes"] == "changed"


async def test_resources_serve_the_plan_and_the_schema(server):
    async with client(server) as c:
        pid = (await new_plan(c))["plan_id"]
        plan = await c.read_resource(f"plan://{pid}")
        assert json.loads(plan.contents[0].text)["plan_id"] == pid
        schema = await c.read_resource("schema://plan")
        assert json.loads(schema.contents[0].text)["$schema"].endswith("2020-12/schema")
        templates = (await c.list_resource_templates()).resource_templates
        assert [t.uri_template for t in templates] == ["plan://{plan_id}"]


async def test_the_define_profiles_prompt_carries_the_command_arguments(server):
    async with client(server) as c:
        prompts = (await c.list_prompts()).prompts
        assert [p.name for p in prompts] == ["define-profiles"]
        required = {a.name for a in prompts[0].arguments if a.required}
        assert required == {"initiative", "channels"}
        result = await c.get_prompt(
            "define-profiles", {"initiative": "PLG Onboarding", "channels": "web,email", "timeline": "Q1"}
        )
        body = result.messages[0].content.text
        assert '--initiative "PLG Onboarding" --channels "web,email" --timeline "Q1"' in body
        assert "$ARGUMENTS" not in body and "validate_plan" in body


async def test_optional_arguments_advertised_as_plain_types_still_accept_null(server):
    """Clients often send null for arguments they leave out; the schema shows only the plain type."""
    async with client(server) as c:
        tools = {t.name: t for t in (await c.list_tools()).tools}
        actor = tools["create_plan"].input_schema["properties"]["actor"]
        assert actor["type"] == "string" and "anyOf" not in actor
        created = await call(
            c, "create_plan", initiative="Nulls", channels=["web"], timeline=None, actor=None
        )
        assert not created.is_error, text(created)
        plan_id = created.structured_content["plan_id"]
        assert created.structured_content["revision"] == 1
        blocker = await call(
            c, "record_blocker", plan_id=plan_id, kind="data_pull", subject="warehouse",
            expected_revision=None, actor=None,
        )  # fmt: skip
        assert not blocker.is_error, text(blocker)
        assert blocker.structured_content["revision"] == 2
        read = await call(c, "read_plan", plan_id=plan_id, revision=None)
        assert not read.is_error and json.loads(text(read))["revision"] == 2
        log = json.loads((await call(c, "plan_history", plan_id=plan_id)).content[0].text)
        assert log["revisions"][0]["actor"] == "test-client"
