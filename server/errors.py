"""One exception family. Every message names the field or value at fault and what is allowed."""

from __future__ import annotations


class EngineError(Exception):
    """Base of every error the engine reports to a user; never shown as a traceback."""

    exit_code = 1


class InputError(EngineError):
    """The caller's input is invalid; nothing was written."""

    exit_code = 2

    def __init__(self, message: str, *, field: str | None = None) -> None:
        self.field = field
        super().__init__(f"{field}: {message}" if field else message)


class NotFoundError(InputError):
    """An unknown plan, revision or key."""


class ConfinementError(InputError):
    """A path, plan id or ref that would leave the workspace or its repository."""


class WorkspaceError(EngineError):
    """No usable workspace: the message says how to name one."""

    exit_code = 2


class ConflictError(EngineError):
    """The write named a revision that is no longer current."""

    exit_code = 3

    def __init__(self, plan_id: str, expected: int, current: int) -> None:
        self.plan_id = plan_id
        self.expected = expected
        self.current = current
        super().__init__(
            f"conflict: plan {plan_id} is at revision {current}, not expected_revision {expected}; "
            f"read the plan again and retry with expected_revision={current}"
        )


class RepositoryError(EngineError):
    """The workspace's git repository cannot take a commit right now (busy, merge in progress)."""


class PlanFileError(EngineError):
    """A plan file on disk is unreadable, invalid, or has changes the server did not make."""
