"""Stored scenarios rerun as a regression suite: each record must still land in its expected profile."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from ..errors import InputError
from ..model import Plan
from .simulate import RecordVerdict, simulate


class ScenarioResult(BaseModel):
    scenario_id: str
    pointer: str = Field(description="JSON Pointer of the scenario in the plan.")
    expected_profile: str | None
    actual_profile: str | None
    passed: bool
    message: str


def _outcome(plan: Plan, index: int, verdict: RecordVerdict | None, error: str | None) -> ScenarioResult:
    scenario = plan.scenarios[index]
    pointer = f"/scenarios/{index}"
    expected = scenario.expected_profile
    if error is not None:
        return ScenarioResult(
            scenario_id=scenario.id,
            pointer=f"{pointer}/record",
            expected_profile=expected,
            actual_profile=None,
            passed=False,
            message=f"scenario {scenario.id!r} cannot be evaluated: {error}",
        )
    assert verdict is not None
    actual = verdict.winner
    if actual == expected:
        return ScenarioResult(
            scenario_id=scenario.id,
            pointer=pointer,
            expected_profile=expected,
            actual_profile=actual,
            passed=True,
            message=f"scenario {scenario.id!r} lands in {actual or 'no profile'} as expected",
        )
    return ScenarioResult(
        scenario_id=scenario.id,
        pointer=f"{pointer}/expected_profile",
        expected_profile=expected,
        actual_profile=actual,
        passed=False,
        message=f"scenario {scenario.id!r} expects {_name(expected)} but the record now lands in "
        f"{_name(actual)}{_why(verdict, expected)}; fix the rules, or update expected_profile if the "
        "change is intended",
    )


def _name(profile_id: str | None) -> str:
    return repr(profile_id) if profile_id else "no profile"


def _why(verdict: RecordVerdict, expected: str | None) -> str:
    if expected is None or not verdict.explanations:
        return ""
    explanation = next((e for e in verdict.explanations if e.profile_id == expected), None)
    if explanation is None:
        return f" (there is no profile {expected!r})"
    if explanation.member:
        return f" ({expected!r} still matches, but a profile with a lower priority number wins)"
    reasons = [f"{o.condition} is {o.result}" for o in explanation.decided_by if o.result != "true"][:3]
    if explanation.suppressed and explanation.eligible:
        reasons.insert(0, "it is suppressed")
    return f" ({expected!r} does not match: {'; '.join(reasons) or 'its score is below the threshold'})"


def run_scenarios(plan: Plan, now: datetime) -> list[ScenarioResult]:
    """Every scenario's outcome, each evaluated at its own as_of (or `now` when it has none)."""
    groups: dict[datetime, list[int]] = {}
    for index, scenario in enumerate(plan.scenarios):
        groups.setdefault(scenario.as_of or now, []).append(index)
    results: dict[int, ScenarioResult] = {}
    for at, indices in groups.items():
        for index, result in zip(indices, _run_at(plan, indices, at), strict=True):
            results[index] = result
    return [results[index] for index in range(len(plan.scenarios))]


def _run_at(plan: Plan, indices: list[int], now: datetime) -> list[ScenarioResult]:
    records = [plan.scenarios[i].record for i in indices]
    try:
        # Verdicts for all (cheap); explanations only for the scenarios that fail, for their message.
        verdicts = simulate(plan, records, now, explain=False, holdouts=False).records
        failing = [
            i for i, v in enumerate(verdicts) if v.winner != plan.scenarios[indices[i]].expected_profile
        ]
        if failing:
            again = [records[i] for i in failing]
            explained = simulate(plan, again, now, explain=True, holdouts=False).records
            for index, verdict in zip(failing, explained, strict=True):
                verdicts[index] = verdict
        return [_outcome(plan, indices[i], v, None) for i, v in enumerate(verdicts)]
    except InputError:
        pass  # one record has a value of the wrong type: evaluate them one by one to say which
    outcomes = []
    for index, record in enumerate(records):
        try:
            verdict = simulate(plan, [record], now, explain=True, holdouts=False).records[0]
            outcomes.append(_outcome(plan, indices[index], verdict, None))
        except InputError as exc:
            message = str(exc).replace("records/0/", "").replace("record 0: ", "")
            outcomes.append(_outcome(plan, indices[index], None, message))
    return outcomes
