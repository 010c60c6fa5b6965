"""Turn caller input into the canonical rule tree, refusing anything structurally malformed.

Input is either the canonical JSON tree or a SQL boolean expression (see sql_input.py). Every
refusal is an InputError whose field is the JSON Pointer of the offending node, and whose message
quotes the fragment and says what is allowed.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Collection
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..errors import InputError
from ..model.common import (
    DURATION_PATTERN,
    MAX_DURATION_SECONDS,
    MAX_DURATION_TEXT,
    MAX_LONG_TEXT,
    duration_seconds,
)
from ..model.issues import pydantic_issues
from ..model.rules import (
    CONDITION_OPS,
    EQUALITY_OPS,
    INSTANT_OPS,
    NULL_OPS,
    ORDER_OPS,
    SET_OPS,
    WINDOW_OPS,
    RuleNode,
)
from .instants import parse_instant
from .tree import raise_if_over_limits, raw_shape

ATTRIBUTE_RE = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_DURATION_RE = re.compile(DURATION_PATTERN)
_COMBINATORS = ("all", "any", "not")
_RULE_ADAPTER: TypeAdapter[RuleNode] = TypeAdapter(RuleNode)


def parse_rule(
    value: dict[str, Any] | str, *, pointer: str, attributes: Collection[str] | None = None
) -> RuleNode:
    """The canonical tree for a JSON rule tree or a SQL boolean expression.

    `attributes`, when given, is the inventory's attribute names: SQL input naming another column is
    refused (canonical trees keep unknown attributes; the checks report them as findings).
    """
    if isinstance(value, str):
        from .sql_input import sql_to_tree

        value = sql_to_tree(value, pointer=pointer, attributes=attributes)
    if not isinstance(value, dict):
        raise InputError(
            f"a rule must be a JSON object (a condition or all/any/not) or a SQL expression string; "
            f"got {_show(value)}",
            field=pointer or "/",
        )
    raise_if_over_limits(raw_shape(value, pointer))
    _check_node(value, pointer)
    try:
        return _RULE_ADAPTER.validate_json(json.dumps(value), strict=True)
    except ValidationError as exc:  # _check_node covers the known shapes; this is a backstop
        issue = pydantic_issues(exc, value)[0]
        raise InputError(issue.message, field=pointer + issue.pointer) from None


def _show(value: Any, limit: int = 80) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _check_node(root: dict[str, Any], pointer: str) -> None:
    stack: list[tuple[Any, str]] = [(root, pointer)]
    while stack:
        node, where = stack.pop()
        if not isinstance(node, dict):
            raise InputError(
                f"a rule node must be an object: a condition {{op, attr, value}} or one of all/any/not; "
                f"got {_show(node)}",
                field=where or "/",
            )
        combinators = [key for key in _COMBINATORS if key in node]
        if combinators:
            if len(node) != 1:
                raise InputError(
                    f"a combinator node has exactly one key (all, any or not); got keys {sorted(node)} "
                    f"in {_show(node)}",
                    field=where or "/",
                )
            key = combinators[0]
            inner = node[key]
            if key == "not":
                stack.append((inner, f"{where}/not"))
            elif not isinstance(inner, list) or not inner:
                raise InputError(
                    f"'{key}' takes a non-empty list of rule nodes; got {_show(inner)}",
                    field=f"{where}/{key}",
                )
            else:
                stack.extend((child, f"{where}/{key}/{i}") for i, child in enumerate(inner))
            continue
        _check_condition(node, where)


def _check_condition(node: dict[str, Any], where: str) -> None:
    op = node.get("op")
    if op is None:
        raise InputError(
            f"{_show(node)} is neither a condition (it has no 'op') nor a combinator (all, any, not)",
            field=where or "/",
        )
    if op not in CONDITION_OPS:
        raise InputError(
            f"unknown operator {_show(op)}; allowed: {', '.join(CONDITION_OPS)}, and the combinators "
            "all, any, not",
            field=f"{where}/op",
        )
    allowed_keys = {"op", "attr"} if op in NULL_OPS else {"op", "attr", "value"}
    extra = sorted(set(node) - allowed_keys)
    if extra:
        raise InputError(
            f"{extra[0]!r} is not a field of a {op!r} condition; it takes {sorted(allowed_keys)}",
            field=f"{where}/{extra[0]}",
        )
    attr = node.get("attr")
    if not isinstance(attr, str) or not ATTRIBUTE_RE.match(attr):
        raise InputError(
            f"'attr' must be an attribute name (snake_case: a letter, then letters, digits or '_', max 63); "
            f"got {_show(attr)}",
            field=f"{where}/attr",
        )
    if op in NULL_OPS:
        return
    if "value" not in node:
        raise InputError(f"a {op!r} condition needs a 'value'", field=f"{where}/value")
    _check_value(op, node["value"], f"{where}/value")


def _is_scalar(value: Any, *, ordered: bool = False) -> bool:
    if isinstance(value, bool):
        return not ordered
    if isinstance(value, float):
        return math.isfinite(value)
    if isinstance(value, str):
        return len(value) <= MAX_LONG_TEXT
    return isinstance(value, int)


def _check_value(op: str, value: Any, where: str) -> None:
    if op in EQUALITY_OPS and not _is_scalar(value):
        hint = "; test for null with is_null / is_not_null" if value is None else ""
        raise InputError(
            f"{op!r} compares with one string, number or boolean; got {_show(value)}{hint}", field=where
        )
    if op in ORDER_OPS and not _is_scalar(value, ordered=True):
        raise InputError(f"{op!r} compares with one number (or string); got {_show(value)}", field=where)
    if op in SET_OPS:
        if not isinstance(value, list) or not 1 <= len(value) <= 1000:
            raise InputError(
                f"{op!r} takes a list of 1 to 1000 strings, numbers or booleans; got {_show(value)}",
                field=where,
            )
        for index, item in enumerate(value):
            if not _is_scalar(item):
                raise InputError(
                    f"{op!r} list items are strings, numbers or booleans; got {_show(item)}",
                    field=f"{where}/{index}",
                )
    if op == "contains" and not (isinstance(value, str) and 1 <= len(value) <= MAX_LONG_TEXT):
        raise InputError(f"'contains' takes a non-empty substring; got {_show(value)}", field=where)
    if op == "between" and not (
        isinstance(value, list) and len(value) == 2 and all(_is_scalar(v, ordered=True) for v in value)
    ):
        raise InputError(
            f"'between' takes [low, high], two numbers, both ends inclusive; got {_show(value)}", field=where
        )
    if op in WINDOW_OPS and not (isinstance(value, str) and _DURATION_RE.match(value)):
        raise InputError(
            f"{_show(value)} is not a duration: use a positive whole number and a unit m, h, d or w "
            "(e.g. '15m', '14d', '2w')",
            field=where,
        )
    if op in WINDOW_OPS and duration_seconds(value) > MAX_DURATION_SECONDS:
        raise InputError(
            f"{_show(value)} is longer than the longest window, {MAX_DURATION_TEXT}", field=where
        )
    if op in INSTANT_OPS and not (isinstance(value, str) and parse_instant(value) is not None):
        raise InputError(
            f"{op!r} takes an ISO 8601 date or date-time such as '2026-11-01' or "
            f"'2026-11-01T09:00:00.250Z' (years 0001 to 9999, at most 6 fractional digits); "
            f"got {_show(value)}",
            field=where,
        )
