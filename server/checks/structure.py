"""Structural checks: keyed items must have unique keys, because stage tools address items by key."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..model import Plan
from ..model.findings import Finding

_KEYED: list[tuple[str, str, Callable[[Plan], Iterable[Any]], Callable[[Any], str]]] = [
    ("/dependencies/nodes", "plan", lambda p: p.dependencies.nodes, lambda i: i.id),
    ("/data_sources", "attributes", lambda p: p.data_sources, lambda i: i.id),
    ("/attributes", "attributes", lambda p: p.attributes, lambda i: i.name),
    ("/profiles", "profiles", lambda p: p.profiles, lambda i: i.id),
    ("/scenarios", "profiles", lambda p: p.scenarios, lambda i: i.id),
    (
        "/activations",
        "activation",
        lambda p: p.activations,
        lambda i: f"{i.profile_id}/{i.channel}",
    ),
    ("/intake/goals", "intake", lambda p: p.intake.goals, lambda i: i.id),
    ("/intake/personas", "intake", lambda p: p.intake.personas, lambda i: i.id),
    ("/intake/lifecycle_stages", "intake", lambda p: p.intake.lifecycle_stages, lambda i: i.id),
    ("/governance/owners", "governance", lambda p: p.governance.owners, lambda i: i.area),
    (
        "/governance/change_checkpoints",
        "governance",
        lambda p: p.governance.change_checkpoints,
        lambda i: i.id,
    ),
]


def duplicate_key_findings(plan: Plan) -> list[Finding]:
    findings = []
    for pointer, stage, items, key_of in _KEYED:
        seen: dict[str, int] = {}
        for index, item in enumerate(items(plan)):
            key = key_of(item)
            if key in seen:
                findings.append(
                    Finding(
                        code="structure.duplicate_key",
                        severity="error",
                        pointer=f"{pointer}/{index}",
                        message=f"key {key!r} is used twice in {pointer} (first at index "
                        f"{seen[key]}); each item needs a unique key",
                        stage=stage,
                    )
                )
            else:
                seen[key] = index
    return findings
