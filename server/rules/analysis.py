"""Static analysis of rule trees: can a rule match at all, does it match everyone, do two rules overlap.

A rule is put in disjunctive normal form over literals ("this condition is TRUE" or "this condition is
FALSE"), capped at MAX_TERMS terms; a bigger rule is left undecided rather than guessed. A term is
satisfiable when every attribute it mentions has one value meeting all of its literals. Candidate
values come from the constants the literals mention (each constant, its neighbours and the midpoints
between constants), which covers every region an order, equality or set test can tell apart; the
value that works is the example record shown in overlap findings.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .evaluate import leaf_truth
from .instants import DAY_US, show_instant
from .program import Leaf, Node

MAX_TERMS = 64
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
Literal = tuple[Leaf, bool]
Term = tuple[Literal, ...]
_FRESH_STRING = "other_value"
_SEPARATOR = " "


def dnf(node: Node, positive: bool = True) -> list[Term] | None:
    """Terms whose disjunction says when `node` is TRUE (positive) or FALSE; None when too large."""
    kind, payload = node
    if kind == "leaf":
        return [((payload, positive),)]
    if kind == "not":
        return dnf(payload, not positive)
    parts = [dnf(child, positive) for child in payload]
    if any(part is None for part in parts):
        return None
    if (kind == "all") == positive:
        return conjoin(parts)  # type: ignore[arg-type]
    terms = [term for part in parts for term in part]  # type: ignore[union-attr]
    return terms if len(terms) <= MAX_TERMS else None


def conjoin(parts: Iterable[list[Term]]) -> list[Term] | None:
    terms: list[Term] = [()]
    for part in parts:
        terms = [a + b for a in terms for b in part]
        if len(terms) > MAX_TERMS:
            return None
    return terms


@dataclass(frozen=True)
class Domain:
    """What the analysis knows about an attribute: its type and, for enumerations, every value it takes."""

    kind: str | None
    allowed: tuple[Any, ...] | None = None


class Solver:
    def __init__(self, domains: dict[str, Domain], *, allow_nulls: bool = True) -> None:
        self.domains = domains
        self.allow_nulls = allow_nulls
        self._cache: dict[frozenset[Literal], tuple[bool, Any]] = {}

    def witness_for(self, attr: str, literals: frozenset[Literal]) -> tuple[bool, Any]:
        """(found, value) for one attribute's literals."""
        cached = self._cache.get(literals)
        if cached is None:
            cached = self._cache[literals] = self._search(attr, literals)
        return cached

    def _search(self, attr: str, literals: frozenset[Literal]) -> tuple[bool, Any]:
        for value in self.candidates(attr, literals):
            if all(leaf_truth(leaf, value) is positive for leaf, positive in literals):
                return True, value
        return False, None

    def candidates(self, attr: str, literals: frozenset[Literal]) -> list[Any]:
        domain = self.domains.get(attr, Domain(None))
        values: list[Any] = [None] if self.allow_nulls else []
        if domain.allowed is not None:
            return values + list(domain.allowed)
        constants: list[Any] = []
        substrings: list[str] = []
        for leaf, _ in literals:
            operand = leaf.operand
            if leaf.op == "contains":
                substrings.append(operand)
            elif isinstance(operand, (frozenset, tuple)):
                constants.extend(operand)
            elif operand is not None:
                constants.append(operand)
        kind = domain.kind
        if kind == "boolean":
            return [*values, True, False]
        numbers = sorted({c for c in constants if isinstance(c, (int, float)) and not isinstance(c, bool)})
        strings = sorted({c for c in constants if isinstance(c, str)})
        if kind in ("integer", "timestamp"):  # timestamps are whole microseconds
            values += _integer_candidates(numbers)
        elif kind == "date":
            values += _date_candidates(numbers)
        elif kind == "number":
            values += _real_candidates(numbers)
        elif kind == "string":
            values += _string_candidates(strings, substrings)
        else:  # untyped or unknown attribute: try every kind of value
            values += _real_candidates(numbers) + _string_candidates(strings, substrings) + [True, False]
        return values

    def term(self, term: Term) -> tuple[bool, dict[str, Any]]:
        """Whether the term can hold, and a record that makes it hold."""
        by_attr: dict[str, set[Literal]] = {}
        for literal in term:
            by_attr.setdefault(literal[0].attr, set()).add(literal)
        record: dict[str, Any] = {}
        for attr, literals in by_attr.items():
            found, value = self.witness_for(attr, frozenset(literals))
            if not found:
                return False, {}
            record[attr] = value
        return True, record

    def satisfiable(self, terms: list[Term]) -> tuple[bool, dict[str, Any]]:
        for term in terms:
            found, record = self.term(term)
            if found:
                return True, record
        return False, {}


def _integer_candidates(numbers: list[float]) -> list[int]:
    points: set[int] = {0}
    for c in numbers:
        if math.isfinite(c):
            low, high = math.floor(c), math.ceil(c)
            points.update((low - 1, low, high, high + 1))
    # a value a record can hold: 64-bit integers (microseconds of years 1-9999 lie well inside)
    return sorted(p for p in points if INT64_MIN <= p <= INT64_MAX)


def _date_candidates(numbers: list[float]) -> list[int]:
    """Midnights only: a date attribute holds nothing else, so `after noon and before the next
    midnight` is rightly found impossible."""
    points: set[int] = {0}
    for c in numbers:
        if math.isfinite(c):
            low = math.floor(c / DAY_US) * DAY_US if isinstance(c, float) else (c // DAY_US) * DAY_US
            points.update((low - DAY_US, low, low + DAY_US, low + 2 * DAY_US))
    return sorted(points)


def _real_candidates(numbers: list[float]) -> list[float]:
    """Each constant, the doubles just beside it (c + 1 is c itself past 2**53), the midpoints."""
    if not numbers:
        return [0.0]
    points = set(numbers)
    for c in numbers:
        points.update((math.nextafter(c, -math.inf), math.nextafter(c, math.inf)))
    points.update((numbers[0] - 1, numbers[-1] + 1))
    points.update((a + b) / 2 for a, b in itertools.pairwise(numbers))
    return sorted(p for p in points if math.isfinite(p))


def _string_candidates(strings: list[str], substrings: list[str]) -> list[str]:
    values = [*strings, *substrings, "", _FRESH_STRING, _FRESH_STRING + "_2"]
    if len(substrings) > 1:
        values += [_SEPARATOR.join(substrings), _SEPARATOR.join(reversed(substrings))]
    values += [s + _SEPARATOR + sub for s in strings for sub in substrings[:4]]
    return values


def show_record(record: dict[str, Any], kinds: dict[str, str | None]) -> dict[str, Any]:
    """The witness as a person would type it: ISO times for timestamps, readable strings."""
    shown = {}
    for attr in sorted(record):
        value = record[attr]
        kind = kinds.get(attr)
        if kind in ("timestamp", "date") and isinstance(value, int) and not isinstance(value, bool):
            value = show_instant(value, as_date=kind == "date")
        shown[attr] = value
    return shown
