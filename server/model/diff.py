"""Semantic diff between two plan revisions: items added, removed or changed, field by field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .plan import ChangeItem, FieldChange, Plan

# Sections that hold lists of items with an identity; the diff pairs items by that identity.
KeyFn = Callable[[dict[str, Any]], str]
KEYED_SECTIONS: dict[str, KeyFn] = {
    "data_sources": lambda item: item["id"],
    "attributes": lambda item: item["name"],
    "profiles": lambda item: item["id"],
    "scenarios": lambda item: item["id"],
    "activations": lambda item: f"{item['profile_id']}/{item['channel']}",
    "intake.goals": lambda item: item["id"],
    "intake.personas": lambda item: item["id"],
    "intake.lifecycle_stages": lambda item: item["id"],
    "governance.owners": lambda item: item["area"],
    "governance.change_checkpoints": lambda item: item["id"],
    "blockers": lambda item: item["id"],
    "escalations": lambda item: item["id"],
    "approvals": lambda item: item["id"],
    # Runs are appended and never edited: keyed, a new run is one "added" item rather than a
    # before/after copy of every earlier run (which made the change log grow quadratically).
    "sizing_runs": lambda item: item["id"],
    "qa_results": lambda item: item["id"],
    "exports": lambda item: item["id"],
    "lift_measurements": lambda item: item["id"],
    "impact_runs": lambda item: item["id"],
}
# Bookkeeping that changes on every write and says nothing about content.
IGNORED = {"revision", "updated_at", "change_log"}
# Sections whose sub-fields are compared one by one rather than as one value.
NESTED = {"intake", "governance", "error_handling", "success_metrics", "pattern", "dependencies"}
SINGULAR = {
    "data_sources": "data source",
    "attributes": "attribute",
    "profiles": "profile",
    "scenarios": "scenario",
    "activations": "activation",
    "intake.goals": "goal",
    "intake.personas": "persona",
    "intake.lifecycle_stages": "lifecycle stage",
    "governance.owners": "owner",
    "governance.change_checkpoints": "checkpoint",
    "blockers": "blocker",
    "escalations": "escalation",
    "approvals": "approval",
    "sizing_runs": "sizing run",
    "qa_results": "QA result",
    "exports": "export",
    "lift_measurements": "lift readout",
    "impact_runs": "impact run",
}


def _field_changes(before: dict[str, Any], after: dict[str, Any]) -> list[FieldChange]:
    return [
        FieldChange(field=name, before=before.get(name), after=after.get(name))
        for name in sorted(set(before) | set(after), key=lambda n: (n not in before, n))
        if before.get(name) != after.get(name)
    ]


def _diff_keyed(section: str, before: list[dict], after: list[dict]) -> list[ChangeItem]:
    key_of = KEYED_SECTIONS[section]
    old = {key_of(item): item for item in before}
    new = {key_of(item): item for item in after}
    changes: list[ChangeItem] = []
    for key, item in new.items():
        if key not in old:
            changes.append(ChangeItem(op="added", section=section, key=key))
        elif old[key] != item:
            changes.append(
                ChangeItem(op="changed", section=section, key=key, fields=_field_changes(old[key], item))
            )
    changes.extend(ChangeItem(op="removed", section=section, key=key) for key in old if key not in new)
    return changes


def _diff_value(section: str, before: Any, after: Any) -> list[ChangeItem]:
    if before == after:
        return []
    if section in KEYED_SECTIONS:
        return _diff_keyed(section, before or [], after or [])
    head = section.split(".")[0]
    if head in NESTED and isinstance(before, dict) and isinstance(after, dict):
        changes: list[ChangeItem] = []
        plain: list[FieldChange] = []
        for name in sorted(set(before) | set(after)):
            sub = f"{section}.{name}"
            if sub in KEYED_SECTIONS:
                changes.extend(_diff_value(sub, before.get(name), after.get(name)))
            elif before.get(name) != after.get(name):
                plain.append(FieldChange(field=name, before=before.get(name), after=after.get(name)))
        if plain:
            changes.insert(0, ChangeItem(op="changed", section=section, fields=plain))
        return changes
    return [
        ChangeItem(
            op="changed",
            section=section,
            fields=[FieldChange(field=section, before=before, after=after)],
        )
    ]


def diff_documents(before: dict[str, Any] | None, after: dict[str, Any]) -> list[ChangeItem]:
    """Changes from one plan document (JSON form) to another; `before=None` means creation."""
    if before is None:
        return [ChangeItem(op="added", section="plan", key=after.get("plan_id"))]
    changes: list[ChangeItem] = []
    for section in after:
        if section in IGNORED:
            continue
        changes.extend(_diff_value(section, before.get(section), after.get(section)))
    return changes


def diff_plans(before: Plan | None, after: Plan) -> list[ChangeItem]:
    """Changes from one revision to the next, field by field.

    Models are frozen, so a section a write did not touch is the same object in both revisions and
    is skipped without dumping it; only the sections that may differ are compared.
    """
    if before is None:
        return [ChangeItem(op="added", section="plan", key=after.plan_id)]
    changes: list[ChangeItem] = []
    for name in Plan.model_fields:
        old, new = getattr(before, name), getattr(after, name)
        if name in IGNORED or old is new:
            continue
        changes.extend(_diff_value(name, _section(before, name), _section(after, name)))
    return changes


def _section(plan: Plan, name: str) -> Any:
    return plan.model_dump(mode="json", by_alias=True, include={name}).get(name)


def describe(change: ChangeItem) -> str:
    """One line for a change: 'added attribute plan_tier', 'changed profile x: priority'."""
    noun = SINGULAR.get(change.section, change.section)
    if change.section == "plan":
        return f"created plan {change.key}"
    if change.key is None:
        names = ", ".join(f.field for f in change.fields)
        return f"changed {noun}: {names}"
    text = f"{change.op} {noun} {change.key}"
    if change.op == "changed" and change.fields:
        text += ": " + ", ".join(f.field for f in change.fields)
    return text


def _plural(noun: str, count: int) -> str:
    return noun if count == 1 else f"{noun}s"


def summarize(changes: list[ChangeItem], limit: int = 4) -> str:
    """A short one-line summary for the change log and the commit subject.

    Several changes of the same kind collapse into a count ("added 18 attributes").
    """
    if not changes:
        return "no content change"
    groups: dict[tuple[str, str], list[ChangeItem]] = {}
    for change in changes:
        groups.setdefault((change.op, change.section), []).append(change)
    parts = []
    for (op, section), items in groups.items():
        if len(items) == 1 or items[0].key is None:
            parts.extend(describe(item) for item in items)
        else:
            noun = SINGULAR.get(section, section)
            parts.append(f"{op} {len(items)} {_plural(noun, len(items))}")
    if len(parts) > limit:
        parts = [*parts[:limit], f"and {len(parts) - limit} more"]
    return "; ".join(parts)
