"""The plan's ledger: blockers, escalations, approvals, QA runs, the final record and the change log.

Server-owned: appended or set by the ledger tools and the write pipeline, refused from write_plan.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import Field

from .common import Channel, Duration, LongText, ShortText, Slug, Strict
from .stages import Confirmation
from .targets import Dialect, ExportTarget


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
    """reported: a model or a CLI user says who approved; confirmed: that person ran `plans approve`."""

    id: Slug
    approver: ShortText
    role: ShortText
    decision: Literal["approved", "rejected", "changes_requested"]
    note: LongText = ""
    revision: int = Field(ge=1, description="The plan revision the decision was made on.")
    at: datetime
    status: Literal["reported", "confirmed"] = "reported"
    reported_by: ShortText | None = Field(None, description="Who recorded a reported approval.")
    confirmed_by: Confirmation | None = None
    signed: bool = Field(False, description="The approval commit was signed with the person's own key.")


class QaResult(Strict):
    """One run of an activation's consent-flow QA, as reported by whoever ran it."""

    id: Slug
    profile_id: Slug
    channel: Channel
    url: ShortText
    outcome: Literal["passed", "failed"]
    ran_at: datetime
    artefact_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    artefact: ShortText | None = Field(None, description="What was hashed, e.g. 'trace.zip'.")
    note: LongText = ""
    status: Literal["reported"] = "reported"
    recorded_by: ShortText
    recorded_at: datetime


class FinalRecord(Strict):
    """Server-owned: the revision a finalize reviewed and declared final."""

    revision: int = Field(ge=1)
    at: datetime
    by: ShortText
    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")] = Field(
        description="Hash of the content sections at that revision; a content change makes the plan "
        "'changed since final'."
    )
    tag: ShortText | None = Field(
        None,
        description="The tag finalize gives the final commit (personalization/<plan_id>/final-r<N>); "
        "null when a tag of that name already existed. A tag git refused later is reported in "
        "finalize's answer, and finalizing again makes it.",
    )
    tag_error: ShortText | None = Field(None, description="Why the final commit was not tagged.")


# A JSON Pointer into the plan: deep rule trees make long ones.
Pointer = Annotated[str, Field(min_length=1, max_length=2000, pattern=r"^/")]


class ExportRefusal(Strict):
    """A profile (or one activation of it) a target could not carry, and the condition why."""

    profile_id: Slug
    channel: Channel | None = Field(None, description="Null when the whole profile was refused.")
    pointer: Pointer = Field(description="JSON Pointer of the condition the target cannot express.")
    condition: ShortText = Field(description="The condition as text, e.g. 'last_active_at half-life 7d'.")
    reason: ShortText


class ExportCutoff(Strict):
    """A relative window the target cannot evaluate, frozen to an absolute instant at export time."""

    profile_id: Slug
    pointer: Pointer
    condition: ShortText = Field(description="e.g. 'signup_at within_last 14d'.")
    cutoff: datetime = Field(description="The window's start as of the export time.")
    allowed_age: Duration = Field(description="How long after the export the cutoff stays acceptable.")


class ExportRun(Strict):
    """One export of a revision to a destination, committed under .claude/plans/<plan_id>/exports/."""

    id: Slug
    target: ExportTarget
    revision: int = Field(
        ge=1, description="The revision the files come from: the reviewed one when the plan is final."
    )
    content_sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    exported_at: datetime
    cutoff_at: datetime | None = Field(
        None, description="The time relative windows were frozen at; null when none was."
    )
    draft: bool = Field(description="True unless the revision was final and had no error findings.")
    dialect: Dialect | None = Field(None, description="dbt only: the SQL dialect of the models.")
    folder: ShortText
    files: tuple[ShortText, ...] = ()
    profiles: tuple[Slug, ...] = Field(default=(), description="The profiles the export carries.")
    refusals: tuple[ExportRefusal, ...] = ()
    cutoffs: tuple[ExportCutoff, ...] = ()
    carriers: dict[ShortText, ShortText] = Field(
        default_factory=dict, description="'profile_id/channel' -> the file (in folder) that carries it."
    )
    recorded_by: ShortText


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
