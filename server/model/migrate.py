"""Plan format versions: a plan written by an older version is upgraded in memory when it is read,
and stored in the current version on its next write.

Each step upgrades a document (the parsed JSON) from one version to the next. When the format
changes, bump SCHEMA_VERSION (model/common.py), add a step here, and test it with a plan file of
the version before (tests/fixtures/).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .common import SCHEMA_VERSION

Document = dict[str, Any]


def _scenarios_carry_their_time(document: Document) -> Document:
    """1.0 -> 1.1: scenarios were evaluated at the plan's update time, which moved with every write
    and made relative windows rot; each now carries that time as its own as_of."""
    at = document.get("updated_at")
    scenarios = document.get("scenarios")
    if isinstance(scenarios, list):
        document["scenarios"] = [
            {**s, "as_of": s.get("as_of", at)} if isinstance(s, dict) else s for s in scenarios
        ]
    return document


def _approvals_are_reported(document: Document) -> Document:
    """1.1 -> 1.2: approvals became reported or confirmed. Nobody confirmed an approval before 1.2,
    so each one is what a model or a CLI user reported. Ladder rungs keep an empty `covers` (their
    approval covers every section, as before), and the new sections start empty."""
    approvals = document.get("approvals")
    if isinstance(approvals, list):
        document["approvals"] = [
            {**a, "status": a.get("status", "reported")} if isinstance(a, dict) else a for a in approvals
        ]
    return document


def _exports_start_empty(document: Document) -> Document:
    """1.2 -> 1.3: activations name their export target and the ledger records exports. A 1.2 plan
    has neither: its activations name no target (a finding asks for one) and no export was made."""
    return document


def _holdouts_are_bounded(document: Document) -> Document:
    """1.3 -> 1.4: profiles may override the holdout share, and the ledger records lift readouts and
    impact runs. A 1.3 plan has none of them. Its plan-level holdout share may be above the new bound
    of 0.5: that loads as it is, and the finding lift.holdout_share_too_large asks for a lower one."""
    return document


STEPS: dict[str, tuple[str, Callable[[Document], Document]]] = {
    "1.0": ("1.1", _scenarios_carry_their_time),
    "1.1": ("1.2", _approvals_are_reported),
    "1.2": ("1.3", _exports_start_empty),
    "1.3": ("1.4", _holdouts_are_bounded),
}


def needs_upgrade(document: Document) -> bool:
    return (
        document.get("schema_version", SCHEMA_VERSION) != SCHEMA_VERSION
        and document.get("schema_version") in STEPS
    )


def upgrade(document: Document) -> Document:
    """The document in the current version; versions this code does not know are left as they
    are, so validation names the schema_version that is not allowed."""
    version = document.get("schema_version")
    while isinstance(version, str) and version in STEPS and version != SCHEMA_VERSION:
        version, step = STEPS[version]
        document = {**step(dict(document)), "schema_version": version}
    return document
