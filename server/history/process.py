"""Run one short command, capturing its output, with a deadline that costs nothing when unused.

`subprocess.run(..., timeout=...)` ends in `Popen.wait(timeout)`, which polls with sleeps that
start at 1 ms. The pipes reach end-of-file a moment before the child can be reaped, so nearly every
call sleeps that first millisecond: measured on `git --version`, 2.6 ms with a timeout against
1.5 ms without (docs/performance.md). Here the deadline applies while the output is read; once
both pipes are closed the child is exiting, and a blocking wait returns as soon as it has.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@contextlib.contextmanager
def _spawning_on(cpus: set[int] | None) -> Iterator[None]:
    """Restrict this thread to `cpus` while it starts a child, which inherits the restriction.

    (A preexec_fn could set it in the child instead, but it stops subprocess from using vfork,
    which costs more than the two system calls here.)
    """
    if not cpus or not hasattr(os, "sched_setaffinity"):
        yield
        return
    allowed = os.sched_getaffinity(0)
    try:
        os.sched_setaffinity(0, cpus)  # 0: the calling thread, on Linux
    except OSError:  # a sandbox may refuse it: then the scheduler decides
        yield
        return
    try:
        yield
    finally:
        os.sched_setaffinity(0, allowed)


@dataclass(frozen=True)
class Completed:
    returncode: int
    stdout: bytes
    stderr: bytes


def run_captured(
    command: Sequence[str],
    *,
    cwd: str | Path | None,
    env: Mapping[str, str],
    timeout_s: float,
    started: Callable[[], None] | None = None,
    cpus: set[int] | None = None,
) -> Completed:
    """Run `command` with stdin closed; past the deadline, kill it and raise TimeoutExpired.

    `started` is called once the child runs, before its output is awaited: work handed to another
    thread from there does not compete with this thread's own Python for the interpreter.
    `cpus` keeps the child to those CPUs (Linux).
    """
    deadline = time.monotonic() + timeout_s
    with _spawning_on(cpus):
        child = subprocess.Popen(
            list(command),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
    with child:
        assert child.stdout is not None and child.stderr is not None
        if started is not None:
            started()
        output: dict[int, list[bytes]] = {child.stdout.fileno(): [], child.stderr.fileno(): []}
        with selectors.DefaultSelector() as selector:
            for fd in output:
                selector.register(fd, selectors.EVENT_READ)
            while selector.get_map():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    child.kill()
                    child.wait()
                    raise subprocess.TimeoutExpired(list(command), timeout_s)
                for key, _ in selector.select(remaining):
                    chunk = os.read(key.fd, 1 << 16)
                    if chunk:
                        output[key.fd].append(chunk)
                    else:
                        selector.unregister(key.fd)
        # Both pipes are closed: the child has exited or is exiting, so this wait is short.
        returncode = child.wait()
        return Completed(
            returncode,
            b"".join(output[child.stdout.fileno()]),
            b"".join(output[child.stderr.fileno()]),
        )
