"""Lift readouts (server-owned: written by measure_lift; see docs/measurement.md).

A readout compares, per profile, the members who got the experience (treatment) with the members
held out of it, on one KPI observed in a window after launch. It is stored with the revision whose
rules assigned membership, the data it was evaluated on, and the outcome source. Rates and lifts are
stored in percent; intervals are 95% two-sided.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .common import ShortText, Slug, Strict
from .sizing import SizingSource

Percent = float
Interval = tuple[float, float]


class ValueLift(Strict):
    """The optional value column (e.g. revenue): per-member means, members without a value count 0."""

    treatment_mean: float | None = None
    holdout_mean: float | None = None
    difference: float | None = Field(None, description="treatment_mean - holdout_mean.")
    difference_ci: Interval | None = None
    p_value: float | None = None


class ProfileLift(Strict):
    profile_id: Slug = Field(description="A profile id, or 'overall' for all profiles pooled.")
    holdout_share: float | None = Field(None, description="The target share held out.")
    treatment: int = Field(ge=0, description="Winners of the profile who got its experience.")
    holdout: int = Field(ge=0, description="Winners of the profile held out of it.")
    treatment_conversions: int = Field(0, ge=0, description="Treatment members who reached the KPI.")
    holdout_conversions: int = Field(0, ge=0, description="Holdout members who reached the KPI.")
    without_outcome: int = Field(0, ge=0, description="Members with no outcome row or a null KPI.")
    treatment_rate: Percent | None = Field(None, description="KPI rate among treatment, in percent.")
    holdout_rate: Percent | None = Field(None, description="KPI rate among holdout, in percent.")
    absolute_lift: Percent | None = Field(None, description="treatment_rate - holdout_rate, in points.")
    absolute_ci: Interval | None = Field(None, description="95% interval of absolute_lift (Newcombe).")
    relative_lift_pct: Percent | None = Field(None, description="absolute_lift / holdout_rate, in percent.")
    relative_ci_pct: Interval | None = Field(None, description="95% interval (Katz log), in percent.")
    p_value: float | None = None
    mde_pct: Percent | None = Field(None, description="Relative lift detectable at 80% power, in percent.")
    srm_chi2: float | None = None
    srm_p_value: float | None = None
    value: ValueLift | None = None
    warnings: Annotated[tuple[ShortText, ...], Field(max_length=20)] = ()


class LiftMeasurement(Strict):
    """One lift readout; appended by measure_lift."""

    id: Slug
    at: datetime
    actor: ShortText
    plan_revision: int = Field(ge=1, description="The revision whose rules and holdouts were evaluated.")
    launched_at: datetime = Field(description="Membership was evaluated as of this instant (launch).")
    window_days: int = Field(ge=1, le=365)
    kpi: ShortText
    membership: SizingSource
    outcomes: SizingSource
    kpi_column: ShortText = "converted"
    value_column: ShortText | None = None
    records: int = Field(0, ge=0, description="Rows of the membership data.")
    interval_method: ShortText
    test_method: ShortText
    ratio_method: ShortText | None = None
    srm_method: ShortText | None = None
    value_method: ShortText | None = None
    profiles: Annotated[tuple[ProfileLift, ...], Field(max_length=2000)] = ()
    overall: ProfileLift | None = Field(None, description="Every profile's members pooled.")
