"""Compile profiles to JSON Logic (jsonlogic.com) for real-time engines such as flagd / OpenFeature.

JSON Logic has no three-valued logic and treats null as 0 in comparisons, so the trees are compiled
in negation normal form: `true_when(node)` holds exactly when the node is TRUE and `false_when(node)`
exactly when it is FALSE, with an explicit `!== null` guard on every comparison. A record where a
node is UNKNOWN satisfies neither, which is SQL's semantics.

Evaluation data: the record's attributes by name, timestamps and dates as whole Unix epoch
microseconds, and the evaluation time in microseconds under NOW_VAR. Consumers hold numbers as
doubles, which are exact for whole numbers up to 2**53, so times are accepted from 1685 to 2254 and
integers within +-2**53; a rule, record or evaluation time outside that is refused, naming it.
Exponential decay uses the custom operation HALF_LIFE_OP (see `half_life_decay`); pass
custom_operations=False to refuse it instead.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from ..errors import InputError
from ..model import Plan
from .instants import JSONLOGIC_EXACT, as_utc, epoch_us, in_jsonlogic_range, show_instant
from .jsonlogic_terms import (
    MICROSECOND_CLOCK,
    NOW_VAR,
    JsonLogic,
    LogicClock,
    false_when,
    guarded,
    true_when,
    var,
    window_start,
)
from .program import PreparedProfile, attribute_kinds, leaves, prepare_profile
from .records import coerce_value
from .typecheck import refuse_type_errors

HALF_LIFE_OP = "half_life_decay"
TIME_RANGE_TEXT = "1685-01-01 to 2254-12-31 (whole microseconds are exact in a double up to 2**53)"
# Names a JavaScript object inherits: json-logic-js's `var` reads them from Object.prototype when the
# record lacks them, so a missing `constructor` would not be null.
PROTOTYPE_NAMES = frozenset(
    {
        "constructor",
        "__proto__",
        "__defineGetter__",
        "__defineSetter__",
        "__lookupGetter__",
        "__lookupSetter__",
        "hasOwnProperty",
        "isPrototypeOf",
        "propertyIsEnumerable",
        "toLocaleString",
        "toString",
        "valueOf",
    }
)


def half_life_decay(timestamp: Any, now: Any, half_life_us: Any) -> float:
    """The custom operation, as a JavaScript engine computes it with doubles: 0 for a missing
    timestamp, 1 at or after `now`, else 0.5 ** ((now - timestamp) / half_life)."""
    if timestamp is None or isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        return 0.0
    age = float(now) - float(timestamp)
    return 1.0 if age <= 0 else 0.5 ** (age / float(half_life_us))


def score_logic(
    profile: PreparedProfile,
    custom_operations: bool,
    numbers: frozenset[str],
    clock: LogicClock = MICROSECOND_CLOCK,
) -> JsonLogic | None:
    """The profile's score as JSON Logic arithmetic, or None without scoring. Half-life decay needs
    the custom operation; without it, an InputError names the decay."""
    if profile.threshold is None:
        return None
    parts = [{"if": [true_when(when, numbers, clock), weight, 0]} for when, weight in profile.weights]
    total = {"+": parts}
    decay = profile.decay
    if decay is None:
        return total
    if decay.kind == "lookback":
        inside = guarded(decay.attr, {">=": [var(decay.attr), window_start(decay.window_us, clock)]})
        return {"*": [total, {"if": [inside, 1, 0]}]}
    if not custom_operations:
        raise InputError(
            f"profile {profile.id!r} uses exponential half-life decay, which standard JSON Logic cannot "
            f"express; compile with the custom operation {HALF_LIFE_OP!r} or use a lookback decay",
            field=f"/profiles/{profile.index}/scoring/decay",
        )
    factor = {HALF_LIFE_OP: [var(decay.attr), var(clock.now_var), clock.instant(decay.window_us)]}
    return {"*": [total, factor]}


def _refuse_inexact(profile: PreparedProfile, kinds: dict[str, str | None]) -> None:
    """Refuse what a double-based consumer cannot evaluate exactly: inherited names, instants outside
    the exact time range and integers past 2**53. The error names the condition."""
    base = f"/profiles/{profile.index}"
    trees = [t for t in (profile.eligibility, profile.suppression) if t is not None]
    trees += [when for when, _ in profile.weights]
    for leaf in (leaf for tree in trees for leaf in leaves(tree)):
        if leaf.attr in PROTOTYPE_NAMES:
            raise InputError(
                f"attribute {leaf.attr!r} is a property every JavaScript object inherits, so JSON Logic "
                "engines such as json-logic-js read it from Object.prototype when a record lacks it; "
                "rename the attribute to compile to JSON Logic",
                field=f"{leaf.pointer}/attr",
            )
        if leaf.op in ("before", "after") and not in_jsonlogic_range(leaf.operand):
            raise InputError(
                f"{leaf.op} {show_instant(leaf.operand)} is outside the instants JSON Logic evaluates "
                f"exactly, {TIME_RANGE_TEXT}; use an instant inside that range for this target",
                field=f"{leaf.pointer}/value",
            )
        if kinds.get(leaf.attr) == "integer":
            values = leaf.operand if isinstance(leaf.operand, (frozenset, tuple)) else (leaf.operand,)
            for value in values:
                if isinstance(value, int) and abs(value) > JSONLOGIC_EXACT:
                    raise InputError(
                        f"{value} is beyond 2**53, where JSON Logic engines (doubles) no longer tell "
                        "integers apart; use a smaller constant for this target",
                        field=f"{leaf.pointer}/value",
                    )
    if profile.decay is not None and profile.decay.attr in PROTOTYPE_NAMES:
        raise InputError(
            f"attribute {profile.decay.attr!r} is a property every JavaScript object inherits; rename it "
            "to compile to JSON Logic",
            field=f"{base}/scoring/decay/attr",
        )


def profile_logic(
    profile: PreparedProfile,
    numbers: frozenset[str],
    *,
    custom_operations: bool = True,
    clock: LogicClock = MICROSECOND_CLOCK,
) -> dict[str, Any]:
    """One profile's eligibility, suppression, score and membership (eligible AND NOT suppressed)."""
    score = score_logic(profile, custom_operations, numbers, clock)
    rule = true_when(profile.eligibility, numbers, clock) if profile.eligibility is not None else True
    scored = {">=": [score, profile.threshold]} if score is not None else False
    eligible = {
        "rule": rule,
        "score": scored,
        "rule_and_score": {"and": [rule, scored]},
        "rule_or_score": {"or": [rule, scored]},
    }[profile.eligible_by]
    not_suppressed = (
        false_when(profile.suppression, numbers, clock) if profile.suppression is not None else True
    )
    return {
        "priority": profile.priority,
        "eligible_by": profile.eligible_by,
        "threshold": profile.threshold,
        "eligibility": eligible,
        "suppression": {"!": not_suppressed},
        "score": score,
        "member": {"and": [eligible, not_suppressed]},
    }


