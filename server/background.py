"""The thread that computes a new revision's findings while git commits it."""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None


_checks_cpu: int | None = None


def _keep_to_one_cpu() -> None:
    """Pin the checks thread to one CPU, leaving the others to the git process it overlaps.

    Left to the scheduler, the thread and git often shared a CPU on a 2-vCPU machine, which made
    the commit twice as slow and the overlap worthless (docs/performance.md). Linux only.
    """
    global _checks_cpu
    if not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):  # a sandbox may refuse it: then the scheduler decides
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) > 1:
            os.sched_setaffinity(0, {allowed[-1]})  # 0: this thread, on Linux
            _checks_cpu = allowed[-1]


def cpus_besides_checks() -> set[int] | None:
    """The CPUs a process started now may use so that it never waits for the checks thread's CPU,
    or None when the checks thread is not pinned (one CPU, no affinity support, or refused).

    Pinning the thread alone was not enough: git is placed when it starts, before the checks
    begin, and about half the commits landed on the checks' CPU (each 4 to 5 ms slower).
    """
    if _checks_cpu is None:
        return None
    with contextlib.suppress(OSError):
        others = os.sched_getaffinity(0) - {_checks_cpu}
        return others or None
    return None


def checks_thread() -> ThreadPoolExecutor:
    """One worker, started on the first write."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="plan-checks", initializer=_keep_to_one_cpu
        )
    return _executor
