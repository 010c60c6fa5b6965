"""A profile's conditions as LaunchDarkly clauses, and the evaluation context they read.

Semantics pinned against the Python server SDK (ldclient/impl/evaluator.py and operators.py, 9.20):
- a clause on an attribute the context lacks (or holds as null) is false, even when `negate` is set,
  so `negate` gives exactly our negative literal: the value present and the test false;
- lessThan/greaterThan... and before/after compare `float(value)` and hold only for numbers (never
  booleans); there is no string ordering; `in` compares with `==` but never a boolean with a number;
- `segmentMatch` reads no attribute, so a negated one holds when the context is not in the segment.

Each literal becomes alternatives of clause conjunctions (a negated `between` is two alternatives);
what LaunchDarkly cannot evaluate exactly raises Inexpressible with the reason.
"""

from __future__ import annotations

import math
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..rules.program import Leaf
from ..rules.records import coerce_value
from .nnf import Lit

Clause = dict[str, Any]
Alternatives = list[list[Clause]]

# Instants travel as epoch milliseconds with the microseconds as a fraction (a double). Below 2**43 ms
# (1691-04 to 2248-09) the spacing of doubles is under a microsecond's 0.001 ms, so a constant there is
# ordered exactly against every record's instant; further out it is refused.
EXACT_MS = 2**43
EXACT_US = EXACT_MS * 1000
TIME_RANGE_TEXT = "1691-04-08 to 2248-09-26 (epoch milliseconds keep microseconds exactly there)"
# LaunchDarkly's SDKs hold JSON numbers as doubles: integers are told apart up to 2**53.
EXACT_INTEGER = 2**53
MAX_DOUBLE = 1.7976931348623157e308
# Built-in context attributes: `key` and `kind` identify the context, `_meta` is metadata, `name` is a
# string and `anonymous` a boolean that also changes how LaunchDarkly records the context.
BUILT_INS = ("key", "kind", "_meta", "anonymous")
ALLOWED_PII = ("none", "pseudonymous")
PRESENCE_PREFIX = "has-"

_OPS_BY_KIND = {
    "string": {"eq", "ne", "in", "not_in", "contains"},
    "integer": {"eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between"},
    "number": {"eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "between"},
    "boolean": {"eq", "ne", "in", "not_in"},
    "timestamp": {"before", "after", "within_last", "not_within_last"},
    "date": {"before", "after", "within_last", "not_within_last"},
}
_ORDER_OPS = {"lt": "lessThan", "lte": "lessThanOrEqual", "gt": "greaterThan", "gte": "greaterThanOrEqual"}


class Inexpressible(Exception):
    """A literal LaunchDarkly cannot evaluate exactly; the message says why."""


def presence_key(attr: str) -> str:
    """The helper segment whose members hold a value for `attr` (for is_null)."""
    return PRESENCE_PREFIX + attr


def time_ms(micros: int) -> int | float:
    """Epoch microseconds as LaunchDarkly's epoch milliseconds: whole when whole, else the correctly
    rounded double (Python's int / int), which keeps the order of microseconds below EXACT_MS."""
    return micros // 1000 if micros % 1000 == 0 else micros / 1000


def clause(attr: str, op: str, values: list[Any], negate: bool = False) -> Clause:
    return {"attribute": attr, "op": op, "values": values, "negate": negate}


def segment_clause(key: str, negate: bool = False) -> Clause:
    # segmentMatch reads no attribute; LaunchDarkly's own flag data names the operator there.
    return {"attribute": "segmentMatch", "op": "segmentMatch", "values": [key], "negate": negate}


def presence_clause(attr: str, kind: str) -> Clause:
    """A clause that holds for any present value of the attribute's type (LaunchDarkly has no 'exists'
    operator): every string starts with "", every number is at most the largest double, every boolean
    is true or false."""
    if kind == "string":
        return clause(attr, "startsWith", [""])
    if kind == "boolean":
        return clause(attr, "in", [True, False])
    return clause(attr, "lessThanOrEqual", [MAX_DOUBLE])


def literal_alternatives(lit: Lit, kind: str | None) -> Alternatives:
    """The literal as alternatives of clause conjunctions; raises Inexpressible."""
    leaf, positive = lit.leaf, lit.positive
    if kind is None:
        raise Inexpressible(
            f"{leaf.attr!r} has no type in the attribute inventory, so its form in a LaunchDarkly "
            "context is undefined; give it a type"
        )
    if leaf.op in ("is_null", "is_not_null"):
        present = positive == (leaf.op == "is_not_null")
        if present:
            return [[presence_clause(leaf.attr, kind)]]
        # Absence: not in the helper segment of contexts holding a value (segmentMatch reads no attribute).
        return [[segment_clause(presence_key(leaf.attr), negate=True)]]
    if leaf.op not in _OPS_BY_KIND[kind]:
        raise Inexpressible(_misfit(leaf, kind))
    if leaf.op == "between":
        low, high = (_constant(v, kind, leaf) for v in leaf.operand)
        if positive:
            return [
                [clause(leaf.attr, "greaterThanOrEqual", [low]), clause(leaf.attr, "lessThanOrEqual", [high])]
            ]
        return [[clause(leaf.attr, "lessThan", [low])], [clause(leaf.attr, "greaterThan", [high])]]
    op, values, negate = _single(leaf, kind)
    return [[clause(leaf.attr, op, values, negate if positive else not negate)]]


def _single(leaf: Leaf, kind: str) -> tuple[str, list[Any], bool]:
    """(operator, values, negate) of the clause that holds exactly when the condition is TRUE."""
    op = leaf.op
    if op in ("eq", "ne"):
        return "in", [_constant(leaf.operand, kind, leaf)], op == "ne"
    if op in ("in", "not_in"):
        values = sorted(leaf.operand, key=repr) if isinstance(leaf.operand, frozenset) else leaf.operand
        return "in", [_constant(v, kind, leaf) for v in values], op == "not_in"
    if op == "contains":
        return "contains", [_constant(leaf.operand, kind, leaf)], False
    if op in _ORDER_OPS:
        return _ORDER_OPS[op], [_constant(leaf.operand, kind, leaf)], False
    instant = [_instant(leaf)]
    # within_last: value >= window start, i.e. NOT before it; not_within_last: before it.
    return {
        "before": ("before", instant, False),
        "after": ("after", instant, False),
        "within_last": ("before", instant, True),
        "not_within_last": ("before", instant, False),
    }[op]


def _constant(value: Any, kind: str, leaf: Leaf) -> Any:
    fits = {
        "string": isinstance(value, str),
        "boolean": isinstance(value, bool),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, float) and math.isfinite(value),
    }[kind]
    if not fits:
        raise Inexpressible(f"{value!r} is not a {kind}, the type of {leaf.attr!r}; fix the type error")
    if kind == "integer" and abs(value) >= EXACT_INTEGER:
        raise Inexpressible(
            f"{value} is beyond 2**53, where LaunchDarkly's numbers (doubles) no longer tell integers apart"
        )
    return value


