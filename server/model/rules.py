"""The canonical rule tree stored in the plan: combinators and typed conditions.

The shape of each condition depends on its operator, so conditions are a union discriminated by
`op`; the combinators are told apart by their single key. Limits that JSON Schema cannot express
(depth, number of conditions) are enforced by the rules layer before any write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag

from .common import MAX_LONG_TEXT, AttributeName, Duration, Strict

Scalar = Annotated[str, Field(max_length=MAX_LONG_TEXT)] | int | float | bool
OrderedScalar = Annotated[str, Field(max_length=MAX_LONG_TEXT)] | int | float

EQUALITY_OPS = ("eq", "ne")
ORDER_OPS = ("lt", "lte", "gt", "gte")
SET_OPS = ("in", "not_in")
NULL_OPS = ("is_null", "is_not_null")
WINDOW_OPS = ("within_last", "not_within_last")
INSTANT_OPS = ("before", "after")
CONDITION_OPS = (
    *EQUALITY_OPS,
    *ORDER_OPS,
    *SET_OPS,
    "contains",
    *NULL_OPS,
    "between",
    *WINDOW_OPS,
    *INSTANT_OPS,
)


class EqualityCondition(Strict):
    """attr = value, or attr <> value."""

    op: Literal["eq", "ne"]
    attr: AttributeName
    value: Scalar


class OrderCondition(Strict):
    """attr < value, <=, >, >=."""

    op: Literal["lt", "lte", "gt", "gte"]
    attr: AttributeName
    value: OrderedScalar


class SetCondition(Strict):
    """attr IN (values) or NOT IN."""

    op: Literal["in", "not_in"]
    attr: AttributeName
    value: Annotated[tuple[Scalar, ...], Field(min_length=1, max_length=1000)]


class ContainsCondition(Strict):
    """The string attribute contains the substring value."""

    op: Literal["contains"]
    attr: AttributeName
    value: Annotated[str, Field(min_length=1, max_length=MAX_LONG_TEXT)]


class NullCondition(Strict):
    """attr IS NULL or IS NOT NULL; takes no value."""

    op: Literal["is_null", "is_not_null"]
    attr: AttributeName


class BetweenCondition(Strict):
    """low <= attr <= high, both ends inclusive."""

    op: Literal["between"]
    attr: AttributeName
    value: Annotated[tuple[OrderedScalar, ...], Field(min_length=2, max_length=2)]


class WindowCondition(Strict):
    """The timestamp attribute lies within (or not within) the last `value` before evaluation time."""

    op: Literal["within_last", "not_within_last"]
    attr: AttributeName
    value: Duration


class InstantCondition(Strict):
    """The timestamp attribute is before or after a fixed instant (ISO 8601 date or date-time)."""

    op: Literal["before", "after"]
    attr: AttributeName
    value: datetime | date


Condition = Annotated[
    EqualityCondition
    | OrderCondition
    | SetCondition
    | ContainsCondition
    | NullCondition
    | BetweenCondition
    | WindowCondition
    | InstantCondition,
    Field(discriminator="op"),
]


class AllOf(Strict):
    """Every child matches (AND)."""

    all: Annotated[tuple[RuleNode, ...], Field(min_length=1, max_length=1000)]


class AnyOf(Strict):
    """At least one child matches (OR)."""

    any: Annotated[tuple[RuleNode, ...], Field(min_length=1, max_length=1000)]


class NotOf(Strict):
    """The child does not match."""

    not_: RuleNode = Field(alias="not")


def _rule_kind(value: Any) -> str | None:
    if isinstance(value, dict):
        for key in ("all", "any", "not"):
            if key in value:
                return key
        return "condition"
    for kind, cls in (("all", AllOf), ("any", AnyOf), ("not", NotOf)):
        if isinstance(value, cls):
            return kind
    return "condition"


RuleNode = Annotated[
    Annotated[AllOf, Tag("all")]
    | Annotated[AnyOf, Tag("any")]
    | Annotated[NotOf, Tag("not")]
    | Annotated[Condition, Tag("condition")],
    Discriminator(_rule_kind),
]

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()
