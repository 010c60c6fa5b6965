"""simulate(): every profile's verdict for sample records, the winner, explanations and fallbacks.

Verdicts come from the column evaluator (fast, any number of records); explanations re-evaluate
each record with `truth()` and name the conditions that decided it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..errors import InputError
from ..model import Plan
from ..model.common import without_titles
from .evaluate import ColumnEvaluator, Masks, bit_string, record_score, to_mask, truth
from .holdout import holdout_marks, plan_id_column
from .program import Leaf, Node, PreparedProfile, Program, as_utc, leaves, prepare_plan
from .records import ColumnWarning, check_records, coerce_records, column_warnings
from .render import describe_condition
from .typecheck import refuse_type_errors

MAX_EXPLAINED = 1000
MAX_RECORDS = 1_000_000
Truth = Literal["true", "false", "unknown"]


class ConditionOutcome(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)

    pointer: str = Field(description="JSON Pointer of the condition in the plan.")
    condition: str = Field(description="The condition in words, e.g. \"plan_tier = 'free'\".")
    value: Any = Field(None, description="The record's value for the attribute, as given.")
    result: Truth


class ProfileExplanation(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)

    profile_id: str
    eligibility: Truth | None = Field(description="The eligibility rule's value; null when it has none.")
    suppression: Truth | None = Field(description="The suppression rule's value; null when it has none.")
    score: float | None = None
    threshold: float | None = None
    eligible: bool
    suppressed: bool
    member: bool = Field(description="Eligible and not suppressed.")
    decided_by: list[ConditionOutcome] = Field(description="The conditions that decided the verdict.")
    missing: list[str] = Field(description="Attributes the profile reads that are null in the record.")
    fallback: str | None = Field(
        None, description="The profile's fallback, when missing data left it undecided."
    )


class FallbackApplied(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)

    profile_id: str = Field(description="The highest-priority profile that could not decide.")
    fallback: str | None = Field(description="That profile's fallback; null when the plan names none.")
    missing: list[str]


class RecordVerdict(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)

    index: int
    record_id: Any = Field(
        None, description="The record's id: its activation_lift.id_column value ('id' by default)."
    )
    winner: str | None = Field(description="The member profile with the lowest priority number.")
    in_holdout: bool | None = Field(
        None, description="Held out of the winner (no experience); null when the winner has no holdout."
    )
    members: list[str] = Field(description="Profiles that are eligible and not suppressed, by priority.")
    eligible: list[str]
    suppressed: list[str]
    scores: dict[str, float]
    fallback: FallbackApplied | None = Field(
        None, description="Set when a profile that outranks the winner could not decide for missing data."
    )
    explanations: list[ProfileExplanation] | None = None


class SimulationResult(BaseModel):
    model_config = ConfigDict(json_schema_extra=without_titles)

    evaluated_at: datetime
    record_count: int
    explained: bool = Field(description=f"Explanations are given for up to {MAX_EXPLAINED} records.")
    profiles: list[str] = Field(description="Profile ids in priority order (ties: plan order).")
    winner_counts: dict[str, int]
    no_winner: int
    records: list[RecordVerdict]
    warnings: list[ColumnWarning] = Field(
        default_factory=list,
        description="Record columns that match no inventoried attribute, and attributes the profiles read "
        "that no record has, each with a did-you-mean suggestion.",
    )


@dataclass
class ProfileMasks:
    profile: PreparedProfile
    eligible: Masks
    suppression: Masks
    net: int
    undecided: int
    scores: list[float] | None


def profile_masks(program: Program, evaluator: ColumnEvaluator) -> list[ProfileMasks]:
    everyone = evaluator.everyone
    results = []
    for profile in program.by_priority:
        rule = evaluator.node(profile.eligibility) if profile.eligibility else Masks(everyone, 0)
        scores = evaluator.scores(profile)
        scored = Masks(0, everyone)
        if scores is not None and profile.threshold is not None:
            hits = to_mask([s >= profile.threshold for s in scores])
            scored = Masks(hits, everyone & ~hits)
        eligible = _combine(profile.eligible_by, rule, scored)
        suppression = evaluator.node(profile.suppression) if profile.suppression else Masks(0, everyone)
        net = eligible.true & suppression.false
        unknown_eligible = everyone & ~eligible.true & ~eligible.false
        unknown_suppression = everyone & ~suppression.true & ~suppression.false
        undecided = unknown_eligible | (eligible.true & unknown_suppression)
        results.append(ProfileMasks(profile, eligible, suppression, net, undecided, scores))
    return results


def _built(cls: type[BaseModel], **values: Any) -> Any:
    """A model instance from values this module computed, skipping validation.

    model_construct costs ~15 us per call, which dominates for 100,000 records; the values here are
    already of the declared types.
    """
    instance = cls.__new__(cls)
    object.__setattr__(instance, "__dict__", values)
    object.__setattr__(instance, "__pydantic_fields_set__", set(values))
    object.__setattr__(instance, "__pydantic_extra__", None)
    object.__setattr__(instance, "__pydantic_private__", None)
    return instance


def _combine(mode: str, rule: Masks, scored: Masks) -> Masks:
    if mode == "rule":
        return rule
    if mode == "score":
        return scored
    if mode == "rule_and_score":
        return Masks(rule.true & scored.true, rule.false | scored.false)
    return Masks(rule.true | scored.true, rule.false & scored.false)


def simulate(
    plan: Plan,
    records: Sequence[dict[str, Any]],
    now: datetime,
    *,
    explain: bool | None = None,
    holdouts: bool = True,
) -> SimulationResult:
    """Every profile's verdict per record; explanations when explain is not False and records <= 1,000.

    `now` is the evaluation time, kept to the microsecond. A plan whose rules have a type error is
    refused (InputError naming the condition): such a rule has no single meaning. `holdouts` marks
    each record held out of its winner (rules.holdout); scenarios, which only check winners, skip it,
    so that a stored plan-level share above 0.5 stays a finding there instead of an error.
    """
    check_records(records)
    if len(records) > MAX_RECORDS:
        raise InputError(
            f"{len(records)} records given; at most {MAX_RECORDS} are simulated", field="records"
        )
    refuse_type_errors(plan, "simulated")
    return _simulate(plan, records, as_utc(now), explain, holdouts)


def _simulate(
    plan: Plan, records: Sequence[dict[str, Any]], now: datetime, explain: bool | None, holdouts: bool
) -> SimulationResult:
    program = prepare_plan(plan, now)
    n = len(records)
    read = _attributes_read(program)
    columns = coerce_records(records, program.attribute_types, read)
    evaluator = ColumnEvaluator(columns, n, program.now_us)
    masks = profile_masks(program, evaluator)
    explained = explain is not False and n <= MAX_EXPLAINED
    id_column = plan_id_column(plan)
    verdicts = _verdicts(masks, records, columns, n, id_column)
    if holdouts:
        marks = holdout_marks(plan, [v.winner for v in verdicts], [v.record_id for v in verdicts])
        for verdict, mark in zip(verdicts, marks, strict=True):
            verdict.in_holdout = mark
    if explained:
        for verdict in verdicts:
            row = {attr: values[verdict.index] for attr, values in columns.items()}
            verdict.explanations = [
                explain_profile(m.profile, row, records[verdict.index], program.now_us) for m in masks
            ]
    counts: dict[str, int] = {m.profile.id: 0 for m in masks}
    for verdict in verdicts:
        if verdict.winner is not None:
            counts[verdict.winner] += 1
    return SimulationResult.model_construct(
        evaluated_at=now,
        record_count=n,
        explained=explained,
        profiles=[m.profile.id for m in masks],
        winner_counts=counts,
        no_winner=n - sum(counts.values()),
        records=verdicts,
        warnings=column_warnings(records, program.attribute_types, read),
    )


def _attributes_read(program: Program) -> set[str]:
    needed: set[str] = set()
    for profile in program.profiles:
        for tree in _trees(profile):
            needed.update(leaf.attr for leaf in leaves(tree))
        if profile.decay is not None:
            needed.add(profile.decay.attr)
    return needed


def _trees(profile: PreparedProfile) -> list[Node]:
    trees = [t for t in (profile.eligibility, profile.suppression) if t is not None]
    return trees + [when for when, _ in profile.weights]


def _indices(mask: int, n: int) -> list[int]:
    bits = bit_string(mask, n)
    found, start = [], bits.find("1")
    while start != -1:
        found.append(start)
        start = bits.find("1", start + 1)
    return found


def _verdicts(
    masks: list[ProfileMasks], records: Sequence[dict[str, Any]], columns, n: int, id_column: str
) -> list[RecordVerdict]:
    members: list[list[str]] = [[] for _ in range(n)]
    eligible: list[list[str]] = [[] for _ in range(n)]
    suppressed: list[list[str]] = [[] for _ in range(n)]
    winners: list[str | None] = [None] * n
    fallbacks: list[FallbackApplied | None] = [None] * n
    everyone = (1 << n) - 1
    no_winner_yet = everyone
    no_fallback_yet = everyone
    for m in masks:
        pid = m.profile.id
        for i in _indices(m.net, n):
            members[i].append(pid)
        for i in _indices(m.eligible.true, n):
            eligible[i].append(pid)
        for i in _indices(~m.suppression.false & everyone, n):
            suppressed[i].append(pid)
        # A profile that could not decide and outranks the winner is where the fallback comes from.
        undecided = m.undecided & no_winner_yet & no_fallback_yet
        read = [(name, columns.get(name) or [None] * n) for name in attributes_read_by(m.profile)]
        for i in _indices(undecided, n):
            fallbacks[i] = _built(
                FallbackApplied,
                profile_id=pid,
                fallback=m.profile.fallback,
                missing=[name for name, values in read if values[i] is None],
            )
        no_fallback_yet &= ~undecided
        won = m.net & no_winner_yet
        for i in _indices(won, n):
            winners[i] = pid
        no_winner_yet &= ~won
    scored = [m for m in masks if m.scores is not None]
    score_ids = [m.profile.id for m in scored]
    if scored:
        scores = [
            dict(zip(score_ids, values, strict=True))
            for values in zip(*(m.scores for m in scored), strict=True)
        ]
    else:
        scores = [{} for _ in range(n)]
    return [
        _built(
            RecordVerdict,
            index=i,
            record_id=records[i].get(id_column),
            winner=winners[i],
            in_holdout=None,
            members=members[i],
            eligible=eligible[i],
            suppressed=suppressed[i],
            scores=scores[i],
            fallback=fallbacks[i],
            explanations=None,
        )
        for i in range(n)
    ]


def attributes_read_by(profile: PreparedProfile) -> list[str]:
    names = {leaf.attr for tree in _trees(profile) for leaf in leaves(tree)}
    if profile.decay is not None:
        names.add(profile.decay.attr)
    return sorted(names)


def missing_attributes(profile: PreparedProfile, row: dict[str, Any]) -> list[str]:
    return [name for name in attributes_read_by(profile) if row.get(name) is None]


_WORD = {True: "true", False: "false", None: "unknown"}


def _deciding(node: Node, row: dict[str, Any]) -> tuple[bool | None, list[Leaf]]:
    kind, payload = node
    if kind == "leaf":
        return truth(node, row), [payload]
    if kind == "not":
        value, decided = _deciding(payload, row)
        return (None if value is None else not value), decided
    parts = [_deciding(child, row) for child in payload]
    value = truth(node, row)
    if (kind == "all" and value is True) or (kind == "any" and value is False):
        return value, [leaf for _, found in parts for leaf in found]
    # false for all, true for any, or unknown: the children with that same value decided it
    return value, [leaf for part_value, found in parts if part_value is value for leaf in found]


def explain_profile(
    profile: PreparedProfile, row: dict[str, Any], raw: dict[str, Any], now_us: int
) -> ProfileExplanation:
    decided: list[Leaf] = []
    eligibility = suppression = None
    has_rule = profile.eligibility is not None and profile.uses_rule
    if profile.eligibility is not None and has_rule:
        eligibility, found = _deciding(profile.eligibility, row)
        decided += found
    if profile.uses_score:
        for when, _weight in profile.weights:
            decided += _deciding(when, row)[1]
    score = record_score(profile, row, now_us)
    scored = score is not None and profile.threshold is not None and score >= profile.threshold
    rule_value = eligibility if has_rule else True
    rule_true = rule_value is True
    mode = profile.eligible_by
    if mode == "rule":
        eligible_value = rule_value
    elif mode == "score":
        eligible_value = scored
    elif mode == "rule_and_score":
        eligible_value = False if (rule_value is False or not scored) else rule_value
    else:
        eligible_value = True if (rule_true or scored) else rule_value
    if profile.suppression is not None:
        suppression, found = _deciding(profile.suppression, row)
        decided += found
    suppressed = suppression is not False and profile.suppression is not None
    member = eligible_value is True and not suppressed
    undecided = eligible_value is None or (
        eligible_value is True and suppression is None and profile.suppression is not None
    )
    return ProfileExplanation.model_construct(
        profile_id=profile.id,
        eligibility=_WORD[eligibility] if has_rule else None,
        suppression=None if profile.suppression is None else _WORD[suppression],
        score=score,
        threshold=profile.threshold,
        eligible=eligible_value is True,
        suppressed=suppressed,
        member=member,
        decided_by=[
            ConditionOutcome.model_construct(
                pointer=leaf.pointer,
                condition=describe_condition(leaf.source),
                value=raw.get(leaf.attr),
                result=_WORD[truth(("leaf", leaf), row)],
            )
            for leaf in decided
        ],
        missing=missing_attributes(profile, row),
        fallback=profile.fallback if undecided else None,
    )
