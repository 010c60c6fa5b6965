"""Everything the templates show, computed once per render from one plan revision.

Templates only lay out what this module computes, so every deliverable shows the same figures and
a render stays a pure function of the plan.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from markupsafe import Markup

from ..checks.metrics import is_ready
from ..checks.run import run_checks
from ..checks.usage import build_index, unique_names
from ..errors import EngineError
from ..model import Activation, Attribute, DataSource, Plan, Profile, Scenario
from ..model.findings import Finding
from ..rules import ScenarioResult, compile_sql, run_scenarios, simulate
from . import svg, tree_svg
from .escaping import mermaid_label
from .export_links import ExportLink, export_link
from .impact import ImpactView, latest_impact
from .matrix import CoverageMatrix, coverage_matrix
from .readiness import Readiness, readiness, status_line, status_word
from .rule_text import DecisionGraph, decision_graph, duration_words, inline, mermaid, outline, value_words
from .sizing import SizingView, latest_sizing

DEFAULT_DIALECT = "duckdb"
METRIC_LABELS = {
    "attribute_spec_coverage_pct": "Attribute spec coverage",
    "attribute_data_coverage_pct": "Attribute data coverage (measured)",
    "consent_integrity_pct": "Consent integrity",
    "activation_readiness_pct": "Activation readiness",
}
_POINTER = re.compile(r"^/(activations|profiles|attributes|scenarios)/(\d+)(?:/|$)")


@dataclass
class ProfileView:
    profile: Profile
    persona: str | None
    lifecycle_stage: str | None
    eligibility: list[tuple[int, str]]
    suppression: list[tuple[int, str]]
    scoring: list[str]
    graph: DecisionGraph
    mermaid: str
    sql: str
    scenarios: list[tuple[Scenario, ScenarioResult | None]]
    findings: list[Finding]

    def diagram(self) -> Markup:
        nodes = [
            svg.GraphNode(
                n.id,
                n.label,
                n.tone if n.kind == "outcome" else n.kind,
                {"start": "round", "test": "diamond"}.get(n.kind, "box"),
            )
            for n in self.graph.nodes
        ]
        return tree_svg.decision_tree(
            nodes,
            self.graph.edges,
            self.graph.order,
            self.graph.flipped,
            key=f"p{self.profile.id}",
            title=f"Decision tree of {self.profile.name}",
        )


@dataclass
class ActivationView:
    activation: Activation
    profile_name: str
    findings: list[Finding]
    ready: bool
    export: ExportLink


@dataclass
class ChannelView:
    channel: str
    readiness: float | None
    activations: list[ActivationView]
    findings: list[Finding]


@dataclass
class AttributeRow:
    attribute: Attribute
    source: DataSource | None
    used_by: list[str]


@dataclass
class MetricRow:
    label: str
    target: float | None
    actual: float | None

    @property
    def status(self) -> str:
        if self.actual is None:
            return "not measured yet"
        if self.target is None:
            return "no target"
        return "met" if self.actual >= self.target else "below target"


@dataclass
class PlanView:
    plan: Plan
    findings: list[Finding]
    attributes: list[AttributeRow]
    profiles: list[ProfileView]
    channels: list[ChannelView]
    plan_findings: list[Finding]
    metrics: list[MetricRow]
    matrix: CoverageMatrix
    sizing: SizingView | None
    dependency_mermaid: str
    dependency_svg: Markup
    readiness: Readiness
    status_line: str
    status_word: str
    unmatched_scenarios: list[tuple[Scenario, ScenarioResult | None]] = field(default_factory=list)
    dialect: str = DEFAULT_DIALECT
    sources: dict[str, DataSource] = field(default_factory=dict)

    @property
    def impact(self) -> ImpactView | None:
        return latest_impact(self.plan)

    @property
    def open_blockers(self):
        return [b for b in self.plan.blockers if b.status == "open"]

    @property
    def open_escalations(self):
        return [e for e in self.plan.escalations if e.status == "open"]

    @property
    def measured_coverage(self) -> dict[str, float]:
        """Attribute name -> non-null share measured by the latest sizing run, in percent."""
        if self.sizing is None:
            return {}
        return {c.name: c.coverage_pct for c in self.sizing.coverage}

    def overlap_svg(self) -> Markup:
        if self.sizing is None or not self.sizing.overlap_labels:
            return Markup("")
        return svg.heatmap(
            self.sizing.overlap_labels, self.sizing.overlap, title="Profile overlap (people in both)"
        )


def _scoring_lines(profile: Profile) -> list[str]:
    scoring = profile.scoring
    if scoring is None:
        return []
    lines = [
        f"{'+' if c.weight >= 0 else '-'}{value_words(abs(c.weight))} when {inline(c.when)}"
        + (f" ({c.label})" if c.label else "")
        for c in scoring.conditions
    ]
    lines.append(f"threshold: a score of at least {value_words(scoring.threshold)}")
    decay = scoring.decay
    if decay is not None and decay.kind == "half_life":
        lines.append(
            f"decay: the score halves every {duration_words(decay.window)} of age of {decay.attr}; "
            f"a missing {decay.attr} scores 0"
        )
    elif decay is not None:
        lines.append(
            f"decay: the score counts only while {decay.attr} is within the last "
            f"{duration_words(decay.window)}, otherwise it is 0"
        )
    return lines


def _profile_sql(plan: Plan, profile: Profile) -> str:
    try:
        return compile_sql(plan.model_copy(update={"profiles": [profile]}), DEFAULT_DIALECT)
    except EngineError as exc:
        return f"-- this profile cannot be compiled yet: {exc}\n"


def _scenario_results(plan: Plan) -> list[ScenarioResult | None]:
    """Latest result of every scenario, at the plan's own time so that a render is reproducible."""
    if not plan.scenarios:
        return []
    try:
        # Verdicts alone are cheap; explanations are only worth computing when a scenario fails.
        verdicts = simulate(plan, [s.record for s in plan.scenarios], plan.updated_at, explain=False)
        winners = [r.winner for r in verdicts.records]
        if all(w == s.expected_profile for w, s in zip(winners, plan.scenarios, strict=True)):
            return [
                ScenarioResult(
                    scenario_id=s.id,
                    pointer=f"/scenarios/{i}",
                    expected_profile=s.expected_profile,
                    actual_profile=w,
                    passed=True,
                    message=f"scenario {s.id!r} lands in {w or 'no profile'} as expected",
                )
                for i, (s, w) in enumerate(zip(plan.scenarios, winners, strict=True))
            ]
    except EngineError:
        pass  # run_scenarios evaluates the records one by one and says which one cannot be
    try:
        results: list[ScenarioResult | None] = list(run_scenarios(plan, plan.updated_at))
    except EngineError:
        results = []
    return results + [None] * (len(plan.scenarios) - len(results))


