"""The data impact of a change (see docs/impact.md); impact runs are server-owned, written by
record_impact.

The same records are evaluated under two revisions' rules in one scan: a flow matrix of winners
from revision A to revision B, each profile's size change, and the causes that moved its records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from .common import LongText, ShortText, Slug, Strict
from .sizing import SizingSource

Cause = Literal[
    "condition changed",
    "condition added",
    "condition removed",
    "other rule change",
    "priority order",
    "profile added",
    "profile removed",
]


class Flow(Strict):
    from_profile: Slug | None = Field(None, description="Winner under revision A; null: no profile.")
    to_profile: Slug | None = Field(None, description="Winner under revision B; null: no profile.")
    records: int = Field(ge=0)


class Driver(Strict):
    """One cause of a profile's moves: how many of the records that joined or left it it explains."""

    cause: Cause
    revision: int = Field(ge=1, description="The revision the pointer points into.")
    pointer: str = Field(max_length=400)
    condition: LongText | None = Field(None, description="The condition in words (A -> B when changed).")
    records: int = Field(ge=0)
    example_id: str | None = Field(None, max_length=400, description="The smallest such record id.")


class ProfileImpact(Strict):
    profile_id: Slug
    winners_before: int | None = Field(None, description="Winners under A; null: not in A.")
    winners_after: int | None = Field(None, description="Winners under B; null: not in B.")
    net_before: int | None = None
    net_after: int | None = None
    joined: int = Field(ge=0, description="Records it wins under B and not under A.")
    left: int = Field(ge=0, description="Records it wins under A and not under B.")
    drivers: Annotated[tuple[Driver, ...], Field(max_length=200)] = Field(
        default=(), description="Causes of the moves, most records first; the first is the driver."
    )


class Impact(Strict):
    """What an impact measurement finds (plan_diff with data answers it without storing it)."""

    from_revision: int = Field(ge=1)
    to_revision: int = Field(ge=1)
    evaluated_at: datetime
    source: SizingSource
    id_column: ShortText = "id"
    row_count: int = Field(ge=0)
    flows: Annotated[tuple[Flow, ...], Field(max_length=100_000)] = ()
    profiles: Annotated[tuple[ProfileImpact, ...], Field(max_length=4000)] = ()


class ImpactRun(Impact):
    """One impact run between two revisions; appended by record_impact."""

    id: Slug
    at: datetime
    actor: ShortText
