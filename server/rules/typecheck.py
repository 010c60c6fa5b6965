"""Type checking rule trees against the attribute inventory.

Problems are findings, not refusals: the inventory may still be in progress. Attributes with no type
yet are only checked for existence.
"""

from __future__ import annotations

import difflib
import math
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.findings import Finding
from ..model.stages import Attribute
from .render import describe_condition
from .tree import conditions, plan_trees

STAGE = "profiles"
_TIME_KINDS = ("timestamp", "date")
_ORDER = ("lt", "lte", "gt", "gte", "between")
_TIME_OPS = ("within_last", "not_within_last", "before", "after")
_MAX_SUGGESTIONS = 50


def finding(code: str, severity: str, pointer: str, message: str) -> Finding:
    return Finding(code=code, severity=severity, pointer=pointer, message=message, stage=STAGE)


class _LazyText:
    """The condition in words, rendered only when a message needs it (most conditions are fine)."""

    def __init__(self, node: Any) -> None:
        self.node = node

    def __format__(self, spec: str) -> str:
        return format(describe_condition(self.node), spec)

    def __str__(self) -> str:
        return describe_condition(self.node)


INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_KIND_TEXT = {
    "integer": f"an integer (a whole number from {INT64_MIN} to {INT64_MAX})",
    "number": "a number (a finite double; larger integers are rounded to the nearest double)",
}
# The type errors that leave a rule without one meaning: the targets would split (true, false, or a
# conversion error), so such a plan is not simulated or compiled until they are fixed.
BLOCKING_CODES = ("rules.type_mismatch", "rules.time_predicate_on_non_timestamp")


def _fits(value: Any, kind: str) -> bool:
    if kind == "string":
        return isinstance(value, str)
    if kind == "boolean":
        return isinstance(value, bool)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return False
    if kind == "integer":
        return isinstance(value, int) and INT64_MIN <= value <= INT64_MAX
    if kind == "number":
        try:
            return math.isfinite(float(value))
        except OverflowError:
            return False
    return False


def refuse_type_errors(plan: Plan, purpose: str) -> None:
    """Raise InputError, naming the condition, when a rule has a type error (see BLOCKING_CODES)."""
    checker = TypeChecker(plan)
    for found in checker.run(plan):
        if found.code in BLOCKING_CODES:
            raise InputError(
                f"{found.message}. Rules with a type error have no single meaning, so the plan cannot be "
                f"{purpose} until it is fixed",
                field=found.pointer,
            )


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


