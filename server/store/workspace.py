"""Finding the user's project folder (the workspace) and deciding whether we may commit in it."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..errors import WorkspaceError

WORKSPACE_ENV = "PERSONALIZATION_ENGINE_WORKSPACE"
ALLOW_ENCLOSING_ENV = "PERSONALIZATION_ENGINE_ALLOW_ENCLOSING_REPO"
HOW_TO_SET = (
    f"pass --workspace DIR or set ${WORKSPACE_ENV} to your project folder "
    "(Claude Code sets $CLAUDE_PROJECT_DIR)"
)


@dataclass(frozen=True)
class Workspace:
    root: Path
    # Where the path came from: "option", "env:NAME" or "cwd". A cwd fallback is never git-init-ed.
    source: str
    allow_enclosing_repo: bool = False

    @property
    def plans_dir(self) -> Path:
        return self.root / ".claude" / "plans"

    @property
    def named_by_user(self) -> bool:
        return self.source != "cwd"


def _is_unexpanded(value: str) -> bool:
    return "${" in value or value.startswith("$")


def _plugin_folders() -> list[Path]:
    folders = []
    plugin_root = os.environ.get("CLAUDE_PLUGIN_ROOT", "")
    if plugin_root and not _is_unexpanded(plugin_root):
        folders.append(Path(plugin_root).expanduser().resolve())
    # Claude Code keeps installed plugins here; for user-scope installs it has started servers
    # with this as the working folder, which must never be mistaken for the project.
    folders.append((Path.home() / ".claude" / "plugins").resolve())
    return folders


def _inside(path: Path, folder: Path) -> bool:
    try:
        path.relative_to(folder)
    except ValueError:
        return False
    return True


def _truthy(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _project_above(folder: Path) -> Path:
    """From a subfolder of a project: the repository's top level, when it already holds plans.

    Only a guess from the current folder climbs, and only into a repository that already has
    .claude/plans, so a repository that merely encloses the folder (dotfiles in $HOME) is never
    adopted. The top level is the nearest folder with a `.git` entry (a folder, or a file in
    worktrees and submodules), found without running git.
    """
    if (folder / ".claude" / "plans").is_dir():
        return folder
    for candidate in (folder, *folder.parents):
        if (candidate / ".git").exists():
            return candidate if (candidate / ".claude" / "plans").is_dir() else folder
    return folder


def resolve_workspace(
    option: str | None = None,
    *,
    allow_enclosing_repo: bool = False,
    environ: dict[str, str] | None = None,
    cwd: Path | None = None,
) -> Workspace:
    """Pick the workspace: --workspace, then $PERSONALIZATION_ENGINE_WORKSPACE, then
    $CLAUDE_PROJECT_DIR, then the current folder. Unexpanded ${...} tokens are skipped."""
    env = os.environ if environ is None else environ
    candidates: list[tuple[str, str | None]] = [
        ("option", option),
        (f"env:{WORKSPACE_ENV}", env.get(WORKSPACE_ENV)),
        ("env:CLAUDE_PROJECT_DIR", env.get("CLAUDE_PROJECT_DIR")),
    ]
    chosen: tuple[str, Path] | None = None
    for source, value in candidates:
        if value and value.strip() and not _is_unexpanded(value):
            chosen = (source, Path(value).expanduser())
            break
    if chosen is None:
        chosen = ("cwd", cwd or Path.cwd())
    source, path = chosen
    if not path.is_dir():
        raise WorkspaceError(f"workspace {str(path)!r} (from {source}) is not a folder; {HOW_TO_SET}")
    root = path.resolve()
    if source == "cwd":
        root = _project_above(root)
    for folder in _plugin_folders():
        if root == folder or _inside(root, folder):
            raise WorkspaceError(
                f"workspace {str(root)!r} (from {source}) is the plugin's own install folder, "
                f"not a project; {HOW_TO_SET}"
            )
    allow = allow_enclosing_repo or _truthy(env.get(ALLOW_ENCLOSING_ENV))
    return Workspace(root=root, source=source, allow_enclosing_repo=allow)
