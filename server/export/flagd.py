"""The flagd / OpenFeature export (docs/exports.md): one flag definition file, flags.flagd.json.

Each profile's membership (eligible AND NOT suppressed) is a shared rule under `$evaluators`, and
each channel with an activation naming flagd is one string flag whose variants are the profiles
activated there plus "none". Its targeting walks every carried profile in priority order: a member
gets the profile when it is activated on that channel through flagd and its consent gate holds,
otherwise "none", so a member never falls through to a lower-priority profile. flagd has a clock,
so relative windows stay relative (no cutoffs) and `exported_at` does not reach the file.
"""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from ..model import Plan
from ..model.ledger import ExportRefusal
from ..rules.jsonlogic_terms import true_when
from ..rules.program import PreparedProfile, attribute_kinds, prepare_plan
from ..rules.typecheck import refuse_type_errors
from .common import (
    HOLDOUT_ATTRIBUTE,
    ChannelLineup,
    ExportBundle,
    channel_lineups,
    holdout_profiles,
    holdout_readme,
)
from .flagd_logic import (
    FLAGD_CLOCK,
    check_carriable,
    escape_time_var,
    half_life_refusal,
    member_logic,
    substitution_safe,
)
from .flagd_readme import readme

TARGET = "flagd"
FLAGS_FILE = "flags.flagd.json"
SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json"
NONE = "none"
# Windows compile against $flagd.timestamp, so the preparation instant is never read.
_EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)


def flag_key(channel: str) -> str:
    return f"profile-{channel}"


def evaluator_name(profile_id: str) -> str:
    return f"member-{profile_id}"


def export_flagd(plan: Plan, *, exported_at: datetime, draft: bool) -> ExportBundle:
    """The plan as a flagd flag definition file (pure; `exported_at` is not used: flagd has a clock)."""
    del exported_at
    refuse_type_errors(plan, "exported")
    program = prepare_plan(plan, _EPOCH)
    carried, refusals = _carried(program.by_priority)
    lineups, gate_refusals = channel_lineups(plan, TARGET, program)
    refusals += gate_refusals
    carried_ids = {p.id for p in carried}
    gates = [
        s.gate for line in lineups for s in line.slots if s.gate is not None and s.profile.id in carried_ids
    ]
    check_carriable(plan, carried, gates)
    numbers = frozenset(name for name, kind in attribute_kinds(plan).items() if kind == "number")
    evaluators, members = _memberships(carried, numbers)
    held = holdout_profiles(plan)
    flags: dict[str, Any] = {}
    carriers: dict[str, str] = {}
    for lineup in lineups:
        flags[flag_key(lineup.channel)] = _channel_flag(lineup, members, numbers, held)
        for slot in lineup.activated:
            if slot.profile.id in carried_ids:
                carriers[f"{slot.profile.id}/{lineup.channel}"] = FLAGS_FILE
    document = {
        "$schema": SCHEMA_URL,
        "metadata": _metadata(plan, draft),
        "$evaluators": evaluators,
        "flags": flags,
    }
    text = escape_time_var(json.dumps(document, indent=2, allow_nan=False)) + "\n"
    files = {
        FLAGS_FILE: text,
        "README.md": readme(plan, draft, carried, lineups, members, refusals) + holdout_readme(held),
    }
    return ExportBundle(
        target=TARGET,
        files=files,
        profiles=tuple(p.id for p in carried),
        refusals=tuple(refusals),
        carriers=carriers,
    )


def _carried(profiles: list[PreparedProfile]) -> tuple[list[PreparedProfile], list[ExportRefusal]]:
    """The profiles the file carries, in priority order, and a refusal for each one it cannot."""
    carried: list[PreparedProfile] = []
    refusals: list[ExportRefusal] = []
    for profile in profiles:
        refusal = half_life_refusal(profile) or _none_refusal(profile)
        if refusal is None:
            carried.append(profile)
        else:
            refusals.append(refusal)
    return carried, refusals


def _memberships(
    carried: list[PreparedProfile], numbers: frozenset[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The shared `$evaluators`, and per profile what a flag writes: a `$ref`, or the logic inline
    when flagd's textual substitution would alter it (flagd_logic.substitution_safe)."""
    evaluators: dict[str, Any] = {}
    members: dict[str, Any] = {}
    for profile in carried:
        logic = member_logic(profile, numbers)
        if substitution_safe(logic):
            evaluators[evaluator_name(profile.id)] = logic
            members[profile.id] = {"$ref": evaluator_name(profile.id)}
        else:
            members[profile.id] = logic
    return evaluators, members


def _none_refusal(profile: PreparedProfile) -> ExportRefusal | None:
    """A profile whose id is "none" would be the flag's "none" variant: a member would look unmatched."""
    if profile.id != NONE:
        return None
    return ExportRefusal(
        profile_id=profile.id,
        pointer=f"/profiles/{profile.index}/id",
        condition=f"profile id {NONE!r}",
        reason=f"every flagd channel flag uses the variant {NONE!r} for no profile; rename the profile",
    )


def _treated(profile_id: str) -> dict[str, Any]:
    """pe_holdout is a string (`cat` of a string is itself; absent or null gives "", a number its
    text) other than the profile's id: common.treated, in JSON Logic."""
    value = {"var": HOLDOUT_ATTRIBUTE}
    return {"and": [{"===": [{"cat": [value]}, value]}, {"!==": [value, profile_id]}]}


def _channel_flag(
    lineup: ChannelLineup, members: dict[str, Any], numbers: frozenset[str], held: frozenset[str]
) -> dict[str, Any]:
    """One string flag: the first carried profile the context is a member of decides the variant; a
    member held out of it (pe_holdout) gets "none" too."""
    variants = {s.profile.id: s.profile.id for s in lineup.activated if s.profile.id in members}
    variants[NONE] = NONE
    branches: list[Any] = []
    for slot in lineup.slots:
        if slot.profile.id not in members:
            continue  # refused: its members are not recognised here (docs/exports.md)
        outcome: Any = NONE
        if slot.activation is not None:
            outcome = slot.profile.id
            if slot.gate is not None:
                outcome = {"if": [true_when(slot.gate, numbers, FLAGD_CLOCK), slot.profile.id, NONE]}
            if slot.profile.id in held:
                outcome = {"if": [_treated(slot.profile.id), outcome, NONE]}
        branches += [members[slot.profile.id], outcome]
    flag: dict[str, Any] = {"state": "ENABLED", "variants": variants, "defaultVariant": NONE}
    if branches:
        flag["targeting"] = {"if": [*branches, NONE]}
    # flagd merges the flag set's metadata (plan, revision, draft) into every flag's metadata.
    flag["metadata"] = {"channel": lineup.channel}
    return flag


def _metadata(plan: Plan, draft: bool) -> dict[str, Any]:
    notice = (
        f"DRAFT export of {plan.plan_id} revision {plan.revision}: the revision is not final or has "
        "error findings; do not serve it in production"
        if draft
        else f"Generated by personalization-engine from {plan.plan_id} revision {plan.revision}; "
        "regenerate it rather than editing it"
    )
    return {
        "flagSetId": f"personalization-engine/{plan.plan_id}",
        "version": str(plan.revision),
        "planId": plan.plan_id,
        "planRevision": plan.revision,
        "draft": draft,
        "notice": notice,
    }
