"""A plan the finalize gate accepts: the demo's content (no errors) with every required approval
confirmed. Confirming is `plans approve`'s job (interactive, the person's identity); tests write the
confirmed approvals through the engine, as that command's operation would."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import anyio
from mcp import Client

from personalization_engine import demo_content as content
from personalization_engine.checks.ledger_findings import approval_roles
from personalization_engine.checks.run import run_checks
from personalization_engine.core.engine import Engine
from personalization_engine.model import Approval, Plan
from personalization_engine.model.stages import Confirmation
from personalization_engine.server import build_server

from .conftest import START

# The demo's constraints name GDPR; the regime preset is another part's business, so leave it out.
CREATE = {**content.CREATE, "constraints": ["Braze and Appcues are the only messaging tools"]}
PEOPLE = {
    "Personalization Architect": ("Maya Chen", "maya@example.com"),
    "Data Privacy Lead": ("Omar Haddad", "omar@example.com"),
    "Exec sponsor": ("Dana Whitfield", "dana@example.com"),
}


async def build_ready_plan(client: Client) -> str:
    """The demo's plan through the tools, with the consent fix: no error findings. Returns its id."""
    created = await client.call_tool("create_plan", CREATE)
    assert not created.is_error, created.content
    plan_id = created.structured_content["plan_id"]
    revision = 1
    steps: list[tuple[str, dict[str, Any]]] = [
        ("record_intake", content.INTAKE),
        ("inventory_attributes", {"data_sources": content.DATA_SOURCES, "attributes": content.ATTRIBUTES}),
        ("define_profiles", {"profiles": content.PROFILES, "scenarios": content.scenarios_at(START)}),
        ("map_activation", {"activations": content.ACTIVATIONS}),
        ("write_plan", {"sections": content.LADDER_AND_FALLBACKS}),
        ("plan_governance", content.GOVERNANCE),
        ("inventory_attributes", {"attributes": [content.CONSENT_FIX]}),
    ]
    for tool, arguments in steps:
        arguments = {"plan_id": plan_id, "expected_revision": revision, **arguments}
        result = await client.call_tool(tool, arguments)
        assert not result.is_error, (tool, result.content)
        revision = result.structured_content["revision"]
    return plan_id


def ready_plan(engine: Engine) -> str:
    """build_ready_plan with every approval confirmed, for synchronous tests."""

    async def build() -> str:
        async with Client(build_server(engine)) as client:
            return await build_ready_plan(client)

    plan_id = anyio.run(build)
    confirm_approvals(engine, plan_id)
    return plan_id


def confirm_approvals(engine: Engine, plan_id: str, roles: list[str] | None = None) -> int:
    """Each required role (or `roles`) approves the current revision, confirmed; the new revision."""

    def approve(plan: Plan, now: datetime) -> Plan:
        added = []
        for role in roles if roles is not None else approval_roles(plan):
            name, email = PEOPLE.get(role, ("Someone", "someone@example.com"))
            added.append(
                Approval(
                    id=f"apr-{len(plan.approvals) + len(added) + 1}",
                    approver=name,
                    role=role,
                    decision="approved",
                    revision=plan.revision,
                    at=now,
                    status="confirmed",
                    confirmed_by=Confirmation(name=name, email=email, at=now, revision=plan.revision),
                )
            )
        return plan.model_copy(update={"approvals": (*plan.approvals, *added)})

    result = engine.apply(plan_id, "governance", approve, expected_revision=None, actor="test", timed=True)
    return result.revision


def error_codes(engine: Engine, plan_id: str) -> list[str]:
    return [f.code for f in run_checks(engine.read_plan(plan_id)) if f.severity == "error"]
