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
from ..rules.program import Leaf, PreparedProfile, leaves
from .common import (
    And,
    ChannelLineup,
    ExportBundle,
    Lit,
    Nnf,
    Or,
    channel_lineups,
    literals,
    membership,
    nnf,
    prepared,
    refuse_literal,
    window_cutoff,
)
from .launchdarkly_clauses import (
    PRESENCE_PREFIX,
    Alternatives,
    Clause,
    Inexpressible,
    check_carried,
    literal_alternatives,
    presence_clause,
    presence_key,
    segment_clause,
)
from .launchdarkly_files import dumps, readme

TARGET = "launchdarkly"
FLAGS_FILE = "flags.json"
NONE = "none"
# A segment holds at most this many rules (alternatives of its membership); past it, the profile is
# refused rather than exported unreadably.
MAX_SEGMENT_RULES = 100
_WINDOW_OPS = ("within_last", "not_within_last")


def segment_key(profile_id: str) -> str:
    return f"profile-{profile_id}"


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
            refusals.append(_named_none(profile))
            continue
        built = _segment(profile, program.now_us, kinds, header)
        if isinstance(built, list):
            refusals += built
            continue
        segment, frozen = built
        segments[segment["key"]] = segment
        cutoffs.update((c.pointer, c) for c in frozen)
        presence |= _presence_attrs(segment)
    for attr in sorted(presence):
        segments[presence_key(attr)] = _presence_segment(attr, kinds[attr], header)
    carried = {key.removeprefix("profile-") for key in segments if key.startswith("profile-")}
    flags = {flag_key(lineup.channel): _flag(lineup, carried, header) for lineup in lineups}
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
            "README.md": readme(plan.plan_id, plan.revision, draft, list(flags), refused_text),
        },
        profiles=profiles,
        refusals=tuple(refusals),
        cutoffs=ordered_cutoffs,
        carriers=carriers,
        cutoff_at=exported_at if ordered_cutoffs else None,
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
                    check_carried(plan, leaf.attr, leaf.pointer, slot.profile.id)


# --- segments ---------------------------------------------------------------------------------------
def _segment(
    profile: PreparedProfile, now_us: int, kinds: dict[str, str | None], header: str
) -> tuple[dict[str, Any], list[ExportCutoff]] | list[ExportRefusal]:
    """The profile's segment and the windows it froze, or the refusals naming what it cannot carry."""
    found = membership(profile, now_us)
    if found.refusal is not None:
        return [found.refusal]
    assert found.tree is not None
    alternatives: dict[Lit, Alternatives] = {}
    refusals: dict[str, ExportRefusal] = {}
    cutoffs: list[ExportCutoff] = []
    for lit in literals(found.tree):
        try:
            alternatives[lit] = literal_alternatives(lit, kinds.get(lit.leaf.attr))
        except Inexpressible as why:
            refusals.setdefault(lit.leaf.pointer, refuse_literal(profile, lit, str(why)))
            continue
        if _frozen(lit.leaf):
            cutoffs.append(window_cutoff(profile, lit.leaf))
    if refusals:
        return list(refusals.values())
    terms = _expand(found.tree, alternatives)
    if terms is None:
        return [_too_many(profile)]
    key = segment_key(profile.id)
    rules = [{"id": f"{key}-{i}", "clauses": clauses} for i, clauses in enumerate(terms)]
    description = f"{header} Profile {profile.id!r} (priority {profile.priority}): eligible, not suppressed."
    return _segment_body(key, description, rules), cutoffs


def _frozen(leaf: Leaf) -> bool:
    """A relative window (a condition's, or a lookback decay's), prepared at the export time."""
    return leaf.op in _WINDOW_OPS


def _expand(tree: Nnf, alternatives: dict[Lit, Alternatives]) -> list[list[Clause]] | None:
    """The tree as alternatives of clause conjunctions (duplicates dropped), None past the limit."""
    if tree is True:
        return [[]]
    if tree is False:
        return []
    if isinstance(tree, Lit):
        return alternatives[tree]
    parts = [_expand(part, alternatives) for part in tree.parts]
    if any(part is None for part in parts):
        return None
    terms: list[list[Clause]] = []
    if isinstance(tree, Or):
        terms = [term for part in parts for term in part or []]
    else:
        assert isinstance(tree, And)
        terms = [[]]
        for part in parts:
            assert part is not None
            if len(terms) * len(part) > MAX_SEGMENT_RULES * 4:
                return None
            terms = [_merged(left, right) for left in terms for right in part]
    unique = list({dumps(term): term for term in terms}.values())
    return unique if len(unique) <= MAX_SEGMENT_RULES else None


def _merged(left: list[Clause], right: list[Clause]) -> list[Clause]:
    return left + [c for c in right if c not in left]


def _too_many(profile: PreparedProfile) -> ExportRefusal:
    return ExportRefusal(
        profile_id=profile.id,
        pointer=f"/profiles/{profile.index}",
        condition=f"profile {profile.id} membership"[:200],
        reason=f"its eligibility and suppression expand to more than {MAX_SEGMENT_RULES} segment rules "
        "(alternatives of conditions); simplify the rules or split the profile",
    )


def _named_none(profile: PreparedProfile) -> ExportRefusal:
    return ExportRefusal(
        profile_id=profile.id,
        pointer=f"/profiles/{profile.index}/id",
        condition="profile id 'none'",
        reason="a flag's variation 'none' means no profile, so a profile of that id cannot be told apart; "
        "rename the profile",
    )


def _segment_body(key: str, description: str, rules: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "key": key,
        "version": 1,
        "description": description,
        "included": [],
        "excluded": [],
        "includedContexts": [],
        "excludedContexts": [],
        "rules": rules,
        "salt": key,
        "unbounded": False,
        "deleted": False,
    }


def _presence_attrs(segment: dict[str, Any]) -> set[str]:
    clauses = [c for rule in segment["rules"] for c in rule["clauses"] if c["op"] == "segmentMatch"]
    keys = {key for c in clauses for key in c["values"]}
    return {k.removeprefix(PRESENCE_PREFIX) for k in keys if k.startswith(PRESENCE_PREFIX)}


def _presence_segment(attr: str, kind: str | None, header: str) -> dict[str, Any]:
    assert kind is not None  # literal_alternatives refuses untyped attributes first
    key = presence_key(attr)
    description = f"{header} Helper: contexts holding a value for {attr!r}, for is_null conditions."
    return _segment_body(key, description, [{"id": f"{key}-0", "clauses": [presence_clause(attr, kind)]}])


# --- flags ------------------------------------------------------------------------------------------
def _flag(lineup: ChannelLineup, carried: set[str], header: str) -> dict[str, Any]:
    """Rules in priority order: a member of profile p gets p when p is activated here through
    LaunchDarkly and its consent gate holds, else "none"; trailing "none" rules equal the fallthrough."""
    key = flag_key(lineup.channel)
    slots = [s for s in lineup.slots if s.profile.id in carried]
    variations = [s.profile.id for s in slots if s.activation is not None] + [NONE]
    none = len(variations) - 1
    rules: list[tuple[list[Clause], int]] = []
    for slot in slots:
        member = segment_clause(segment_key(slot.profile.id))
        if slot.activation is not None:
            gate = _gate_clauses(slot.gate)
            rules.append(([member, *gate], variations.index(slot.profile.id)))
            if not gate:
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
