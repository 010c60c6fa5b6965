"""The dependency graph: known nodes, no cycles, and a shape that matches the declared pattern."""

from __future__ import annotations

from ..model import STAGES
from ..model.findings import Finding
from .usage import PlanIndex, name_list


def graph_findings(index: PlanIndex) -> list[Finding]:
    graph = index.plan.dependencies
    known = {n.id for n in graph.nodes}
    findings = []
    edges: list[tuple[int, str, str]] = []
    for k, edge in enumerate(graph.edges):
        unknown = [
            (end, name) for end, name in (("from", edge.source), ("to", edge.target)) if name not in known
        ]
        findings += [
            Finding(
                code="graph.unknown_node",
                severity="error",
                pointer=f"/dependencies/edges/{k}/{end}",
                message=f"dependency edge {edge.source} -> {edge.target} names node {name!r}, which is not "
                "in dependencies.nodes; add the node or fix the edge",
                stage="plan",
            )
            for end, name in unknown
        ]
        if not unknown:
            edges.append((k, edge.source, edge.target))
    findings += _cycles(edges)
    findings += _pattern(index, edges)
    missing = [s for s in STAGES if s not in known]
    if missing and graph.nodes:
        findings.append(
            Finding(
                code="graph.stage_missing",
                severity="warning",
                pointer="/dependencies/nodes",
                message=f"the dependency graph leaves out stages {name_list(missing)}; add them as nodes "
                "of kind 'stage' so their order is explicit",
                stage="plan",
            )
        )
    return findings


def _strongly_connected(nodes: list[str], successors: dict[str, list[str]]) -> list[list[str]]:
    """Tarjan's algorithm, iterative, so a long chain cannot exhaust the recursion limit."""
    order: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for root in nodes:
        if root in order:
            continue
        work = [(root, 0)]
        while work:
            node, child_index = work.pop()
            if child_index == 0:
                order[node] = low[node] = len(order)
                stack.append(node)
                on_stack.add(node)
            children = successors.get(node, [])
            if child_index < len(children):
                work.append((node, child_index + 1))
                child = children[child_index]
                if child not in order:
                    work.append((child, 0))
                elif child in on_stack:
                    low[node] = min(low[node], order[child])
                continue
            if low[node] == order[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                components.append(component)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
    return components


def _cycles(edges: list[tuple[int, str, str]]) -> list[Finding]:
    successors: dict[str, list[str]] = {}
    nodes: list[str] = []
    for _, source, target in edges:
        successors.setdefault(source, []).append(target)
        nodes += [source, target]
    nodes = list(dict.fromkeys(nodes))
    findings = []
    for component in _strongly_connected(nodes, successors):
        members = set(component)
        inside = [k for k, source, target in edges if source in members and target in members]
        if len(component) == 1 and not inside:
            continue
        findings.append(
            Finding(
                code="graph.cycle",
                severity="error",
                pointer=f"/dependencies/edges/{inside[0]}",
                message=f"dependencies form a cycle through {', '.join(sorted(members))} (edges "
                f"{', '.join(str(k) for k in inside)}); remove an edge so the stages can be ordered",
                stage="plan",
            )
        )
    return findings


def _pattern(index: PlanIndex, edges: list[tuple[int, str, str]]) -> list[Finding]:
    stages = {n.id for n in index.plan.dependencies.nodes if n.kind == "stage"}
    ins: dict[str, list[str]] = {}
    outs: dict[str, list[str]] = {}
    for _, source, target in edges:
        if source in stages and target in stages and source != target:
            outs.setdefault(source, []).append(target)
            ins.setdefault(target, []).append(source)
    kind = index.plan.pattern.kind
    if kind == "pipeline":
        branching = sorted(
            [f"{s} branches to {', '.join(t)}" for s, t in outs.items() if len(set(t)) > 1]
            + [f"{s} merges {', '.join(t)}" for s, t in ins.items() if len(set(t)) > 1]
        )
        if branching:
            return [
                Finding(
                    code="graph.pattern_mismatch",
                    severity="warning",
                    pointer="/pattern/kind",
                    message=f"pattern is 'pipeline' but the stage graph has parallel branches "
                    f"({'; '.join(branching)}); chain the stages one after another or choose 'diamond'",
                    stage="plan",
                )
            ]
    elif stages and not any(len(set(sources)) > 1 for sources in ins.values()):
        return [
            Finding(
                code="graph.pattern_mismatch",
                severity="warning",
                pointer="/pattern/kind",
                message="pattern is 'diamond' but no stage merges parallel branches (no stage has two "
                "stage predecessors); let parallel stages converge into one, or choose 'pipeline'",
                stage="plan",
            )
        ]
    return []