def compile_jsonlogic(
    plan: Plan, *, custom_operations: bool = True, now: datetime | None = None
) -> dict[str, Any]:
    """Per profile: eligibility, suppression, score and membership as JSON Logic, plus the winner.

    `now`, when given, is checked against the exact time range and returned as `now_value`, the
    number to pass under NOW_VAR; without it the caller supplies the evaluation time as data.
    """
    refuse_type_errors(plan, "compiled")
    kinds = attribute_kinds(plan)
    numbers = frozenset(name for name, kind in kinds.items() if kind == "number")
    now_value = None if now is None else _now_value(now, "now")
    # Time predicates read NOW_VAR at evaluation time; the instant here only fixes before/after.
    profiles = sorted(
        (prepare_profile(p, i, 0, kinds) for i, p in enumerate(plan.profiles)),
        key=lambda p: (p.priority, p.index),
    )
    compiled: dict[str, Any] = {}
    for profile in profiles:
        _refuse_inexact(profile, kinds)
        compiled[profile.id] = profile_logic(profile, numbers, custom_operations=custom_operations)
    winner: list[Any] = []
    for profile_id, logic in compiled.items():
        winner += [logic["member"], profile_id]
    return {
        "format": "jsonlogic",
        "now_var": NOW_VAR,
        "now_value": now_value,
        "timestamps": "Unix epoch microseconds (whole numbers)",
        "time_range": TIME_RANGE_TEXT,
        "custom_operations": {
            HALF_LIFE_OP: "[timestamp, now, half_life_us] -> 0 when timestamp is null, 1 when "
            "now - timestamp <= 0, else 0.5 ** ((now - timestamp) / half_life_us)"
        }
        if custom_operations
        else {},
        "profiles": compiled,
        "winner": {"if": [*winner, None]} if winner else None,
    }


def _now_value(now: datetime, field: str) -> int:
    micros = epoch_us(as_utc(now))
    if not in_jsonlogic_range(micros):
        raise InputError(
            f"evaluation time {show_instant(micros)} is outside the instants JSON Logic evaluates exactly, "
            f"{TIME_RANGE_TEXT}",
            field=field,
        )
    return micros


def jsonlogic_data(plan: Plan, record: dict[str, Any], now: datetime) -> dict[str, Any]:
    """A record as JSON Logic evaluation data: typed values, epoch-microsecond times and NOW_VAR.

    A time outside the exact range, or an integer past 2**53, is refused naming the attribute.
    """
    kinds = attribute_kinds(plan)
    data = {key: coerce_value(value, kinds.get(key), index=0, attr=key) for key, value in record.items()}
    for key in _inexact(data, kinds):
        raise InputError(
            f"{key} = {record[key]!r} cannot be evaluated exactly by JSON Logic engines: times must lie in "
            f"{TIME_RANGE_TEXT}, integers within +-2**53",
            field=f"records/0/{key}",
        )
    data[NOW_VAR] = _now_value(now, "now")
    return data


def _inexact(data: dict[str, Any], kinds: dict[str, str | None]) -> Iterator[str]:
    for key, value in data.items():
        if value is None or isinstance(value, bool):
            continue
        kind = kinds.get(key)
        time_outside = kind in ("timestamp", "date") and not in_jsonlogic_range(value)
        if time_outside or (kind == "integer" and abs(value) > JSONLOGIC_EXACT):
            yield key
