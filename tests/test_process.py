"""process.run_captured: output and exit status as subprocess.run gives them, and a real deadline."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from personalization_engine.history.process import run_captured


def python(code: str) -> list[str]:
    return [sys.executable, "-c", code]


def test_large_stdout_and_stderr_and_the_exit_status_come_back_whole():
    # More than a pipe buffer on both streams, so the reads must interleave or the child blocks.
    code = "import sys; sys.stdout.write('o' * 300_000); sys.stderr.write('e' * 300_000); sys.exit(3)"
    done = run_captured(python(code), cwd=None, env=os.environ, timeout_s=30)
    assert (done.returncode, done.stdout, done.stderr) == (3, b"o" * 300_000, b"e" * 300_000)


def test_a_command_past_its_deadline_is_killed_and_reported():
    start = time.monotonic()
    with pytest.raises(subprocess.TimeoutExpired):
        run_captured(python("import time; time.sleep(30)"), cwd=None, env=os.environ, timeout_s=0.5)
    assert time.monotonic() - start < 10


def test_started_is_called_once_while_the_child_runs(tmp_path):
    calls = []
    marker = tmp_path / "go"
    # The child waits for the file that `started` creates: it is called before the output is awaited.
    code = f"import os, time\nwhile not os.path.exists({str(marker)!r}): time.sleep(0.01)\nprint('done')"
    done = run_captured(
        python(code),
        cwd=tmp_path,
        env=os.environ,
        timeout_s=30,
        started=lambda: (calls.append(1), marker.write_text("")),
    )
    assert calls == [1] and done.stdout.strip() == b"done"


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_cpus_keep_the_child_to_them_and_leave_the_caller_as_it_was():
    allowed = os.sched_getaffinity(0)
    chosen = {min(allowed)}
    code = "import os; print(sorted(os.sched_getaffinity(0)))"
    done = run_captured(python(code), cwd=None, env=os.environ, timeout_s=30, cpus=chosen)
    assert done.stdout.strip() == str(sorted(chosen)).encode()
    assert os.sched_getaffinity(0) == allowed


@pytest.mark.skipif(not hasattr(os, "sched_setaffinity"), reason="CPU affinity is Linux-only")
def test_git_is_kept_off_the_cpu_the_checks_thread_is_pinned_to():
    from personalization_engine.background import checks_thread, cpus_besides_checks

    on_thread = checks_thread().submit(lambda: os.sched_getaffinity(0)).result()
    allowed = sorted(os.sched_getaffinity(0))
    if len(allowed) > 1:
        assert on_thread == {allowed[-1]}
        assert cpus_besides_checks() == set(allowed[:-1])
    else:
        assert cpus_besides_checks() is None
