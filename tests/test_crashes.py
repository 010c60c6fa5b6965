"""kill -9 at random points of real CLI writes (`plans write`, `plans qa-result`, `plans lift`,
`plans impact --record`), renders, finalizes and exports, in a repo with the user's own changes.

After every kill: the plan file parses, `git fsck` is clean, the next CLI write succeeds (after
`plans recover` when the killed git left a stale lock, the documented way out) and the user's
staged and unstaged files are byte-for-byte untouched and still staged and unstaged.

A finalize runs on a plan whose approvals the test confirms just before (a content write stales
them), so it gets as far as its commit and its tag. Every final tag left behind points at the commit
that recorded its revision as final.

CRASH_RUNS (default 50) sets the number of kills; the seed is printed and CRASH_SEED replays the
run's choices (write, QA result, render or finalize, kill alone or with git, the kill point as a
fraction of the measured duration). The kill times scale with the durations measured at the start,
so a replay on a busier or quieter machine hits nearby points, not the same instructions.
"""

from __future__ import annotations

import contextlib
import json
import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

from personalization_engine.audience import write_sample_data
from personalization_engine.audience.sample_outcomes import write_sample_outcomes
from personalization_engine.core.engine import Engine
from personalization_engine.model import Plan
from personalization_engine.model.stages import QaFlow
from personalization_engine.store.workspace import Workspace

from .conftest import START, git
from .finalize_helpers import confirm_approvals, ready_plan
from .qa_helpers import FLOW

_SCRIPT = Path(sys.executable).with_name("personalization-engine")
CONSOLE_SCRIPT = (
    [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "personalization_engine.cli.main"]
)
# Short git lock wait: a stale lock is reported at once instead of after the default 10 s.
ENV = {**os.environ, "PERSONALIZATION_ENGINE_GIT_LOCK_WAIT": "1"}
USER_FILES = ("staged.txt", "unstaged.txt", "both.txt", "added.txt")
LIFT_RECORDS, LIFT_OUTCOMES = "data/users.parquet", "data/outcomes.parquet"  # untracked, as a user's
QA_TRACE = "qa-trace.zip"  # the artefact `plans qa-result` hashes: an untracked file of the user's
KINDS = ("write", "render", "finalize", "qa-result", "export", "lift", "impact")
# The revision the setup left (profiles defined); each recorded impact compares it with revision 1.
_IMPACT_TO: dict[Path, int] = {}


