"""The people of the demo: `plans approve` and `plans confirm-consent`, run as each named person.

Those commands refuse without a terminal and refuse agents, because a model must not approve. The
demo stands in for the people, and says so in its output: it gives each command a pseudo-terminal
and the person's git identity, and answers the command's confirmation question for them.
"""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .core.confirmations import AGENT_MARKERS

QUESTION_MARK = b"[y/N]"
TIMEOUT_SECONDS = 120


@dataclass(frozen=True)
class Person:
    name: str
    email: str

    def environment(self) -> dict[str, str]:
        """This shell's environment as the person's own terminal would have it: their git identity,
        and none of the markers an agent's shell carries."""
        env = {k: v for k, v in os.environ.items() if k not in AGENT_MARKERS}
        for role in ("AUTHOR", "COMMITTER"):
            env[f"GIT_{role}_NAME"] = self.name
            env[f"GIT_{role}_EMAIL"] = self.email
        return env


def run_as(person: Person, folder: Path, argv: list[str], *, answer: str = "y") -> tuple[int, str]:
    """(exit code, terminal output) of `personalization-engine ARGV` run in a pseudo-terminal."""
    controller, terminal = pty.openpty()
    try:
        process = subprocess.Popen(
            [sys.executable, "-m", "personalization_engine.cli.main", *argv],
            stdin=terminal,
            stdout=terminal,
            stderr=terminal,
            cwd=folder,
            env=person.environment(),
            start_new_session=True,
        )
    finally:
        os.close(terminal)
    try:
        output = _converse(controller, answer)
    finally:
        os.close(controller)
    return process.wait(timeout=TIMEOUT_SECONDS), output.decode("utf-8", "replace")


def _converse(controller: int, answer: str) -> bytes:
    """Read until the command closes its terminal, answering its question once when it asks."""
    output, answered = b"", False
    deadline = time.monotonic() + TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([controller], [], [], 1.0)
        if not ready:
            continue
        try:
            chunk = os.read(controller, 4096)
        except OSError:  # Linux: EIO once the command has closed its side
            break
        if not chunk:
            break
        output += chunk
        if not answered and QUESTION_MARK.lower() in output.lower():
            os.write(controller, answer.encode() + b"\n")
            answered = True
    return output
