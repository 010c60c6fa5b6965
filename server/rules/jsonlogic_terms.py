"""JSON Logic terms of one condition, in negation normal form (see compile_jsonlogic): `true_when`
holds exactly when a node is TRUE and `false_when` exactly when it is FALSE, with an explicit
`!== null` guard on every comparison, so a record where the node is UNKNOWN satisfies neither.
A LogicClock says where the evaluation time is read and in what unit times are numbers."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..model.common import duration_seconds
from .instants import MICROS
from .program import Leaf, Node, as_double

NOW_VAR = "$now"
JsonLogic = Any


@dataclass(frozen=True)
class LogicClock:
    """Where compiled JSON Logic reads the evaluation time, and in what unit its times are numbers.

    The JSON Logic target reads NOW_VAR in whole microseconds; flagd provides `$flagd.timestamp` in
    whole seconds, so its times are seconds (a fraction for sub-second instants)."""

    now_var: str = NOW_VAR
    per_second: int = MICROS

    def instant(self, micros: int) -> int | float:
        """An instant (epoch microseconds) in this clock's unit: an integer when it is whole."""
        if self.per_second == MICROS:
            return micros
        scale = MICROS // self.per_second
        return micros // scale if micros % scale == 0 else micros / scale


MICROSECOND_CLOCK = LogicClock()


def var(attr: str) -> JsonLogic:
    return {"var": attr}


def present(attr: str) -> JsonLogic:
    return {"!==": [var(attr), None]}


def guarded(attr: str, test: JsonLogic) -> JsonLogic:
    return {"and": [present(attr), test]}


def window_start(window_us: int, clock: LogicClock = MICROSECOND_CLOCK) -> JsonLogic:
    return {"-": [var(clock.now_var), clock.instant(window_us)]}


def _leaf(leaf: Leaf, positive: bool, number: bool, clock: LogicClock = MICROSECOND_CLOCK) -> JsonLogic:
    op, attr, source = leaf.op, leaf.attr, leaf.source
    v = var(attr)
    if op == "is_null":
        return {"===": [v, None]} if positive else present(attr)
    if op == "is_not_null":
        return present(attr) if positive else {"===": [v, None]}
    if op in ("eq", "ne"):
        equal = {"===": [v, leaf.operand]}
        differs = {"!==": [v, leaf.operand]}
        holds = equal if op == "eq" else differs
        return guarded(attr, holds if positive else (differs if op == "eq" else equal))
    if op in ("lt", "lte", "gt", "gte"):
        symbol = {"lt": "<", "lte": "<=", "gt": ">", "gte": ">="}[op]
        opposite = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}[symbol]
        return guarded(attr, {symbol if positive else opposite: [v, leaf.operand]})
    if op in ("in", "not_in"):
        member = {"in": [v, [as_double(x) for x in source.value] if number else list(source.value)]}
        holds = member if (op == "in") == positive else {"!": member}
        return guarded(attr, holds)
    if op == "contains":
        found = {"in": [source.value, v]}
        return guarded(attr, found if positive else {"!": found})
    if op == "between":
        low, high = leaf.operand
        inside = {"<=": [low, v, high]}
        return guarded(attr, inside if positive else {"!": inside})
    if op in ("within_last", "not_within_last"):
        start = window_start(duration_seconds(source.value) * MICROS, clock)
        inside = op == "within_last"
        return guarded(attr, {">=" if inside == positive else "<": [v, start]})
    if op in ("before", "after"):
        instant = clock.instant(leaf.operand)
        if op == "before":
            return guarded(attr, {"<" if positive else ">=": [v, instant]})
        return guarded(attr, {">" if positive else "<=": [v, instant]})
    raise AssertionError(f"unhandled operator {op}")


def true_when(
    node: Node, numbers: frozenset[str] = frozenset(), clock: LogicClock = MICROSECOND_CLOCK
) -> JsonLogic:
    return _nnf(node, True, numbers, clock)


def false_when(
    node: Node, numbers: frozenset[str] = frozenset(), clock: LogicClock = MICROSECOND_CLOCK
) -> JsonLogic:
    return _nnf(node, False, numbers, clock)


def _nnf(node: Node, positive: bool, numbers: frozenset[str], clock: LogicClock) -> JsonLogic:
    """`numbers` are the attributes of type number, whose constants are written as doubles."""
    kind, payload = node
    if kind == "leaf":
        return _leaf(payload, positive, payload.attr in numbers, clock)
    if kind == "not":
        return _nnf(payload, not positive, numbers, clock)
    parts = [_nnf(child, positive, numbers, clock) for child in payload]
    if len(parts) == 1:
        return parts[0]
    # De Morgan holds in Kleene logic: ALL is FALSE when ANY child is FALSE.
    conjunction = (kind == "all") == positive
    return {"and" if conjunction else "or": parts}
