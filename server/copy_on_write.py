"""Copy-on-write revisions: a write copies and validates only what it changes.

A plan with 1,000 attributes is about 800 KB of JSON; copying, validating or dumping all of it
costs several milliseconds each, more than the git commit that follows. Most of that size sits in a
few large keyed sections whose items are only ever replaced, never edited in place (stage tools
replace items by key, ledgers and runs append). A new revision therefore shares every unchanged
item of those sections with the revision before it:

- `working_copy` gives a mutation fresh lists for the shared sections (so it may add, replace or
  remove items) and a fresh copy of everything else (so it may edit small sections in place);
- `revalidated` validates, in strict JSON mode, the small sections and each item that is not an
  unchanged item of the previous revision, and returns None when it cannot vouch for the result,
  so the caller validates the whole document instead.

The one rule for code that changes plans: never edit an item of a SHARED_SECTIONS list in place;
replace it (`item.model_copy(update=...)`). With PERSONALIZATION_ENGINE_VERIFY_WRITES=1 (set by the
test suite) every write proves the rule held and that the incremental result equals the full one.
"""

from __future__ import annotations

import os
import typing
from dataclasses import dataclass

from pydantic import BaseModel

from .model import Plan

VERIFY_ENV = "PERSONALIZATION_ENGINE_VERIFY_WRITES"


@dataclass(frozen=True)
class SharedSection:
    item_type: type[BaseModel]
    max_items: int | None


def _shared_section(name: str) -> SharedSection:
    field = Plan.model_fields[name]
    (item_type,) = typing.get_args(field.annotation)
    limits = [m.max_length for m in field.metadata if getattr(m, "max_length", None) is not None]
    return SharedSection(item_type, min(limits) if limits else None)


# The large sections whose items are shared between revisions (see the module docstring).
SHARED_SECTIONS: dict[str, SharedSection] = {
    name: _shared_section(name)
    for name in (
        "data_sources",
        "attributes",
        "profiles",
        "scenarios",
        "activations",
        "change_log",
        "sizing_runs",
    )
}


def verify_writes() -> bool:
    return os.environ.get(VERIFY_ENV) == "1"


def _with_shared(skeleton: Plan, sections: dict[str, list]) -> Plan:
    skeleton.__dict__.update(sections)
    skeleton.__pydantic_fields_set__.update(sections)
    return skeleton


def _small_part(plan: Plan) -> str:
    return plan.model_dump_json(by_alias=True, exclude=SHARED_SECTIONS.keys())


def working_copy(plan: Plan) -> Plan:
    """A private copy for a mutation: new lists holding the same items, fresh small sections."""
    skeleton = Plan.model_validate_json(_small_part(plan), strict=True)
    return _with_shared(skeleton, {name: list(getattr(plan, name)) for name in SHARED_SECTIONS})


def revalidated(before: Plan, after: object) -> Plan | None:
    """`after` validated as a whole document would be, re-checking only what differs from `before`.

    Returns None when some part cannot be validated this way (a wrong type anywhere, an invalid
    item or section, a list over its limit): the caller then validates the whole document, which
    reports every problem with its pointer.
    """
    if type(after) is not Plan:
        return None
    sections: dict[str, list] = {}
    try:
        for name, shared in SHARED_SECTIONS.items():
            items = after.__dict__.get(name)
            if not isinstance(items, list):
                return None
            if shared.max_items is not None and len(items) > shared.max_items:
                return None
            unchanged = {id(item) for item in getattr(before, name)}
            checked = []
            for item in items:
                if id(item) in unchanged:
                    checked.append(item)
                elif type(item) is shared.item_type:
                    text = item.model_dump_json(by_alias=True)
                    checked.append(shared.item_type.model_validate_json(text, strict=True))
                else:
                    return None
            sections[name] = checked
        skeleton = Plan.model_validate_json(_small_part(after), strict=True)
    except Exception:  # any failure means "validate the whole document", which explains it
        return None
    return _with_shared(skeleton, sections)


def shared_items_untouched(before_text: str, before: Plan) -> bool:
    """Verification: the previous revision still serializes as it did before the mutation ran."""
    return before.model_dump_json(by_alias=True) == before_text
