"""Runs real CLI commands in forked processes, for the crash test (tests/test_crashes.py).

Importing the CLI takes seconds here, most of it before any plan is touched, so a kill at a random
point of a fresh `personalization-engine` process would mostly land in imports. This launcher
imports the CLI once; each command then runs `personalization_engine.cli.main.main(argv)` in a
forked child, exactly as the console script does after its imports, in its own session (so the
test can kill it alone, or with its git children).

Protocol, one JSON line per command on stdin: {"argv": [...], "stdin": "...", "log": "path"}.
Answers on stdout: "pid N" when the child starts, then "exit CODE" (-SIGNAL when killed).
"""

from __future__ import annotations

import io
import json
import os
import sys

# The CLI and what its commands import on first use (sqlglot with the rules, jinja2 with the
# render), as a long-running server has them: kills then land in the work, not in imports.
import personalization_engine.render
import personalization_engine.rules  # noqa: F401
from personalization_engine.cli.main import main


def run_child(argv: list[str], body: str, log: str) -> None:
    os.setsid()
    read_end, write_end = os.pipe()
    os.write(write_end, body.encode())  # small bodies fit in the pipe's buffer
    os.close(write_end)
    os.dup2(read_end, 0)
    out = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out, 1)
    os.dup2(out, 2)
    sys.stdin = io.TextIOWrapper(io.FileIO(0, closefd=False))
    sys.stdout = io.TextIOWrapper(io.FileIO(1, "w", closefd=False), line_buffering=True)
    sys.stderr = io.TextIOWrapper(io.FileIO(2, "w", closefd=False), line_buffering=True)
    try:
        code = main(argv)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def serve() -> None:
    for line in sys.stdin:
        command = json.loads(line)
        pid = os.fork()
        if pid == 0:
            run_child(command["argv"], command.get("stdin") or "", command["log"])
        print(f"pid {pid}", flush=True)
        _, status = os.waitpid(pid, 0)
        print(f"exit {os.waitstatus_to_exitcode(status)}", flush=True)


if __name__ == "__main__":
    serve()
