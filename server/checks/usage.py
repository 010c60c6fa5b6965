"""Where a plan uses each attribute and profile, indexed once per check run.

Every check reads this index instead of walking the plan again, so a check run stays linear in
the size of the plan.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date

from ..model import Activation, Attribute, Plan, Profile
from ..model.rules import AllOf, AnyOf, NotOf

Use = tuple[str, str]  # (attribute name, JSON Pointer to where it is named)


def rule_attribute_uses(node: object, pointer: str) -> Iterator[Use]:
    """Attribute names in a rule tree, in document order, each with the pointer to its `attr`."""
    # An explicit stack: rule trees can be deeper than Python's recursion limit allows.
    stack: list[tuple[object, str]] = [(node, pointer)]
    while stack:
        current, where = stack.pop()
        if isinstance(current, AllOf):
            stack.extend((child, f"{where}/all/{i}") for i, child in reversed(list(enumerate(current.all))))
        elif isinstance(current, AnyOf):
            stack.extend((child, f"{where}/any/{i}") for i, child in reversed(list(enumerate(current.any))))
        elif isinstance(current, NotOf):
            stack.append((current.not_, f"{where}/not"))
        else:
            yield current.attr, f"{where}/attr"  # type: ignore[attr-defined]


def profile_targeting_uses(profile: Profile, index: int) -> list[Use]:
    """Attributes that decide who a profile targets: eligibility, scoring conditions and decay."""
    base = f"/profiles/{index}"
    uses: list[Use] = []
    if profile.eligibility is not None:
        uses.extend(rule_attribute_uses(profile.eligibility, f"{base}/eligibility"))
    if profile.scoring is not None:
        for k, condition in enumerate(profile.scoring.conditions):
            uses.extend(rule_attribute_uses(condition.when, f"{base}/scoring/conditions/{k}/when"))
        if profile.scoring.decay is not None:
            uses.append((profile.scoring.decay.attr, f"{base}/scoring/decay/attr"))
    return uses


def profile_suppression_uses(profile: Profile, index: int) -> list[Use]:
    if profile.suppression is None:
        return []
    return list(rule_attribute_uses(profile.suppression, f"/profiles/{index}/suppression"))


def activation_sent_uses(activation: Activation, index: int) -> list[Use]:
    """Attributes sent to the destination: match keys, then payload attributes."""
    base = f"/activations/{index}"
    return [(name, f"{base}/match_keys/{k}") for k, name in enumerate(activation.match_keys)] + [
        (name, f"{base}/payload_attributes/{k}") for k, name in enumerate(activation.payload_attributes)
    ]


@dataclass
class PlanIndex:
    plan: Plan
    as_of: date
    attributes: dict[str, tuple[int, Attribute]] = field(default_factory=dict)
    profiles: dict[str, tuple[int, Profile]] = field(default_factory=dict)
    targeting: list[list[Use]] = field(default_factory=list)
    suppression: list[list[Use]] = field(default_factory=list)
    sent: list[list[Use]] = field(default_factory=list)

    def profile_of(self, activation: Activation) -> tuple[int, Profile] | None:
        return self.profiles.get(activation.profile_id)

    def activation_uses(self, index: int) -> list[Use]:
        """What an activation relies on: its profile's targeting attributes plus what it sends."""
        found = self.profile_of(self.plan.activations[index])
        targeting = self.targeting[found[0]] if found else []
        return targeting + self.sent[index]

    def activation_inputs(self, index: int) -> list[Use]:
        """Everything whose freshness an activation depends on, suppression included."""
        found = self.profile_of(self.plan.activations[index])
        upstream = self.targeting[found[0]] + self.suppression[found[0]] if found else []
        return upstream + self.sent[index]

    def referenced_attribute_names(self) -> set[str]:
        names: set[str] = set()
        for uses in (*self.targeting, *self.suppression, *self.sent):
            names.update(name for name, _ in uses)
        return names


def _uses_of(profile: Profile, position: int) -> tuple[Profile, list[Use], list[Use]]:
    return profile, profile_targeting_uses(profile, position), profile_suppression_uses(profile, position)


def build_index(plan: Plan) -> PlanIndex:
    index = PlanIndex(plan=plan, as_of=plan.updated_at.date())
    # First occurrence wins, matching what the duplicate-key check reports as the original.
    for i, attribute in enumerate(plan.attributes):
        index.attributes.setdefault(attribute.name, (i, attribute))
    for i, profile in enumerate(plan.profiles):
        index.profiles.setdefault(profile.id, (i, profile))
        _, targeting, suppression = _uses_of(profile, i)
        index.targeting.append(targeting)
        index.suppression.append(suppression)
    index.sent = [activation_sent_uses(a, i) for i, a in enumerate(plan.activations)]
    return index


def unique_names(uses: list[Use]) -> list[str]:
    """Names in first-use order, each once."""
    return list(dict.fromkeys(name for name, _ in uses))


def name_list(names: list[str], limit: int = 5) -> str:
    """'a, b, c' or 'a, b, c, d, e and 7 more', so messages stay short on big plans."""
    shown = ", ".join(names[:limit])
    return f"{shown} and {len(names) - limit} more" if len(names) > limit else shown