def _route(findings: list[Finding], plan: Plan):
    by_activation: dict[int, list[Finding]] = {}
    by_profile: dict[int, list[Finding]] = {}
    general: list[Finding] = []
    for finding in findings:
        match = _POINTER.match(finding.pointer)
        if match and match.group(1) == "activations" and int(match.group(2)) < len(plan.activations):
            by_activation.setdefault(int(match.group(2)), []).append(finding)
        elif match and match.group(1) == "profiles" and int(match.group(2)) < len(plan.profiles):
            by_profile.setdefault(int(match.group(2)), []).append(finding)
        elif finding.code != "ledger.blocker_open":  # the open blocker itself is listed instead
            general.append(finding)
    return by_activation, by_profile, general


def build_view(plan: Plan) -> PlanView:
    findings = run_checks(plan)
    index = build_index(plan)
    by_activation, by_profile, general = _route(findings, plan)
    personas = {p.id: p.name for p in plan.intake.personas}
    stages = {s.id: s.name for s in plan.intake.lifecycle_stages}
    results = _scenario_results(plan)
    scenarios_of: dict[str | None, list[tuple[Scenario, ScenarioResult | None]]] = {}
    for scenario, result in zip(plan.scenarios, results, strict=True):
        scenarios_of.setdefault(scenario.expected_profile, []).append((scenario, result))
    profiles = []
    for i, profile in enumerate(plan.profiles):
        graph = decision_graph(profile)
        profiles.append(
            ProfileView(
                profile=profile,
                persona=personas.get(profile.persona_id or "", profile.persona_id),
                lifecycle_stage=stages.get(profile.lifecycle_stage_id or "", profile.lifecycle_stage_id),
                eligibility=outline(profile.eligibility) if profile.eligibility is not None else [],
                suppression=outline(profile.suppression) if profile.suppression is not None else [],
                scoring=_scoring_lines(profile),
                graph=graph,
                mermaid="" if graph.too_large else mermaid(graph, mermaid_label),
                sql=_profile_sql(plan, profile),
                scenarios=scenarios_of.get(profile.id, []),
                findings=by_profile.get(i, []),
            )
        )
    used_by: dict[str, list[str]] = {}
    for i, profile in enumerate(plan.profiles):
        for name in unique_names(index.targeting[i] + index.suppression[i]):
            used_by.setdefault(name, []).append(profile.id)
    for i, activation in enumerate(plan.activations):
        for name in unique_names(index.sent[i]):
            users = used_by.setdefault(name, [])
            if activation.profile_id not in users:
                users.append(activation.profile_id)
    sources = {s.id: s for s in plan.data_sources}
    known = {p.id for p in plan.profiles}
    attributes = [
        AttributeRow(a, sources.get(a.source_id or ""), used_by.get(a.name, [])) for a in plan.attributes
    ]
    pairs = zip(plan.scenarios, results, strict=True)
    failing = [(r.pointer, r.message) for _, r in pairs if r is not None and not r.passed]
    return PlanView(
        plan=plan,
        findings=findings,
        attributes=attributes,
        profiles=profiles,
        channels=_channels(plan, by_activation),
        plan_findings=general,
        metrics=_metrics(plan),
        matrix=coverage_matrix(index),
        sizing=latest_sizing(plan),
        dependency_mermaid=_dependency_mermaid(plan),
        dependency_svg=_dependency_svg(plan),
        readiness=readiness(plan, findings, failing),
        status_line=status_line(plan),
        status_word=status_word(plan),
        sources=sources,
        unmatched_scenarios=[
            pair for key, pairs in scenarios_of.items() if key not in known for pair in pairs
        ],
    )