def _instant(leaf: Leaf) -> int | float:
    micros = leaf.operand
    if not isinstance(micros, int) or isinstance(micros, bool) or abs(micros) >= EXACT_US:
        raise Inexpressible(
            f"the instant is outside {TIME_RANGE_TEXT}; LaunchDarkly compares epoch milliseconds as doubles"
        )
    return time_ms(micros)


def _misfit(leaf: Leaf, kind: str) -> str:
    if leaf.op in _ORDER_OPS or leaf.op == "between":
        return f"LaunchDarkly orders numbers only, and {leaf.attr!r} is a {kind}"
    if leaf.op == "contains":
        return f"LaunchDarkly's contains reads strings only, and {leaf.attr!r} is a {kind}"
    return f"{leaf.op} does not apply to the {kind} attribute {leaf.attr!r}; fix the rule's type error"


# --- what a LaunchDarkly context can carry ----------------------------------------------------------
def check_carried(plan: Plan, attr: str, pointer: str, profile: str) -> None:
    """Raise InputError when `attr` cannot be a custom context attribute or must not reach a flag
    context (direct, sensitive or special-category personal data)."""
    allowed = (
        "a custom attribute name other than key, kind, _meta and anonymous, not starting with '/', "
        "of an attribute classed pii_class none or pseudonymous"
    )
    known = {a.name: a for a in plan.attributes}.get(attr)
    if attr in BUILT_INS or attr == "" or attr.startswith("/"):
        raise InputError(
            f"profile {profile!r} uses {attr!r}, which LaunchDarkly reserves or reads as an attribute "
            f"reference; a LaunchDarkly context carries {allowed}. Rename the attribute",
            field=pointer,
        )
    if attr == "name" and known is not None and known.type not in (None, "string"):
        raise InputError(
            f"profile {profile!r} uses 'name', which LaunchDarkly's contexts hold as a string only, but "
            f"it is a {known.type}; a LaunchDarkly context carries {allowed}. Rename the attribute",
            field=pointer,
        )
    if known is not None and known.pii_class not in ALLOWED_PII:
        raise InputError(
            f"profile {profile!r} uses {attr!r}, classed {known.pii_class} personal data, which must not "
            f"travel in a flag evaluation context; a LaunchDarkly context carries {allowed}. Use a "
            "derived, non-identifying attribute instead",
            field=pointer,
        )


def context_attributes(plan: Plan, record: dict[str, Any]) -> dict[str, Any]:
    """A record's attributes as a LaunchDarkly context carries them (docs/exports.md): typed values by
    inventory name, timestamps and dates as epoch milliseconds (fractional for microseconds), nulls
    left out, and nothing the export refuses to carry (built-in names, direct or sensitive data)."""
    carried: dict[str, Any] = {}
    for attribute in plan.attributes:
        name = attribute.name
        if name in BUILT_INS or attribute.pii_class not in ALLOWED_PII or attribute.type is None:
            continue
        if name == "name" and attribute.type != "string":
            continue
        value = coerce_value(record.get(name), attribute.type, index=0, attr=name)
        if value is None:
            continue
        carried[name] = time_ms(value) if attribute.type in ("timestamp", "date") else value
    return carried
