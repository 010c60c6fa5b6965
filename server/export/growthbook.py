"""The GrowthBook export (docs/exports.md): one condition saved group per profile and one feature per
channel, as an SDK payload that GrowthBook's Python SDK 4.0.0 evaluates offline.

A saved group holds the profile's membership (eligible and not suppressed). A channel's feature walks
every carried profile in priority order with force rules that reference the saved groups through
`$savedGroup` (the operator the 4.0 SDK reads; `$inGroup` only reads list groups): a member of an
activated profile whose consent gate holds gets the profile id, any other member gets "none", so no
member falls through to a lower-priority profile. A profile the target cannot carry is refused and
left out of the features, so its members are not recognised there (they may match a lower profile).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..errors import InputError
from ..model import Plan
from ..model.ledger import ExportCutoff, ExportRefusal
from ..rules.gates import gate_entries
from ..rules.program import PreparedProfile, attribute_kinds
from ..rules.typecheck import refuse_type_errors
from .common import (
    HOLDOUT_ATTRIBUTE,
    ChannelLineup,
    ExportBundle,
    channel_lineups,
    holdout_profiles,
    holdout_readme,
    prepared,
    window_cutoff,
)
from .growthbook_conditions import SDK_VERSION, condition, literal_problem
from .growthbook_text import payload_metadata, readme
from .nnf import Lit, literals, membership, nnf, refuse_literal

TARGET = "growthbook"
PAYLOAD = "payload.json"
NONE = "none"
# A flag context travels to SDKs that may run in a browser: only these classes may be in it.
ALLOWED_PII = ("none", "pseudonymous")


def group_id(profile_id: str) -> str:
    return f"pe-{profile_id}"


def feature_key(channel: str) -> str:
    return f"pe-{channel}"


@dataclass
class _Carried:
    groups: dict[str, Any] = field(default_factory=dict)
    ids: list[str] = field(default_factory=list)
    refusals: list[ExportRefusal] = field(default_factory=list)
    cutoffs: list[ExportCutoff] = field(default_factory=list)


def export_growthbook(plan: Plan, *, exported_at: datetime, draft: bool) -> ExportBundle:
    refuse_type_errors(plan, "exported")
    program = prepared(plan, exported_at)
    kinds = attribute_kinds(plan)
    lineups, gate_refusals = channel_lineups(plan, TARGET, program)
    _check_gates(plan, lineups)
    carried = _Carried()
    for profile in program.profiles:
        _carry(plan, profile, program.now_us, kinds, carried)
    held = holdout_profiles(plan)
    features = {feature_key(lineup.channel): _feature(lineup, carried.ids, kinds, held) for lineup in lineups}
    refusals = tuple(carried.refusals + gate_refusals)
    cutoffs = tuple(carried.cutoffs)
    payload = {
        "metadata": payload_metadata(plan, draft, cutoffs, refusals),
        "savedGroups": carried.groups,
        "features": features,
    }
    carriers = {
        f"{slot.profile.id}/{lineup.channel}": PAYLOAD
        for lineup in lineups
        for slot in lineup.activated
        if slot.profile.id in carried.ids
    }
    files = {
        PAYLOAD: json.dumps(payload, indent=2, ensure_ascii=False) + "\n",
        "README.md": readme(plan, draft, features, carried.groups, cutoffs, refusals) + holdout_readme(held),
    }
    return ExportBundle(
        target=TARGET,
        files=files,
        profiles=tuple(carried.ids),
        refusals=refusals,
        cutoffs=cutoffs,
        carriers=carriers,
        cutoff_at=exported_at if cutoffs else None,
        notes=(f"GrowthBook Python SDK {SDK_VERSION}: load {PAYLOAD} with GrowthBook.set_payload",),
    )


def _carry(
    plan: Plan, profile: PreparedProfile, now_us: int, kinds: dict[str, str | None], carried: _Carried
) -> None:
    """The profile's saved group, or its refusals; hard errors for attributes a flag may not carry."""
    found = membership(profile, now_us)
    if found.refusal is not None:
        carried.refusals.append(found.refusal)
        return
    assert found.tree is not None
    lits = literals(found.tree)
    _check_pii(plan, [(lit.leaf.attr, lit.leaf.pointer) for lit in lits], profile.id)
    problems = _unique(
        refuse_literal(profile, lit, reason)
        for lit in lits
        if (reason := literal_problem(lit, kinds)) is not None
    )
    if problems:
        carried.refusals += problems
        return
    carried.ids.append(profile.id)
    carried.groups[group_id(profile.id)] = {
        "type": "condition",
        "condition": condition(found.tree, kinds),
        "description": f"profile {profile.id} (priority {profile.priority}): eligible and not suppressed",
    }
    carried.cutoffs += _unique(window_cutoff(profile, lit.leaf) for lit in lits if _is_window(lit))


