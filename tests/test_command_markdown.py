"""The command drives a real conversation: what the generated command markdown (and the prompt it is
built from) tells the model to ask, dispatch, record and refuse, checked against the tools, the CLI,
the plan model and docs/gtm-essentials.md."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import get_args

import pytest

from personalization_engine.cli.main import build_parser
from personalization_engine.docgen import _tool_docs, _walk, command_markdown
from personalization_engine.model.plan import AgentSubstitution, ErrorHandling, Regime, SignalFramework
from personalization_engine.model.schema import plan_json_schema_text
from personalization_engine.model.stages import EvidenceKind
from personalization_engine.server import prompt_template

ROOT = Path(__file__).resolve().parents[1]
COMMAND = ROOT / "commands" / "define-profiles.md"
GTM = ROOT / "docs" / "gtm-essentials.md"
AGENTS = ("personalization-architect", "customer-data-engineer")


# Each companion server: the tools the command may call, and what its "otherwise" branch does,
# which gtm-essentials.md must say in the same server's "Without it".
COMPANIONS = {
    "Serena": {"tools": {"search_for_pattern", "find_referencing_symbols"}, "otherwise": "`plan_diff`"},
    "Context7": {"tools": set(), "otherwise": "open question"},
    "Sequential Thinking": {"tools": set(), "otherwise": "reply"},
    "Playwright": {"tools": set(), "otherwise": "plans qa-result"},
}


def flat(text: str) -> str:
    """Text with line wrapping undone, so phrases are found wherever the prompt wraps them."""
    return " ".join(text.split())


def body() -> str:
    return COMMAND.read_text().split("---", 2)[2]


def sections() -> dict[int, tuple[str, str]]:
    """Numbered steps of the command: number -> (title, text)."""
    found = re.findall(r"^## (\d+)\. ([^\n]+)\n(.*?)(?=^## |\Z)", body(), re.MULTILINE | re.DOTALL)
    return {int(n): (title, text) for n, title, text in found}


def step(title: str) -> str:
    matches = [text for t, text in sections().values() if t == title]
    assert len(matches) == 1, f"one step titled {title!r} expected, found {len(matches)}"
    return flat(matches[0])


def gtm_section(server: str) -> str:
    text = GTM.read_text()
    match = re.search(rf"^## {re.escape(server)}\n(.*?)(?=^## |\Z)", text, re.MULTILINE | re.DOTALL)
    assert match, f"docs/gtm-essentials.md has no '## {server}' section"
    return match.group(1)


def test_the_generated_command_is_the_prompt_under_its_frontmatter():
    assert COMMAND.read_text() == command_markdown()
    assert body().strip() == prompt_template().strip()


def test_the_steps_run_in_order_from_intake_questions_to_finalize():
    assert [title for _, (title, _) in sorted(sections().items())] == [
        "Read the arguments",
        "Intake questions",
        "Choose the pattern and say why",
        "Create the plan",
        "Objective intake",
        "Attribute inventory",
        "Profile definition",
        "Activation mapping",
        "Governance",
        "Review the findings, fix or escalate",
        "Approvals",
        "Finalize, then show what blocks launch",
    ]
    assert sorted(sections()) == list(range(len(sections())))


def test_intake_asks_for_systems_consent_platform_identity_regions_and_approvers_before_creating():
    intake = step("Intake questions")
    questions = re.findall(r"\d\. \*\*(.+?)\*\*: (.+?)(?= \d\. \*\*| Record what|$)", intake)
    assert [q for q, _ in questions] == [
        "Systems of record",
        "Consent management platform",
        "Identity and match keys",
        "Regions and jurisdictions",
        "Approvers",
    ]
    asked = dict(questions)
    assert "the table or file to size audiences on" in asked["Systems of record"]
    assert "CMP" in asked["Consent management platform"]
    assert "each destination matches on" in asked["Identity and match keys"]
    # The regions pick the presets: every regime and signal framework the model knows, and no other.
    presets = set(re.findall(r"`([a-z0-9.-]+)`", asked["Regions and jurisdictions"]))
    assert presets == set(get_args(Regime)) | set(get_args(SignalFramework))
    assert "name and email" in asked["Approvers"] and "each rung" in asked["Approvers"]
    assert "`open_questions`" in intake and "never guess" in intake
    # The answers reach the plan: presets on create_plan, approvers on the ladder's rungs.
    create = step("Create the plan")
    assert "`create_plan`" in create and "the `regimes` and `signals` from question 4" in create
    assert "`write_plan`" in create and "`escalation_ladder` rung's `owner` and `email`" in create
    rung = ErrorHandling().escalation_ladder[0]
    assert {"owner", "email", "covers"} <= set(type(rung).model_fields)


def test_unknown_consent_leaves_the_grant_out_records_a_consent_blocker_and_an_open_question():
    inventory = step("Attribute inventory")
    branch = inventory.split("**Unknown consent.**")[1]
    assert "leave that grant out" in branch
    assert "call `record_blocker` with kind `consent`" in branch
    assert "add an open question naming who can answer" in branch
    assert "Never add a grant without naming who confirmed it" in branch
    assert "carries its `evidence`" in branch
    for kind in get_args(EvidenceKind):
        assert f"`{kind}`" in branch, kind
    assert "`personalization-engine plans confirm-consent PLAN_ID --attribute A --purpose P`" in branch
    assert "`consent.unconfirmed`" in branch
    kinds = next(t for t in _tool_docs() if t["name"] == "record_blocker")["input_schema"]["properties"]
    assert "consent" in kinds["kind"]["enum"]


@pytest.mark.parametrize(
    ("agent", "where", "purpose"),
    [
        ("personalization-architect", "Objective intake", "`record_intake`"),
        ("customer-data-engineer", "Attribute inventory", "to check feasibility against the data"),
    ],
)
def test_each_agent_is_dispatched_through_task_with_a_precise_brief(agent, where, purpose):
    text = step(where)
    plugin = json.loads((ROOT / "plugin.json").read_text())["name"]
    assert f"`subagent_type` `{plugin}:{agent}`" in text
    assert "Dispatch" in text and purpose in text
    for needed in ("plan_id and latest revision", "return the new revision"):
        assert needed in text, needed
    allowed = re.search(r"^allowed-tools: (.*)$", COMMAND.read_text(), re.MULTILINE).group(1)
    assert "Task" in allowed.split(", ")
    # The agent's own file says what a dispatch must give it and what it returns.
    agent_text = (ROOT / "agents" / f"{agent}.md").read_text()
    assert f"name: {agent}\n" in agent_text
    dispatched = flat(agent_text.split("## When dispatched (Task)")[1].split("\n## ")[0])
    for needed in (
        "`plan_id` and the latest `revision`",
        "You cannot talk to the user",
        "Return, in this order",
    ):
        assert needed in dispatched, (agent, needed)
    assert "never finalize" in dispatched


def test_an_agent_that_cannot_be_dispatched_is_replaced_by_its_substitute_and_the_plan_records_it():
    branch = step("Objective intake").split("**When an agent cannot be dispatched**")[1]
    assert "dispatch its substitute from `error_handling.fallback_agents`" in branch
    assert "follow the agent's file yourself" in branch
    fields = ", ".join(AgentSubstitution.model_fields)
    assert "record the substitution with `write_plan`" in branch
    assert f"one `agent_substitutions` entry ({fields})" in branch
    # The default plan names a substitute for each agent the command dispatches.
    assert {(f.agent, f.substitute) for f in ErrorHandling().fallback_agents} == {
        ("personalization-architect", "customer-data-engineer"),
        ("customer-data-engineer", "personalization-architect"),
    }


def test_approvals_are_recorded_as_reported_and_each_approver_confirms_in_their_own_terminal():
    approvals = step("Approvals")
    assert "`record_approval`: it is **reported**, not confirmed" in approvals
    assert '`personalization-engine plans approve PLAN_ID --role "ROLE"`' in approvals
    assert "You cannot run it" in approvals and "never claim an approval is confirmed" in approvals


def test_the_command_names_export_targets_and_exports_once_final_showing_what_a_target_could_not_carry():
    mapping = flat(step("Activation mapping"))
    assert "`export_target`" in mapping and "`dbt`" in mapping and "`flagd`" in mapping
    final = flat(step("Finalize, then show what blocks launch"))
    assert final.index("`finalize_plan`") < final.index("`export_activation`")
    assert "every refusal" in final and "frozen cutoff" in final
    assert "Pass `allow_errors` only when the user asks for a draft" in final


def test_the_command_never_finalizes_while_errors_are_open_and_ends_with_what_blocks_launch():
    steps = sections()
    last = max(steps)
    for number, (title, text) in steps.items():
        if number != last:
            assert "finalize_plan" not in text, f"step {number} ({title}) mentions finalize_plan"
    final = flat(steps[last][1])
    assert final.index("`validate_plan`") < final.index("`finalize_plan`")
    assert "Never call `finalize_plan` while it reports any error" in final
    assert "if it refuses, show its reasons" in final
    ending = final.split("End with what still blocks launch")[1]
    for blocker in (
        "open errors",
        "approvals missing, stale or only reported",
        "consent without evidence or unconfirmed",
        "failing scenarios",
        "QA that is missing, failed or stale",
    ):
        assert blocker in ending, blocker


def test_each_companion_step_is_conditional_and_matches_gtm_essentials():
    text = flat(body())
    preamble = text.split("## 0.")[0]
    assert "docs/gtm-essentials.md" in preamble and "optional" in preamble
    steps = flat("\n".join(t for _, t in sections().values()))
    for server, expect in COMPANIONS.items():
        conditional = rf"- If {server}'s tools are available: (.+?); otherwise (.+?)(?= - | ## |$)"
        uses = re.findall(conditional, steps)
        assert len(uses) == 1, f"{server}: one conditional step expected, found {len(uses)}"
        assert steps.count(server) == 1, f"{server} is named outside its conditional step"
        with_it, without_it = uses[0]
        doc = gtm_section(server)
        for part in ("**What it adds.**", "**Add it (optional).**", "**With it.**", "**Without it.**"):
            assert part in doc, (server, part)
        assert re.search(r"```shell\nclaude mcp add ", doc) or "`claude mcp add " in doc, server
        assert re.search(r"Source: [^\n]*?\]\(https://", doc), f"{server}: cite the project's own docs"
        assert expect["otherwise"] in flat(without_it), (server, without_it)
        assert expect["otherwise"] in flat(doc.split("**Without it.**")[1]), server
        # The names a step uses are ones gtm-essentials.md explains for that server.
        used = set(re.findall(r"`([a-z_]+)`", with_it))
        assert expect["tools"] <= used, server
        for name in used - registered_tools():
            assert f"`{name}`" in doc, (server, name)
    # Playwright's run records each qa_flow's outcome with the arguments record_qa_result takes.
    playwright = step("Review the findings, fix or escalate").split("If Playwright's tools")[1]
    arguments = (
        "plan_id, profile_id, channel, url, outcome passed or failed, ran_at, artefact_sha256, artefact, note"
    )
    assert f"`record_qa_result` ({arguments})" in playwright
    assert "`qa_flow`" in playwright and "sha256sum" in playwright
    gtm = flat(GTM.read_text())
    assert "never bundles, installs or starts them" in gtm
    for area in ("Schema diffs", "Privacy and compliance docs", "Governance reviews", "Consent and opt-in"):
        assert f"**{area}" in gtm, area


def registered_tools() -> set[str]:
    return {t["name"] for t in _tool_docs()}


def plan_names() -> set[str]:
    """Every field name and enumerated value in the plan's JSON Schema."""
    names: set[str] = set()

    def walk(node: object) -> None:
        if isinstance(node, dict):
            names.update(node.get("properties", {}))
            names.update(v for v in node.get("enum", []) if isinstance(v, str))
            if isinstance(node.get("const"), str):
                names.add(node["const"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(plan_json_schema_text()))
    return names


def test_every_tool_field_and_cli_command_the_markdown_names_exists():
    registered = registered_tools()
    fields = plan_names() | {n for t in _tool_docs() for n in t["input_schema"].get("properties", {})}
    fields |= {"subagent_type"}  # the Task tool's argument naming the agent
    companion_tools = {t for c in COMPANIONS.values() for t in c["tools"]}
    agents = {a: (ROOT / "agents" / f"{a}.md").read_text().split("---", 2)[2] for a in AGENTS}
    for where, text, allowed in (
        ("the command", body(), registered | fields | companion_tools),
        *((f"agents/{a}.md", text, registered | fields) for a, text in agents.items()),
    ):
        unknown = set(re.findall(r"`([a-z]+_[a-z_]+)`", text)) - allowed
        assert not unknown, f"{where} names what no tool, argument, plan field or companion has: {unknown}"
    commands = {path[1] for path, _ in _walk(build_parser(), []) if len(path) == 2 and path[0] == "plans"}
    texts = flat(" ".join([body(), *agents.values(), GTM.read_text()]))
    named = set(re.findall(r"personalization-engine plans ([a-z-]+)", texts))
    named |= set(re.findall(r"`plans ([a-z-]+)`", texts))
    assert named <= commands, named - commands
    assert {"approve", "confirm-consent", "qa-result", "finalize"} <= named


def test_the_prompt_stays_small_enough_to_read_on_every_run():
    # The model reads the whole prompt at each run; growth here costs every user every time.
    assert len(prompt_template().encode()) <= 10_240
