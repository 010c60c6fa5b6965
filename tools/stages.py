"""One tool per stage: intake, attribute inventory, profiles, activation mapping, governance.

Each tool turns its arguments into the stage's edit (core/stage_ops.py) and makes one write. Items
are taken as plain objects whose schemas live in the schema://plan resource, so the tool list
stays small; the core validates them and names the JSON Pointer of anything wrong.
"""

from __future__ import annotations

from typing import Annotated, Any

from mcp.server.mcpserver import Context
from pydantic import Field, WithJsonSchema

from ..core import stage_ops as ops
from ..core.results import answer
from ..model.common import Cadence
from ._common import (
    REPLACING,
    ActorArg,
    PlanIdArg,
    RevisionArg,
    ToolSpec,
    WriteAnswer,
    advertised_as,
    engine,
    run,
    text_or_null,
    who_asks,
)


def items(what: str):  # -> an Annotated list of objects; remove_* lists take keys
    # The core's edit model bounds the list and validates every item, naming its JSON Pointer.
    return Annotated[list[dict[str, Any]], Field(description=what)]


Mode = Annotated[
    ops.EditMode,
    Field(description="replace: the lists become the sections."),
]


def _write(ctx: Context, plan_id: str, stage: str, expected: int, given_actor: str | None, **args: Any):
    model, operation = ops.STAGE_OPERATIONS[stage]
    given = {name: value for name, value in args.items() if value is not None}

    def write() -> WriteAnswer:
        edit = ops.parse_edit(model, given)
        result = engine(ctx).apply(
            plan_id,
            stage,
            lambda plan: operation(plan, edit),
            expected_revision=expected,
            actor=who_asks(given_actor, ctx),
        )
        return answer(result)

    return run(write)


def record_intake(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    goals: items("Goals {id, statement, kpi} keyed by id.") = (),
    remove_goals: list[str] = (),
    personas: items("Personas {id, name, description}.") = (),
    remove_personas: list[str] = (),
    lifecycle_stages: items("Lifecycle stages {id, name, definition}.") = (),
    remove_lifecycle_stages: list[str] = (),
    open_questions: Annotated[
        list[str] | None, Field(max_length=200, description="Replaces the list."), advertised_as(list[str])
    ] = None,
    notes: Annotated[str | None, Field(max_length=4000), text_or_null(4000)] = None,
    mode: Mode = "merge",
    actor: ActorArg = "",
) -> WriteAnswer:
    """Stage 1, objective intake: goals, personas and lifecycle stages. Ask the user first; keep
    what they could not answer as open_questions. Example: {"plan_id": "...", "expected_revision":
    1, "goals": [{"id": "activate", "statement": "Trials reach value in 7 days", "kpi": "day-7
    activation"}]}
    """
    return _write(
        ctx,
        plan_id,
        "intake",
        expected_revision,
        actor,
        goals=goals,
        remove_goals=remove_goals,
        personas=personas,
        remove_personas=remove_personas,
        lifecycle_stages=lifecycle_stages,
        remove_lifecycle_stages=remove_lifecycle_stages,
        open_questions=open_questions,
        notes=notes,
        mode=mode,
    )


def inventory_attributes(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    attributes: items("Attributes keyed by name ($defs/Attribute in schema://plan).") = (),
    remove_attributes: list[str] = (),
    data_sources: items("Data sources keyed by id ($defs/DataSource).") = (),
    remove_data_sources: list[str] = (),
    mode: Mode = "merge",
    actor: ActorArg = "",
) -> WriteAnswer:
    """Stage 2, attribute inventory: the fields profiles use and their data sources. Re-send an
    attribute when its source, cadence or consent changes. Example: {"plan_id": "...",
    "expected_revision": 2, "attributes": [{"name": "plan_tier", "type": "string", "source_id":
    "warehouse", "freshness_sla": "1d", "consent": [{"purpose": "onsite_personalization",
    "lawful_basis": "consent"}]}]}
    """
    return _write(
        ctx,
        plan_id,
        "attributes",
        expected_revision,
        actor,
        attributes=attributes,
        remove_attributes=remove_attributes,
        data_sources=data_sources,
        remove_data_sources=remove_data_sources,
        mode=mode,
    )


