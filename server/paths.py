"""The one confinement rule for every path a user names: data files, records, output folders.

A path is resolved (symlinks followed) and must stay inside the workspace; anything else is
refused with the same error type, naming the field and the path.
"""

from __future__ import annotations

from pathlib import Path

from .errors import ConfinementError


def confined_path(root: Path, given: str | Path, *, field: str) -> Path:
    """`given` resolved inside the workspace `root`, or ConfinementError naming `field`.

    A relative path is taken from the workspace root. resolve() follows every symlink on the way,
    so a link at any level that leads out of the workspace counts as outside.
    """
    workspace = root.resolve()
    try:
        candidate = Path(given).expanduser()
        resolved = (candidate if candidate.is_absolute() else workspace / candidate).resolve()
    except (ValueError, OSError, RuntimeError) as exc:  # NUL bytes, symlink loops, unknown ~user
        raise ConfinementError(f"{str(given)!r} is not a usable path: {exc}", field=field) from None
    try:
        resolved.relative_to(workspace)
    except ValueError:
        raise ConfinementError(
            f"{str(given)!r} is outside the workspace {str(workspace)!r} (symlinks that lead out count "
            "as outside); only paths inside it are used",
            field=field,
        ) from None
    return resolved
