"""A plan's profiles prepared for evaluation at one instant: the shared input of every evaluator.

Time predicates become comparisons with whole epoch microseconds here, once (see instants.py), so
that the Python evaluator, the static analysis and the compiled targets all test the same boundaries.
Constants compared with a `number` attribute become doubles, the arithmetic every target uses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..model import Plan
from ..model.common import duration_seconds
from ..model.rules import AllOf, AnyOf, NotOf, RuleNode, WindowCondition
from ..model.stages import Profile
from .instants import MICROS, as_utc, epoch_us, parse_instant
from .tree import nodes

__all__ = ["as_utc", "epoch_us", "parse_instant"]


@dataclass(eq=False, slots=True)
class Leaf:
    """One condition, with its operand ready for comparison (a set for in/not_in, epoch microseconds
    for time, doubles for a number attribute).

    Two leaves are equal when they test the same thing, wherever they sit in the plan: the evaluator
    and the analysis share work between them. (Not a frozen dataclass: those are slow to build.)
    """

    op: str
    attr: str
    operand: Any
    pointer: str
    source: Any

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Leaf)
            and self.op == other.op
            and self.attr == other.attr
            and self.operand == other.operand
        )

    def __hash__(self) -> int:
        return hash((self.op, self.attr, self.operand))


# Internal tree: ("all", [nodes]), ("any", [nodes]), ("not", node) or ("leaf", Leaf).
Node = tuple[str, Any]


Kinds = Mapping[str, "str | None"]


def prepare(node: RuleNode, pointer: str, now_us: int, kinds: Kinds) -> Node:
    if isinstance(node, AllOf):
        return ("all", [prepare(c, f"{pointer}/all/{i}", now_us, kinds) for i, c in enumerate(node.all)])
    if isinstance(node, AnyOf):
        return ("any", [prepare(c, f"{pointer}/any/{i}", now_us, kinds) for i, c in enumerate(node.any)])
    if isinstance(node, NotOf):
        return ("not", prepare(node.not_, f"{pointer}/not", now_us, kinds))
    return ("leaf", Leaf(node.op, node.attr, _operand(node, now_us, kinds), pointer, node))


def as_double(value: Any) -> Any:
    """A constant as the double a `number` attribute is compared with (an int past the double range
    stays as it is: the type check reports it, and Python still compares it exactly)."""
    if isinstance(value, int) and not isinstance(value, bool):
        try:
            return float(value)
        except OverflowError:
            return value
    return value


def _operand(node: Any, now_us: int, kinds: Kinds) -> Any:
    op = node.op
    number = kinds.get(node.attr) == "number"
    if op in ("in", "not_in"):
        values = [as_double(v) for v in node.value] if number else node.value
        return frozenset(values) if all(_hashable(v) for v in values) else tuple(values)
    if op in ("within_last", "not_within_last"):
        return now_us - duration_seconds(node.value) * MICROS
    if op in ("before", "after"):
        return epoch_us(node.value)
    if op == "between":
        return tuple(as_double(v) for v in node.value) if number else tuple(node.value)
    value = getattr(node, "value", None)
    return as_double(value) if number else value


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


@dataclass(frozen=True)
class Decay:
    kind: str
    attr: str
    window_us: int


@dataclass(frozen=True)
class PreparedProfile:
    index: int
    id: str
    priority: int
    eligible_by: str
    eligibility: Node | None
    suppression: Node | None
    weights: tuple[tuple[Node, float], ...]
    threshold: float | None
    decay: Decay | None
    fallback: str | None
    profile: Profile = field(compare=False, hash=False)

    @property
    def uses_rule(self) -> bool:
        return self.eligible_by in ("rule", "rule_and_score", "rule_or_score")

    @property
    def uses_score(self) -> bool:
        return self.eligible_by != "rule"


@dataclass(frozen=True)
class Program:
    now_us: int
    profiles: tuple[PreparedProfile, ...]
    attribute_types: dict[str, str | None]

    @property
    def by_priority(self) -> list[PreparedProfile]:
        """Lower priority wins; ties go to the profile listed first in the plan."""
        return sorted(self.profiles, key=lambda p: (p.priority, p.index))


def prepare_profile(profile: Profile, index: int, now_us: int, kinds: Kinds) -> PreparedProfile:
    base = f"/profiles/{index}"
    scoring = profile.scoring
    weights: tuple[tuple[Node, float], ...] = ()
    decay = None
    if scoring is not None:
        weights = tuple(
            (prepare(w.when, f"{base}/scoring/conditions/{i}/when", now_us, kinds), float(w.weight))
            for i, w in enumerate(scoring.conditions)
        )
        if scoring.decay is not None:
            window_us = duration_seconds(scoring.decay.window) * MICROS
            decay = Decay(scoring.decay.kind, scoring.decay.attr, window_us)
    return PreparedProfile(
        index=index,
        id=profile.id,
        priority=profile.priority,
        eligible_by=profile.eligible_by,
        eligibility=None
        if profile.eligibility is None
        else prepare(profile.eligibility, f"{base}/eligibility", now_us, kinds),
        suppression=None
        if profile.suppression is None
        else prepare(profile.suppression, f"{base}/suppression", now_us, kinds),
        weights=weights,
        threshold=None if scoring is None else float(scoring.threshold),
        decay=decay,
        fallback=profile.fallback,
        profile=profile,
    )


def uses_now(profile: Profile) -> bool:
    """True when a rule compares with the evaluation time (a within_last window), so preparing or
    analysing the profile gives a different result at another instant."""
    rules = [profile.eligibility, profile.suppression]
    if profile.scoring is not None:
        rules += [w.when for w in profile.scoring.conditions]
    return any(isinstance(node, WindowCondition) for node in nodes(*rules))


def attribute_kinds(plan: Plan) -> dict[str, str | None]:
    return {a.name: a.type for a in plan.attributes}


def prepare_plan(plan: Plan, now: datetime) -> Program:
    now_us = epoch_us(now)
    kinds = attribute_kinds(plan)
    return Program(
        now_us=now_us,
        profiles=tuple(prepare_profile(p, i, now_us, kinds) for i, p in enumerate(plan.profiles)),
        attribute_types=kinds,
    )


def leaves(node: Node) -> list[Leaf]:
    found: list[Leaf] = []
    stack = [node]
    while stack:
        kind, payload = stack.pop()
        if kind == "leaf":
            found.append(payload)
        elif kind == "not":
            stack.append(payload)
        else:
            stack.extend(payload)
    return found
