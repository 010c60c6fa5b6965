"""A profile's LaunchDarkly segment: its membership (eligible and not suppressed, in negation normal
form) as disjunctive normal form, one segment rule per alternative, each a conjunction of clauses.

Relative windows are frozen at the export time (the cutoffs are returned with the segment); a literal
the clauses cannot express, or a form past MAX_SEGMENT_RULES rules, refuses the profile.
"""

from __future__ import annotations

from typing import Any

from ..model.ledger import ExportCutoff, ExportRefusal
from ..rules.program import Leaf, PreparedProfile
from .common import window_cutoff
from .launchdarkly_clauses import (
    PRESENCE_PREFIX,
    Alternatives,
    Clause,
    Inexpressible,
    literal_alternatives,
    presence_clause,
    presence_key,
)
from .launchdarkly_files import dumps
from .nnf import And, Lit, Nnf, Or, literals, membership, refuse_literal

NONE = "none"
# A segment holds at most this many rules (alternatives of its membership); past it, the profile is
# refused rather than exported unreadably.
MAX_SEGMENT_RULES = 100
_WINDOW_OPS = ("within_last", "not_within_last")


def segment_key(profile_id: str) -> str:
    return f"profile-{profile_id}"


def profile_segment(
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


def named_none(profile: PreparedProfile) -> ExportRefusal:
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


def presence_attrs(segment: dict[str, Any]) -> set[str]:
    clauses = [c for rule in segment["rules"] for c in rule["clauses"] if c["op"] == "segmentMatch"]
    keys = {key for c in clauses for key in c["values"]}
    return {k.removeprefix(PRESENCE_PREFIX) for k in keys if k.startswith(PRESENCE_PREFIX)}


def presence_segment(attr: str, kind: str | None, header: str) -> dict[str, Any]:
    assert kind is not None  # literal_alternatives refuses untyped attributes first
    key = presence_key(attr)
    description = f"{header} Helper: contexts holding a value for {attr!r}, for is_null conditions."
    return _segment_body(key, description, [{"id": f"{key}-0", "clauses": [presence_clause(attr, kind)]}])
