"""The LaunchDarkly export (docs/exports.md): one segment per profile, one flag per channel, in the
data format the server SDKs' file data source reads (`{"flags": {...}, "segments": {...}}`).

A segment's rules are OR'ed and a rule's clauses AND'ed, so a profile's membership (eligible and not
suppressed, in negation normal form) becomes its disjunctive normal form, one rule per alternative.
Relative windows become absolute cutoffs as of the export time (LaunchDarkly has no clock operand);
what clauses cannot express exactly refuses the profile, naming the condition.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..model import Plan
from ..model.ledger import ExportCutoff, ExportRefusal
from ..rules.program import PreparedProfile, leaves
from .common import (
    HOLDOUT_ATTRIBUTE,
    ChannelLineup,
    ExportBundle,
    channel_lineups,
    holdout_profiles,
    holdout_readme,
    prepared,
)
from .launchdarkly_clauses import (
    Clause,
    check_carried,
    clause,
    literal_alternatives,
    presence_key,
    segment_clause,
)
from .launchdarkly_files import dumps, readme
from .launchdarkly_segments import (
    MAX_SEGMENT_RULES,
    NONE,
    named_none,
    presence_attrs,
    presence_segment,
    profile_segment,
    segment_key,
)
from .nnf import And, Lit, nnf

__all__ = ["MAX_SEGMENT_RULES", "export_launchdarkly", "flag_key", "segment_key"]

TARGET = "launchdarkly"
FLAGS_FILE = "flags.json"
CONTEXT_NOTE = (
    "Evaluate with a 'user' context whose attributes are the plan's by inventory name; timestamps and "
    "dates as Unix epoch milliseconds (microseconds as the fraction), nulls left out."
)


def flag_key(channel: str) -> str:
    return f"personalization-{channel}"


def export_launchdarkly(plan: Plan, *, exported_at: datetime, draft: bool) -> ExportBundle:
    program = prepared(plan, exported_at)
    lineups, refusals = channel_lineups(plan, TARGET, program)
    _check_attributes(plan, program.profiles, lineups)
    kinds = program.attribute_types
    header = _header(plan, draft)
    segments: dict[str, Any] = {}
    cutoffs: dict[str, ExportCutoff] = {}
    presence: set[str] = set()
    for profile in program.profiles:
        if profile.id == NONE:
            refusals.append(named_none(profile))
            continue
        built = profile_segment(profile, program.now_us, kinds, header)
        if isinstance(built, list):
            refusals += built
            continue
        segment, frozen = built
        segments[segment["key"]] = segment
        cutoffs.update((c.pointer, c) for c in frozen)
        presence |= presence_attrs(segment)
    for attr in sorted(presence):
        segments[presence_key(attr)] = presence_segment(attr, kinds[attr], header)
    carried = {key.removeprefix("profile-") for key in segments if key.startswith("profile-")}
    held = holdout_profiles(plan)
    flags = {flag_key(lineup.channel): _flag(lineup, carried, header, held) for lineup in lineups}
    carriers = {
        f"{slot.profile.id}/{lineup.channel}": FLAGS_FILE
        for lineup in lineups
        for slot in lineup.activated
        if slot.profile.id in carried
    }
    ordered_cutoffs = tuple(sorted(cutoffs.values(), key=lambda c: (c.profile_id, c.pointer)))
    meta = _meta(plan, draft, refusals, ordered_cutoffs)
    document = {"_meta": meta, "flags": flags, "segments": segments}
    refused_text = [f"{r.profile_id}: {r.condition} ({r.pointer}): {r.reason}" for r in refusals]
    profiles = tuple(p.id for p in program.profiles if p.id in carried)
    return ExportBundle(
        target=TARGET,
        files={
            FLAGS_FILE: dumps(document) + "\n",
            "README.md": readme(plan.plan_id, plan.revision, draft, list(flags), refused_text)
            + holdout_readme(held),
        },
        profiles=profiles,
        refusals=tuple(refusals),
        cutoffs=ordered_cutoffs,
        carriers=carriers,
        cutoff_at=exported_at if ordered_cutoffs else None,
        notes=(CONTEXT_NOTE,),
    )


# --- what the context must carry ---------------------------------------------------------------------
def _check_attributes(
    plan: Plan, profiles: tuple[PreparedProfile, ...], lineups: list[ChannelLineup]
) -> None:
    for profile in profiles:
        trees = [t for t in (profile.eligibility, profile.suppression) if t is not None]
        trees += [when for when, _ in profile.weights]
        for leaf in (leaf for tree in trees for leaf in leaves(tree)):
            check_carried(plan, leaf.attr, f"{leaf.pointer}/attr", profile.id)
        if profile.decay is not None:
            pointer = f"/profiles/{profile.index}/scoring/decay/attr"
            check_carried(plan, profile.decay.attr, pointer, profile.id)
    for lineup in lineups:
        for slot in lineup.activated:
            if slot.gate is not None:
                for leaf in leaves(slot.gate):
                    check_carried(plan, leaf.attr, _entry_pointer(leaf.pointer), slot.profile.id)


def _entry_pointer(pointer: str) -> str:
    """The gate entry a prepared gate condition came from: a one-entry gate is the entry itself, a
    longer one an `all` over the entries in order (channel_lineups refuses gates with unmapped ones)."""
    head, _, tail = pointer.partition("/consent_gate")
    return f"{head}/consent_gate/{tail.removeprefix('/all/') or '0'}"


# --- flags ------------------------------------------------------------------------------------------
def _treated(profile_id: str) -> list[Clause]:
    """common.treated as clauses: pe_holdout is a string (every string starts with ""; an absent or
    non-string attribute matches no clause) and is not the profile's id."""
    return [
        clause(HOLDOUT_ATTRIBUTE, "startsWith", [""]),
        clause(HOLDOUT_ATTRIBUTE, "in", [profile_id], negate=True),
    ]


