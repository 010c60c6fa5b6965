"""A plan with holdouts, sample records and planted outcomes, shared by the lift readout tests."""

from __future__ import annotations

from pathlib import Path

from personalization_engine.audience import write_sample_data
from personalization_engine.audience.sample_outcomes import SampleOutcomes, write_sample_outcomes
from personalization_engine.core.engine import Engine
from personalization_engine.model import Plan
from personalization_engine.model.plan import ActivationLift

from ..conftest import START
from ..render.helpers import fill_plan

RECORDS = "data/users.parquet"
OUTCOMES = "data/outcomes.parquet"
LIFTS = {"new-trial-activation": 0.3, "stalled-trial": 0.1, "dormant-free": 0.0}
LIFT = {
    "target_pct": 15,
    "kpi": "day-7 activation",
    "holdout_share": 0.1,
    "window_days": 28,
    "baseline_rate": 0.2,
}


def with_holdouts(engine: Engine, plan_id: str, *, stalled_share: float = 0.25) -> int:
    """Fill the plan with the demo's profiles, hold out 10% of each (25% of stalled-trial)."""
    fill_plan(engine, plan_id)

    def mutate(plan: Plan) -> Plan:
        profiles = tuple(
            p.model_copy(update={"holdout_share": stalled_share}) if p.id == "stalled-trial" else p
            for p in plan.profiles
        )
        metrics = plan.success_metrics.model_copy(update={"activation_lift": ActivationLift(**LIFT)})
        return plan.model_copy(update={"profiles": profiles, "success_metrics": metrics})

    return engine.apply(plan_id, "profiles", mutate, expected_revision=None, actor="test").revision


def write_data(engine: Engine, plan_id: str, root: Path, rows: int = 20_000, seed: int = 0) -> SampleOutcomes:
    write_sample_data(root / RECORDS, rows, reference=START)
    return write_sample_outcomes(
        engine.read_plan(plan_id), root / RECORDS, root / OUTCOMES, as_of=START, lifts=LIFTS, seed=seed
    )
