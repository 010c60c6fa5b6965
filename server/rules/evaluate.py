"""The Python evaluator, in SQL's three-valued logic.

Each condition yields two bit masks over the records: where it is TRUE and where it is FALSE; a
record in neither is UNKNOWN (a null, or a value of the wrong type). all/any/not combine masks with
Kleene's rules (AND is true when all are true and false when one is false; NOT swaps the masks), so
one pass over a column per condition evaluates every record, and Python's big-integer bit operations
do the logic. `truth()` is the same semantics for one record, used for explanations.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from .program import Leaf, Node, PreparedProfile

_BITS = bytes.maketrans(b"\x00\x01", b"01")
_MAX_PATTERN_CONDITIONS = 10  # a table of 2**10 sums; more conditions are added one at a time
TRUE, FALSE, UNKNOWN = True, False, None


def to_mask(flags: list[bool]) -> int:
    """Bit i is set when flags[i] is true."""
    if not flags:
        return 0
    return int(bytes(flags).translate(_BITS)[::-1], 2)


def bit_string(mask: int, n: int) -> str:
    """Character i is '1' when bit i is set."""
    return format(mask, f"0{n}b")[::-1] if n else ""


def _compare(op: str, v: Any, x: Any) -> bool | None:
    """One non-null value against a leaf operand; None when the types cannot be compared."""
    try:
        if op == "eq":
            return v == x
        if op == "ne":
            return v != x
        if op in ("lt", "before"):
            return v < x
        if op == "lte":
            return v <= x
        if op in ("gt", "after"):
            return v > x
        if op in ("gte", "within_last"):
            return v >= x
        if op == "not_within_last":
            return v < x
        if op == "in":
            return v in x
        if op == "not_in":
            return v not in x
        if op == "contains":
            return (x in v) if isinstance(v, str) else None
        if op == "between":
            return x[0] <= v <= x[1]
    except TypeError:
        return None
    raise AssertionError(f"unhandled operator {op}")


def leaf_truth(leaf: Leaf, value: Any) -> bool | None:
    if leaf.op == "is_null":
        return value is None
    if leaf.op == "is_not_null":
        return value is not None
    if value is None:
        return UNKNOWN
    return _compare(leaf.op, value, leaf.operand)


def truth(node: Node, record: dict[str, Any]) -> bool | None:
    kind, payload = node
    if kind == "leaf":
        return leaf_truth(payload, record.get(payload.attr))
    if kind == "not":
        inner = truth(payload, record)
        return None if inner is None else not inner
    results = [truth(child, record) for child in payload]
    if kind == "all":
        return False if False in results else (None if None in results else True)
    return True if True in results else (None if None in results else False)


@dataclass
class Masks:
    true: int
    false: int


class ColumnEvaluator:
    """Evaluates prepared rule trees over columns of coerced values, caching each condition's masks."""

    def __init__(self, columns: dict[str, list[Any]], n: int, now_us: int) -> None:
        self.columns = columns
        self.n = n
        self.now_us = now_us
        self.everyone = (1 << n) - 1
        self._nulls: dict[str, int] = {}
        self._leaves: dict[tuple[str, str, Any], Masks] = {}
        self._scores: dict[tuple[Any, ...], list[float]] = {}
        self._factors: dict[tuple[str, str, int], list[float]] = {}

    def nulls(self, attr: str) -> int:
        if attr not in self._nulls:
            column = self.columns.get(attr)
            self._nulls[attr] = self.everyone if column is None else to_mask([v is None for v in column])
        return self._nulls[attr]

    def leaf(self, leaf: Leaf) -> Masks:
        key = (
            leaf.op,
            leaf.attr,
            leaf.operand if not isinstance(leaf.operand, list) else tuple(leaf.operand),
        )
        cached = self._leaves.get(key)
        if cached is None:
            cached = self._leaves[key] = self._leaf(leaf)
        return cached

    def _leaf(self, leaf: Leaf) -> Masks:
        nulls = self.nulls(leaf.attr)
        present = self.everyone & ~nulls
        if leaf.op == "is_null":
            return Masks(nulls, present)
        if leaf.op == "is_not_null":
            return Masks(present, nulls)
        column = self.columns.get(leaf.attr) or [None] * self.n
        op, x = leaf.op, leaf.operand
        try:
            flags = _vector(op, column, x)
        except TypeError:  # mixed types in the column: decide value by value, unknown where incomparable
            results = [None if v is None else _compare(op, v, x) for v in column]
            return Masks(to_mask([r is True for r in results]), to_mask([r is False for r in results]))
        true = to_mask(flags)
        return Masks(true, present & ~true)

    def node(self, node: Node) -> Masks:
        kind, payload = node
        if kind == "leaf":
            return self.leaf(payload)
        if kind == "not":
            inner = self.node(payload)
            return Masks(inner.false, inner.true)
        parts = [self.node(child) for child in payload]
        true, false = parts[0].true, parts[0].false
        for part in parts[1:]:
            if kind == "all":
                true, false = true & part.true, false | part.false
            else:
                true, false = true | part.true, false & part.false
        return Masks(true, false)

    def scores(self, profile: PreparedProfile) -> list[float] | None:
        if profile.threshold is None:
            return None
        # Profiles often share a scoring model; the same weighted masks and decay give the same scores.
        masks = tuple((self.node(when).true, weight) for when, weight in profile.weights)
        key = (masks, profile.decay)
        cached = self._scores.get(key)
        if cached is not None:
            return cached
        n = self.n
        decay = profile.decay
        if len(masks) <= _MAX_PATTERN_CONDITIONS:
            total = self._scores_by_pattern(masks, decay)
        else:
            total = [0.0] * n
            for mask, weight in masks:
                bits = bit_string(mask, n)
                total = [t + weight if b == "1" else t for t, b in zip(total, bits, strict=True)]
            if decay is not None:
                total = [t * f for t, f in zip(total, self.factors(decay), strict=True)]
        self._scores[key] = total
        return total

    def _scores_by_pattern(self, masks: tuple[tuple[int, float], ...], decay: Any) -> list[float]:
        """One pass: each record's pattern of true conditions indexes a table of precomputed sums.

        The sums add the weights in condition order starting from 0.0, exactly as the per-record
        evaluator and the compiled targets do, so the floats are identical.
        """
        table: dict[tuple[str, ...], float] = {}
        for pattern in itertools.product("01", repeat=len(masks)):
            total = 0.0
            for bit, (_, weight) in zip(pattern, masks, strict=True):
                if bit == "1":
                    total = total + weight
            table[pattern] = total
        patterns = zip(*(bit_string(mask, self.n) for mask, _ in masks), strict=True)
        if decay is None:
            return [table[p] for p in patterns]
        return [table[p] * f for p, f in zip(patterns, self.factors(decay), strict=True)]

    def factors(self, decay: Any) -> list[float]:
        key = (decay.attr, decay.kind, decay.window_us)
        if key not in self._factors:
            column = self.columns.get(decay.attr) or [None] * self.n
            self._factors[key] = decay_factors(column, decay, self.now_us)
        return self._factors[key]


