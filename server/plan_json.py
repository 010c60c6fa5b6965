"""A plan's file text, assembled from cached per-item JSON for the sections revisions share.

`store.serialize` dumps the whole plan (about 4 ms for 1,000 attributes). A write changes a few
items, and copy_on_write keeps every other item of the large sections as the same object from one
revision to the next, so each item's JSON is remembered per object and only new items are dumped.
The text is byte-for-byte what `store.serialize` produces (tested, and checked on every write under
PERSONALIZATION_ENGINE_VERIFY_WRITES); the compact form, which read_plan sends, is byte-for-byte
`model_dump_json()` (tested).

The first write of a plan in a process dumps every item once, which costs more than one whole dump;
every later write of that plan is cheaper.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel

from .copy_on_write import SHARED_SECTIONS
from .model import Plan

# Item depth inside `"section": [...]`: pydantic indents nested lines by 2 spaces per level.
_ITEM_INDENT = "    "
# In an indent=2 dump, a line that starts with exactly two spaces and a quote is a top-level key:
# deeper lines start with more spaces, and JSON strings never hold a raw newline.
_TOP_LEVEL_KEY = re.compile(r'^  "([^"]+)": ', re.MULTILINE)


@dataclass(frozen=True)
class _Section:
    """One section's items as last dumped, each item's text (indented for its place), the whole."""

    items: tuple[BaseModel, ...]  # kept so no item's id can be reused while it is remembered
    texts: tuple[str, ...]
    text: str


# (plan_id, compact, section name) -> the section as last dumped for that plan.
_sections: dict[tuple[str, bool, str], _Section] = {}


def _item_text(item: BaseModel, compact: bool) -> str:
    if compact:
        return item.model_dump_json(by_alias=True)
    return _ITEM_INDENT + item.model_dump_json(indent=2, by_alias=True).replace("\n", "\n" + _ITEM_INDENT)


def _section(items: list, previous: _Section | None, compact: bool) -> _Section:
    """The section's text, reusing the previous dump whole when every item is the same object,
    and item by item otherwise (the change log grows by one entry per write)."""
    if (
        previous is not None
        and len(items) == len(previous.items)
        and all(item is known for item, known in zip(items, previous.items, strict=True))
    ):
        return previous
    known = {} if previous is None else dict(zip(map(id, previous.items), previous.texts, strict=True))
    texts = tuple(known.get(id(item)) or _item_text(item, compact) for item in items)
    if compact:
        return _Section(tuple(items), texts, "[" + ",".join(texts) + "]")
    text = "[\n" + ",\n".join(texts) + "\n  ]" if texts else "[]"
    return _Section(tuple(items), texts, text)


def _small_sections(plan: Plan) -> dict[str, str]:
    """Each small section's value text, cut from one indented dump of all of them."""
    text = plan.model_dump_json(indent=2, by_alias=True, exclude=SHARED_SECTIONS.keys())
    matches = list(_TOP_LEVEL_KEY.finditer(text))
    values = {}
    for match, following in zip(matches, [*matches[1:], None], strict=True):
        end = following.start() - 2 if following else len(text) - 2  # drop ",\n" or "\n}"
        values[match.group(1)] = text[match.end() : end]
    return values


def _compact_small_sections(plan: Plan) -> dict[str, str]:
    """Each small section's compact value text: '{"name":VALUE}' without its first and last parts."""
    names = [name for name in Plan.model_fields if name not in SHARED_SECTIONS]
    return {name: plan.model_dump_json(by_alias=True, include={name})[len(name) + 4 : -1] for name in names}


def dumps(plan: Plan, *, compact: bool = False) -> bytes:
    """The plan's file text (or, compact, the same JSON without whitespace), reusing the JSON of
    items already dumped for this plan."""
    small = _compact_small_sections(plan) if compact else _small_sections(plan)
    fields = []
    for name in Plan.model_fields:
        if name in SHARED_SECTIONS:
            key = (plan.plan_id, compact, name)
            section = _sections[key] = _section(getattr(plan, name), _sections.get(key), compact)
            value = section.text
        else:
            value = small[name]
        fields.append(f'"{name}":{value}' if compact else f'  "{name}": {value}')
    if compact:
        return ("{" + ",".join(fields) + "}").encode("utf-8")
    return ("{\n" + ",\n".join(fields) + "\n}\n").encode("utf-8")
