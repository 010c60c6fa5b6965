"""What the ODCS v3 data contract needs beyond the plan: type names, classification and SLAs."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model import Plan
from ..model.final import is_final

# The default dialect's (DuckDB) column types for the inventory's logical types.
PHYSICAL_TYPES = {
    "string": "VARCHAR",
    "integer": "BIGINT",
    "number": "DOUBLE",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMPTZ",
    "date": "DATE",
}
# ODCS leaves classification free-form; these follow its examples (public, confidential, restricted).
CLASSIFICATION = {
    "none": "internal",
    "pseudonymous": "confidential",
    "direct": "restricted",
    "sensitive": "restricted-sensitive",
    "special_category": "restricted-special-category",
}
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


@dataclass
class Member:
    username: str
    role: str
    description: str = ""


@dataclass
class Sla:
    attribute: str
    value: int
    unit: str


@dataclass
class ContractContext:
    status: str
    purpose: str
    usage: str
    members: list[Member] = field(default_factory=list)
    slas: list[Sla] = field(default_factory=list)
    physical: dict[str, str] = field(default_factory=lambda: dict(PHYSICAL_TYPES))
    classification: dict[str, str] = field(default_factory=lambda: dict(CLASSIFICATION))


def contract_context(plan: Plan) -> ContractContext:
    goals = "; ".join(g.statement for g in plan.intake.goals)
    members: dict[tuple[str, str], Member] = {}
    for owner in plan.governance.owners:
        members.setdefault((owner.owner, f"owner:{owner.area}"), Member(owner.owner, f"owner:{owner.area}"))
        if owner.backup:
            members.setdefault(
                (owner.backup, f"backup:{owner.area}"), Member(owner.backup, f"backup:{owner.area}")
            )
    for attribute in plan.attributes:
        if attribute.owner:
            members.setdefault(
                (attribute.owner, "attribute owner"),
                Member(attribute.owner, "attribute owner", "Owns one or more inventoried attributes."),
            )
    slas = [
        Sla(a.name, int(a.freshness_sla[:-1]), _UNITS[a.freshness_sla[-1]])
        for a in plan.attributes
        if a.freshness_sla
    ]
    return ContractContext(
        # Only a finalized revision is a contract to build on; anything else is a proposal under review.
        status="active" if is_final(plan) else "draft",
        purpose=f"Attributes behind the audience profiles of {plan.initiative}"
        + (f": {goals}" if goals else ""),
        usage=f"Profile eligibility, suppression, scoring and activation on {', '.join(plan.channels)}.",
        members=list(members.values()),
        slas=slas,
    )
