"""A profile's membership in negation normal form, and scoring without arithmetic, for the flag
targets (docs/exports.md).

Membership is `eligible AND NOT suppressed` under three-valued logic. In negation normal form every
leaf carries its polarity: a positive literal holds exactly when the condition is TRUE, a negative one
exactly when it is FALSE (the attribute present and the test failing), so a missing value satisfies
neither, as in SQL. Flag systems whose clauses fail on a missing attribute evaluate these literals
exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations
from typing import Union

from ..model.ledger import ExportRefusal
from ..model.rules import WindowCondition
from ..rules.instants import MICROS
from ..rules.program import Leaf, Node, PreparedProfile
from ..rules.render import describe_condition
from .common import MAX_SCORE_TERMS, refusal, short


@dataclass(frozen=True)
class Lit:
    leaf: Leaf
    positive: bool


@dataclass(frozen=True)
class And:
    parts: tuple[Nnf, ...]


@dataclass(frozen=True)
class Or:
    parts: tuple[Nnf, ...]


Nnf = Union[Lit, And, Or, bool]  # noqa: UP007 (a runtime alias; the | form needs 3.10 types here)


# --- negation normal form -----------------------------------------------------------------------
def nnf(node: Node, positive: bool = True) -> Nnf:
    kind, payload = node
    if kind == "leaf":
        return Lit(payload, positive)
    if kind == "not":
        return nnf(payload, not positive)
    parts = [nnf(child, positive) for child in payload]
    # De Morgan holds in Kleene logic: ALL is FALSE when ANY child is FALSE.
    return conjoin(parts) if (kind == "all") == positive else disjoin(parts)


def conjoin(parts: list[Nnf]) -> Nnf:
    kept: list[Nnf] = []
    for part in parts:
        if part is False:
            return False
        if part is not True:
            kept += list(part.parts) if isinstance(part, And) else [part]
    return True if not kept else kept[0] if len(kept) == 1 else And(tuple(kept))


def disjoin(parts: list[Nnf]) -> Nnf:
    kept: list[Nnf] = []
    for part in parts:
        if part is True:
            return True
        if part is not False:
            kept += list(part.parts) if isinstance(part, Or) else [part]
    return False if not kept else kept[0] if len(kept) == 1 else Or(tuple(kept))


def literals(tree: Nnf) -> list[Lit]:
    if isinstance(tree, Lit):
        return [tree]
    if isinstance(tree, (And, Or)):
        return [lit for part in tree.parts for lit in literals(part)]
    return []


def dnf(tree: Nnf, limit: int = MAX_SCORE_TERMS) -> list[list[Lit]] | None:
    """The tree as alternatives of conjunctions (what segment rules hold), or None past `limit`."""
    if tree is True:
        return [[]]
    if tree is False:
        return []
    if isinstance(tree, Lit):
        return [[tree]]
    if isinstance(tree, Or):
        terms: list[list[Lit]] = []
        for part in tree.parts:
            sub = dnf(part, limit)
            if sub is None or len(terms) + len(sub) > limit:
                return None
            terms += sub
        return terms
    assert isinstance(tree, And)
    product: list[list[Lit]] = [[]]
    for part in tree.parts:
        sub = dnf(part, limit)
        if sub is None or len(product) * len(sub) > limit:
            return None
        product = [left + right for left in product for right in sub]
    return product


# --- a profile's membership -----------------------------------------------------------------------
@dataclass(frozen=True)
class Membership:
    """A profile's membership as NNF, or the refusal that says why a target cannot carry it."""

    tree: Nnf | None
    refusal: ExportRefusal | None = None


def score_nnf(profile: PreparedProfile, now_us: int) -> Nnf | ExportRefusal:
    """`score >= threshold` without arithmetic: one alternative per minimal set of conditions whose
    weights reach the threshold (only TRUE conditions count, as in every evaluator), each with the
    lookback window when there is one. Half-life decay and negative weights are refused."""
    base = f"/profiles/{profile.index}/scoring"
    if profile.threshold is None:
        return False
    if profile.decay is not None and profile.decay.kind == "half_life":
        return refusal(
            profile,
            f"{base}/decay",
            f"{profile.decay.attr} half-life {_window_text(profile.decay.window_us)}",
            "exponential decay needs arithmetic the target's conditions do not have",
        )
    negative = [i for i, (_, weight) in enumerate(profile.weights) if weight < 0]
    if negative:
        return refusal(
            profile,
            f"{base}/conditions/{negative[0]}/weight",
            f"weight {profile.weights[negative[0]][1]:g}",
            "a negative weight makes the score depend on conditions being false or unknown",
        )
    if profile.threshold <= 0:
        return True
    terms = _reaching_sets(profile)
    if terms is None:
        return refusal(
            profile,
            f"{base}/conditions",
            f"{len(profile.weights)} weighted conditions, threshold {profile.threshold:g}",
            f"the score expands to more than {MAX_SCORE_TERMS} alternatives",
        )
    reached = disjoin([conjoin([nnf(profile.weights[i][0]) for i in term]) for term in terms])
    if profile.decay is None:
        return reached
    return conjoin([Lit(_lookback_leaf(profile, now_us), True), reached])


def _reaching_sets(profile: PreparedProfile) -> list[tuple[int, ...]] | None:
    positive = [i for i, (_, weight) in enumerate(profile.weights) if weight > 0]
    threshold = profile.threshold
    assert threshold is not None
    found: list[tuple[int, ...]] = []
    for size in range(1, len(positive) + 1):
        for chosen in combinations(positive, size):
            total = 0.0
            for i in chosen:  # summed in listed order, as the evaluators add them
                total += profile.weights[i][1]
            if total >= threshold and not any(set(f) <= set(chosen) for f in found):
                found.append(chosen)
                if len(found) > MAX_SCORE_TERMS:
                    return None
    return found


def _lookback_leaf(profile: PreparedProfile, now_us: int) -> Leaf:
    decay = profile.decay
    assert decay is not None
    window = _window_text(decay.window_us)
    source = WindowCondition(op="within_last", attr=decay.attr, value=window)
    pointer = f"/profiles/{profile.index}/scoring/decay"
    return Leaf("within_last", decay.attr, now_us - decay.window_us, pointer, source)


def membership(profile: PreparedProfile, now_us: int, *, with_score: bool = True) -> Membership:
    """eligible AND NOT suppressed, for a profile prepared at `now_us`. With `with_score=False` the
    score counts as False: for targets that compute the score themselves and combine it."""
    rule: Nnf = True if profile.eligibility is None else nnf(profile.eligibility)
    score: Nnf = False
    if profile.uses_score and with_score:
        scored = score_nnf(profile, now_us)
        if isinstance(scored, ExportRefusal):
            return Membership(None, scored)
        score = scored
    eligible = {
        "rule": rule,
        "score": score,
        "rule_and_score": conjoin([rule, score]),
        "rule_or_score": disjoin([rule, score]),
    }[profile.eligible_by]
    kept = True if profile.suppression is None else nnf(profile.suppression, False)
    return Membership(conjoin([eligible, kept]))


def _window_text(window_us: int) -> str:
    seconds = window_us // MICROS
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def refuse_literal(
    profile: PreparedProfile, lit: Lit, reason: str, channel: str | None = None
) -> ExportRefusal:
    """A refusal naming the condition a target cannot express (with its polarity)."""
    text = describe_condition(lit.leaf.source)
    return ExportRefusal(
        profile_id=profile.id,
        channel=channel,
        pointer=lit.leaf.pointer,
        condition=short(text if lit.positive else f"NOT {text}"),
        reason=short(reason),
    )
