"""A plan's profiles prepared for evaluation at one instant: the shared input of every evaluator.

Time predicates become comparisons with epoch seconds here, once, so that the Python evaluator, the
static analysis and the compiled targets all test the same boundaries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timezone
from typing import Any

from ..model import Plan
from ..model.common import duration_seconds
from ..model.rules import AllOf, AnyOf, NotOf, RuleNode, WindowCondition
from ..model.stages import Profile
from .tree import nodes


def as_utc(moment: datetime | date) -> datetime:
    """Dates are midnight UTC; naive date-times are taken as UTC."""
    if not isinstance(moment, datetime):
        moment = datetime.combine(moment, time(), tzinfo=timezone.utc)
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def epoch(moment: datetime | date) -> float:
    return as_utc(moment).timestamp()


@dataclass(eq=False, slots=True)
class Leaf:
    """One condition, with its operand ready for comparison (a set for in/not_in, epoch seconds for time).

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


def prepare(node: RuleNode, pointer: str, now_epoch: float) -> Node:
    if isinstance(node, AllOf):
        return ("all", [prepare(child, f"{pointer}/all/{i}", now_epoch) for i, child in enumerate(node.all)])
    if isinstance(node, AnyOf):
        return ("any", [prepare(child, f"{pointer}/any/{i}", now_epoch) for i, child in enumerate(node.any)])
    if isinstance(node, NotOf):
        return ("not", prepare(node.not_, f"{pointer}/not", now_epoch))
    return ("leaf", Leaf(node.op, node.attr, _operand(node, now_epoch), pointer, node))


def _operand(node: Any, now_epoch: float) -> Any:
    op = node.op
    if op in ("in", "not_in"):
        return frozenset(node.value) if all(_hashable(v) for v in node.value) else tuple(node.value)
    if op in ("within_last", "not_within_last"):
        return now_epoch - duration_seconds(node.value)
    if op in ("before", "after"):
        return epoch(node.value)
    if op == "between":
        return tuple(node.value)
    return getattr(node, "value", None)


def _hashable(value: Any) -> bool:
    return isinstance(value, (str, int, float, bool))


@dataclass(frozen=True)
class Decay:
    kind: str
    attr: str
    window_seconds: int


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
    now_epoch: float
    profiles: tuple[PreparedProfile, ...]
    attribute_types: dict[str, str | None]

    @property
    def by_priority(self) -> list[PreparedProfile]:
        """Lower priority wins; ties go to the profile listed first in the plan."""
        return sorted(self.profiles, key=lambda p: (p.priority, p.index))


def prepare_profile(profile: Profile, index: int, now_epoch: float) -> PreparedProfile:
    base = f"/profiles/{index}"
    scoring = profile.scoring
    weights: tuple[tuple[Node, float], ...] = ()
    decay = None
    if scoring is not None:
        weights = tuple(
            (prepare(w.when, f"{base}/scoring/conditions/{i}/when", now_epoch), float(w.weight))
            for i, w in enumerate(scoring.conditions)
        )
        if scoring.decay is not None:
            decay = Decay(scoring.decay.kind, scoring.decay.attr, duration_seconds(scoring.decay.window))
    return PreparedProfile(
        index=index,
        id=profile.id,
        priority=profile.priority,
        eligible_by=profile.eligible_by,
        eligibility=None
        if profile.eligibility is None
        else prepare(profile.eligibility, f"{base}/eligibility", now_epoch),
        suppression=None
        if profile.suppression is None
        else prepare(profile.suppression, f"{base}/suppression", now_epoch),
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


def prepare_plan(plan: Plan, now: datetime) -> Program:
    now_epoch = epoch(now)
    return Program(
        now_epoch=now_epoch,
        profiles=tuple(prepare_profile(p, i, now_epoch) for i, p in enumerate(plan.profiles)),
        attribute_types={a.name: a.type for a in plan.attributes},
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


def parse_instant(text: str) -> datetime | date | None:
    """An ISO 8601 date or date-time (with Z allowed), or None when the text is neither."""
    try:
        return (
            date.fromisoformat(text)
            if len(text) == 10
            else datetime.fromisoformat(text.replace("Z", "+00:00"))
        )
    except ValueError:
        return None
