"""The five stage sections of a plan, plus the data sources behind the attributes."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from .common import (
    MAX_ITEMS,
    AttributeName,
    Cadence,
    Channel,
    Duration,
    LongText,
    ShortText,
    Slug,
    Strict,
)
from .evidence import evidence_problem, ref_problem
from .rules import RuleNode, Scalar
from .targets import ExportTarget

AttributeType = Literal["string", "integer", "number", "boolean", "timestamp", "date"]
Purpose = Literal[
    "email_marketing",
    "onsite_personalization",
    "in_app_messaging",
    "ads_targeting",
    "ads_measurement",
    "sales_outreach",
    "analytics",
    "service_messages",
]
# GDPR Art. 6 lawful bases, plus `opt_out`: an opt-out regime's notice at collection with a working
# right to opt out (CPRA), which no GDPR regime accepts.
LawfulBasis = Literal[
    "consent",
    "contract",
    "legitimate_interest",
    "legal_obligation",
    "vital_interests",
    "public_task",
    "opt_out",
]
EvidenceKind = Literal["cmp_purpose", "tcf_purpose", "consent_mode", "lia", "dpia"]
# sensitive: CPRA "sensitive personal information" (precise geolocation, government ids, account
# log-ins, ...); special_category: GDPR Art. 9 data (health, religion, ...).
PiiClass = Literal["none", "pseudonymous", "direct", "sensitive", "special_category"]
AccessMethod = Literal["warehouse_sql", "api", "webhook", "event_stream", "sdk", "file_export", "reverse_etl"]


# --- objective intake ---------------------------------------------------------------------------
class Goal(Strict):
    id: Slug
    statement: ShortText
    kpi: ShortText | None = Field(None, description="The KPI that shows progress, e.g. 'activation rate'.")


class Persona(Strict):
    id: Slug
    name: ShortText
    description: LongText = ""


class LifecycleStage(Strict):
    id: Slug
    name: ShortText
    definition: LongText = Field("", description="What puts someone in this stage, in words.")


class Intake(Strict):
    goals: Annotated[tuple[Goal, ...], Field(max_length=200)] = ()
    personas: Annotated[tuple[Persona, ...], Field(max_length=200)] = ()
    lifecycle_stages: Annotated[tuple[LifecycleStage, ...], Field(max_length=200)] = ()
    open_questions: Annotated[tuple[ShortText, ...], Field(max_length=200)] = ()
    notes: LongText = ""


# --- attribute inventory --------------------------------------------------------------------------
class DataSource(Strict):
    id: Slug
    system: ShortText = Field(description="The system of record, e.g. 'Snowflake', 'Segment'.")
    owner: ShortText | None = None
    access_method: AccessMethod
    refresh: Cadence | None = Field(None, description="How often this source is refreshed.")
    description: LongText = ""


class ConsentEvidence(Strict):
    """What shows that a grant holds (docs/consent.md): a consent-management purpose id, a TCF v2.2
    purpose number, a Google Consent Mode v2 type, or the reference of a legitimate-interest
    assessment (lia) or a DPIA."""

    kind: EvidenceKind
    ref: ShortText = Field(
        description="cmp_purpose: the CMP's purpose id; tcf_purpose: a TCF v2.2 purpose number, '1' "
        "to '11'; consent_mode: a Google Consent Mode v2 type, e.g. 'ad_user_data'; lia, dpia: the "
        "document's reference."
    )

    @field_validator("ref")
    @classmethod
    def _ref_fits_kind(cls, ref: str, info: ValidationInfo) -> str:
        kind = info.data.get("kind")
        problem = ref_problem(kind, ref) if kind is not None else None
        if problem:
            raise ValueError(problem)
        return ref


class Confirmation(Strict):
    """Server-owned: the person who confirmed, from their git identity, when they ran the command."""

    name: ShortText
    email: ShortText
    at: datetime
    revision: int = Field(ge=1, description="The plan revision they confirmed on.")


class ConsentGrant(Strict):
    """One purpose an attribute may be used for, the lawful basis for that use, and its evidence."""

    purpose: Purpose
    lawful_basis: LawfulBasis
    evidence: ConsentEvidence | None = None
    confirmed_by: Confirmation | None = Field(
        None, description="Server-owned: set by `plans confirm-consent` run by the person."
    )

    @field_validator("evidence")
    @classmethod
    def _evidence_fits_grant(
        cls, evidence: ConsentEvidence | None, info: ValidationInfo
    ) -> ConsentEvidence | None:
        # Only once purpose and basis are valid themselves; otherwise their own errors say enough.
        purpose, basis = info.data.get("purpose"), info.data.get("lawful_basis")
        if evidence is None or purpose is None or basis is None:
            return evidence
        problem = evidence_problem(purpose, basis, evidence.kind, evidence.ref)
        if problem:
            raise ValueError(problem)
        return evidence


class Attribute(Strict):
    name: AttributeName
    type: AttributeType | None = None
    description: LongText = ""
    source_id: Slug | None = Field(None, description="Id of a data source in data_sources.")
    refresh_cadence: Cadence | None = None
    freshness_sla: Duration | None = Field(
        None, description="Maximum age a consumer accepts, e.g. '1h', '1d'."
    )
    consent: Annotated[tuple[ConsentGrant, ...], Field(max_length=20)] = Field(
        default=(),
        description="Purposes this attribute may serve, each with its lawful basis. Empty means "
        "no consent rule is recorded yet.",
    )
    pii_class: PiiClass = "none"
    owner: ShortText | None = None
    required: bool = Field(
        False,
        description="True when profiles cannot work without it; coverage is measured against it.",
    )
    allowed_values: Annotated[tuple[Scalar, ...], Field(max_length=1000)] | None = Field(
        None, description="For enumerated strings: the complete list of values the data holds."
    )


# --- profile definition --------------------------------------------------------------------------
class WeightedCondition(Strict):
    when: RuleNode
    weight: float = Field(ge=-1e6, le=1e6)
    label: ShortText | None = None


class Decay(Strict):
    """How a score fades with the age of a timestamp attribute.

    half_life: score x 0.5 ** (age / half_life). lookback: the score counts only while the timestamp
    lies within the lookback window, otherwise it is 0. A missing timestamp scores 0.
    """

    kind: Literal["half_life", "lookback"]
    attr: AttributeName
    window: Duration


class Scoring(Strict):
    conditions: Annotated[tuple[WeightedCondition, ...], Field(min_length=1, max_length=200)]
    threshold: float = Field(ge=-1e9, le=1e9)
    decay: Decay | None = None


class Profile(Strict):
    id: Slug
    name: ShortText
    purpose: LongText = ""
    persona_id: Slug | None = None
    lifecycle_stage_id: Slug | None = None
    eligibility: RuleNode | None = None
    suppression: RuleNode | None = Field(
        None, description="Who is removed even when eligible (e.g. unsubscribed, churned)."
    )
    scoring: Scoring | None = None
    eligible_by: Literal["rule", "score", "rule_and_score", "rule_or_score"] = "rule"
    priority: int = Field(100, ge=0, le=1_000_000, description="Lower wins when profiles overlap.")
    holdout_share: float | None = Field(
        None,
        gt=0,
        le=0.5,
        description="Share of this profile's winners held out; overrides activation_lift.holdout_share.",
    )
    fallback: ShortText | None = Field(
        None, description="What a person gets when data is missing or the profile cannot decide."
    )
    latency_sla: Duration | None = Field(
        None, description="How fresh the inputs must be for this profile to act, e.g. '15m'."
    )
    owner: ShortText | None = None
    backup_owner: ShortText | None = None


class Scenario(Strict):
    """A sample record and the profile it should land in; rerun as a regression suite."""

    id: Slug
    description: ShortText | None = None
    record: dict[AttributeName, Any] = Field(max_length=2000)
    expected_profile: Slug | None = Field(
        None, description="The winning profile id, or null when the record should match none."
    )
    as_of: datetime | None = Field(
        None,
        description="The time the scenario is evaluated at, so relative windows never rot; the "
        "server sets it to the write's time when it is left out.",
    )


# --- activation mapping ---------------------------------------------------------------------------
class QaFlow(Strict):
    """The consent and opt-in flow to check for a web or in-app activation."""

    url: Annotated[ShortText, Field(pattern=r"^https?://[^/?#\s]+")] = Field(
        description="Where the flow starts, e.g. 'https://app.example.com/signup'."
    )
    opt_in_control: ShortText = Field(description="The control that opts in, e.g. 'Accept all' button.")
    opt_out_control: ShortText = Field(description="The control that opts out or withdraws.")
    before_opt_in_must_not: Annotated[tuple[ShortText, ...], Field(min_length=1, max_length=20)] = Field(
        description="What must not happen before opt-in, e.g. 'no personalization cookie is set'."
    )


class Activation(Strict):
    profile_id: Slug
    channel: Channel
    destination: ShortText | None = Field(None, description="Downstream system, e.g. 'Braze'.")
    sync_mode: Literal["real_time", "streaming", "batch_hourly", "batch_daily"] | None = None
    integration: Literal["api", "webhook", "sdk", "reverse_etl", "file_export", "native"] | None = None
    api_needs: Annotated[tuple[ShortText, ...], Field(max_length=50)] = ()
    match_keys: Annotated[tuple[AttributeName, ...], Field(max_length=20)] = ()
    payload_attributes: Annotated[tuple[AttributeName, ...], Field(max_length=500)] = Field(
        default=(), description="Attributes sent to the destination beyond match keys."
    )
    consent_gate: Annotated[tuple[ShortText, ...], Field(max_length=20)] = Field(
        default=(),
        description="Consent signals checked before sending, e.g. 'email_opt_in'.",
    )
    pii_allowed: bool = Field(False, description="True when the destination is approved for PII.")
    latency_sla: Duration | None = None
    fallback_state: ShortText | None = None
    owner: ShortText | None = None
    qa_flow: QaFlow | None = Field(None, description="For web and in-app: the opt-in flow QA checks.")
    export_target: ExportTarget | None = Field(None, description="What carries it to production.")


# --- governance -------------------------------------------------------------------------------
class OwnerAssignment(Strict):
    area: Slug = Field(description="A stage name, a channel, or 'program'.")
    owner: ShortText
    backup: ShortText | None = None
    availability: Literal["available", "absent"] = "available"
    absent_until: date | None = None


class Checkpoint(Strict):
    id: Slug
    trigger: ShortText = Field(description="What forces a review, e.g. 'new attribute source'.")
    approver_role: ShortText


class Governance(Strict):
    owners: Annotated[tuple[OwnerAssignment, ...], Field(max_length=200)] = ()
    qa_cadence: Cadence | None = None
    change_checkpoints: Annotated[tuple[Checkpoint, ...], Field(max_length=200)] = ()
    notes: LongText = ""


MAX_ATTRIBUTES = MAX_ITEMS
