"""The words of the GrowthBook export: the payload's metadata block and the bundle's README.

Both state the plan id, the revision and, for a draft, DRAFT plainly. Neither prints the export time
except through the frozen cutoffs, so an unchanged revision exports to identical bytes.
"""

from __future__ import annotations

from typing import Any

from ..model import Plan
from ..model.ledger import ExportCutoff, ExportRefusal
from .growthbook_conditions import SDK_VERSION

DRAFT = "DRAFT: not from a final, error-free revision; do not load into production"
CONTEXT = (
    "attributes by inventory name; leave out null or missing values; booleans, strings and numbers "
    "as JSON; timestamps and dates as Unix epoch milliseconds (a date is its midnight UTC), with a "
    "fraction for microseconds"
)


def _instant(cutoff: ExportCutoff) -> str:
    return cutoff.cutoff.isoformat().replace("+00:00", "Z")


def payload_metadata(
    plan: Plan, draft: bool, cutoffs: tuple[ExportCutoff, ...], refusals: tuple[ExportRefusal, ...]
) -> dict[str, Any]:
    """A top-level key the SDK ignores (set_payload reads features and savedGroups only)."""
    return {
        "generated_by": "personalization-engine",
        "plan_id": plan.plan_id,
        "revision": plan.revision,
        "status": DRAFT if draft else "final",
        "growthbook_sdk": f"python {SDK_VERSION} (saved groups read through $savedGroup)",
        "evaluation_context": CONTEXT,
        "frozen_windows": [
            {
                "profile_id": c.profile_id,
                "pointer": c.pointer,
                "condition": c.condition,
                "cutoff": _instant(c),
                "allowed_age": c.allowed_age,
            }
            for c in cutoffs
        ],
        "refused": [r.model_dump(mode="json") for r in refusals],
    }


def readme(
    plan: Plan,
    draft: bool,
    features: dict[str, Any],
    groups: dict[str, Any],
    cutoffs: tuple[ExportCutoff, ...],
    refusals: tuple[ExportRefusal, ...],
) -> str:
    lines = [f"# GrowthBook export of {plan.plan_id}, revision {plan.revision}", ""]
    if draft:
        lines += [f"**{DRAFT}.**", ""]
    lines += [
        f"`payload.json` is a GrowthBook SDK payload for the Python SDK {SDK_VERSION} (pin it: the payload",
        "format has changed before). It holds one condition saved group per profile (`savedGroups`, its",
        "eligibility and suppression) and one string feature per channel (`features`), whose force rules",
        "run in priority order and return the winning activated profile id, or `none`.",
        "",
        "## Load it",
        "```python",
        "import json",
        "from growthbook import GrowthBook",
        "",
        "gb = GrowthBook(attributes=context)  # no api_host or client_key: nothing is fetched",
        'gb.set_payload(json.load(open("payload.json")))',
        f'gb.get_feature_value("{next(iter(features), "pe-web")}", "none")',
        "```",
        "A GrowthBook Proxy or any self-hosted SDK endpoint can serve the same payload. To manage it in",
        "the GrowthBook app instead, create each saved group as a condition group and each feature with",
        "force rules in the listed order (REST API: saved-groups and features); the app assigns its own",
        "saved-group ids, so replace the `$savedGroup` ids with them.",
        "",
        "## Evaluation context",
        CONTEXT[0].upper() + CONTEXT[1:] + ".",
        "",
        f"## Contents: {_count(len(groups), 'saved group')}, {_count(len(features), 'feature')}",
    ]
    lines += [f"- `{key}`: {_count(len(f['rules']), 'rule')}, default `none`" for key, f in features.items()]
    lines += _cutoff_lines(cutoffs) + _refusal_lines(refusals)
    return "\n".join(lines) + "\n"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")


def _cutoff_lines(cutoffs: tuple[ExportCutoff, ...]) -> list[str]:
    if not cutoffs:
        return []
    lines = [
        "",
        "## Frozen windows",
        "GrowthBook has no evaluation clock, so each relative window is an absolute cutoff as of the",
        "export. Export again before the allowed age passes.",
    ]
    return lines + [
        f"- {c.profile_id} `{c.pointer}`: {c.condition} -> since {_instant(c)} (allowed age {c.allowed_age})"
        for c in cutoffs
    ]


def _refusal_lines(refusals: tuple[ExportRefusal, ...]) -> list[str]:
    if not refusals:
        return []
    lines = [
        "",
        "## Not carried",
        "A refused profile is left out of the features: its members are not recognised there and may",
        "get a lower-priority profile. A refused activation gives its members `none`.",
    ]
    return lines + [
        f"- {r.profile_id}{'' if r.channel is None else ' on ' + r.channel} `{r.pointer}`: "
        f"{r.condition} ({r.reason})"
        for r in refusals
    ]
