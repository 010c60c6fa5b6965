"""One tool per stage: intake, attribute inventory, profiles, activation mapping, governance."""

from __future__ import annotations

from typing import Annotated

from mcp.server.mcpserver import Context, MCPServer
from pydantic import BaseModel, Field

from ..model import Plan
from ..model.common import AttributeName, Cadence, Channel, Slug
from ..model.rules import RuleNode
from ..model.stages import (
    Activation,
    Attribute,
    Checkpoint,
    DataSource,
    Goal,
    LifecycleStage,
    OwnerAssignment,
    Persona,
    Profile,
    Scenario,
)
from ..stage_edits import EditMode, edit_keyed
from ._common import REPLACING, ActorArg, PlanIdArg, RevisionArg, Runtime, WriteOutcome, tool

ModeArg = Annotated[
    EditMode,
    Field(
        description="'merge' (default): upsert items by key and remove the keys listed. "
        "'replace': each list given becomes the whole section."
    ),
]


def _keys(kind: str, max_items: int = 20_000):
    return Annotated[list[Slug], Field(max_length=max_items, description=f"Keys of {kind} to remove.")]


SqlRule = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20_000,
        description="A boolean SQL expression over inventoried attributes, e.g. \"plan_tier = 'free' AND "
        'signup_at >= now() - interval 14 day AND NOT email_bounced"; parsed into the rule tree.',
    ),
]


class ProfileInput(Profile):
    """A profile whose eligibility and suppression may also be given as SQL expressions."""

    eligibility: RuleNode | SqlRule | None = None
    suppression: RuleNode | SqlRule | None = None


def to_profile(item: ProfileInput, index: int, attributes: list[str]) -> Profile:
    """Parse SQL rules into canonical trees; structurally bad rules are refused naming the pointer."""
    from ..rules import parse_rule  # the rules layer loads sqlglot: keep it off the start-up path

    data = item.model_dump(mode="json", by_alias=True)
    for field in ("eligibility", "suppression"):
        value = getattr(item, field)
        if isinstance(value, str):
            tree = parse_rule(value, pointer=f"/profiles/{index}/{field}", attributes=attributes)
            data[field] = tree.model_dump(mode="json", by_alias=True)
    return Profile.model_validate(data)


class ActivationKey(BaseModel):
    profile_id: Slug
    channel: Channel


