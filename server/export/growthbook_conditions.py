"""Profile membership as GrowthBook targeting conditions (MongoDB-style), as the Python SDK 4.0.0
evaluates them, and the evaluation context those conditions read (docs/exports.md).

Null semantics, read from growthbook/core.py (4.0.0): a missing attribute fails `$eq`, `$in`,
`$lt`..`$gte` (only two numbers or two strings are ordered) and `$regex` (it raises and counts as no
match), but PASSES `$ne`, `$nin` and `$not`. So every literal that a missing value would satisfy is
guarded with `$exists: true` (or `$type: "string"` for a negated substring), and a missing value
satisfies neither polarity of a condition, as in our evaluator (export/common.py).

Time is epoch milliseconds. GrowthBook's JavaScript SDKs hold numbers as doubles, and epoch
milliseconds with a microsecond fraction stay exact as doubles only for |ms| < 2**43 (years 1691 to
2248), so instants outside 1700-2199 are refused rather than compared inexactly. For the same reason
integer constants beyond 2**53 are refused. The SDK orders strings by UTF-16 code units, not code
points, but no export orders strings: the type check refuses lt/lte/gt/gte/between on text, and eq,
in and a literal-substring $regex compare code units and code points alike.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ..rules.instants import epoch_us
from ..rules.program import Leaf, as_double
from .nnf import And, Lit, Nnf, Or

SDK_VERSION = "4.0.0"
TIME_KINDS = ("timestamp", "date")
FIRST_US = epoch_us(datetime(1700, 1, 1, tzinfo=timezone.utc))
END_US = epoch_us(datetime(2200, 1, 1, tzinfo=timezone.utc))
EXACT_INTEGER = 2**53
# Escaped with a backslash, these read literally in both Python's `re` and a JavaScript RegExp
# without the `u` flag (Python's re.escape also escapes characters JavaScript's `u` mode rejects).
_REGEX_SPECIAL = frozenset("\\^$.|?*+()[]{}")
# The comparison that holds exactly when each operator is TRUE, and the one for FALSE.
_COMPARE = {
    "lt": ("$lt", "$gte"),
    "lte": ("$lte", "$gt"),
    "gt": ("$gt", "$lte"),
    "gte": ("$gte", "$lt"),
    "before": ("$lt", "$gte"),
    "after": ("$gt", "$lte"),
    "within_last": ("$gte", "$lt"),
    "not_within_last": ("$lt", "$gte"),
}
NEVER: dict[str, Any] = {"$not": {}}  # an empty condition passes, so its negation never does


def epoch_ms(micros: int) -> int | float:
    """Epoch microseconds as epoch milliseconds: whole when they are, else the correctly rounded
    quotient (exact to the microsecond inside FIRST_US..END_US)."""
    return micros // 1000 if micros % 1000 == 0 else micros / 1000


def context(record: dict[str, Any], kinds: dict[str, str | None]) -> dict[str, Any]:
    """The GrowthBook attributes for a record whose values are coerced (rules/records.py): missing
    and null values are left out, timestamps and dates become epoch milliseconds."""
    attributes: dict[str, Any] = {}
    for name, value in record.items():
        if value is None:
            continue
        attributes[name] = epoch_ms(value) if kinds.get(name) in TIME_KINDS else value
    return attributes


def literal_problem(lit: Lit, kinds: dict[str, str | None]) -> str | None:
    """Why GrowthBook cannot evaluate this literal exactly, or None when it can."""
    leaf = lit.leaf
    kind = kinds.get(leaf.attr)
    if leaf.op in ("is_null", "is_not_null"):
        return None
    if kind is None:
        return "the attribute has no type in the inventory, so its JSON type in a context is unknown"
    if kind in TIME_KINDS:
        return _time_problem(leaf)
    values = _constants(leaf)
    if kind == "integer" and any(abs(v) >= EXACT_INTEGER for v in values):
        return "an integer constant at or beyond 2**53, which GrowthBook's JavaScript SDKs round (doubles)"
    return None


def _time_problem(leaf: Leaf) -> str | None:
    if FIRST_US <= leaf.operand < END_US:
        return None
    what = "the window starts" if leaf.op in ("within_last", "not_within_last") else "the instant is"
    return (
        f"{what} outside 1700-2199, where epoch milliseconds with microseconds are not exact as doubles "
        "in GrowthBook's JavaScript SDKs"
    )


def _constants(leaf: Leaf) -> list[Any]:
    operand = leaf.operand
    values = list(operand) if isinstance(operand, (frozenset, tuple, list)) else [operand]
    return [v for v in values if not isinstance(v, bool)] if leaf.op != "contains" else values


def regex_literal(text: str) -> str:
    """A regular expression matching `text` literally, in Python and in JavaScript."""
    return "".join("\\" + ch if ch in _REGEX_SPECIAL else ch for ch in text)


def condition(tree: Nnf, kinds: dict[str, str | None]) -> dict[str, Any]:
    """A GrowthBook condition that passes exactly when the NNF tree holds (each literal as TRUE or
    FALSE under three-valued logic; see export/common.py)."""
    if tree is True:
        return {}
    if tree is False:
        return dict(NEVER)
    if isinstance(tree, And):
        return {"$and": [condition(part, kinds) for part in tree.parts]}
    if isinstance(tree, Or):
        return {"$or": [condition(part, kinds) for part in tree.parts]}
    assert isinstance(tree, Lit)
    return literal(tree, kinds)


def literal(lit: Lit, kinds: dict[str, str | None]) -> dict[str, Any]:
    leaf, positive = lit.leaf, lit.positive
    attr, op = leaf.attr, leaf.op
    value = _value(leaf, kinds)
    if op in ("is_null", "is_not_null"):
        return {attr: {"$exists": (op == "is_not_null") == positive}}
    if op in ("eq", "ne"):
        equal = (op == "eq") == positive
        return {attr: {"$eq": value}} if equal else {attr: {"$exists": True, "$ne": value}}
    if op in ("in", "not_in"):
        inside = (op == "in") == positive
        return {attr: {"$in": value}} if inside else {attr: {"$exists": True, "$nin": value}}
    if op == "contains":
        pattern = regex_literal(value)
        if positive:
            return {attr: {"$regex": pattern}}
        return {attr: {"$type": "string", "$not": {"$regex": pattern}}}
    if op == "between":
        low, high = value
        if positive:
            return {attr: {"$gte": low, "$lte": high}}
        return {"$or": [{attr: {"$lt": low}}, {attr: {"$gt": high}}]}
    true_op, false_op = _COMPARE[op]
    return {attr: {true_op if positive else false_op: value}}


def _value(leaf: Leaf, kinds: dict[str, str | None]) -> Any:
    """The operand as JSON: sets as lists in the plan's order, instants as epoch milliseconds."""
    if kinds.get(leaf.attr) in TIME_KINDS and isinstance(leaf.operand, int):
        return epoch_ms(leaf.operand)
    if isinstance(leaf.operand, frozenset):
        # The plan's order, not the set's, so that the file is the same on every run.
        number = kinds.get(leaf.attr) == "number"
        return list(dict.fromkeys(as_double(v) if number else v for v in leaf.source.value))
    if isinstance(leaf.operand, tuple):
        return list(leaf.operand)
    return leaf.operand
