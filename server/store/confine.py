"""The one confinement rule for every path a user names: data files, records, output folders.

A path is resolved (symlinks followed) and must stay inside the workspace; anything else is
refused with the same error type, naming the field and the path.
"""

from __future__ import annotations

from pathlib import Path

from ..errors import ConfinementError


def confined_path(root: Path, given: str | Path, *, field: str) -> Path:
    """`given` (relative to the workspace root, or absolute) resolved inside the workspace."""
    base = root.resolve()
    candidate = Path(given)
    if not candidate.is_absolute():
        candidate = base / candidate
    resolved = candidate.resolve()
    try:
        resolved.relative_to(base)
    except ValueError:
        raise ConfinementError(
            f"{str(given)!r} is outside the workspace {str(base)!r} (symlinks that lead out count as "
            "outside); only paths inside it are allowed",
            field=field,
        ) from None
    return resolved
