"""The canonical rule tree stored in the plan: combinators and typed conditions.

The shape of each condition depends on its operator, so conditions are a union discriminated by
`op`; the combinators are told apart by their single key. Limits that JSON Schema cannot express
(depth, number of conditions) are enforced by the rules layer before any write.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args

from pydantic import ConfigDict, Discriminator, Field, Tag
from typing_extensions import TypeAliasType

from .common import MAX_LONG_TEXT, AttributeName, Duration, Strict, without_titles

Scalar = TypeAliasType("Scalar", Annotated[str, Field(max_length=MAX_LONG_TEXT)] | int | float | bool)
OrderedScalar = TypeAliasType("OrderedScalar", Annotated[str, Field(max_length=MAX_LONG_TEXT)] | int | float)

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


def _compact_node_schema(schema: dict[str, Any]) -> None:
    # Rule nodes appear in define_profiles' schema, within the tool-list budget, so they leave out
    # `additionalProperties: false`; unknown keys are still refused by model validation, which
    # names the JSON Pointer.
    without_titles(schema)
    schema.pop("additionalProperties", None)


class RuleModel(Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, json_schema_extra=_compact_node_schema)


class EqualityCondition(RuleModel):
    # No description: the op names say it, and every byte is in the tool list.

    op: Literal["eq", "ne"]
    attr: AttributeName
    value: Scalar


class OrderCondition(RuleModel):
    op: Literal["lt", "lte", "gt", "gte"]
    attr: AttributeName
    value: OrderedScalar


class SetCondition(RuleModel):
    op: Literal["in", "not_in"]
    attr: AttributeName
    value: Annotated[tuple[Scalar, ...], Field(min_length=1, max_length=1000)]


class ContainsCondition(RuleModel):
    """The string attribute contains the substring."""

    op: Literal["contains"]
    attr: AttributeName
    value: Annotated[str, Field(min_length=1, max_length=MAX_LONG_TEXT)]


class NullCondition(RuleModel):
    op: Literal["is_null", "is_not_null"]
    attr: AttributeName


class BetweenCondition(RuleModel):
    op: Literal["between"]
    attr: AttributeName
    value: Annotated[tuple[OrderedScalar, ...], Field(min_length=2, max_length=2)]


class WindowCondition(RuleModel):
    """attr is within (or not) the last `value` before the evaluation time."""

    op: Literal["within_last", "not_within_last"]
    attr: AttributeName
    value: Duration


class InstantCondition(RuleModel):
    """attr is before or after an ISO 8601 date or date-time."""

    op: Literal["before", "after"]
    attr: AttributeName
    value: datetime | date


_CONDITION_CLASSES = {
    "equality": EqualityCondition,
    "order": OrderCondition,
    "set": SetCondition,
    "contains": ContainsCondition,
    "null": NullCondition,
    "between": BetweenCondition,
    "window": WindowCondition,
    "instant": InstantCondition,
}
_CONDITION_KIND = {
    op: kind for kind, cls in _CONDITION_CLASSES.items() for op in get_args(cls.model_fields["op"].annotation)
}


def _condition_kind(value: Any) -> str | None:
    # A callable discriminator keeps the JSON Schema a plain oneOf (no op-to-class mapping), which
    # the tool-list budget needs; validation still picks the one class an op belongs to.
    op = value.get("op") if isinstance(value, dict) else getattr(value, "op", None)
    return _CONDITION_KIND.get(op) if isinstance(op, str) else None


Condition = Annotated[
    Annotated[EqualityCondition, Tag("equality")]
    | Annotated[OrderCondition, Tag("order")]
    | Annotated[SetCondition, Tag("set")]
    | Annotated[ContainsCondition, Tag("contains")]
    | Annotated[NullCondition, Tag("null")]
    | Annotated[BetweenCondition, Tag("between")]
    | Annotated[WindowCondition, Tag("window")]
    | Annotated[InstantCondition, Tag("instant")],
    Discriminator(
        _condition_kind,
        custom_error_type="unknown_op",
        custom_error_message=f"op must be one of {', '.join(CONDITION_OPS)}",
    ),
]


class AllOf(RuleModel):
    all: Annotated[tuple[RuleNode, ...], Field(min_length=1, max_length=1000)]


class AnyOf(RuleModel):
    any: Annotated[tuple[RuleNode, ...], Field(min_length=1, max_length=1000)]


class NotOf(RuleModel):
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


# A named alias, so JSON Schemas define the rule tree once ($defs/RuleNode) and refer to it.
RuleNode = TypeAliasType(
    "RuleNode",
    Annotated[
        Annotated[AllOf, Tag("all")]
        | Annotated[AnyOf, Tag("any")]
        | Annotated[NotOf, Tag("not")]
        | Annotated[Condition, Tag("condition")],
        Discriminator(_rule_kind),
    ],
)

AllOf.model_rebuild()
AnyOf.model_rebuild()
NotOf.model_rebuild()


# The rule-node models whose schemas leave out `additionalProperties: false` (see RuleModel).
RULE_NODE_NAMES = frozenset(cls.__name__ for cls in RuleModel.__subclasses__())
