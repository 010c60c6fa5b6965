"""The plan document: header, stage sections and ledger.

Fields marked server-owned are computed or appended by the server and refused from clients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field

from .common import (
    MAX_ITEMS,
    SCHEMA_VERSION,
    Channel,
    LongText,
    ShortText,
    Slug,
    Strict,
)
from .stages import (
    Activation,
    Attribute,
    DataSource,
    Governance,
    Intake,
    LawfulBasis,
    Profile,
    Purpose,
    Scenario,
)

PLAN_ID_PATTERN = r"^plan-[0-9]{8}T[0-9]{6}Z(-[1-9][0-9]{0,3})?$"
DEFAULT_LADDER = ("Personalization Architect", "Data Privacy Lead", "Exec sponsor")


class Pattern(Strict):
    kind: Literal["diamond", "pipeline"] = "diamond"
    rationale: LongText = ""


class DependencyNode(Strict):
    id: Slug
    kind: Literal["stage", "team"]
    label: ShortText | None = None


class DependencyEdge(Strict):
    """`source` must be done (or sign off) before `target` can finish."""

    source: Slug = Field(alias="from")
    target: Slug = Field(alias="to")


class DependencyGraph(Strict):
    nodes: Annotated[tuple[DependencyNode, ...], Field(max_length=100)] = ()
    edges: Annotated[tuple[DependencyEdge, ...], Field(max_length=500)] = ()


class LadderRung(Strict):
    role: ShortText
    owner: ShortText | None = Field(None, description="Who holds the role for this plan.")


class FallbackOwner(Strict):
    role: ShortText = Field(description="The role or owner that may be absent.")
    fallback: ShortText = Field(description="Who acts when they are absent.")


class ErrorHandling(Strict):
    retry_limit: int = Field(2, ge=0, le=10, description="Retries for data pulls and consent checks.")
    escalation_ladder: Annotated[tuple[LadderRung, ...], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: tuple(LadderRung(role=role) for role in DEFAULT_LADDER)
    )
    fallback_owners: Annotated[tuple[FallbackOwner, ...], Field(max_length=50)] = ()


class MetricTarget(Strict):
    target: float | None = Field(None, ge=0, le=100, description="Target, in percent.")
    actual: float | None = Field(None, description="Server-owned: computed by the checks, never typed in.")


class ActivationLift(Strict):
    """Lift cannot be computed before launch, so the plan records the target and how it is measured."""

    target_pct: float = Field(ge=-100, le=1000)
    kpi: ShortText = Field(description="The KPI the lift is measured on, e.g. 'day-7 activation'.")
    holdout_share: float = Field(gt=0, lt=1, description="Share of the audience held out, e.g. 0.1.")
    window_days: int = Field(ge=1, le=365)
    method: ShortText = "randomized holdout"


class SuccessMetrics(Strict):
    attribute_spec_coverage_pct: MetricTarget = MetricTarget(target=95)
    attribute_data_coverage_pct: MetricTarget = MetricTarget(target=90)
    consent_integrity_pct: MetricTarget = MetricTarget(target=100)
    activation_readiness_pct: MetricTarget = MetricTarget(target=100)
    activation_readiness_by_channel: dict[Channel, float] = Field(
        default_factory=dict, description="Server-owned: readiness per channel, in percent."
    )
    activation_lift: ActivationLift | None = None


class ChannelConsentPolicy(Strict):
    """How a plan tightens the default consent policy for one channel (see docs/consent.md).

    Overrides only ever narrow the default: a basis the default does not accept is reported as a
    finding and ignored.
    """

    accepted_bases: Annotated[tuple[LawfulBasis, ...], Field(min_length=1, max_length=6)] | None = Field(
        None, description="Lawful bases still accepted for this channel; null keeps the default."
    )
    required_purposes: Annotated[tuple[Purpose, ...], Field(max_length=8)] = Field(
        default=(),
        description="Purposes every attribute used on this channel must also grant, e.g. ads_measurement.",
    )
    required_gates: Annotated[tuple[ShortText, ...], Field(max_length=20)] = Field(
        default=(),
        description="Consent signals the channel's activations must gate on besides the default ones.",
    )
    allow_pii: bool = Field(
        True, description="False: no direct or special-category attribute may reach this channel at all."
    )


# --- ledger -----------------------------------------------------------------------------------
class Blocker(Strict):
    id: Slug
    kind: Literal["consent", "compliance", "coverage", "data_pull"]
    subject: ShortText
    detail: LongText = ""
    status: Literal["open", "resolved"] = "open"
    recorded_at: datetime
    recorded_by: ShortText
    resolved_at: datetime | None = None
    resolved_by: ShortText | None = None
    remediation: LongText | None = None
    attempts: int | None = Field(None, ge=1, description="Failed attempts, for data_pull and consent.")


class Escalation(Strict):
    id: Slug
    trigger: ShortText
    kind: ShortText
    subject: ShortText
    rung: int = Field(ge=1)
    role: ShortText
    owner_reached: ShortText | None = None
    absent_owner: ShortText | None = Field(
        None, description="The rung's owner, when absent and the escalation went to their fallback."
    )
    status: Literal["open", "resolved", "superseded"] = Field(
        "open", description="superseded: a later escalation of the same blocker climbed a rung."
    )
    opened_at: datetime
    resolved_at: datetime | None = None
    remediation: LongText | None = None
    blocker_ids: tuple[Slug, ...] = ()


class Approval(Strict):
    id: Slug
    approver: ShortText
    role: ShortText
    decision: Literal["approved", "rejected", "changes_requested"]
    note: LongText = ""
    revision: int = Field(ge=1, description="The plan revision the decision was made on.")
    at: datetime


class FieldChange(Strict):
    field: str
    before: Any = None
    after: Any = None


class ChangeItem(Strict):
    """One semantic change: an item added, removed or changed (with the fields that changed)."""

    op: Literal["added", "removed", "changed"]
    section: str
    key: str | None = None
    fields: tuple[FieldChange, ...] = ()


class ChangeLogEntry(Strict):
    revision: int = Field(ge=1)
    at: datetime
    actor: ShortText
    stage: str
    summary: str
    changes: tuple[ChangeItem, ...] = ()


# --- audience sizing (server-owned: written by size_audiences) ------------------------------------
class SizingSource(Strict):
    kind: Literal["csv", "parquet", "duckdb", "postgres"]
    location: ShortText = Field(
        description="A workspace-relative path, or the DSN with any password removed "
        "(postgresql://user@host:5432/db)."
    )
    table: ShortText | None = Field(None, description="The table sized (DuckDB database or PostgreSQL).")


class ProfileSize(Strict):
    profile_id: Slug
    priority: int
    eligible: int = Field(ge=0, description="Rows whose eligibility holds.")
    suppressed: int = Field(ge=0, description="Rows whose suppression holds or cannot be decided.")
    removed_by_suppression: int = Field(ge=0, description="Eligible rows that suppression removed.")
    net: int = Field(ge=0, description="Eligible and not suppressed: the profile's members.")
    winner: int = Field(ge=0, description="Members for whom this profile wins after priority.")


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


def _channels_unique(channels: tuple[str, ...]) -> tuple[str, ...]:
    seen = [c for i, c in enumerate(channels) if c in channels[:i]]
    if seen:
        raise ValueError(f"channel {seen[0]!r} is listed twice; list each channel once")
    return channels


class Plan(Strict):
    schema_version: Literal["1.1"] = SCHEMA_VERSION
    plan_id: Annotated[str, Field(pattern=PLAN_ID_PATTERN)]
    revision: int = Field(ge=1, description="Server-owned: incremented by every accepted write.")
    created_at: datetime
    updated_at: datetime
    initiative: ShortText
    channels: Annotated[
        tuple[Channel, ...],
        Field(min_length=1, max_length=5, json_schema_extra={"uniqueItems": True}),
        AfterValidator(_channels_unique),
    ]
    metrics: Annotated[tuple[ShortText, ...], Field(max_length=50)] = ()
    constraints: Annotated[tuple[ShortText, ...], Field(max_length=100)] = ()
    timeline: ShortText | None = None
    target_date: date | None = None
    pattern: Pattern = Pattern()
    dependencies: DependencyGraph = DependencyGraph()
    error_handling: ErrorHandling = ErrorHandling()
    success_metrics: SuccessMetrics = SuccessMetrics()
    consent_policy: dict[Channel, ChannelConsentPolicy] = Field(
        default_factory=dict,
        description="Per-channel tightening of the default consent policy (docs/consent.md).",
    )

    intake: Intake = Intake()
    data_sources: Annotated[tuple[DataSource, ...], Field(max_length=500)] = ()
    attributes: Annotated[tuple[Attribute, ...], Field(max_length=MAX_ITEMS)] = ()
    profiles: Annotated[tuple[Profile, ...], Field(max_length=2000)] = ()
    scenarios: Annotated[tuple[Scenario, ...], Field(max_length=2000)] = ()
    activations: Annotated[tuple[Activation, ...], Field(max_length=10_000)] = ()
    governance: Governance = Governance()

    blockers: tuple[Blocker, ...] = ()
    escalations: tuple[Escalation, ...] = ()
    approvals: tuple[Approval, ...] = ()
    change_log: tuple[ChangeLogEntry, ...] = ()
    sizing_runs: tuple[SizingRun, ...] = Field(
        default=(), description="Server-owned: audience sizings on real data (size_audiences)."
    )