class TypeChecker:
    def __init__(self, plan: Plan) -> None:
        self.attributes: dict[str, Attribute] = {a.name: a for a in plan.attributes}
        self.findings: list[Finding] = []
        self.troubled_trees: set[str] = set()
        self._suggested = 0

    def run(self, plan: Plan) -> list[Finding]:
        for root, tree in plan_trees(plan):
            for pointer, node in conditions(tree, root):
                if self.condition(pointer, node):
                    self.troubled_trees.add(root)
        for index, profile in enumerate(plan.profiles):
            base = f"/profiles/{index}"
            scoring = profile.scoring
            if scoring is not None and scoring.decay is not None:
                self.decay(f"{base}/scoring/decay/attr", scoring.decay.attr)
            if profile.eligible_by != "rule" and scoring is None:
                self.findings.append(
                    finding(
                        "rules.score_mode_without_scoring",
                        "error",
                        f"{base}/eligible_by",
                        f"profile {profile.id!r} is eligible_by {profile.eligible_by!r} but has no scoring, "
                        "so its score is never computed; add scoring (weighted conditions and a threshold) "
                        "or set eligible_by to 'rule'",
                    )
                )
        return self.findings

    def unknown(self, pointer: str, attr: str) -> None:
        hint = ""
        if self._suggested < _MAX_SUGGESTIONS:
            self._suggested += 1
            close = difflib.get_close_matches(attr, self.attributes, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
        self.findings.append(
            finding(
                "rules.unknown_attribute",
                "warning",
                pointer,
                f"attribute {attr!r} is not in the attribute inventory{hint}; add it to /attributes with "
                "a type, or use an inventoried attribute",
            )
        )

    def decay(self, pointer: str, attr: str) -> None:
        known = self.attributes.get(attr)
        if known is None:
            self.unknown(pointer, attr)
        elif known.type is not None and known.type not in _TIME_KINDS:
            self.findings.append(
                finding(
                    "rules.time_predicate_on_non_timestamp",
                    "error",
                    pointer,
                    f"decay reads {attr!r}, which is a {known.type}; decay needs a timestamp or date "
                    "attribute (e.g. last_seen_at)",
                )
            )

    def condition(self, pointer: str, node: Any) -> bool:
        """Record the findings for one condition; True when it has a type problem."""
        attr = self.attributes.get(node.attr)
        if attr is None:
            self.unknown(f"{pointer}/attr", node.attr)
            return True
        if attr.type is None or node.op in ("is_null", "is_not_null"):
            return False
        text = _LazyText(node)
        if node.op in _TIME_OPS:
            return self._time_predicate_misfits(pointer, node, attr.type, text)
        if self._operator_misfits(pointer, node, attr.type, text):
            return True
        if self._value_misfits(pointer, node, attr.type, text):
            return True
        if attr.allowed_values is not None and node.op in ("eq", "ne", "in", "not_in"):
            self._values_not_allowed(pointer, node, attr, text)
        return False

    def _time_predicate_misfits(self, pointer: str, node: Any, kind: str, text: object) -> bool:
        if kind in _TIME_KINDS:
            return False
        self.problem(
            "rules.time_predicate_on_non_timestamp",
            f"{pointer}/op",
            f"{text}: {node.op} is a time predicate but {node.attr!r} is a {kind}; use it on a timestamp "
            "or date attribute, or compare with eq/lt/gt",
        )
        return True

    def _operator_misfits(self, pointer: str, node: Any, kind: str, text: object) -> bool:
        """An operator the attribute's type has no meaning for (time, contains, order)."""
        op = node.op
        if kind in _TIME_KINDS:
            message = (
                f"{text}: {op} on the {kind} attribute {node.attr!r}; use before/after for a fixed instant "
                "or within_last/not_within_last for a window"
            )
        elif op == "contains" and kind != "string":
            message = f"{text}: contains needs a string attribute but {node.attr!r} is a {kind}; use eq or in"
        elif op in _ORDER and kind not in ("integer", "number"):
            message = (
                f"{text}: {op} on the {kind} attribute {node.attr!r} has no meaningful order; use eq, in "
                "or contains for text, eq for booleans"
            )
        else:
            return False
        self.problem("rules.type_mismatch", f"{pointer}/op", message)
        return True

    def _value_misfits(self, pointer: str, node: Any, kind: str, text: object) -> bool:
        listed = isinstance(node.value, (list, tuple))
        for index, value in enumerate(node.value if listed else [node.value]):
            if not _fits(value, kind):
                self.problem(
                    "rules.type_mismatch",
                    f"{pointer}/value" + (f"/{index}" if listed else ""),
                    f"{text}: {_short(value)} is not a {kind} but {node.attr!r} is a {kind}; write the value "
                    f"as {_KIND_TEXT.get(kind, 'a ' + kind)}",
                )
                return True
        return False

    def _values_not_allowed(self, pointer: str, node: Any, attr: Any, text: object) -> None:
        listed = isinstance(node.value, (list, tuple))
        allowed = set(map(repr, attr.allowed_values))
        shown = ", ".join(repr(v) for v in attr.allowed_values[:10])
        for index, value in enumerate(node.value if listed else [node.value]):
            if repr(value) not in allowed:
                self.findings.append(
                    finding(
                        "rules.value_not_allowed",
                        "warning",
                        f"{pointer}/value" + (f"/{index}" if listed else ""),
                        f"{text}: {value!r} is not one of the values {node.attr!r} takes ({shown}); "
                        "fix the value or add it to allowed_values",
                    )
                )

    def problem(self, code: str, pointer: str, message: str) -> None:
        self.findings.append(finding(code, "error", pointer, message))