def define_profiles(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    profiles: list[ops.ProfileRules] = (),
    remove_profiles: list[str] = (),
    scenarios: items("Scenarios {id, record, expected_profile}: rerun by every check.") = (),
    remove_scenarios: list[str] = (),
    mode: Mode = "merge",
    actor: ActorArg = "",
) -> WriteAnswer:
    """Stage 3, profile definition: profiles and scenarios, keyed by id. A rule is a tree or SQL
    ("plan_tier = 'trial' AND signup_at >= now() - interval 14 day"). Give each a fallback.
    Example: {"plan_id": "...", "expected_revision": 3, "profiles": [{"id": "trial", "name":
    "Trial", "eligibility": "plan_tier = 'trial'"}]}
    """
    return _write(
        ctx,
        plan_id,
        "profiles",
        expected_revision,
        actor,
        profiles=[p.model_dump(mode="json", by_alias=True, exclude_unset=True) for p in profiles],
        remove_profiles=remove_profiles,
        scenarios=scenarios,
        remove_scenarios=remove_scenarios,
        mode=mode,
    )


def map_activation(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    activations: items("Activations keyed by profile_id and channel ($defs/Activation).") = (),
    remove_activations: items("Keys {profile_id, channel} to remove.") = (),
    mode: Mode = "merge",
    actor: ActorArg = "",
) -> WriteAnswer:
    """Stage 4, activation mapping: per profile and channel, the destination and what it needs.
    Example: {"plan_id": "...", "expected_revision": 4, "activations": [{"profile_id": "trial",
    "channel": "email", "destination": "Braze", "match_keys": ["user_id"], "consent_gate":
    ["email_opt_in"], "fallback_state": "generic sequence"}]}
    """
    return _write(
        ctx,
        plan_id,
        "activation",
        expected_revision,
        actor,
        activations=activations,
        remove_activations=remove_activations,
        mode=mode,
    )


def plan_governance(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    owners: items("Owners keyed by area (a stage, a channel or 'program'): owner, backup, available.") = (),
    remove_owners: list[str] = (),
    change_checkpoints: items("Checkpoints {id, trigger, approver_role}.") = (),
    remove_change_checkpoints: list[str] = (),
    qa_cadence: Annotated[
        Cadence | None, WithJsonSchema({"type": "string", "description": "e.g. 'weekly', '14d'."})
    ] = None,
    notes: Annotated[str | None, Field(max_length=4000), text_or_null(4000)] = None,
    mode: Mode = "merge",
    actor: ActorArg = "",
) -> WriteAnswer:
    """Stage 5, governance: an owner and backup per area (escalation skips absent owners), the QA
    cadence and change checkpoints. Example: {"plan_id": "...", "expected_revision": 5,
    "owners": [{"area": "profiles", "owner": "Maya Chen", "backup": "Luis Ortega"}]}
    """
    return _write(
        ctx,
        plan_id,
        "governance",
        expected_revision,
        actor,
        owners=owners,
        remove_owners=remove_owners,
        change_checkpoints=change_checkpoints,
        remove_change_checkpoints=remove_change_checkpoints,
        qa_cadence=qa_cadence,
        notes=notes,
        mode=mode,
    )


TOOLS = (
    ToolSpec(record_intake, "Stage 1: objective intake", REPLACING),
    ToolSpec(inventory_attributes, "Stage 2: attribute inventory", REPLACING),
    ToolSpec(define_profiles, "Stage 3: profile definition", REPLACING),
    ToolSpec(map_activation, "Stage 4: activation mapping", REPLACING),
    ToolSpec(plan_governance, "Stage 5: governance", REPLACING),
)
