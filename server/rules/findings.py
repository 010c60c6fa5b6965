"""rule_findings(): everything the rules layer reports about a plan, as checks-layer findings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from itertools import combinations

from ..model import Plan
from ..model.findings import Finding
from ..model.stages import Attribute
from .analysis import Domain, Solver, Term, conjoin, dnf, show_record
from .program import PreparedProfile, as_utc, prepare_plan
from .records import coerce_value
from .render import describe
from .scenarios import run_scenarios
from .typecheck import BLOCKING_CODES, TypeChecker, finding

# Term pairs the overlap analysis may test inside the checks' time budget; overlap_findings() without
# a budget does the whole analysis.
CHECKS_OVERLAP_BUDGET = 500

RULE_FINDING_CODES: dict[str, str] = {
    "rules.unknown_attribute": "A rule or decay names an attribute that is not in the inventory.",
    "rules.type_mismatch": "An operator or value does not fit the attribute's type (e.g. >= on a string).",
    "rules.time_predicate_on_non_timestamp": "A time predicate or decay reads an attribute that is not a "
    "timestamp or date.",
    "rules.value_not_allowed": "An eq/in value is not among the attribute's allowed_values.",
    "rules.score_mode_without_scoring": "eligible_by uses the score but the profile has no scoring.",
    "rules.never_matches": "A rule can never be true, whatever the record holds.",
    "rules.always_matches": "A rule is true for every record that has values for its attributes.",
    "rules.suppression_removes_all": "Every record the eligibility admits is suppressed: the profile is "
    "always empty.",
    "rules.overlap": "Two profiles with the same priority can match the same record (an example is given).",
    "rules.overlap_check_truncated": "The overlap analysis stopped at its budget; some equal-priority "
    "pairs were not compared.",
    "rules.scenario_failed": "A stored scenario no longer lands in its expected profile.",
    "rules.analysis_failed": "A rule analysis could not complete on this plan; the plan is kept and "
    "the message names what was not checked.",
}


def _domain(attr: Attribute) -> Domain:
    allowed = None
    if attr.allowed_values is not None:
        allowed_values = []
        for value in attr.allowed_values:
            try:
                allowed_values.append(coerce_value(value, attr.type, index=0, attr=attr.name))
            except Exception:  # a mistyped allowed value is the inventory's problem, not the rule's
                continue
        allowed = tuple(allowed_values)
    return Domain(attr.type, allowed)


def _domains(plan: Plan) -> dict[str, Domain]:
    return {attr.name: _domain(attr) for attr in plan.attributes}


def _net_terms(profile: PreparedProfile) -> list[Term] | None:
    eligible = dnf(profile.eligibility, True) if profile.eligibility is not None else [()]
    not_suppressed = dnf(profile.suppression, False) if profile.suppression is not None else [()]
    if eligible is None or not_suppressed is None:
        return None
    return conjoin([eligible, not_suppressed])


def _static(profile: PreparedProfile, troubled: set[str], solver: Solver, present: Solver):
    base = f"/profiles/{profile.index}"
    found: list[Finding] = []
    eligibility_ok = profile.eligibility is not None and f"{base}/eligibility" not in troubled
    suppression_ok = profile.suppression is None or f"{base}/suppression" not in troubled
    source = profile.profile
    if eligibility_ok and profile.uses_rule:
        terms = dnf(profile.eligibility, True)
        if terms is not None and not solver.satisfiable(terms)[0]:
            found.append(
                finding(
                    "rules.never_matches",
                    "warning",
                    f"{base}/eligibility",
                    f"the eligibility of {profile.id!r} can never be true: {describe(source.eligibility)} "
                    "contradicts itself; remove the conflicting condition",
                )
            )
            return found
        falsifiers = dnf(profile.eligibility, False)
        if falsifiers is not None and not present.satisfiable(falsifiers)[0]:
            found.append(
                finding(
                    "rules.always_matches",
                    "warning",
                    f"{base}/eligibility",
                    f"the eligibility of {profile.id!r} is true for every record with values: "
                    f"{describe(source.eligibility)} excludes no one; narrow it or drop the rule",
                )
            )
    if (
        eligibility_ok
        and suppression_ok
        and profile.suppression is not None
        and profile.eligible_by == "rule"
    ):
        terms = _net_terms(profile)
        if terms is not None and not solver.satisfiable(terms)[0]:
            found.append(
                finding(
                    "rules.suppression_removes_all",
                    "warning",
                    f"{base}/suppression",
                    f"the suppression of {profile.id!r} ({describe(source.suppression)}) removes every "
                    f"record its eligibility admits ({describe(source.eligibility)}), so the profile is "
                    "always empty; narrow the suppression",
                )
            )
    return found


def overlap_findings(plan: Plan, now: datetime, *, budget: int | None = None) -> list[Finding]:
    """Equal-priority profiles (eligible by rule) that can share a record, each with an example record.

    Only pairs with the same priority are compared, since a lower number wins otherwise. `budget`
    bounds the term pairs tested; when it runs out, one rules.overlap_check_truncated finding says how
    many pairs were left.
    """
    program = prepare_plan(plan, as_utc(now))
    checker = TypeChecker(plan)
    checker.run(plan)
    return _overlaps(plan, program.profiles, checker.troubled_trees, Solver(_domains(plan)), budget)


def _overlaps(plan, profiles, troubled, solver, budget) -> list[Finding]:
    kinds = {a.name: a.type for a in plan.attributes}
    troubled_profiles = {int(pointer.split("/")[2]) for pointer in troubled}
    groups: dict[int, list[PreparedProfile]] = {}
    for profile in profiles:
        if profile.eligible_by != "rule" or profile.index in troubled_profiles:
            continue  # score-based membership and mistyped rules are not compared
        groups.setdefault(profile.priority, []).append(profile)
    found: list[Finding] = []
    spent, compared = 0, 0
    total_pairs = sum(len(g) * (len(g) - 1) // 2 for g in groups.values())
    terms_of: dict[int, list[Term] | None] = {}
    for priority in sorted(groups):
        for a, b in combinations(groups[priority], 2):
            if budget is not None and spent >= budget:
                break
            compared += 1
            for profile in (a, b):
                if profile.index not in terms_of:
                    terms_of[profile.index] = _net_terms(profile)
            terms_a, terms_b = terms_of[a.index], terms_of[b.index]
            if terms_a is None or terms_b is None:
                continue
            example = None
            for term_a in terms_a:
                for term_b in terms_b:
                    spent += 1
                    ok, record = solver.term(term_a + term_b)
                    if ok:
                        example = record
                        break
                if example is not None:
                    break
            if example is not None:
                shown = json.dumps(show_record(example, kinds), default=str)
                found.append(
                    finding(
                        "rules.overlap",
                        "warning",
                        f"/profiles/{b.index}/priority",
                        f"profiles {a.id!r} and {b.id!r} both have priority {priority} and can match the "
                        f"same record, e.g. {shown}; give one a lower priority number or make their rules "
                        "exclusive",
                    )
                )
    skipped = total_pairs - compared
    if skipped:
        found.append(
            finding(
                "rules.overlap_check_truncated",
                "info",
                "/profiles",
                f"{skipped} pair(s) of equal-priority profiles were not compared for overlap within the "
                "checks' budget; give profiles distinct priorities, or run the full overlap analysis",
            )
        )
    return found


def rule_findings(plan: Plan, now: datetime) -> list[Finding]:
    """Type, static-analysis, overlap and scenario findings for every profile in the plan."""
    now = as_utc(now)
    checker = TypeChecker(plan)
    found = checker.run(plan)
    program = prepare_plan(plan, now)
    domains = _domains(plan)
    solver = Solver(domains)
    present = Solver(domains, allow_nulls=False)
    troubled = checker.troubled_trees
    for profile in program.profiles:
        with _degrades(found, f"/profiles/{profile.index}", f"the static analysis of {profile.id!r}"):
            found += _static(profile, troubled, solver, present)
    with _degrades(found, "/profiles", "the overlap analysis"):
        found += _overlaps(plan, program.profiles, checker.troubled_trees, solver, CHECKS_OVERLAP_BUDGET)
    if any(f.code in BLOCKING_CODES for f in found):
        return found  # a mistyped rule has no single meaning: its type finding already fails validation
    with _degrades(found, "/scenarios", "the scenario run"):
        for result in run_scenarios(plan, now):
            if not result.passed:
                found.append(finding("rules.scenario_failed", "error", result.pointer, result.message))
    return found


@contextmanager
def _degrades(found: list[Finding], pointer: str, what: str) -> Iterator[None]:
    """A check that fails becomes a finding: findings run on every write, and an exception there
    would refuse every later write to the plan, though nothing in the plan is invalid."""
    try:
        yield
    except Exception as exc:  # any failure of an analysis must degrade to a finding, never crash a write
        found.append(
            finding(
                "rules.analysis_failed",
                "warning",
                pointer,
                f"{what} could not complete ({type(exc).__name__}: {str(exc)[:200]}); nothing else was "
                "affected; please report it with the plan",
            )
        )
