"""One tool per stage: intake, attribute inventory, profiles, activation mapping, governance.

Each tool turns its arguments into the stage's edit (core/stage_ops.py) and makes one write.
"""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context
from pydantic import Field

from ..core import stage_ops as ops
from ..core.results import WriteOutcome, outcome
from ..model.common import AttributeName, Cadence, ShortText
from ..model.stages import (
    Activation,
    Attribute,
    Checkpoint,
    DataSource,
    Goal,
    LifecycleStage,
    OwnerAssignment,
    Persona,
    Scenario,
)
from ._common import REPLACING, ActorArg, PlanIdArg, RevisionArg, ToolSpec, engine, run, who_asks

Keys = ops.keys_arg


def _write(
    ctx: Context, plan_id: str, stage: str, edit: ops.Edit, expected: int, who: str | None
) -> WriteOutcome:
    _, operation = ops.STAGE_OPERATIONS[stage]
    return run(
        lambda: outcome(
            engine(ctx).apply(
                plan_id,
                stage,
                lambda plan: operation(plan, edit),
                expected_revision=expected,
                actor=who_asks(who, ctx),
            )
        )
    )


def record_intake(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    goals: Annotated[tuple[Goal, ...], Field(max_length=200)] = (),
    remove_goals: Keys("goals", 200) = (),
    personas: Annotated[tuple[Persona, ...], Field(max_length=200)] = (),
    remove_personas: Keys("personas", 200) = (),
    lifecycle_stages: Annotated[tuple[LifecycleStage, ...], Field(max_length=200)] = (),
    remove_lifecycle_stages: Keys("lifecycle stages", 200) = (),
    open_questions: Annotated[tuple[ShortText, ...], Field(max_length=200)] | None = None,
    notes: ops.NotesArg = None,
    mode: ops.ModeArg = "merge",
    actor: ActorArg = None,
) -> WriteOutcome:
    """Stage 1, objective intake: goals, personas and lifecycle stages, each keyed by id.

    Ask the user first; record what they could not answer as open_questions (replaces the list).
    Example: {"plan_id": "...", "expected_revision": 1, "goals": [{"id": "activate-trials",
    "statement": "Trials reach first value within 7 days", "kpi": "day-7 activation rate"}],
    "personas": [{"id": "builder", "name": "Hands-on builder"}]}
    """
    edit = ops.IntakeEdit(
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
    return _write(ctx, plan_id, "intake", edit, expected_revision, actor)


def inventory_attributes(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    attributes: Annotated[tuple[Attribute, ...], Field(max_length=20_000)] = (),
    remove_attributes: Annotated[tuple[AttributeName, ...], Field(max_length=20_000)] = (),
    data_sources: Annotated[tuple[DataSource, ...], Field(max_length=500)] = (),
    remove_data_sources: Keys("data sources", 500) = (),
    mode: ops.ModeArg = "merge",
    actor: ActorArg = None,
) -> WriteOutcome:
    """Stage 2, attribute inventory: attributes keyed by name, data sources keyed by id.

    Give each attribute its type, source_id, refresh_cadence, freshness_sla, consent (purpose and
    lawful basis per use), pii_class and owner; the checks flag what is missing. Re-send an
    attribute when its source, cadence or consent changes. Example: {"plan_id": "...",
    "expected_revision": 2, "data_sources": [{"id": "warehouse", "system": "Snowflake",
    "access_method": "warehouse_sql", "refresh": "hourly"}], "attributes": [{"name": "plan_tier",
    "type": "string", "source_id": "warehouse", "refresh_cadence": "hourly", "freshness_sla": "1d",
    "consent": [{"purpose": "onsite_personalization", "lawful_basis": "consent"}], "pii_class":
    "none", "owner": "Data Eng", "required": true}]}
    """
    edit = ops.AttributesEdit(
        attributes=attributes,
        remove_attributes=remove_attributes,
        data_sources=data_sources,
        remove_data_sources=remove_data_sources,
        mode=mode,
    )
    return _write(ctx, plan_id, "attributes", edit, expected_revision, actor)


def define_profiles(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    profiles: Annotated[tuple[ops.ProfileInput, ...], Field(max_length=2000)] = (),
    remove_profiles: Keys("profiles", 2000) = (),
    scenarios: Annotated[tuple[Scenario, ...], Field(max_length=2000)] = (),
    remove_scenarios: Keys("scenarios", 2000) = (),
    mode: ops.ModeArg = "merge",
    actor: ActorArg = None,
) -> WriteOutcome:
    """Stage 3, profile definition: segments keyed by id with eligibility, suppression, scoring,
    decay, priority (lower wins on overlap) and fallback; plus scenarios (a sample record and the
    profile it should land in), rerun on every check.

    Rules are JSON trees: {"all": [...]}, {"any": [...]}, {"not": {...}} and {"op", "attr",
    "value"} conditions, or a SQL boolean expression over inventoried attributes, e.g.
    "plan_tier = 'trial' AND signup_at >= now() - interval 14 day", stored as the tree. Put consent
    and tier conditions first; give every profile a fallback. Example: {"plan_id": "...",
    "expected_revision": 3, "profiles": [{"id": "trial-nurture", "name": "Trial nurture",
    "eligibility": {"all": [{"op": "eq", "attr": "plan_tier", "value": "trial"}, {"op":
    "within_last", "attr": "signup_at", "value": "14d"}]}, "priority": 10, "fallback": "generic
    onboarding checklist"}]}
    """
    edit = ops.ProfilesEdit(
        profiles=profiles,
        remove_profiles=remove_profiles,
        scenarios=scenarios,
        remove_scenarios=remove_scenarios,
        mode=mode,
    )
    return _write(ctx, plan_id, "profiles", edit, expected_revision, actor)


def map_activation(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    activations: Annotated[tuple[Activation, ...], Field(max_length=10_000)] = (),
    remove_activations: Annotated[tuple[ops.ActivationKey, ...], Field(max_length=10_000)] = (),
    mode: ops.ModeArg = "merge",
    actor: ActorArg = None,
) -> WriteOutcome:
    """Stage 4, activation mapping, keyed by (profile_id, channel): destination, sync mode,
    integration, match keys, payload, consent gate signals, PII allowance and fallback state.

    Example: {"plan_id": "...", "expected_revision": 4, "activations": [{"profile_id":
    "trial-nurture", "channel": "email", "destination": "Braze", "sync_mode": "batch_hourly",
    "integration": "reverse_etl", "match_keys": ["user_id"], "consent_gate": ["email_opt_in"],
    "pii_allowed": true, "fallback_state": "generic onboarding sequence"}]}
    """
    edit = ops.ActivationEdit(activations=activations, remove_activations=remove_activations, mode=mode)
    return _write(ctx, plan_id, "activation", edit, expected_revision, actor)


def plan_governance(
    plan_id: PlanIdArg,
    expected_revision: RevisionArg,
    ctx: Context,
    owners: Annotated[tuple[OwnerAssignment, ...], Field(max_length=200)] = (),
    remove_owners: Keys("owner areas", 200) = (),
    change_checkpoints: Annotated[tuple[Checkpoint, ...], Field(max_length=200)] = (),
    remove_change_checkpoints: Keys("checkpoints", 200) = (),
    qa_cadence: Cadence | None = None,
    notes: ops.NotesArg = None,
    mode: ops.ModeArg = "merge",
    actor: ActorArg = None,
) -> WriteOutcome:
    """Stage 5, governance: an owner and backup per area (a stage, a channel or 'program'), keyed
    by area, with availability (absent owners are skipped for their backup on escalation); the QA
    cadence; change checkpoints that force a review, keyed by id.

    Example: {"plan_id": "...", "expected_revision": 5, "owners": [{"area": "profiles", "owner":
    "Maya Chen", "backup": "Luis Ortega"}], "qa_cadence": "weekly"}
    """
    edit = ops.GovernanceEdit(
        owners=owners,
        remove_owners=remove_owners,
        change_checkpoints=change_checkpoints,
        remove_change_checkpoints=remove_change_checkpoints,
        qa_cadence=qa_cadence,
        notes=notes,
        mode=mode,
    )
    return _write(ctx, plan_id, "governance", edit, expected_revision, actor)


TOOLS = (
    ToolSpec(record_intake, "Stage 1: objective intake", REPLACING),
    ToolSpec(inventory_attributes, "Stage 2: attribute inventory", REPLACING),
    ToolSpec(define_profiles, "Stage 3: profile definition", REPLACING),
    ToolSpec(map_activation, "Stage 4: activation mapping", REPLACING),
    ToolSpec(plan_governance, "Stage 5: governance", REPLACING),
)
