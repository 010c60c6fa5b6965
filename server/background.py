"""The thread that computes a new revision's findings while git commits it."""

from __future__ import annotations

import contextlib
import os
from concurrent.futures import ThreadPoolExecutor

_executor: ThreadPoolExecutor | None = None


def _keep_to_one_cpu() -> None:
    """Pin the checks thread to one CPU, leaving the others to the git process it overlaps.

    Left to the scheduler, the thread and git often shared a CPU on a 2-vCPU machine, which made
    the commit twice as slow and the overlap worthless (docs/performance.md). Linux only.
    """
    if not hasattr(os, "sched_setaffinity"):
        return
    with contextlib.suppress(OSError):  # a sandbox may refuse it: then the scheduler decides
        allowed = sorted(os.sched_getaffinity(0))
        if len(allowed) > 1:
            os.sched_setaffinity(0, {allowed[-1]})  # 0: this thread, on Linux


def checks_thread() -> ThreadPoolExecutor:
    """One worker, started on the first write."""
    global _executor
    if _executor is None:
        _executor = ThreadPoolExecutor(
            max_workers=1, thread_name_prefix="plan-checks", initializer=_keep_to_one_cpu
        )
    return _executor