def _channels(plan: Plan, by_activation: dict[int, list[Finding]]) -> list[ChannelView]:
    names = {p.id: p.name for p in plan.profiles}
    order = list(dict.fromkeys([*plan.channels, *(a.channel for a in plan.activations)]))
    readiness = plan.success_metrics.activation_readiness_by_channel
    views = {c: ChannelView(c, readiness.get(c), [], []) for c in order}  # type: ignore[call-overload]
    for i, activation in enumerate(plan.activations):
        own = by_activation.get(i, [])
        views[activation.channel].activations.append(
            ActivationView(
                activation,
                names.get(activation.profile_id, activation.profile_id),
                own,
                is_ready(plan, i),
                export_link(plan, activation),
            )
        )
        views[activation.channel].findings.extend(own)
    return list(views.values())


def _metrics(plan: Plan) -> list[MetricRow]:
    stored = plan.success_metrics
    return [
        MetricRow(label, getattr(stored, name).target, getattr(stored, name).actual)
        for name, label in METRIC_LABELS.items()
    ]


def _dependency_nodes(plan: Plan) -> list[svg.GraphNode]:
    return [svg.GraphNode(n.id, n.label or n.id, n.kind) for n in plan.dependencies.nodes]


def _dependency_mermaid(plan: Plan) -> str:
    nodes = plan.dependencies.nodes
    if not nodes:
        return ""
    ids = {n.id: f"d{i}" for i, n in enumerate(nodes)}
    lines = ["flowchart LR"]
    for n in nodes:
        left, right = ("[", "]") if n.kind == "stage" else ("([", "])")
        lines.append(f'  {ids[n.id]}{left}"{mermaid_label(n.label or n.id)}"{right}')
    lines += [
        f"  {ids[e.source]} --> {ids[e.target]}"
        for e in plan.dependencies.edges
        if e.source in ids and e.target in ids
    ]
    teams = [ids[n.id] for n in nodes if n.kind == "team"]
    if teams:
        lines.append(f"  class {','.join(teams)} team")
        lines.append("  classDef team fill:#fff8c5,stroke:#9a6700")
    return "\n".join(lines)


def _dependency_svg(plan: Plan) -> Markup:
    edges = [(e.source, e.target, "") for e in plan.dependencies.edges]
    return svg.layered_graph(_dependency_nodes(plan), edges, key="deps", title="Dependency graph")
