"""Impact runs (server-owned: written by record_impact; see docs/measurement.md).

The data impact of a change: the same records evaluated under two revisions' rules in one scan, as a
flow matrix of winners from revision A to revision B, with each profile's size change and the
condition that moved the most records.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .common import ShortText, Slug, Strict
from .sizing import SizingSource


class Flow(Strict):
    from_profile: Slug | None = Field(description="Winner under revision A; null: no profile.")
    to_profile: Slug | None = Field(description="Winner under revision B; null: no profile.")
    records: int = Field(ge=0)


class ImpactRun(Strict):
    """One impact run between two revisions; appended by record_impact."""

    id: Slug
    at: datetime
    actor: ShortText
    from_revision: int = Field(ge=1)
    to_revision: int = Field(ge=1)
    evaluated_at: datetime
    source: SizingSource
    row_count: int = Field(ge=0)
    flows: Annotated[tuple[Flow, ...], Field(max_length=100_000)] = ()
