"""Walking rule trees: where each tree sits in a plan, its size, and the limits every tree must keep."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.rules import AllOf, AnyOf, NotOf, RuleNode

MAX_DEPTH = 32
MAX_CONDITIONS = 1000


def children(node: RuleNode) -> list[tuple[str, RuleNode]]:
    """The child nodes with the pointer suffix that reaches each one."""
    if isinstance(node, AllOf):
        return [(f"/all/{i}", child) for i, child in enumerate(node.all)]
    if isinstance(node, AnyOf):
        return [(f"/any/{i}", child) for i, child in enumerate(node.any)]
    if isinstance(node, NotOf):
        return [("/not", node.not_)]
    return []


def is_condition(node: RuleNode) -> bool:
    return not isinstance(node, (AllOf, AnyOf, NotOf))


def nodes(*roots: RuleNode | None) -> Iterator[RuleNode]:
    """Every node of the trees, without pointers (cheaper when only the nodes matter)."""
    stack = [root for root in roots if root is not None]
    while stack:
        current = stack.pop()
        yield current
        if isinstance(current, AllOf):
            stack.extend(current.all)
        elif isinstance(current, AnyOf):
            stack.extend(current.any)
        elif isinstance(current, NotOf):
            stack.append(current.not_)


def conditions(node: RuleNode, pointer: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf condition with its JSON Pointer, depth first, without recursion limits."""
    stack = [(pointer, node)]
    while stack:
        where, current = stack.pop()
        if is_condition(current):
            yield where, current
        else:
            stack.extend((where + suffix, child) for suffix, child in reversed(children(current)))


def plan_trees(plan: Plan) -> Iterator[tuple[str, RuleNode]]:
    """Every rule tree stored in a plan, with the JSON Pointer of its root."""
    for index, profile in enumerate(plan.profiles):
        base = f"/profiles/{index}"
        if profile.eligibility is not None:
            yield f"{base}/eligibility", profile.eligibility
        if profile.suppression is not None:
            yield f"{base}/suppression", profile.suppression
        if profile.scoring is not None:
            for number, weighted in enumerate(profile.scoring.conditions):
                yield f"{base}/scoring/conditions/{number}/when", weighted.when


def raw_shape(value: Any, pointer: str) -> tuple[int, int, str, str]:
    """(depth, conditions, deepest pointer, pointer of the condition past the limit) of a JSON tree.

    Works on plain JSON before any model is built, so an absurdly deep document is refused without
    recursing into it.
    """
    depth = 0
    count = 0
    deepest = pointer
    over_count = ""
    stack = [(value, pointer, 1)]
    while stack:
        node, where, level = stack.pop()
        if level > depth:
            depth, deepest = level, where
        if level > MAX_DEPTH:
            continue  # already too deep; no need to look further down this branch
        if isinstance(node, dict) and len(node) == 1 and next(iter(node)) in ("all", "any", "not"):
            key, inner = next(iter(node.items()))
            if key == "not":
                stack.append((inner, f"{where}/not", level + 1))
            elif isinstance(inner, list):
                numbered = list(enumerate(inner))
                stack.extend((child, f"{where}/{key}/{i}", level + 1) for i, child in reversed(numbered))
        else:
            count += 1
            if count == MAX_CONDITIONS + 1:
                over_count = where
    return depth, count, deepest, over_count


def model_shape(node: RuleNode, pointer: str) -> tuple[int, int, str, str]:
    depth = 0
    count = 0
    deepest = pointer
    over_count = ""
    stack = [(node, pointer, 1)]
    while stack:
        current, where, level = stack.pop()
        if level > depth:
            depth, deepest = level, where
        if is_condition(current):
            count += 1
            if count == MAX_CONDITIONS + 1:
                over_count = where
        else:
            stack.extend((child, where + suffix, level + 1) for suffix, child in reversed(children(current)))
    return depth, count, deepest, over_count


def raise_if_over_limits(shape: tuple[int, int, str, str]) -> None:
    depth, count, deepest, over_count = shape
    if depth > MAX_DEPTH:
        raise InputError(
            f"rule tree is nested more than {MAX_DEPTH} levels deep here; at most {MAX_DEPTH} levels are "
            "allowed: flatten nested all/any of the same kind",
            field=deepest,
        )
    if count > MAX_CONDITIONS:
        raise InputError(
            f"rule tree has {count} conditions and this is number {MAX_CONDITIONS + 1}; at most "
            f"{MAX_CONDITIONS} are allowed: split the profile or use 'in' with a list of values",
            field=over_count,
        )


def check_rule_limits(plan: Plan) -> None:
    """Refuse a plan whose rule trees exceed the depth or size limits; called before any write."""
    for pointer, tree in plan_trees(plan):
        raise_if_over_limits(model_shape(tree, pointer))
