"""Audience sizing runs (server-owned: written by size_audiences)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from .common import MAX_ITEMS, Channel, ShortText, Slug, Strict


class SizingSource(Strict):
    kind: Literal["csv", "parquet", "duckdb", "postgres", "spark", "warehouse"] = Field(
        description="spark: read by Spark; warehouse: a result a warehouse computed, imported from a file."
    )
    location: ShortText = Field(
        description="A workspace-relative path, or the DSN with any password removed "
        "(postgresql://user@host:5432/db)."
    )
    table: ShortText | None = Field(None, description="The table sized (DuckDB database or PostgreSQL).")
    spark_master: ShortText | None = Field(None, description="The Spark master or Spark Connect URL.")


class ProfileSize(Strict):
    profile_id: Slug
    priority: int
    eligible: int = Field(ge=0, description="Rows whose eligibility holds.")
    suppressed: int = Field(ge=0, description="Rows whose suppression holds or cannot be decided.")
    removed_by_suppression: int = Field(ge=0, description="Eligible rows that suppression removed.")
    net: int = Field(ge=0, description="Eligible and not suppressed: the profile's members.")
    winner: int = Field(ge=0, description="Members for whom this profile wins after priority.")
    holdout: int | None = Field(
        None, ge=0, description="Winners held out of the profile; null when it has no holdout."
    )
    treatment: int | None = Field(None, ge=0, description="Winners who get the profile: winner - holdout.")


class ActivationSize(Strict):
    profile_id: Slug
    channel: Channel
    net: int = Field(ge=0, description="The profile's members.")
    activatable: int | None = Field(
        None, ge=0, description="Members who also pass the consent gate; null when a gate has no column."
    )
    gate_columns: Annotated[tuple[ShortText, ...], Field(max_length=20)] = Field(
        default=(), description="How each gate signal was checked, e.g. 'email_opt_in IS TRUE'."
    )
    unmapped_gates: Annotated[tuple[ShortText, ...], Field(max_length=20)] = Field(
        default=(), description="Gate signals that name no boolean attribute of the inventory."
    )


class ChannelSize(Strict):
    channel: Channel
    reachable: int = Field(ge=0, description="People who are members of a profile activated here.")
    net_activatable: int | None = Field(
        None, ge=0, description="Of those, people who pass that activation's consent gate (counted once)."
    )


class OverlapCount(Strict):
    profile_a: Slug
    profile_b: Slug
    both: int = Field(ge=0, description="Members of both profiles.")


class AttributeCoverage(Strict):
    name: ShortText
    required: bool
    column_present: bool
    column_type: ShortText | None = None
    non_null: int = Field(ge=0)
    coverage_pct: float = Field(ge=0, le=100, description="Non-null share of rows, in percent.")


class AttributeFreshness(Strict):
    name: ShortText
    freshness_sla: ShortText
    newest: datetime | None = Field(
        description="The most recent value not in the future; null when there is none."
    )
    lag_seconds: float | None = Field(description="Evaluation time minus the newest value.")
    future_values: int = Field(
        0, ge=0, description="Values later than the evaluation time (plus 5 minutes); not counted as newest."
    )
    within_sla: bool = Field(description="The newest value is within the SLA and no value is in the future.")


class SizingRun(Strict):
    """One audience sizing of the plan's compiled rules on real data; appended by size_audiences."""

    id: Slug
    at: datetime
    actor: ShortText
    evaluated_at: datetime = Field(description="The instant time windows in the rules were evaluated at.")
    plan_revision: int = Field(ge=1, description="The plan revision whose rules were sized.")
    imported: bool = Field(False, description="A warehouse ran the query; its result row was imported.")
    rules_sha256: str | None = Field(
        None, description="Hash of the rules' content and the evaluation time that the query selected."
    )
    source: SizingSource
    row_count: int = Field(ge=0)
    profiles: Annotated[tuple[ProfileSize, ...], Field(max_length=2000)] = ()
    no_winner: int = Field(0, ge=0, description="Rows that are members of no profile.")
    overlaps: Annotated[tuple[OverlapCount, ...], Field(max_length=200_000)] = Field(
        default=(), description="Members shared by each pair of profiles (pairs in priority order)."
    )
    activations: Annotated[tuple[ActivationSize, ...], Field(max_length=10_000)] = ()
    channels: Annotated[tuple[ChannelSize, ...], Field(max_length=5)] = ()
    coverage: Annotated[tuple[AttributeCoverage, ...], Field(max_length=MAX_ITEMS)] = ()
    data_coverage_pct: float | None = Field(
        None, description="Mean non-null share of the required attributes (all attributes when none is)."
    )
    freshness: Annotated[tuple[AttributeFreshness, ...], Field(max_length=MAX_ITEMS)] = ()