class Launcher:
    """The CLI, imported once by tests/crash_launcher.py, running each command in a forked child."""

    def __init__(self, logs: Path) -> None:
        script = Path(__file__).with_name("crash_launcher.py")
        self.proc = subprocess.Popen(
            [sys.executable, str(script)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=ENV
        )
        self.logs, self.buffer, self.count = logs, b"", 0

    def _line(self, timeout: float | None) -> str | None:
        fd = self.proc.stdout.fileno()
        while b"\n" not in self.buffer:
            if not select.select([fd], [], [], timeout)[0]:
                return None
            chunk = os.read(fd, 4096)
            assert chunk, "the launcher died"
            self.buffer += chunk
        line, _, self.buffer = self.buffer.partition(b"\n")
        return line.decode()

    def run(self, repo: Path, *args: str, stdin: str | None = None, kill: tuple[float, bool] | None = None):
        """(exit code, output) of `plans ARGS`; `kill`: (delay, whole group) for a kill -9."""
        self.count += 1
        log = self.logs / f"{self.count}.log"
        argv = ["plans", *args, "--workspace", str(repo)]
        command = json.dumps({"argv": argv, "stdin": stdin, "log": str(log)}) + "\n"
        self.proc.stdin.write(command.encode())
        self.proc.stdin.flush()
        pid = int(self._line(60).split()[1])
        ended = self._line(kill[0] if kill else 120)
        if ended is None and kill:
            with contextlib.suppress(ProcessLookupError):
                # The whole group: git dies mid-command too. Alone: a git child runs on, orphaned.
                os.killpg(pid, signal.SIGKILL) if kill[1] else os.kill(pid, signal.SIGKILL)
            ended = self._line(120)
        assert ended is not None, f"plans {args} did not end"
        # A child killed at once never opened its log.
        return int(ended.split()[1]), log.read_text(errors="replace") if log.exists() else ""

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait(timeout=60)
        self.proc.stdout.close()


def _cli(repo: Path, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    """The installed console script itself, for the final check."""
    return subprocess.run(
        [*CONSOLE_SCRIPT, "plans", *args, "--workspace", str(repo)],
        input=stdin,
        capture_output=True,
        text=True,
        env=ENV,
        timeout=120,
        check=False,
    )


def _user_changes(repo: Path) -> None:
    """Committed files, then the user's own staged, unstaged and staged-then-edited changes."""
    for name in USER_FILES[:3]:
        (repo / name).write_text(f"{name} as committed\n")
    git(repo, "add", *USER_FILES[:3])
    git(repo, "commit", "-q", "-m", "user files")
    (repo / "staged.txt").write_text("staged by the user\n")
    (repo / "both.txt").write_text("staged part\n")
    (repo / "added.txt").write_text("a new file the user staged\n")
    git(repo, "add", "staged.txt", "both.txt", "added.txt")
    (repo / "unstaged.txt").write_text("unstaged edit\n")
    (repo / "both.txt").write_text("staged part\nand an unstaged line\n")
    (repo / "untracked.txt").write_text("never added\n")


def _user_state(repo: Path) -> dict:
    names = [*USER_FILES, "untracked.txt"]
    return {
        "bytes": {name: (repo / name).read_bytes() for name in names},
        "index": git(repo, "ls-files", "-s", "--", *USER_FILES),
        "staged": git(repo, "diff", "--cached", "--name-only", "--", *names),
        "unstaged": git(repo, "diff", "--name-only", "--", *names),
        "untracked": git(repo, "ls-files", "--others", "--exclude-standard", "--", *names),
    }


def _write(repo: Path, plan_id: str, n: int) -> tuple[tuple[str, ...], str]:
    """`plans write` of a new timeline, naming the revision on disk (a crash may have left a
    written but uncommitted revision there, which the write first recovers)."""
    revision = json.loads(_plan_path(repo, plan_id).read_bytes())["revision"]
    args = ("write", plan_id, "--file", "-", "--expected-revision", str(revision))
    return args, json.dumps({"timeline": f"launch wave {n}"})


def _plan_path(repo: Path, plan_id: str) -> Path:
    return repo / ".claude" / "plans" / f"{plan_id}.json"


def _next_write_succeeds(cli: Launcher, repo: Path, plan_id: str, n: int) -> bool:
    """The next write lands; returns True when `plans recover` had to clear a stale lock first."""
    args, body = _write(repo, plan_id, n)
    code, out = cli.run(repo, *args, stdin=body)
    if code != 0 and "plans recover" in out:
        code, recovered = cli.run(repo, "recover")
        assert code == 0, recovered
        args, body = _write(repo, plan_id, n)
        code, out = cli.run(repo, *args, stdin=body)
        assert code == 0, f"after plans recover: {out}"
        return True
    assert code == 0, out
    return False


def _fsck_clean(repo: Path) -> None:
    fsck = subprocess.run(
        ["git", "fsck", "--no-progress"], cwd=repo, capture_output=True, text=True, check=False
    )
    problems = [line for line in (fsck.stdout + fsck.stderr).splitlines() if not line.startswith("dangling ")]
    assert fsck.returncode == 0 and not problems, problems


def _command(repo: Path, kind: str, plan_id: str, n: int) -> tuple[tuple[str, ...], str | None]:
    """The CLI arguments (and standard input) of one write, render, finalize or QA result (a
    `plans qa-result` hashing a file)."""
    if kind == "write":
        return _write(repo, plan_id, n)
    if kind == "qa-result":
        run = ("--profile", "new-trial-activation", "--channel", "web", "--outcome", "passed")
        artefact = ("--ran-at", "2026-11-24T08:30:00Z", "--artefact", str(repo / QA_TRACE))
        return ("qa-result", plan_id, *run, *artefact), None
    if kind == "export":
        # Alternating targets: a flag file and a dbt folder (many files, some removed when profiles go).
        return ("export", plan_id, "--to", "flagd" if n % 2 else "dbt"), None
    if kind == "lift":  # a lift readout: a ledger write after reading records and outcomes
        files = ("--data", str(repo / LIFT_RECORDS), "--outcomes", str(repo / LIFT_OUTCOMES))
        return ("lift", plan_id, *files, "--as-of", "2026-11-24T09:00:00Z"), None
    if kind == "impact":
        revisions = ("--from", "1", "--to", str(_IMPACT_TO[repo]))
        return ("impact", plan_id, *revisions, "--data", str(repo / LIFT_RECORDS), "--record"), None
    if kind == "finalize":
        # Confirmed approvals of the current revision (the previous write staled them), written in
        # this process; the finalize is then the CLI command that commits and tags.
        confirm_approvals(_engine(repo), plan_id)
        return ("finalize", plan_id), None
    return ("render", plan_id), None


def _engine(repo: Path) -> Engine:
    return Engine(Workspace(root=repo.resolve(), source="option"))


def _final_tags_point_at_their_final_commits(repo: Path, plan_id: str) -> int:
    """Every final tag points at the commit recording its revision as final; the count of tags."""
    tags = git(repo, "tag", "--list", f"personalization/{plan_id}/final-r*").splitlines()
    for tag in tags:
        reviewed = int(tag.rsplit("-r", 1)[1])
        message = git(repo, "log", "-1", "--format=%B", f"{tag}^{{commit}}")
        assert f"Plan-Revision: {reviewed + 1}" in message and f"Final: r{reviewed}" in message, tag
    return len(tags)


def _timed(cli: Launcher, repo: Path, kind: str, plan_id: str) -> float:
    """How long a command takes here: the shorter of two (the first may still warm up)."""
    times = []
    for n in range(2):
        if kind in ("finalize", "export") and n == 1:
            _write_and_wait(cli, repo, plan_id)  # content changed, so the next finalize is not a no-op
        args, body = _command(repo, kind, plan_id, -n)
        start = time.monotonic()
        code, out = cli.run(repo, *args, stdin=body)
        assert code == 0, out
        times.append(time.monotonic() - start)
    return min(times)


def _write_and_wait(cli: Launcher, repo: Path, plan_id: str) -> None:
    args, body = _write(repo, plan_id, 0)
    code, out = cli.run(repo, *args, stdin=body)
    assert code == 0, out


def _repo_with_user_changes(root: Path) -> tuple[Path, str]:
    repo = root / "project"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    git(repo, "config", "user.name", "Test User")
    git(repo, "config", "user.email", "test@example.com")
    _user_changes(repo)
    # A full plan with no errors, so a render writes every deliverable and a finalize can succeed,
    # with a consent flow for `plans qa-result` to record runs of.
    plan_id = ready_plan(_engine(repo))
    _add_web_flow(_engine(repo), plan_id)
    (repo / QA_TRACE).write_bytes(b"PK\x03\x04 a browser trace")
    write_sample_data(repo / LIFT_RECORDS, 2000, reference=START)
    write_sample_outcomes(
        _engine(repo).read_plan(plan_id), repo / LIFT_RECORDS, repo / LIFT_OUTCOMES, as_of=START, lifts={}
    )
    _IMPACT_TO[repo] = _engine(repo).read_plan(plan_id).revision
    return repo, plan_id


def _add_web_flow(engine: Engine, plan_id: str) -> None:
    def with_flow(plan: Plan) -> Plan:
        key = ("new-trial-activation", "web")
        flow = QaFlow.model_validate(FLOW)
        activations = tuple(
            a.model_copy(update={"qa_flow": flow}) if (a.profile_id, a.channel) == key else a
            for a in plan.activations
        )
        return plan.model_copy(update={"activations": activations})

    engine.apply(plan_id, "activation", with_flow, expected_revision=None, actor="test")


def test_kill_9_during_cli_writes_and_renders_never_breaks_the_plan_the_repo_or_the_users_changes(
    tmp_path: Path, capsys
):
    repo, plan_id = _repo_with_user_changes(tmp_path)
    user = _user_state(repo)
    runs = int(os.environ.get("CRASH_RUNS", "50"))
    seed = int(os.environ.get("CRASH_SEED", str(random.randrange(2**32))))
    with capsys.disabled():
        print(f"\ncrash test: {runs} kills, CRASH_SEED={seed}")
    (tmp_path / "logs").mkdir()
    cli = Launcher(tmp_path / "logs")
    try:
        durations, cleared = _kill_repeatedly(cli, repo, plan_id, random.Random(seed), runs, seed)
    finally:
        cli.close()

    # Every revision landed exactly once, in order: no gap, no duplicate, the file at HEAD's revision.
    history = [e.revision for e in Engine(Workspace(root=repo.resolve(), source="option")).history(plan_id)]
    assert history == list(range(history[0], 0, -1))
    assert json.loads(_plan_path(repo, plan_id).read_bytes())["revision"] == history[0]
    # The installed console script, once: a render after all that commits every deliverable.
    render = _cli(repo, "render", plan_id)
    assert render.returncode == 0, render.stderr
    for target in ("flagd", "dbt"):  # and an export restores and commits what a kill left uncommitted
        export = _cli(repo, "export", plan_id, "--to", target)
        assert export.returncode == 0, export.stderr
    assert git(repo, "status", "--porcelain", "--", ".claude/plans") == ""
    assert _user_state(repo) == user
    tags = _final_tags_point_at_their_final_commits(repo, plan_id)
    with capsys.disabled():
        print(f"crash test: {durations}, {cleared} of {runs} kills needed 'plans recover' (stale lock)")
        print(f"crash test: {tags} final tag(s), each on the commit that recorded its revision as final")


def _kill_repeatedly(
    cli: Launcher, repo: Path, plan_id: str, rng: random.Random, runs: int, seed: int
) -> tuple[dict[str, float], int]:
    """`runs` kills at random points of writes and renders, each checked; (durations, recovers)."""
    user, plan_path = _user_state(repo), _plan_path(repo, plan_id)
    relative = plan_path.relative_to(repo).as_posix()
    durations = {kind: _timed(cli, repo, kind, plan_id) for kind in KINDS}
    cleared = 0
    for n in range(1, runs + 1):
        kind = rng.choice(KINDS)
        args, body = _command(repo, kind, plan_id, n)
        delay, group = rng.uniform(0, 1.5 * durations[kind]), rng.random() < 0.5
        cli.run(repo, *args, stdin=body, kill=(delay, group))
        where = f"kill {n}: {kind} after {delay:.3f}s, group={group}, CRASH_SEED={seed}"

        json.loads(plan_path.read_bytes())  # never a partial file: the write is atomic
        _fsck_clean(repo)
        cleared += _next_write_succeeds(cli, repo, plan_id, 1000 + n)
        assert _user_state(repo) == user, where
        # The plan file, its index entry and HEAD agree again.
        assert git(repo, "status", "--porcelain", "--", relative) == "", where
    return durations, cleared
