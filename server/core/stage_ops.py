"""The five stage operations as pure functions: a plan and an edit in, the edited plan out.

Each edit model holds exactly the arguments of its MCP tool (tools/stages.py) and of its CLI
command (`plans intake|attributes|profiles|activation|governance --file`), so both surfaces take
the same JSON. Items are keyed (goals by id, attributes by name, activations by profile and
channel...): `merge` upserts by key and removes the keys listed, `replace` makes each list given
the whole section. The write pipeline validates every section an operation changed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from typing_extensions import TypeAliasType

from ..errors import InputError
from ..model import Plan
from ..model.common import AttributeName, Cadence, Channel, ShortText, Slug, without_titles
from ..model.issues import pydantic_issues
from ..model.rules import RuleNode
from ..model.stages import (
    Activation,
    Attribute,
    Checkpoint,
    ConsentGrant,
    DataSource,
    Goal,
    LifecycleStage,
    OwnerAssignment,
    Persona,
    Profile,
    Scenario,
)
from .stage_edits import EditMode, edit_keyed

T = TypeVar("T")

ModeArg = Annotated[
    EditMode,
    Field(
        description="'merge' (default): upsert items by key and remove the keys listed. "
        "'replace': each list given becomes the whole section."
    ),
]
NotesArg = Annotated[str | None, Field(max_length=4000)]


def keys_arg(kind: str, max_items: int):  # -> an Annotated tuple of slugs
    return Annotated[tuple[Slug, ...], Field(max_length=max_items, description=f"Keys of {kind} to remove.")]


SqlRule = Annotated[
    str,
    Field(
        min_length=1,
        max_length=20_000,
        description="SQL boolean expression over attributes.",
    ),
]


# A rule as the stage tools take it: a tree, or SQL parsed into one. Named, so schemas define it once.
RuleInput = TypeAliasType("RuleInput", RuleNode | SqlRule)


class ProfileInput(Profile):
    """A profile whose eligibility and suppression may also be given as SQL expressions."""

    eligibility: RuleInput | None = None
    suppression: RuleInput | None = None


def _open_object(schema: dict[str, object]) -> None:
    # Other profile fields are allowed here and validated by the core (additionalProperties
    # defaults to true in JSON Schema, so it need not be spelt out in the tool list).
    without_titles(schema)
    schema.pop("additionalProperties", None)


class ProfileRules(BaseModel):
    """A profile ($defs/Profile in schema://plan)."""

    model_config = ConfigDict(extra="allow", frozen=True, json_schema_extra=_open_object)
    id: str
    eligibility: RuleInput | None = None
    suppression: RuleInput | None = None


class ActivationKey(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    profile_id: Slug
    channel: Channel


class Edit(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    mode: ModeArg = "merge"


class IntakeEdit(Edit):
    goals: Annotated[tuple[Goal, ...], Field(max_length=200)] = ()
    remove_goals: keys_arg("goals", 200) = ()
    personas: Annotated[tuple[Persona, ...], Field(max_length=200)] = ()
    remove_personas: keys_arg("personas", 200) = ()
    lifecycle_stages: Annotated[tuple[LifecycleStage, ...], Field(max_length=200)] = ()
    remove_lifecycle_stages: keys_arg("lifecycle stages", 200) = ()
    open_questions: Annotated[tuple[ShortText, ...], Field(max_length=200)] | None = None
    notes: NotesArg = None


class AttributesEdit(Edit):
    attributes: Annotated[tuple[Attribute, ...], Field(max_length=20_000)] = ()
    remove_attributes: Annotated[tuple[AttributeName, ...], Field(max_length=20_000)] = ()
    data_sources: Annotated[tuple[DataSource, ...], Field(max_length=500)] = ()
    remove_data_sources: keys_arg("data sources", 500) = ()


class ProfilesEdit(Edit):
    profiles: Annotated[tuple[ProfileInput, ...], Field(max_length=2000)] = ()
    remove_profiles: keys_arg("profiles", 2000) = ()
    scenarios: Annotated[tuple[Scenario, ...], Field(max_length=2000)] = ()
    remove_scenarios: keys_arg("scenarios", 2000) = ()


class ActivationEdit(Edit):
    activations: Annotated[tuple[Activation, ...], Field(max_length=10_000)] = ()
    remove_activations: Annotated[tuple[ActivationKey, ...], Field(max_length=10_000)] = ()


class GovernanceEdit(Edit):
    owners: Annotated[tuple[OwnerAssignment, ...], Field(max_length=200)] = ()
    remove_owners: keys_arg("owner areas", 200) = ()
    change_checkpoints: Annotated[tuple[Checkpoint, ...], Field(max_length=200)] = ()
    remove_change_checkpoints: keys_arg("checkpoints", 200) = ()
    qa_cadence: Cadence | None = None
    notes: NotesArg = None


def record_intake(plan: Plan, edit: IntakeEdit) -> Plan:
    intake = plan.intake
    update: dict[str, object] = {
        "goals": _section(intake.goals, edit, "goals", lambda g: g.id),
        "personas": _section(intake.personas, edit, "personas", lambda p: p.id),
        "lifecycle_stages": _section(intake.lifecycle_stages, edit, "lifecycle_stages", lambda s: s.id),
    }
    if edit.open_questions is not None:
        update["open_questions"] = edit.open_questions
    if edit.notes is not None:
        update["notes"] = edit.notes
    return _with(plan, intake=_changed(intake, update))


def inventory_attributes(plan: Plan, edit: AttributesEdit) -> Plan:
    sources = _section(plan.data_sources, edit, "data_sources", lambda s: s.id)
    attributes = _section(plan.attributes, edit, "attributes", lambda a: a.name)
    return _with(plan, data_sources=sources, attributes=keep_confirmations(plan.attributes, attributes))


def keep_confirmations(before: Sequence[Attribute], after: Sequence[Attribute]) -> tuple[Attribute, ...]:
    """`after`, each grant re-sent unchanged (same attribute, purpose, lawful basis and evidence)
    keeping the confirmation stored on it. A changed grant is a new claim nobody has confirmed."""

    def key(name: str, grant: ConsentGrant) -> tuple[object, ...]:
        evidence = (grant.evidence.kind, grant.evidence.ref) if grant.evidence else None
        return (name, grant.purpose, grant.lawful_basis, evidence)

    stored = {key(a.name, g): g.confirmed_by for a in before for g in a.consent if g.confirmed_by}
    if not stored:
        return tuple(after)
    result = []
    for attribute in after:
        grants = tuple(
            g.model_copy(update={"confirmed_by": stored[key(attribute.name, g)]})
            if g.confirmed_by is None and key(attribute.name, g) in stored
            else g
            for g in attribute.consent
        )
        result.append(
            attribute if grants == attribute.consent else attribute.model_copy(update={"consent": grants})
        )
    return tuple(result)


def refuse_confirmations(data: object, prefix: str = "") -> None:
    """A grant's confirmed_by is server-owned: only the person sets it, with `plans confirm-consent`."""
    attributes = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attributes, (list, tuple)):
        return
    for i, attribute in enumerate(attributes):
        grants = attribute.get("consent") if isinstance(attribute, dict) else None
        for j, grant in enumerate(grants if isinstance(grants, (list, tuple)) else ()):
            if isinstance(grant, dict) and "confirmed_by" in grant:
                raise InputError(
                    f"{prefix}/attributes/{i}/consent/{j}/confirmed_by: is server-owned (set by "
                    "`plans confirm-consent`, run by the confirming person at a terminal); remove it "
                    "from the request"
                )


def define_profiles(plan: Plan, edit: ProfilesEdit) -> Plan:
    names = [a.name for a in plan.attributes]
    parsed = [to_profile(p, i, names) for i, p in enumerate(edit.profiles)]
    profiles = edit_keyed(
        plan.profiles, parsed, edit.remove_profiles, key=lambda p: p.id, field="profiles", mode=edit.mode
    )
    scenarios = _section(plan.scenarios, edit, "scenarios", lambda s: s.id)
    return _with(plan, profiles=profiles, scenarios=scenarios)


def map_activation(plan: Plan, edit: ActivationEdit) -> Plan:
    activations = edit_keyed(
        plan.activations,
        edit.activations,
        [f"{k.profile_id}/{k.channel}" for k in edit.remove_activations],
        key=lambda a: f"{a.profile_id}/{a.channel}",
        field="activations",
        mode=edit.mode,
    )
    return _with(plan, activations=activations)


def plan_governance(plan: Plan, edit: GovernanceEdit) -> Plan:
    gov = plan.governance
    update: dict[str, object] = {
        "owners": _section(gov.owners, edit, "owners", lambda o: o.area),
        "change_checkpoints": _section(gov.change_checkpoints, edit, "change_checkpoints", lambda c: c.id),
    }
    if edit.qa_cadence is not None:
        update["qa_cadence"] = edit.qa_cadence
    if edit.notes is not None:
        update["notes"] = edit.notes
    return _with(plan, governance=_changed(gov, update))


def _section(current: Sequence[T], edit: Edit, name: str, key: Callable[[T], str]) -> tuple[T, ...]:
    """The section `name` after the edit's upserts (`edit.<name>`) and removals (`edit.remove_<name>`)."""
    return edit_keyed(
        current, getattr(edit, name), getattr(edit, f"remove_{name}"), key=key, field=name, mode=edit.mode
    )


def to_profile(item: Profile, index: int, attributes: list[str]) -> Profile:
    """Parse SQL rules into canonical trees; structurally bad rules are refused naming the pointer."""
    from ..rules import parse_rule  # sqlglot loads with the rules layer; only SQL input needs it here

    data = item.model_dump(mode="json", by_alias=True)
    for field in ("eligibility", "suppression"):
        value = getattr(item, field)
        if isinstance(value, str):
            tree = parse_rule(value, pointer=f"/profiles/{index}/{field}", attributes=attributes)
            data[field] = tree.model_dump(mode="json", by_alias=True)
    return Profile.model_validate(data)


def _changed(model: BaseModel, update: dict[str, object]) -> BaseModel:
    """`model` itself when nothing in `update` differs, so unchanged sections stay shared."""
    if all(getattr(model, name) == value for name, value in update.items()):
        return model
    return model.model_copy(update=update)


def _with(plan: Plan, **sections: object) -> Plan:
    return _changed(plan, sections)  # type: ignore[return-value]


def parse_edit(model: type[Edit], data: dict[str, object]) -> Edit:
    """A stage edit from the tool's (or the CLI file's) JSON arguments; every error names its JSON
    Pointer and what is allowed, so the tools can take items as plain objects (their schemas are
    in schema://plan) and still refuse a bad one precisely."""
    refuse_confirmations(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        issues = pydantic_issues(exc, data)
        raise InputError("; ".join(f"{i.pointer or '/'}: {i.message}" for i in issues[:10])) from None


STAGE_OPERATIONS = {
    "intake": (IntakeEdit, record_intake),
    "attributes": (AttributesEdit, inventory_attributes),
    "profiles": (ProfilesEdit, define_profiles),
    "activation": (ActivationEdit, map_activation),
    "governance": (GovernanceEdit, plan_governance),
}
