"""Lift readouts (server-owned: written by measure_lift; see docs/measurement.md).

A readout compares, per profile, the members who got the experience (treatment) with the members
held out of it, on one KPI observed in a window after launch. It is stored with the revision whose
rules assigned membership, the data it was evaluated on, and the outcome source.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import Field

from .common import ShortText, Slug, Strict
from .sizing import SizingSource


class ProfileLift(Strict):
    profile_id: Slug
    treatment: int = Field(ge=0, description="Winners of the profile who got its experience.")
    holdout: int = Field(ge=0, description="Winners of the profile held out of it.")
    treatment_rate: float | None = Field(None, description="KPI rate among treatment, 0 to 1.")
    holdout_rate: float | None = Field(None, description="KPI rate among holdout, 0 to 1.")
    absolute_lift: float | None = Field(None, description="treatment_rate - holdout_rate.")
    absolute_ci: tuple[float, float] | None = Field(None, description="95% interval of absolute_lift.")
    relative_lift_pct: float | None = Field(None, description="absolute_lift / holdout_rate, in percent.")
    relative_ci_pct: tuple[float, float] | None = None
    p_value: float | None = None
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
    interval_method: ShortText
    test_method: ShortText
    profiles: Annotated[tuple[ProfileLift, ...], Field(max_length=2000)] = ()