def register(server: MCPServer, rt: Runtime) -> None:
    def apply(plan_id, stage, expected_revision, actor, ctx, mutate) -> WriteOutcome:
        return rt.write(
            lambda: rt.engine.apply(
                plan_id, stage, mutate, expected_revision=expected_revision, actor=rt.actor(actor, ctx)
            )
        )

    @tool(server, "record_intake", "Stage 1: objective intake", REPLACING)
    def record_intake(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        goals: Annotated[list[Goal], Field(max_length=200)] = [],
        remove_goals: _keys("goals", 200) = [],
        personas: Annotated[list[Persona], Field(max_length=200)] = [],
        remove_personas: _keys("personas", 200) = [],
        lifecycle_stages: Annotated[list[LifecycleStage], Field(max_length=200)] = [],
        remove_lifecycle_stages: _keys("lifecycle stages", 200) = [],
        open_questions: Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=200)]
        | None = None,
        notes: Annotated[str | None, Field(max_length=4000)] = None,
        mode: ModeArg = "merge",
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Stage 1, objective intake: record goals, personas and lifecycle stages (each keyed by id).

        Ask the user first when goals, personas or lifecycle stages are missing; record what they
        could not answer as open_questions (replaces the list). Example: {"plan_id": "...",
        "expected_revision": 1, "goals": [{"id": "activate-trials", "statement": "Get new trial
        workspaces to first value within 7 days", "kpi": "day-7 activation rate"}], "personas":
        [{"id": "builder", "name": "Hands-on builder"}], "lifecycle_stages": [{"id": "trial",
        "name": "Trial", "definition": "Signed up, no paid plan, within 14 days"}]}
        """

        def mutate(plan: Plan) -> Plan:
            intake = plan.intake
            intake.goals = edit_keyed(
                intake.goals,
                upserts=goals,
                removals=remove_goals,
                key=lambda g: g.id,
                field="goals",
                mode=mode,
            )
            intake.personas = edit_keyed(
                intake.personas,
                upserts=personas,
                removals=remove_personas,
                key=lambda p: p.id,
                field="personas",
                mode=mode,
            )
            intake.lifecycle_stages = edit_keyed(
                intake.lifecycle_stages,
                upserts=lifecycle_stages,
                removals=remove_lifecycle_stages,
                key=lambda s: s.id,
                field="lifecycle_stages",
                mode=mode,
            )
            if open_questions is not None:
                intake.open_questions = list(open_questions)
            if notes is not None:
                intake.notes = notes
            return plan

        return apply(plan_id, "intake", expected_revision, actor, ctx, mutate)

    @tool(server, "inventory_attributes", "Stage 2: attribute inventory", REPLACING)
    def inventory_attributes(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        attributes: Annotated[list[Attribute], Field(max_length=20_000)] = [],
        remove_attributes: Annotated[list[AttributeName], Field(max_length=20_000)] = [],
        data_sources: Annotated[list[DataSource], Field(max_length=500)] = [],
        remove_data_sources: _keys("data sources", 500) = [],
        mode: ModeArg = "merge",
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Stage 2, attribute inventory: the fields profiles use, keyed by name, and the data
        sources behind them, keyed by id. For each attribute give type, source_id, refresh_cadence,
        freshness_sla, consent (purpose + lawful basis per use), pii_class, owner and whether it is
        required; the checks flag anything missing. Re-send an attribute whenever its source,
        cadence or consent changes. Example: {"plan_id": "...", "expected_revision": 2,
        "data_sources": [{"id": "warehouse", "system": "Snowflake", "access_method":
        "warehouse_sql", "refresh": "hourly"}], "attributes": [{"name": "plan_tier", "type":
        "string", "source_id": "warehouse", "refresh_cadence": "hourly", "freshness_sla": "1d",
        "consent": [{"purpose": "onsite_personalization", "lawful_basis": "consent"}],
        "pii_class": "none", "owner": "Data Eng", "required": true, "allowed_values": ["free",
        "pro"]}]}
        """

        def mutate(plan: Plan) -> Plan:
            plan.data_sources = edit_keyed(
                plan.data_sources,
                upserts=data_sources,
                removals=remove_data_sources,
                key=lambda s: s.id,
                field="data_sources",
                mode=mode,
            )
            plan.attributes = edit_keyed(
                plan.attributes,
                upserts=attributes,
                removals=remove_attributes,
                key=lambda a: a.name,
                field="attributes",
                mode=mode,
            )
            return plan

        return apply(plan_id, "attributes", expected_revision, actor, ctx, mutate)

    @tool(server, "define_profiles", "Stage 3: profile definition", REPLACING)
    def define_profiles(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        profiles: Annotated[list[ProfileInput], Field(max_length=2000)] = [],
        remove_profiles: _keys("profiles", 2000) = [],
        scenarios: Annotated[list[Scenario], Field(max_length=2000)] = [],
        remove_scenarios: _keys("scenarios", 2000) = [],
        mode: ModeArg = "merge",
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Stage 3, profile definition: segments with eligibility, suppression, scoring, decay,
        priority (lower wins on overlap) and fallback, keyed by id; plus scenarios (a sample record
        and the profile it should land in) that are rerun as a regression suite on every check.

        Rules are JSON trees: {"all": [...]}, {"any": [...]}, {"not": {...}} and conditions
        {"op": OP, "attr": ATTRIBUTE, "value": ...} with OP one of eq, ne, lt, lte, gt, gte, in,
        not_in, contains, is_null, is_not_null, between, within_last, not_within_last ("14d"),
        before, after. eligibility and suppression may instead be a SQL boolean expression over
        inventoried attributes, e.g. "plan_tier = 'trial' AND signup_at >= now() - interval 14 day";
        it is stored as the tree. Put consent, tier and lifecycle conditions before behavioural ones, and give
        every profile a fallback. Example: {"plan_id": "...", "expected_revision": 3, "profiles":
        [{"id": "trial-nurture", "name": "Trial nurture", "eligibility": {"all": [{"op": "eq",
        "attr": "plan_tier", "value": "trial"}, {"op": "within_last", "attr": "signup_at",
        "value": "14d"}]}, "suppression": {"any": [{"op": "eq", "attr": "email_unsubscribed",
        "value": true}]}, "priority": 10, "fallback": "generic onboarding checklist"}]}
        """

        def mutate(plan: Plan) -> Plan:
            names = [a.name for a in plan.attributes]
            parsed = [to_profile(p, i, names) for i, p in enumerate(profiles)]
            plan.profiles = edit_keyed(
                plan.profiles,
                upserts=parsed,
                removals=remove_profiles,
                key=lambda p: p.id,
                field="profiles",
                mode=mode,
            )
            plan.scenarios = edit_keyed(
                plan.scenarios,
                upserts=scenarios,
                removals=remove_scenarios,
                key=lambda s: s.id,
                field="scenarios",
                mode=mode,
            )
            return plan

        return apply(plan_id, "profiles", expected_revision, actor, ctx, mutate)

    @tool(server, "map_activation", "Stage 4: activation mapping", REPLACING)
    def map_activation(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        activations: Annotated[list[Activation], Field(max_length=10_000)] = [],
        remove_activations: Annotated[list[ActivationKey], Field(max_length=10_000)] = [],
        mode: ModeArg = "merge",
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Stage 4, activation mapping: for each profile x channel, the destination system, sync
        mode, integration (API, webhook, SDK...), API needs, match keys, payload attributes, the
        consent gate signals, whether the destination may hold PII, and the fallback state. Keyed by
        (profile_id, channel). Example: {"plan_id": "...", "expected_revision": 4, "activations":
        [{"profile_id": "trial-nurture", "channel": "email", "destination": "Braze", "sync_mode":
        "batch_hourly", "integration": "reverse_etl", "match_keys": ["user_id"], "consent_gate":
        ["email_opt_in", "not_unsubscribed"], "pii_allowed": true, "fallback_state": "generic
        onboarding sequence", "owner": "Lifecycle Marketing"}]}
        """

        def mutate(plan: Plan) -> Plan:
            plan.activations = edit_keyed(
                plan.activations,
                upserts=activations,
                removals=[f"{k.profile_id}/{k.channel}" for k in remove_activations],
                key=lambda a: f"{a.profile_id}/{a.channel}",
                field="activations",
                mode=mode,
            )
            return plan

        return apply(plan_id, "activation", expected_revision, actor, ctx, mutate)

    @tool(server, "plan_governance", "Stage 5: governance", REPLACING)
    def plan_governance(
        plan_id: PlanIdArg,
        expected_revision: RevisionArg,
        owners: Annotated[list[OwnerAssignment], Field(max_length=200)] = [],
        remove_owners: _keys("owner areas", 200) = [],
        change_checkpoints: Annotated[list[Checkpoint], Field(max_length=200)] = [],
        remove_change_checkpoints: _keys("checkpoints", 200) = [],
        qa_cadence: Cadence | None = None,
        notes: Annotated[str | None, Field(max_length=4000)] = None,
        mode: ModeArg = "merge",
        actor: ActorArg = None,
        ctx: Context | None = None,
    ) -> WriteOutcome:
        """Stage 5, governance: an owner and a backup per area (each stage, channel, or 'program'),
        with availability (absent owners are skipped for their backup on escalation), the QA
        cadence, and change checkpoints that force a review. Keyed by area and checkpoint id.
        Recording governance also makes coverage-below-target escalate. Example: {"plan_id": "...",
        "expected_revision": 5, "owners": [{"area": "profiles", "owner": "Maya Chen", "backup":
        "Luis Ortega"}], "qa_cadence": "weekly", "change_checkpoints": [{"id": "new-source",
        "trigger": "a new attribute source", "approver_role": "Data Privacy Lead"}]}
        """

        def mutate(plan: Plan) -> Plan:
            gov = plan.governance
            gov.owners = edit_keyed(
                gov.owners,
                upserts=owners,
                removals=remove_owners,
                key=lambda o: o.area,
                field="owners",
                mode=mode,
            )
            gov.change_checkpoints = edit_keyed(
                gov.change_checkpoints,
                upserts=change_checkpoints,
                removals=remove_change_checkpoints,
                key=lambda c: c.id,
                field="change_checkpoints",
                mode=mode,
            )
            if qa_cadence is not None:
                gov.qa_cadence = qa_cadence
            if notes is not None:
                gov.notes = notes
            return plan

        return apply(plan_id, "governance", expected_revision, actor, ctx, mutate)
