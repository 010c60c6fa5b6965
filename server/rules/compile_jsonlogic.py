"""Compile profiles to JSON Logic (jsonlogic.com) for real-time engines such as flagd / OpenFeature.

JSON Logic has no three-valued logic and treats null as 0 in comparisons, so the trees are compiled
in negation normal form: `true_when(node)` holds exactly when the node is TRUE and `false_when(node)`
exactly when it is FALSE, with an explicit `!== null` guard on every comparison. A record where a
node is UNKNOWN satisfies neither, which is SQL's semantics.

Evaluation data: the record's attributes by name, timestamps and dates as Unix epoch seconds, and the
evaluation time as epoch seconds under NOW_VAR. Exponential decay uses the custom operation
HALF_LIFE_OP (see `half_life_decay`); pass custom_operations=False to refuse it instead.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.common import duration_seconds
from .program import Leaf, Node, PreparedProfile, epoch, prepare_profile
from .records import coerce_value

NOW_VAR = "$now"
HALF_LIFE_OP = "half_life_decay"
JsonLogic = Any


def half_life_decay(timestamp: Any, now: Any, half_life_seconds: Any) -> float:
    """The custom operation: 0 for a missing timestamp, 1 at or after `now`, else 0.5 ** (age / half-life)."""
    if timestamp is None or isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return 0.0
    age = now - timestamp
    return 1.0 if age <= 0 else 0.5 ** (age / half_life_seconds)


def _var(attr: str) -> JsonLogic:
    return {"var": attr}


def _present(attr: str) -> JsonLogic:
    return {"!==": [_var(attr), None]}


def _guarded(attr: str, test: JsonLogic) -> JsonLogic:
    return {"and": [_present(attr), test]}


def _window_start(seconds: int) -> JsonLogic:
    return {"-": [_var(NOW_VAR), seconds]}


def _leaf(leaf: Leaf, positive: bool) -> JsonLogic:
    op, attr, source = leaf.op, leaf.attr, leaf.source
    v = _var(attr)
    if op == "is_null":
        return {"===": [v, None]} if positive else _present(attr)
    if op == "is_not_null":
        return _present(attr) if positive else {"===": [v, None]}
    if op in ("eq", "ne"):
        equal = {"===": [v, source.value]}
        differs = {"!==": [v, source.value]}
        holds = equal if op == "eq" else differs
        return _guarded(attr, holds if positive else (differs if op == "eq" else equal))
    if op in ("lt", "lte", "gt", "gte"):
        symbol = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        opposite = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[symbol]
        return _guarded(attr, {symbol if positive else opposite: [v, source.value]})
    if op in ("in", "not_in"):
        member = {"in": [v, list(source.value)]}
        holds = member if (op == "in") == positive else {"!": member}
        return _guarded(attr, holds)
    if op == "contains":
        found = {"in": [source.value, v]}
        return _guarded(attr, found if positive else {"!": found})
    if op == "between":
        low, high = source.value
        inside = {"<=": [low, v, high]}
        return _guarded(attr, inside if positive else {"!": inside})
    if op in ("within_last", "not_within_last"):
        start = _window_start(duration_seconds(source.value))
        inside = op == "within_last"
        return _guarded(attr, {">=" if inside == positive else "<": [v, start]})
    if op in ("before", "after"):
        instant = leaf.operand
        if op == "before":
            return _guarded(attr, {"<" if positive else ">=": [v, instant]})
        return _guarded(attr, {">" if positive else "<=": [v, instant]})
    raise AssertionError(f"unhandled operator {op}")


def true_when(node: Node) -> JsonLogic:
    return _nnf(node, positive=True)


def false_when(node: Node) -> JsonLogic:
    return _nnf(node, positive=False)


def _nnf(node: Node, *, positive: bool) -> JsonLogic:
    kind, payload = node
    if kind == "leaf":
        return _leaf(payload, positive)
    if kind == "not":
        return _nnf(payload, positive=not positive)
    parts = [_nnf(child, positive=positive) for child in payload]
    if len(parts) == 1:
        return parts[0]
    # De Morgan holds in Kleene logic: ALL is FALSE when ANY child is FALSE.
    conjunction = (kind == "all") == positive
    return {"and" if conjunction else "or": parts}


def _score(profile: PreparedProfile, custom_operations: bool) -> JsonLogic | None:
    if profile.threshold is None:
        return None
    total = {"+": [{"if": [true_when(when), weight, 0]} for when, weight in profile.weights]}
    decay = profile.decay
    if decay is None:
        return total
    if decay.kind == "lookback":
        inside = _guarded(decay.attr, {">=": [_var(decay.attr), _window_start(decay.window_seconds)]})
        return {"*": [total, {"if": [inside, 1, 0]}]}
    if not custom_operations:
        raise InputError(
            f"profile {profile.id!r} uses exponential half-life decay, which standard JSON Logic cannot "
            f"express; compile with the custom operation {HALF_LIFE_OP!r} or use a lookback decay",
            field=f"/profiles/{profile.index}/scoring/decay",
        )
    factor = {HALF_LIFE_OP: [_var(decay.attr), _var(NOW_VAR), decay.window_seconds]}
    return {"*": [total, factor]}


def compile_jsonlogic(plan: Plan, *, custom_operations: bool = True) -> dict[str, Any]:
    """Per profile: eligibility, suppression, score and membership as JSON Logic, plus the winner."""
    # Time predicates read NOW_VAR at evaluation time; the epoch here only fixes instants (before/after).
    profiles = sorted(
        (prepare_profile(p, i, 0.0) for i, p in enumerate(plan.profiles)), key=lambda p: (p.priority, p.index)
    )
    compiled: dict[str, Any] = {}
    for profile in profiles:
        score = _score(profile, custom_operations)
        rule = true_when(profile.eligibility) if profile.eligibility is not None else True
        scored = {">=": [score, profile.threshold]} if score is not None else False
        eligible = {
            "rule": rule,
            "score": scored,
            "rule_and_score": {"and": [rule, scored]},
            "rule_or_score": {"or": [rule, scored]},
        }[profile.eligible_by]
        not_suppressed = false_when(profile.suppression) if profile.suppression is not None else True
        compiled[profile.id] = {
            "priority": profile.priority,
            "eligible_by": profile.eligible_by,
            "threshold": profile.threshold,
            "eligibility": eligible,
            "suppression": {"!": not_suppressed},
            "score": score,
            "member": {"and": [eligible, not_suppressed]},
        }
    winner: list[Any] = []
    for profile_id, logic in compiled.items():
        winner += [logic["member"], profile_id]
    return {
        "format": "jsonlogic",
        "now_var": NOW_VAR,
        "timestamps": "Unix epoch seconds",
        "custom_operations": {
            HALF_LIFE_OP: "[timestamp, now, half_life_seconds] -> 0 when timestamp is null, 1 when "
            "now - timestamp <= 0, else 0.5 ** ((now - timestamp) / half_life_seconds)"
        }
        if custom_operations
        else {},
        "profiles": compiled,
        "winner": {"if": [*winner, None]} if winner else None,
    }


def jsonlogic_data(plan: Plan, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A record as JSON Logic evaluation data: typed values, epoch-second timestamps and NOW_VAR."""
    types = {a.name: a.type for a in plan.attributes}
    data = {key: coerce_value(value, types.get(key), index=0, attr=key) for key, value in record.items()}
    data[NOW_VAR] = epoch(now)
    return data
