"""The dependency graph's shape and the freshness of inputs against their consumers' SLAs."""

from __future__ import annotations

from personalization_engine.checks.run import run_checks
from personalization_engine.model.plan import DependencyEdge, DependencyGraph, DependencyNode

from .helpers import clean_plan, update_attribute


def graph(kind: str, nodes: list[str], edges: list[tuple[str, str]]):
    plan = clean_plan()
    plan = plan.model_copy(
        update={
            "pattern": plan.pattern.model_copy(update={"kind": kind}),
            "dependencies": DependencyGraph(
                nodes=[DependencyNode(id=n, kind="stage") for n in nodes],
                edges=[DependencyEdge.model_validate({"from": a, "to": b}) for a, b in edges],
            ),
        }
    )
    return [(f.code, f.pointer, f.message) for f in run_checks(plan)]


STAGES = ["intake", "attributes", "profiles", "activation", "governance"]
CHAIN = [
    ("intake", "attributes"),
    ("attributes", "profiles"),
    ("profiles", "activation"),
    ("activation", "governance"),
]


def test_a_chained_pipeline_matches_its_pattern():
    assert graph("pipeline", STAGES, CHAIN) == []


def test_a_diamond_without_a_merge_is_a_pattern_mismatch():
    ((code, pointer, message),) = graph("diamond", STAGES, CHAIN)
    assert (code, pointer) == ("graph.pattern_mismatch", "/pattern/kind")
    assert "no stage merges parallel branches" in message


def test_a_self_loop_is_a_cycle_naming_its_edge():
    findings = graph("pipeline", STAGES, [*CHAIN, ("profiles", "profiles")])
    assert findings == [
        (
            "graph.cycle",
            "/dependencies/edges/4",
            "dependencies form a cycle through profiles (edges 4); remove an edge so the stages can be "
            "ordered",
        )
    ]


def test_a_cycle_through_many_teams_is_one_finding_naming_its_nodes():
    nodes = [f"team-{i}" for i in range(90)]
    plan = clean_plan()
    dependencies = plan.dependencies.model_copy(
        update={
            "nodes": (*plan.dependencies.nodes, *(DependencyNode(id=n, kind="team") for n in nodes)),
            "edges": (
                *plan.dependencies.edges,
                *(
                    DependencyEdge.model_validate({"from": a, "to": b})
                    for a, b in zip(nodes, nodes[1:] + nodes[:1], strict=True)
                ),
            ),
        }
    )
    plan = plan.model_copy(update={"dependencies": dependencies})
    (finding,) = run_checks(plan)
    assert finding.code == "graph.cycle"
    assert "team-0, team-1, team-10" in finding.message


def test_a_daily_attribute_behind_a_real_time_in_app_trigger_is_a_freshness_finding():
    plan = clean_plan()
    plan = update_attribute(plan, "activated", refresh_cadence="daily")
    findings = [(f.code, f.pointer, f.message) for f in run_checks(plan)]
    assert findings == [
        (
            "fresh.activation_sla",
            "/activations/1/latency_sla",
            "activation trial_not_activated/in-app must act within 1h, but it relies on attributes refreshed "
            "less often: activated (daily); refresh them faster or relax latency_sla",
        )
    ]
