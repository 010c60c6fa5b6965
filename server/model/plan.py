"""The plan document: header, stage sections and ledger.

Fields marked server-owned are computed or appended by the server and refused from clients.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from .common import (
    MAX_ITEMS,
    SCHEMA_VERSION,
    AttributeName,
    Channel,
    LongText,
    ShortText,
    Slug,
    Strict,
)
from .impact import ImpactRun
from .ledger import (  # noqa: F401  (re-exported: the plan's ledger types live beside it)
    Approval,
    Blocker,
    ChangeItem,
    ChangeLogEntry,
    Escalation,
    ExportCutoff,
    ExportRefusal,
    ExportRun,
    FieldChange,
    FinalRecord,
    QaResult,
)
from .lift import LiftMeasurement
from .sizing import (  # noqa: F401  (re-exported)
    ActivationSize,
    AttributeCoverage,
    AttributeFreshness,
    ChannelSize,
    OverlapCount,
    ProfileSize,
    SizingRun,
    SizingSource,
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
EMAIL_PATTERN = r"^[^@\s<>]{1,64}@[^@\s<>]{1,190}$"

# The content sections an approval can cover: everything a client writes, nothing the server keeps.
ContentSection = Literal[
    "initiative",
    "channels",
    "metrics",
    "constraints",
    "timeline",
    "target_date",
    "pattern",
    "dependencies",
    "error_handling",
    "success_metrics",
    "consent_policy",
    "consent_regimes",
    "consent_signals",
    "intake",
    "data_sources",
    "attributes",
    "profiles",
    "scenarios",
    "activations",
    "governance",
]
# What each default rung reviews; the top rung reviews everything (an empty `covers`).
DEFAULT_COVERS: dict[str, tuple[str, ...]] = {
    "Personalization Architect": (
        "intake",
        "data_sources",
        "attributes",
        "profiles",
        "scenarios",
        "activations",
        "pattern",
        "dependencies",
        "success_metrics",
    ),
    "Data Privacy Lead": (
        "constraints",
        "data_sources",
        "attributes",
        "activations",
        "consent_policy",
        "consent_regimes",
        "consent_signals",
        "governance",
    ),
}
Regime = Literal["gdpr-eprivacy", "uk-gdpr", "cpra"]
SignalFramework = Literal["tcf-v2.2", "google-consent-mode-v2"]
AgentRole = Literal["personalization-architect", "customer-data-engineer"]


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
    email: Annotated[str, Field(pattern=EMAIL_PATTERN, max_length=254)] | None = Field(
        None, description="The approver's email; `plans approve` needs their git user.email to match."
    )
    covers: Annotated[tuple[ContentSection, ...], Field(max_length=20)] = Field(
        default=(), description="Sections this rung's approval covers (a change stales it); empty: all."
    )


class FallbackAgent(Strict):
    agent: AgentRole
    substitute: AgentRole = Field(description="Who does the agent's part when it cannot be dispatched.")


class AgentSubstitution(Strict):
    """A recorded dispatch failure: the substitute did the agent's part."""

    agent: AgentRole
    substitute: AgentRole
    stage: ShortText
    reason: ShortText


class FallbackOwner(Strict):
    role: ShortText = Field(description="The role or owner that may be absent.")
    fallback: ShortText = Field(description="Who acts when they are absent.")


class ErrorHandling(Strict):
    retry_limit: int = Field(2, ge=0, le=10, description="Retries for data pulls and consent checks.")
    escalation_ladder: Annotated[tuple[LadderRung, ...], Field(min_length=1, max_length=10)] = Field(
        default_factory=lambda: tuple(
            LadderRung(role=role, covers=DEFAULT_COVERS.get(role, ())) for role in DEFAULT_LADDER
        )
    )
    fallback_owners: Annotated[tuple[FallbackOwner, ...], Field(max_length=50)] = ()
    fallback_agents: Annotated[tuple[FallbackAgent, ...], Field(max_length=10)] = (
        FallbackAgent(agent="personalization-architect", substitute="customer-data-engineer"),
        FallbackAgent(agent="customer-data-engineer", substitute="personalization-architect"),
    )
    agent_substitutions: Annotated[tuple[AgentSubstitution, ...], Field(max_length=200)] = ()


class MetricTarget(Strict):
    target: float | None = Field(None, ge=0, le=100, description="Target, in percent.")
    actual: float | None = Field(None, description="Server-owned: computed by the checks, never typed in.")


class ActivationLift(Strict):
    """Lift cannot be computed before launch, so the plan records the target and how it is measured;
    a lift readout (measure_lift) later computes `actual` from outcome data (docs/measurement.md)."""

    target_pct: float = Field(ge=-100, le=1000, description="Relative lift target, in percent.")
    kpi: ShortText = Field(description="The KPI the lift is measured on, e.g. 'day-7 activation'.")
    # Plans stored before format 1.4 may hold up to 1; lift.holdout_share_too_large reports them, and
    # write_plan accepts at most 0.5 (core/sections.py).
    holdout_share: float = Field(
        gt=0, lt=1, description="Share of each profile held out, in (0, 0.5]; a profile may override it."
    )
    window_days: int = Field(ge=1, le=365)
    method: ShortText = "randomized holdout"
    holdout_salt: ShortText | None = Field(
        None, description="Salt of the holdout hash; null uses the plan id. Changing it reassigns everyone."
    )
    id_column: AttributeName | None = Field(
        None, description="The data's record id column that the holdout hashes; null means 'id'."
    )
    baseline_rate: float | None = Field(
        None, gt=0, lt=1, description="KPI rate without personalization, for the minimum detectable effect."
    )
    actual: float | None = Field(
        None, description="Server-owned: relative lift in percent from the latest lift readout."
    )


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


def _channels_unique(channels: tuple[str, ...]) -> tuple[str, ...]:
    seen = [c for i, c in enumerate(channels) if c in channels[:i]]
    if seen:
        raise ValueError(f"channel {seen[0]!r} is listed twice; list each channel once")
    return channels


class Plan(Strict):
    schema_version: Literal["1.4"] = SCHEMA_VERSION
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
    consent_regimes: Annotated[tuple[Regime, ...], Field(max_length=3)] = Field(
        default=(), description="Legal regimes whose presets the consent policy derives from."
    )
    consent_signals: Annotated[tuple[SignalFramework, ...], Field(max_length=2)] = Field(
        default=(), description="How users' choices are signalled (TCF, Google Consent Mode)."
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
    qa_results: tuple[QaResult, ...] = Field(
        default=(), description="Server-owned: consent-flow QA runs (record_qa_result)."
    )
    exports: tuple[ExportRun, ...] = Field(
        default=(), description="Server-owned: exports to dbt and flag systems (export_activation)."
    )
    lift_measurements: tuple[LiftMeasurement, ...] = Field(
        default=(), description="Server-owned: lift readouts on outcome data (measure_lift)."
    )
    impact_runs: tuple[ImpactRun, ...] = Field(
        default=(), description="Server-owned: the data impact of a change between revisions (record_impact)."
    )
    final: FinalRecord | None = Field(None, description="Server-owned: set by finalize_plan.")
