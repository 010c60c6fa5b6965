"""A plan with a consent flow to QA on its web activation (for the QA, fuzz and crash tests)."""

from __future__ import annotations

from personalization_engine.core.engine import Engine
from personalization_engine.model import Activation, Plan

SIGNUP = "https://app.example.com/signup"
FLOW = {
    "url": SIGNUP,
    "opt_in_control": "'Accept all' in the cookie banner",
    "opt_out_control": "'Reject all'",
    "before_opt_in_must_not": ["no personalization cookie is set"],
}
# The record_qa_result description's example names this activation and this hash.
EXAMPLE_SHA256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
ACTIVATIONS = [
    {
        "profile_id": "new-trial-activation",
        "channel": "web",
        "destination": "Optimizely Web",
        "qa_flow": FLOW,
    },
    {"profile_id": "new-trial-activation", "channel": "in-app", "destination": "Appcues"},
    {"profile_id": "new-trial-activation", "channel": "email", "destination": "Braze"},
]


def add_qa_flows(engine: Engine, plan_id: str, *, actor: str = "test") -> int:
    """Add the activations above (the web one with a qa_flow) to a plan; returns the new revision."""

    def mutate(plan: Plan) -> Plan:
        added = tuple(Activation.model_validate(a) for a in ACTIVATIONS)
        return plan.model_copy(update={"activations": (*plan.activations, *added)})

    return engine.apply(plan_id, "activation", mutate, expected_revision=None, actor=actor).revision
