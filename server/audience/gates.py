"""How an activation's consent gate is checked on data: each signal names a boolean attribute.

A gate entry counts as the boolean attribute it names as whole words, after dropping any
parenthesised note: 'email_opt_in' passes rows where email_opt_in IS TRUE, and a leading 'not'
('not email_unsubscribed') passes rows where the attribute IS FALSE. An unknown (null) consent
state never passes: a person is activatable only when the data shows the consent.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..model import Activation, Plan

_NOTE = re.compile(r"\([^)]*\)")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_NEGATIONS = ("not", "no")


@dataclass(frozen=True)
class GateCheck:
    attr: str
    negated: bool

    def describe(self) -> str:
        return f"{self.attr} IS {'FALSE' if self.negated else 'TRUE'}"


@dataclass(frozen=True)
class ActivationGate:
    index: int
    activation: Activation
    checks: tuple[GateCheck, ...]
    unmapped: tuple[str, ...]


def _words(text: str) -> list[str]:
    return [w for w in _NON_WORD.sub(" ", _NOTE.sub(" ", text.lower())).split() if w]


def gate_check(entry: str, boolean_attributes: set[str]) -> GateCheck | None:
    """The attribute a gate entry names, or None when it names no boolean attribute."""
    words = _words(entry)
    text = "_" + "_".join(words) + "_"
    named = [name for name in boolean_attributes if f"_{name}_" in text]
    if not named:
        return None
    attr = max(named, key=len)  # 'email_opt_in' over a hypothetical 'opt_in'
    negated = bool(words) and words[0] in _NEGATIONS and not attr.startswith(words[0] + "_")
    return GateCheck(attr, negated)


def activation_gates(plan: Plan) -> list[ActivationGate]:
    booleans = {a.name for a in plan.attributes if a.type == "boolean"}
    gates = []
    for index, activation in enumerate(plan.activations):
        checks: list[GateCheck] = []
        unmapped: list[str] = []
        for entry in activation.consent_gate:
            check = gate_check(entry, booleans)
            if check is None:
                unmapped.append(entry)
            elif check not in checks:
                checks.append(check)
        gates.append(ActivationGate(index, activation, tuple(checks), tuple(unmapped)))
    return gates