def _is_window(lit: Lit) -> bool:
    return lit.leaf.op in ("within_last", "not_within_last")


def _unique(items: Any) -> list[Any]:
    """In first-seen order, one per pointer and text (a condition repeats in expanded scoring)."""
    seen: dict[tuple[str, str], Any] = {}
    for item in items:
        seen.setdefault((item.pointer, item.condition), item)
    return list(seen.values())


def _feature(
    lineup: ChannelLineup, carried: list[str], kinds: dict[str, str | None], held: frozenset[str]
) -> dict[str, Any]:
    """Force rules in priority order: a member of an activated profile whose gate holds and who is
    not held out of it (pe_holdout) gets the profile, any other member "none"."""
    rules: list[dict[str, Any]] = []
    for slot in lineup.slots:
        pid = slot.profile.id
        if pid not in carried:
            continue
        member = {"$savedGroup": {"id": group_id(pid)}}
        if slot.activation is None:
            rules.append({"id": f"{pid}-not-activated", "condition": member, "force": NONE})
            continue
        parts: list[Any] = []
        if slot.gate is not None:
            gate = condition(nnf(slot.gate), kinds)
            parts = gate["$and"] if list(gate) == ["$and"] else [gate]
        if pid in held:
            # common.treated: a string (absent or null is type "null") other than the profile's id
            parts.append({HOLDOUT_ATTRIBUTE: {"$type": "string", "$ne": pid}})
        if not parts:
            rules.append({"id": pid, "condition": member, "force": pid})
            continue
        rules.append({"id": pid, "condition": {"$and": [member, *parts]}, "force": pid})
        otherwise = {(False, True): "without-consent", (True, False): "held-out"}.get(
            (pid in held, slot.gate is not None), "held-out-or-without-consent"
        )
        rules.append({"id": f"{pid}-{otherwise}", "condition": member, "force": NONE})
    while rules and rules[-1]["force"] == NONE:  # the default says it already
        rules.pop()
    return {"defaultValue": NONE, "rules": rules}


def _check_gates(plan: Plan, lineups: list[ChannelLineup]) -> None:
    for lineup in lineups:
        for slot in lineup.activated:
            assert slot.activation is not None and slot.activation_index is not None
            entries = gate_entries(plan, slot.activation, slot.activation_index)
            found = [(e.condition.attr, e.pointer) for e in entries if e.condition is not None]
            _check_pii(plan, found, slot.profile.id)


def _check_pii(plan: Plan, used: list[tuple[str, str]], profile_id: str) -> None:
    classes = {a.name: a.pii_class for a in plan.attributes}
    for attr, pointer in used:
        if "." in attr or attr.startswith("$"):
            # The SDK reads "a.b" as the path a -> b, and "$..." keys as its own operators.
            raise InputError(
                f"profile {profile_id!r} uses attribute {attr!r}, which GrowthBook cannot carry: a name "
                "with '.' is read as a nested path and one starting with '$' as an operator; use "
                "letters, digits and '_'",
                field=pointer,
            )
        pii = classes.get(attr, "none")
        if pii in ALLOWED_PII:
            continue
        raise InputError(
            f"profile {profile_id!r} uses attribute {attr!r} (pii_class {pii}), which a GrowthBook "
            f"evaluation context must not carry: flag contexts reach SDKs that may run in a browser. "
            f"Only attributes with pii_class {' or '.join(ALLOWED_PII)} are allowed; target on a "
            "derived, non-identifying attribute instead",
            field=pointer,
        )