def _flag(lineup: ChannelLineup, carried: set[str], header: str, held: frozenset[str]) -> dict[str, Any]:
    """Rules in priority order: a member of profile p gets p when p is activated here through
    LaunchDarkly, its consent gate holds and it is not held out of p (pe_holdout), else "none";
    trailing "none" rules equal the fallthrough."""
    key = flag_key(lineup.channel)
    slots = [s for s in lineup.slots if s.profile.id in carried]
    variations = [s.profile.id for s in slots if s.activation is not None] + [NONE]
    none = len(variations) - 1
    rules: list[tuple[list[Clause], int]] = []
    for slot in slots:
        member = segment_clause(segment_key(slot.profile.id))
        if slot.activation is not None:
            conditions = _gate_clauses(slot.gate)
            if slot.profile.id in held:
                conditions += _treated(slot.profile.id)
            rules.append(([member, *conditions], variations.index(slot.profile.id)))
            if not conditions:
                continue
        rules.append(([member], none))
    while rules and rules[-1][1] == none:
        rules.pop()
    return {
        "key": key,
        "version": 1,
        "description": f"{header} The winning profile on the {lineup.channel} channel, or 'none'.",
        "on": True,
        "variations": variations,
        "offVariation": none,
        "fallthrough": {"variation": none},
        "rules": [
            {"id": f"{key}-{i}", "variation": variation, "clauses": clauses, "trackEvents": False}
            for i, (clauses, variation) in enumerate(rules)
        ],
        "targets": [],
        "contextTargets": [],
        "prerequisites": [],
        "salt": key,
        "trackEvents": False,
        "trackEventsFallthrough": False,
        "clientSideAvailability": {"usingEnvironmentId": False, "usingMobileKey": False},
        "deleted": False,
    }


def _gate_clauses(gate: Any) -> list[Clause]:
    """The consent gate's conditions (boolean attributes equal true or false) as AND'ed clauses."""
    if gate is None:
        return []
    tree = nnf(gate)
    lits = [tree] if isinstance(tree, Lit) else list(tree.parts) if isinstance(tree, And) else None
    assert lits is not None and all(isinstance(lit, Lit) for lit in lits), "a gate is a conjunction"
    clauses: list[Clause] = []
    for lit in lits:
        assert isinstance(lit, Lit)
        clauses += literal_alternatives(lit, "boolean")[0]
    return clauses


# --- metadata ---------------------------------------------------------------------------------------
def _header(plan: Plan, draft: bool) -> str:
    prefix = "DRAFT (not a final revision). " if draft else ""
    return f"{prefix}Generated by personalization-engine from plan {plan.plan_id} revision {plan.revision}."


def _meta(
    plan: Plan, draft: bool, refusals: list[ExportRefusal], cutoffs: tuple[ExportCutoff, ...]
) -> dict[str, Any]:
    """Read by people and ignored by the SDKs (they read only `flags` and `segments`)."""
    return {
        "generator": "personalization-engine",
        "plan_id": plan.plan_id,
        "revision": plan.revision,
        "draft": draft,
        "context": "kind 'user'; attributes by inventory name; timestamps and dates as epoch milliseconds",
        "cutoffs": [
            {
                "profile_id": c.profile_id,
                "pointer": c.pointer,
                "condition": c.condition,
                "cutoff": c.cutoff.isoformat().replace("+00:00", "Z"),
                "allowed_age": c.allowed_age,
            }
            for c in cutoffs
        ],
        "refusals": [
            {
                "profile_id": r.profile_id,
                "channel": r.channel,
                "pointer": r.pointer,
                "condition": r.condition,
                "reason": r.reason,
            }
            for r in refusals
        ],
    }
