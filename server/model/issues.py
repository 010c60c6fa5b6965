"""Schema-level validation of plan documents, reported as data: every issue, not just the first."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from typing import Any

from pydantic import ValidationError

from .plan import Plan
from .schema import plan_json_schema


@dataclass(frozen=True)
class Issue:
    pointer: str
    code: str
    message: str


def escape_pointer(part: object) -> str:
    return str(part).replace("~", "~0").replace("/", "~1")


def pointer_for(loc: tuple[Any, ...], data: Any) -> str:
    """A JSON Pointer for a pydantic error location.

    Discriminated unions put tag names ('condition', 'eq', ...) into `loc`; walking the actual
    document keeps only the parts that exist in it, so the pointer addresses real data.
    """
    parts: list[str] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and isinstance(part, str) and part in node:
            node = node[part]
            parts.append(escape_pointer(part))
        elif isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]
            parts.append(str(part))
        elif isinstance(node, (dict, list)):
            continue  # a union tag, not a key
        else:
            parts.append(escape_pointer(part))  # a missing field under a real node
            node = None
    return "/" + "/".join(parts) if parts else ""


def _describe_pydantic_error(err: Any) -> str:
    message = str(err["msg"])
    if err["type"] == "missing":
        return "is required"
    if err["type"] == "extra_forbidden":
        return "is not a known field here; remove it (see docs/plan.schema.json)"
    if "input" in err and err["type"] not in {"model_type", "dict_type"}:
        shown = repr(err["input"])
        if len(shown) > 80:
            shown = shown[:77] + "..."
        message = f"{message} (got {shown})"
    return message


def pydantic_issues(exc: ValidationError, data: Any) -> list[Issue]:
    issues = []
    for err in exc.errors():
        pointer = pointer_for(tuple(err["loc"]), data)
        if err["type"] == "missing":
            pointer = pointer_for(tuple(err["loc"][:-1]), data) + "/" + escape_pointer(err["loc"][-1])
        issues.append(Issue(pointer, f"schema.{err['type']}", _describe_pydantic_error(err)))
    return _dedupe(issues)


def _dedupe(issues: list[Issue]) -> list[Issue]:
    seen: set[tuple[str, str]] = set()
    unique = []
    for issue in issues:
        key = (issue.pointer, issue.message)
        if key not in seen:
            seen.add(key)
            unique.append(issue)
    return unique


@cache
def _validator():  # -> jsonschema.Draft202012Validator
    # jsonschema costs ~120 ms to import; only hand-edited files and `plans validate` need it, so
    # it is imported on first use to keep server start-up fast.
    import jsonschema

    return jsonschema.Draft202012Validator(
        plan_json_schema(), format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def schema_issues(data: Any) -> list[Issue]:
    """Every JSON Schema violation in a document, with the deepest useful pointer."""
    from jsonschema.exceptions import best_match

    issues = []
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(map(str, e.path))):
        # For oneOf failures the best match names the branch that came closest.
        best = best_match([error]) or error
        pointer = "/" + "/".join(escape_pointer(p) for p in best.absolute_path) if best.absolute_path else ""
        issues.append(Issue(pointer, f"schema.{best.validator}", best.message[:300]))
    return _dedupe(issues)


def model_issues(data: Any) -> list[Issue]:
    try:
        Plan.model_validate_json(json.dumps(data), strict=True)
    except ValidationError as exc:
        return pydantic_issues(exc, data)
    return []
