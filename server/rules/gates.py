"""An activation's consent gate as rule conditions, so that exports carry it (docs/exports.md).

A gate entry is text such as 'email_opt_in', 'not email_unsubscribed' or 'personalization_consent
(Consent Mode personalization_storage)'. When its first word names a boolean attribute of the
inventory, the entry becomes a condition: the attribute is true, or for 'not X' (also '!X'), false.
A missing value satisfies neither, so a record without a recorded choice is never activated. An
entry that names no boolean attribute cannot be evaluated by a destination and is returned as such.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Activation, Plan
from ..model.rules import AllOf, EqualityCondition, RuleNode

_ENTRY = re.compile(r"^\s*(?P<negated>not\s+|!\s*)?(?P<attr>[A-Za-z_][A-Za-z0-9_.]*)")


@dataclass(frozen=True)
class GateEntry:
    """One consent-gate entry: its text, its pointer, and the condition it became (None: unmapped)."""

    text: str
    pointer: str
    condition: EqualityCondition | None


def gate_entries(plan: Plan, activation: Activation, index: int) -> list[GateEntry]:
    """The activation's consent-gate entries with their conditions; `index` is its position in
    plan.activations, for the pointers."""
    booleans = {a.name for a in plan.attributes if a.type == "boolean"}
    entries = []
    for i, text in enumerate(activation.consent_gate):
        match = _ENTRY.match(text)
        condition = None
        if match and match["attr"] in booleans:
            condition = EqualityCondition(op="eq", attr=match["attr"], value=not match["negated"])
        entries.append(GateEntry(text, f"/activations/{index}/consent_gate/{i}", condition))
    return entries


def gate_rule(plan: Plan, activation: Activation, index: int) -> RuleNode | None:
    """The mapped entries as one rule (all must hold), or None when no entry maps to an attribute."""
    conditions = [e.condition for e in gate_entries(plan, activation, index) if e.condition is not None]
    if not conditions:
        return None
    return conditions[0] if len(conditions) == 1 else AllOf(all=tuple(conditions))
