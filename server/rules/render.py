"""Conditions in words (SQL-like), for explanations and finding messages."""

from __future__ import annotations

import json
from typing import Any

from ..model.rules import AllOf, AnyOf, NotOf, RuleNode

_SYMBOLS = {"eq": "=", "ne": "<>", "lt": "<", "lte": "<=", "gt": ">", "gte": ">="}


def literal(value: Any) -> str:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if hasattr(value, "isoformat"):
        return "'" + value.isoformat() + "'"
    return json.dumps(value)


def describe_condition(node: Any) -> str:
    op, attr = node.op, node.attr
    if op in _SYMBOLS:
        return f"{attr} {_SYMBOLS[op]} {literal(node.value)}"
    if op in ("in", "not_in"):
        items = ", ".join(literal(v) for v in node.value[:10]) + (", ..." if len(node.value) > 10 else "")
        return f"{attr} {'IN' if op == 'in' else 'NOT IN'} ({items})"
    if op == "contains":
        return f"{attr} contains {literal(node.value)}"
    if op == "is_null":
        return f"{attr} IS NULL"
    if op == "is_not_null":
        return f"{attr} IS NOT NULL"
    if op == "between":
        return f"{attr} BETWEEN {literal(node.value[0])} AND {literal(node.value[1])}"
    if op == "within_last":
        return f"{attr} within the last {node.value}"
    if op == "not_within_last":
        return f"{attr} not within the last {node.value}"
    return f"{attr} {op} {literal(node.value)}"


def describe(node: RuleNode, limit: int = 300) -> str:
    text = _describe(node)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _describe(node: RuleNode) -> str:
    if isinstance(node, AllOf):
        return (
            "(" + " AND ".join(_describe(c) for c in node.all) + ")"
            if len(node.all) > 1
            else _describe(node.all[0])
        )
    if isinstance(node, AnyOf):
        return (
            "(" + " OR ".join(_describe(c) for c in node.any) + ")"
            if len(node.any) > 1
            else _describe(node.any[0])
        )
    if isinstance(node, NotOf):
        return f"NOT {_describe(node.not_)}"
    return describe_condition(node)
