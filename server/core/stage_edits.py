"""Keyed edits of plan sections: add or replace items by key, remove by key, or replace the list.

Stage tools send only what changed, so the model can refine a stage without resending everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Literal, TypeVar

from ..errors import NotFoundError

T = TypeVar("T")
EditMode = Literal["merge", "replace"]


def edit_keyed(
    items: Sequence[T],
    upserts: Sequence[T],
    removals: Sequence[str],
    *,
    key: Callable[[T], str],
    field: str,
    mode: EditMode = "merge",
) -> tuple[T, ...]:
    """The section after the edit; the section itself when the edit changes nothing.

    merge: each upsert replaces the item with its key or is appended; removals must name existing
    keys. replace: the section becomes exactly the upserts (removals are then meaningless).
    """
    if mode == "replace":
        if removals:
            raise NotFoundError(
                f"remove_{field} cannot be combined with mode 'replace', which already replaces the list",
                field=f"remove_{field}",
            )
        return tuple(upserts)
    existing = [key(item) for item in items]
    unknown = [k for k in removals if k not in existing]
    if unknown:
        known = ", ".join(existing) or "none"
        raise NotFoundError(
            f"cannot remove unknown key {unknown[0]!r}; existing keys: {known}", field=f"remove_{field}"
        )
    removed = set(removals)
    result = [item for item in items if key(item) not in removed]
    positions = {key(item): index for index, item in enumerate(result)}
    for item in upserts:
        if key(item) in positions:
            result[positions[key(item)]] = item
        else:
            positions[key(item)] = len(result)
            result.append(item)
    return tuple(result)