def _vector(op: str, column: list[Any], x: Any) -> list[bool]:
    if op == "eq":
        return [v == x for v in column]
    if op == "ne":
        return [v is not None and v != x for v in column]
    if op in ("lt", "before", "not_within_last"):
        return [v is not None and v < x for v in column]
    if op == "lte":
        return [v is not None and v <= x for v in column]
    if op in ("gt", "after"):
        return [v is not None and v > x for v in column]
    if op in ("gte", "within_last"):
        return [v is not None and v >= x for v in column]
    if op == "in":
        return [v is not None and v in x for v in column]
    if op == "not_in":
        return [v is not None and v not in x for v in column]
    if op == "contains":
        if not all(v is None or isinstance(v, str) for v in column):
            raise TypeError("contains on a non-string value")
        return [v is not None and x in v for v in column]
    if op == "between":
        low, high = x
        return [v is not None and low <= v <= high for v in column]
    raise AssertionError(f"unhandled operator {op}")


# 0.5 ** 1075 is below the smallest double, so every target's POWER gives 0 from here on; SQL must
# not call POWER there, because PostgreSQL raises "value out of range: underflow" instead.
MAX_HALVINGS = 1075.0


def half_life_factor(age_us: int, window_us: int) -> float:
    """0.5 ** (age / window) with both converted to doubles first, as SQL and JavaScript compute it."""
    if age_us <= 0:
        return 1.0
    halvings = float(age_us) / float(window_us)
    return 0.0 if halvings >= MAX_HALVINGS else 0.5**halvings


def decay_factor(value: Any, kind: str, window_us: int, now_us: int) -> float:
    """half_life: 0.5 ** (age / window), 1 for a timestamp at or after now; lookback: 1 inside the window."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        return 0.0
    if kind == "lookback":
        return 1.0 if value >= now_us - window_us else 0.0
    return half_life_factor(now_us - value, window_us)


def decay_factors(column: list[Any], decay: Any, now_us: int) -> list[float]:
    return [decay_factor(v, decay.kind, decay.window_us, now_us) for v in column]


def record_score(profile: PreparedProfile, record: dict[str, Any], now_us: int) -> float | None:
    if profile.threshold is None:
        return None
    total = 0.0
    for when, weight in profile.weights:
        if truth(when, record) is True:
            total = total + weight
    if profile.decay is not None:
        decay = profile.decay
        total = total * decay_factor(record.get(decay.attr), decay.kind, decay.window_us, now_us)
    return total
